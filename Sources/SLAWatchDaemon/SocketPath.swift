import Foundation

/// Start-up checks for Unix socket paths and the state directory, so two daemons never share
/// sockets or a store.
enum SocketPath {
    /// Errors that stop start-up, each naming the path.
    struct StartupError: Error, CustomStringConvertible {
        var description: String
    }

    /// Makes `path` free for `bind()`: nothing there is fine; a socket that refuses connections is
    /// a stale leftover of a crash and is removed; a socket that accepts connections belongs to a
    /// running daemon and stops start-up; anything else at the path stops start-up (never delete
    /// a file we did not create).
    static func prepare(_ path: String, type: __socket_type = SOCK_STREAM) throws {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        guard (st.st_mode & S_IFMT) == S_IFSOCK else {
            throw StartupError(
                description: "\(path) exists and is not a socket; remove it or choose another runtime_directory"
            )
        }
        let fd = socket(AF_UNIX, Int32(type.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let rc = try withUnixSocketAddress(path) { connect(fd, $0, $1) }
        if rc == 0 {
            throw StartupError(description: "another process is listening on \(path) (is slawatch already running?)")
        }
        // Nobody answers (ECONNREFUSED, or EPROTOTYPE for a socket of another type): a leftover.
        unlink(path)
    }

    /// Takes an exclusive lock on `directory/slawatch.lock` for the life of the process (the fd is
    /// never closed), so a second daemon on the same state directory refuses to start.
    /// - Throws: `StartupError` naming the directory when another process holds the lock.
    static func lockStateDirectory(_ directory: String) throws {
        let path = directory + "/slawatch.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StartupError(description: "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder =
                (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
                ?? "?"
            close(fd)
            throw StartupError(
                description: "another slawatch (pid \(holder)) is using the state directory \(directory)"
            )
        }
        ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }
    }
}

/// Calls `body` with a `sockaddr_un` for `path` (unix(7)), as the `sockaddr` pointer and length
/// that `bind(2)`/`connect(2)` take.
/// - Throws: `SocketPath.StartupError` when the path does not fit `sun_path` (108 bytes).
public func withUnixSocketAddress<T>(
    _ path: String,
    _ body: (UnsafePointer<sockaddr>, socklen_t) throws -> T
) throws -> T {
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
        throw SocketPath.StartupError(description: "socket path too long (\(bytes.count) bytes): \(path)")
    }
    withUnsafeMutableBytes(of: &addr.sun_path) { raw in
        for (i, b) in bytes.enumerated() { raw[i] = b }
    }
    return try withUnsafePointer(to: &addr) {
        try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            try body($0, socklen_t(MemoryLayout<sockaddr_un>.size))
        }
    }
}
