import Foundation

/// A system call that failed: which one, on what (a path, two paths, or a descriptor) and the
/// errno it set, captured at once (before anything else can change `errno`).
struct PosixError: Error, Equatable, CustomStringConvertible {
    /// `open`, `read`, `rename`, … (the call, as in its man page).
    var operation: String
    /// What it was applied to: `/var/lib/slawatch/drop/x.statsd`, `a → b`, `fd 7`.
    var target: String
    /// The errno.
    var code: Int32

    /// `rename a → b: No such file or directory`.
    var description: String { "\(operation) \(target): \(String(cString: strerror(code)))" }

    /// `strerror(code)` alone.
    var reason: String { String(cString: strerror(code)) }

    /// Whether the failure says nothing about the file: the process or the system ran out of
    /// descriptors or memory, or the call would block (`EMFILE`, `ENFILE`, `ENOMEM`, `ENOBUFS`,
    /// `EAGAIN`, `EINTR`). Such a file is read again later, never moved to `failed/`.
    var isTransient: Bool { Self.transientCodes.contains(code) }

    /// The errnos of `isTransient`.
    static let transientCodes: Set<Int32> = [EMFILE, ENFILE, ENOMEM, ENOBUFS, EAGAIN, EINTR]
}

/// The drop directory's system calls: each retried while it fails with `EINTR`, and any other
/// failure thrown as a `PosixError` naming the call, its target and errno. No caller reads
/// `errno` by hand.
enum Posix {
    /// Runs `body` until it does not fail with `EINTR`; a negative result throws.
    @discardableResult
    static func call<T: BinaryInteger>(
        _ operation: String,
        _ target: @autoclosure () -> String,
        _ body: () -> T
    ) throws(PosixError) -> T {
        while true {
            let r = body()
            if r >= 0 { return r }
            let e = errno
            if e == EINTR { continue }
            throw PosixError(operation: operation, target: target(), code: e)
        }
    }

    /// `open(2)` of `path`.
    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws(PosixError) -> Int32 {
        try call("open", path) { Glibc.open(path, flags, mode) }
    }

    /// One `read(2)` into `buffer`: the bytes read, 0 at the end.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(PosixError) -> Int {
        try call("read", "fd \(fd)") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    /// `write(2)` until every byte of `bytes` is written.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, target: String) throws(PosixError) {
        var off = 0
        while off < bytes.count {
            off += try call("write", target) { Glibc.write(fd, bytes.baseAddress! + off, bytes.count - off) }
        }
    }

    /// `lseek(2)` to `offset` from the start.
    static func rewind(_ fd: Int32, to offset: off_t = 0) throws(PosixError) {
        try call("lseek", "fd \(fd)") { lseek(fd, offset, SEEK_SET) }
    }

    /// `fstat(2)`.
    static func fstat(_ fd: Int32) throws(PosixError) -> stat {
        var st = stat()
        try call("fstat", "fd \(fd)") { Glibc.fstat(fd, &st) }
        return st
    }

    /// `lstat(2)` (a symbolic link is described, not followed).
    static func lstat(_ path: String) throws(PosixError) -> stat {
        var st = stat()
        try call("lstat", path) { Glibc.lstat(path, &st) }
        return st
    }

    /// `rename(2)`.
    static func rename(_ from: String, _ to: String) throws(PosixError) {
        try call("rename", "\(from) → \(to)") { Glibc.rename(from, to) }
    }

    /// `link(2)`: never replaces an existing name (`EEXIST`).
    static func link(_ from: String, _ to: String) throws(PosixError) {
        try call("link", "\(from) → \(to)") { Glibc.link(from, to) }
    }

    /// `unlink(2)`.
    static func unlink(_ path: String) throws(PosixError) {
        try call("unlink", path) { Glibc.unlink(path) }
    }

    /// `fsync(2)`.
    static func fsync(_ fd: Int32, target: String) throws(PosixError) {
        try call("fsync", target) { Glibc.fsync(fd) }
    }

    /// `close(2)`; not retried on `EINTR` (Linux closes the descriptor anyway).
    static func close(_ fd: Int32, target: String) throws(PosixError) {
        if Glibc.close(fd) != 0 { throw PosixError(operation: "close", target: target, code: errno) }
    }

    /// `fsync(2)` of a directory, so that renames into it survive a crash; best effort (a
    /// directory that cannot be opened has nothing to sync).
    static func syncDirectory(_ dir: String) {
        guard let fd = try? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) else { return }
        _ = try? fsync(fd, target: dir)
        Glibc.close(fd)
    }
}

/// `strerror(errno)` of the call just made (for calls outside `Posix`, such as inotify's).
func errnoText() -> String { String(cString: strerror(errno)) }
