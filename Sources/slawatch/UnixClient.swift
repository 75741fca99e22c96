import Foundation
import SLAWatchDaemon

/// A blocking Unix stream-socket client for the CLI: connect, send, read the answer.
enum UnixClient {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Sends `payload` to the socket at `path` and reads until a line starting with `ok <marker>`
    /// or `error <marker>` arrives (or until EOF when `marker` is nil).
    static func exchange(path: String, payload: Data, until marker: String?, timeout: Double) throws -> String {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket(): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let rc = try withUnixSocketAddress(path) { connect(fd, $0, $1) }
        guard rc == 0 else {
            throw Failure(
                description: "cannot connect to \(path): \(String(cString: strerror(errno))) (is the daemon running?)"
            )
        }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        try payload.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = send(fd, raw.baseAddress! + off, raw.count - off, Int32(MSG_NOSIGNAL))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw Failure(description: "send to \(path): \(String(cString: strerror(errno)))")
                }
                off += n
            }
        }
        if marker == nil {
            // Nothing more to send: half-close so the daemon answers and closes.
            shutdown(fd, Int32(SHUT_WR))
        }
        var received = Data()
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    throw Failure(description: "no answer from \(path) within \(Int(timeout)) s")
                }
                if errno == ECONNRESET {
                    throw Failure(
                        description:
                            "the daemon closed the connection on \(path) without answering (max_connections reached, or it is stopping)"
                    )
                }
                throw Failure(description: "recv from \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            received.append(contentsOf: buf[0..<n])
            if let marker {
                let text = String(decoding: received, as: UTF8.self)
                if text.contains("ok \(marker)") || text.contains("error \(marker)"), text.hasSuffix("\n") { break }
            }
        }
        let text = String(decoding: received, as: UTF8.self)
        if let marker, !text.contains("ok \(marker)"), !text.contains("error \(marker)") {
            throw Failure(
                description:
                    "the daemon closed the connection on \(path) before acknowledging (max_connections reached, or it is stopping)"
            )
        }
        return text
    }
}
