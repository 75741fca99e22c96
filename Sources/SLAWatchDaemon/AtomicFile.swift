import Foundation

/// Whole-file replacement that a reader never sees half done: the metrics textfile and the
/// forwarder's state.
public enum AtomicFile {
    /// Writes `bytes` to `path` atomically: a hidden temporary in the same directory
    /// (`.NAME.tmp`, which node_exporter's textfile collector does not read), every byte
    /// written, mode `mode` (whatever the umask), `fsync`, then `rename(2)` over `path`; the
    /// temporary is removed when a step fails.
    /// - Throws: `POSIXError` of the failing call (`open`, `write`, `fsync`, `rename`).
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let temp = (dir.isEmpty ? "." : dir) + "/." + (path as NSString).lastPathComponent + ".tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var ok = false
        defer {
            close(fd)
            if !ok { unlink(temp) }
        }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
            written += n
        }
        fchmod(fd, mode)
        guard fsync(fd) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        guard rename(temp, path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        ok = true
    }
}
