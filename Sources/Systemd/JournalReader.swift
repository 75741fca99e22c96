import CSystemd
import Foundation

/// Reads entries back from the local journal with `sd_journal_open(3)` and
/// `sd_journal_add_match(3)`; used by tests and by the CLI.
public enum JournalReader {
    /// Errors from reading the journal.
    public struct ReadError: Error, CustomStringConvertible {
        /// The libsystemd call that failed.
        public var call: String
        /// Its negative errno, made positive.
        public var errno: Int32
        /// "call: strerror".
        public var description: String { "\(call): \(String(cString: strerror(errno)))" }
    }

    /// All entries matching every `FIELD=value` in `matches` (logical AND), oldest first. When a
    /// field repeats within an entry the first value is kept.
    /// - Throws: `ReadError` when the journal cannot be opened or a match is invalid.
    public static func entries(matching matches: [String], limit: Int = 10_000) throws -> [[String: String]] {
        var j: OpaquePointer?
        var rc = sd_journal_open(&j, Int32(SD_JOURNAL_LOCAL_ONLY))
        guard rc >= 0, let j else { throw ReadError(call: "sd_journal_open", errno: -rc) }
        defer { sd_journal_close(j) }
        for m in matches {
            rc = m.withCString { sd_journal_add_match(j, $0, 0) }
            if rc < 0 { throw ReadError(call: "sd_journal_add_match(\(m))", errno: -rc) }
        }
        var out: [[String: String]] = []
        while out.count < limit {
            rc = sd_journal_next(j)
            if rc < 0 { throw ReadError(call: "sd_journal_next", errno: -rc) }
            if rc == 0 { break }
            var entry: [String: String] = [:]
            var data: UnsafeRawPointer?
            var length = 0
            sd_journal_restart_data(j)
            while sd_journal_enumerate_data(j, &data, &length) > 0 {
                guard let data else { continue }
                let field = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
                guard let eq = field.firstIndex(of: "=") else { continue }
                let key = String(field[..<eq])
                if entry[key] == nil { entry[key] = String(field[field.index(after: eq)...]) }
            }
            out.append(entry)
        }
        return out
    }
}
