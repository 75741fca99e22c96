import Foundation
import SLAWatchCore
import SLAWatchStore

/// Streams `NAME.rejects` while a file is read: `line<TAB>reason: description<TAB>line text
/// (truncated to 200 bytes)`, under a hidden partial name until the file is committed.
struct RejectsWriter {
    let path: String
    let source: String
    private var fd: Int32 = -1

    init(path: String, source: String) {
        self.path = path
        self.source = source
    }

    mutating func write(_ rejections: [LineRejection]) {
        if fd < 0 {
            fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { return }
            emit("# rejected lines of \(source): line<TAB>reason<TAB>line text (truncated)\n")
        }
        var text = ""
        for r in rejections { text += "\(r.line)\t\(r.reason.rawValue): \(r.explanation)\t\(r.excerpt)\n" }
        emit(text)
    }

    private func emit(_ text: String) {
        var bytes = Array(text.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
            if n <= 0 { return }
            off += n
        }
    }

    /// Gives the sidecar its final name (nothing when there were no rejections).
    mutating func finish(as final: String) {
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
        fd = -1
        rename(path, final)
    }

    /// Removes the partial sidecar (the file was not committed).
    mutating func discard() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
        unlink(path)
    }
}
