import Foundation

/// Reads the files people point slawatch at (configs, objectives, test files, recorded events),
/// with the operating system's own reason when it cannot: "No such file or directory",
/// "Permission denied", "Is a directory".
public enum TextFile {
    /// Why a file could not be read.
    public struct ReadError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The path as given.
        public var path: String
        /// `strerror(errno)`, or "not UTF-8 text (…)".
        public var reason: String
        /// `path: reason`.
        public var description: String { "\(path): \(reason)" }
        /// The same, as a config error without a line (printed as `path: reason`).
        public var configError: ConfigError { ConfigError(file: path, line: 0, key: "", message: reason) }
    }

    /// The file's bytes.
    /// - Parameter regularFileOnly: refuse anything but a regular file (a FIFO or a device
    ///   found in a directory scan would block or never end); opened without blocking to check.
    /// - Throws: `ReadError` with `strerror(errno)` of the failing `open(2)`/`read(2)`.
    public static func bytes(_ path: String, regularFileOnly: Bool = false) throws(ReadError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | (regularFileOnly ? O_NONBLOCK : 0))
        if fd < 0 { throw ReadError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        if regularFileOnly {
            var st = stat()
            if fstat(fd, &st) != 0 { throw ReadError(path: path, reason: String(cString: strerror(errno))) }
            if st.st_mode & S_IFMT != S_IFREG {
                throw ReadError(path: path, reason: "not a regular file (a FIFO, socket or device)")
            }
        }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { return out }
            out += buffer[0..<n]
        }
    }

    /// The file as UTF-8 text (a leading byte-order mark is kept; YAML and the parsers skip it).
    /// - Throws: `ReadError` with the OS reason, or "not UTF-8 text (first invalid byte at offset N)".
    public static func read(_ path: String, regularFileOnly: Bool = false) throws(ReadError) -> String {
        let b = try bytes(path, regularFileOnly: regularFileOnly)
        if let text = String(validating: b, as: UTF8.self) { return text }
        var offset = 0
        var bytes = b.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        scan: while true {
            switch parser.parseScalar(from: &bytes) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput, .error: break scan
            }
        }
        throw ReadError(path: path, reason: "not UTF-8 text (first invalid byte at offset \(offset))")
    }
}
