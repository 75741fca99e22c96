import CSystemd
import Foundation

/// Native journal logging over `sd_journal_sendv(3)`.
///
/// Swift cannot call the variadic `sd_journal_send`, and journald silently drops fields whose
/// names are not `[A-Z][A-Z0-9_]{0,63}` while still returning 0 (systemd.journal-fields(7),
/// `journal_field_valid()`), so names are checked here before anything is sent.
public enum Journal {
    /// Errors from `send(fields:)`.
    public enum SendError: Error, Equatable, CustomStringConvertible {
        /// A field name journald would drop; the entry was not sent.
        case invalidFieldName(String)
        /// `sd_journal_sendv` returned a negative errno.
        case failed(errno: Int32)

        /// A sentence naming the field or errno.
        public var description: String {
            switch self {
            case .invalidFieldName(let n): return "invalid journal field name '\(n)' (must match [A-Z][A-Z0-9_]{0,63})"
            case .failed(let e): return "sd_journal_sendv failed: \(String(cString: strerror(e)))"
            }
        }
    }

    /// The native protocol socket (systemd-journald.service(8)).
    public static let socketPath = "/run/systemd/journal/socket"

    /// Whether a journald is listening here. Without it `sd_journal_sendv` returns 0 and drops
    /// the entry (sd_journal_print(3)), so callers fall back to stderr.
    public static var isAvailable: Bool {
        var st = stat()
        return stat(socketPath, &st) == 0 && (st.st_mode & S_IFMT) == S_IFSOCK
    }

    /// Whether `name` is a field name journald keeps: 1–64 characters, `A-Z`, `0-9`, `_`, not
    /// starting with a digit or `_` (trusted fields are reserved for journald).
    public static func isValidFieldName(_ name: String) -> Bool {
        let u = name.utf8
        guard let first = u.first, u.count <= 64, first >= UInt8(ascii: "A"), first <= UInt8(ascii: "Z") else {
            return false
        }
        return u.allSatisfy {
            ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                || $0 == UInt8(ascii: "_")
        }
    }

    /// Sends one entry. Field order is kept; names may repeat (the native protocol allows it).
    /// Values are binary-safe (newlines allowed).
    /// - Throws: `SendError.invalidFieldName` before sending anything when a name is invalid;
    ///   `SendError.failed` when libsystemd reports an error.
    public static func send(fields: [(String, String)]) throws(SendError) {
        for (name, _) in fields where !isValidFieldName(name) { throw .invalidFieldName(name) }
        // One contiguous buffer holding "NAME=value" for every field, iovecs pointing into it.
        var buffer: [UInt8] = []
        var ranges: [(Int, Int)] = []
        for (name, value) in fields {
            let start = buffer.count
            buffer.append(contentsOf: name.utf8)
            buffer.append(UInt8(ascii: "="))
            buffer.append(contentsOf: value.utf8)
            ranges.append((start, buffer.count - start))
        }
        let rc: Int32 = buffer.withUnsafeMutableBytes { raw in
            var iov = ranges.map { iovec(iov_base: raw.baseAddress! + $0.0, iov_len: $0.1) }
            return iov.withUnsafeMutableBufferPointer { sd_journal_sendv($0.baseAddress, Int32($0.count)) }
        }
        if rc < 0 { throw .failed(errno: -rc) }
    }

    /// One line for stderr when there is no journal: `PRIORITY MESSAGE [NAME=value …]`, newlines
    /// in values escaped so each entry stays on one line.
    public static func stderrLine(_ fields: [(String, String)]) -> String {
        let message = fields.first { $0.0 == "MESSAGE" }?.1 ?? ""
        let priority = fields.first { $0.0 == "PRIORITY" }?.1 ?? "6"
        let rest = fields.filter { $0.0 != "MESSAGE" && $0.0 != "PRIORITY" }
            .map { "\($0.0)=\($0.1.contains(" ") ? "\"\($0.1)\"" : $0.1)" }
            .joined(separator: " ")
        let line = "<\(priority)> \(message)" + (rest.isEmpty ? "" : " [\(rest)]")
        return line.replacingOccurrences(of: "\n", with: "\\n")
    }
}
