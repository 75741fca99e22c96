import CSystemd
import Foundation

/// Reads entries back from the local journal (or one journal namespace) with `sd_journal_open(3)`,
/// `sd_journal_add_match(3)`, `sd_journal_seek_realtime_usec(3)` and `sd_journal_wait(3)`; used by
/// tests and by `slawatch alerts`.
public final class JournalReader {
    /// Errors from reading the journal.
    public struct ReadError: Error, CustomStringConvertible {
        /// The libsystemd call that failed.
        public var call: String
        /// Its negative errno, made positive.
        public var errno: Int32
        /// "call: strerror".
        public var description: String { "\(call): \(String(cString: strerror(errno)))" }
    }

    /// One entry: its fields (the first value when a field repeats) and its realtime timestamp.
    public struct Entry: Sendable {
        /// `FIELD` → value.
        public var fields: [String: String]
        /// `__REALTIME_TIMESTAMP` in unix seconds.
        public var time: Double
    }

    private let j: OpaquePointer

    /// Opens the local journal with the given matches (`FIELD=value`; the same field twice is
    /// an OR, different fields an AND), positioned at `since` (unix seconds), or before the
    /// `last` newest entries, or at the start.
    /// - Parameter namespace: a journal namespace (`systemd-journald NAMESPACE`,
    ///   `journalctl --namespace`) instead of the default one: `sd_journal_open_namespace(3)`.
    /// - Throws: `ReadError` when the journal cannot be opened or a match is invalid.
    public convenience init(
        matching matches: [String],
        since: Double? = nil,
        last: Int? = nil,
        namespace: String? = nil
    ) throws {
        try self.init(
            matching: matches,
            since: since,
            last: last,
            source: namespace.map { Source.namespace($0) } ?? .local
        )
    }

    /// Which journal files to read.
    public enum Source: Sendable, Equatable {
        /// This machine's journal (`SD_JOURNAL_LOCAL_ONLY`).
        case local
        /// One journal namespace of this machine.
        case namespace(String)
        /// Every journal this machine has, local and remote (what `systemd-journal-remote`
        /// receives into `/var/log/journal/remote`), interleaved by time (`journalctl --merge`).
        case merged
        /// The journal files in a directory (`sd_journal_open_directory(3)`, `journalctl -D`).
        case directory(String)
        /// These journal files (`sd_journal_open_files(3)`, `journalctl --file`).
        case files([String])
    }

    /// Opens the journal files of `source` with the given matches; see `init(matching:since:last:namespace:)`.
    /// - Throws: `ReadError` when the journal cannot be opened or a match is invalid.
    public init(matching matches: [String], since: Double? = nil, last: Int? = nil, source: Source) throws {
        var handle: OpaquePointer?
        var rc: Int32
        switch source {
        case .local:
            rc = sd_journal_open(&handle, Int32(SD_JOURNAL_LOCAL_ONLY))
        case .namespace(let namespace):
            rc = sd_journal_open_namespace(&handle, namespace, Int32(SD_JOURNAL_LOCAL_ONLY))
        case .merged:
            rc = sd_journal_open(&handle, 0)
        case .directory(let path):
            rc = sd_journal_open_directory(&handle, path, 0)
        case .files(let paths):
            var cStrings = paths.map { strdup($0) }
            cStrings.append(nil)
            defer { for p in cStrings { free(p) } }
            rc = cStrings.withUnsafeMutableBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) {
                    sd_journal_open_files(&handle, $0, 0)
                }
            }
        }
        guard rc >= 0, let handle else { throw ReadError(call: "sd_journal_open", errno: -rc) }
        j = handle
        for m in matches {
            rc = m.withCString { sd_journal_add_match(handle, $0, 0) }
            if rc < 0 {
                sd_journal_close(handle)
                throw ReadError(call: "sd_journal_add_match(\(m))", errno: -rc)
            }
        }
        if let since {
            rc = sd_journal_seek_realtime_usec(handle, UInt64(max(0, since) * 1_000_000))
        } else if let last {
            // Like journalctl -n: the last entries, then whatever follows.
            rc = sd_journal_seek_tail(handle)
            if rc >= 0 { rc = sd_journal_previous_skip(handle, UInt64(last) + 1) }
            if rc >= 0 && rc < Int32(last) + 1 { rc = sd_journal_seek_head(handle) }
        } else {
            rc = sd_journal_seek_head(handle)
        }
        if rc < 0 {
            sd_journal_close(handle)
            throw ReadError(call: "sd_journal_seek", errno: -rc)
        }
    }

    deinit { sd_journal_close(j) }

    /// The next entry, or `nil` at the end of the journal for now.
    /// - Throws: `ReadError` when reading fails.
    public func next() throws -> Entry? {
        let rc = sd_journal_next(j)
        if rc < 0 { throw ReadError(call: "sd_journal_next", errno: -rc) }
        if rc == 0 { return nil }
        var fields: [String: String] = [:]
        var data: UnsafeRawPointer?
        var length = 0
        sd_journal_restart_data(j)
        while sd_journal_enumerate_data(j, &data, &length) > 0 {
            guard let data else { continue }
            let field = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
            guard let eq = field.firstIndex(of: "=") else { continue }
            let key = String(field[..<eq])
            if fields[key] == nil { fields[key] = String(field[field.index(after: eq)...]) }
        }
        var usec: UInt64 = 0
        sd_journal_get_realtime_usec(j, &usec)
        return Entry(fields: fields, time: Double(usec) / 1_000_000)
    }

    /// The cursor of the entry `next()` returned last (`sd_journal_get_cursor(3)`): an opaque
    /// text that `seek(cursor:)` finds again, across restarts.
    /// - Throws: `ReadError` when there is no current entry.
    public func cursor() throws -> String {
        var text: UnsafeMutablePointer<CChar>?
        let rc = sd_journal_get_cursor(j, &text)
        guard rc >= 0, let text else { throw ReadError(call: "sd_journal_get_cursor", errno: -rc) }
        defer { free(text) }
        return String(cString: text)
    }

    /// Positions the reader so that `next()` returns the first entry after the one `cursor`
    /// names (`sd_journal_seek_cursor(3)`, then that entry skipped when it still exists; when
    /// it was rotated away the reader starts at the nearest entry after it).
    /// - Throws: `ReadError` for a cursor that does not parse.
    public func seek(cursor: String) throws {
        var rc = cursor.withCString { sd_journal_seek_cursor(j, $0) }
        if rc < 0 { throw ReadError(call: "sd_journal_seek_cursor", errno: -rc) }
        rc = sd_journal_next(j)
        if rc < 0 { throw ReadError(call: "sd_journal_next", errno: -rc) }
        if rc > 0 {
            let found = cursor.withCString { sd_journal_test_cursor(j, $0) }
            // Not the entry itself (rotated away): step back so next() returns this one.
            if found <= 0 { _ = sd_journal_previous(j) }
        }
    }

    /// Waits up to `timeout` seconds for new entries (follow mode).
    public func wait(timeout: Double) {
        _ = sd_journal_wait(j, UInt64(timeout * 1_000_000))
    }

    /// All entries matching every `FIELD=value` in `matches` (logical AND), oldest first. When a
    /// field repeats within an entry the first value is kept.
    /// - Parameter namespace: a journal namespace instead of the default one.
    /// - Throws: `ReadError` when the journal cannot be opened or a match is invalid.
    public static func entries(
        matching matches: [String],
        limit: Int = 10_000,
        since: Double? = nil,
        namespace: String? = nil
    ) throws -> [[String: String]] {
        let reader = try JournalReader(matching: matches, since: since, namespace: namespace)
        var out: [[String: String]] = []
        while out.count < limit, let e = try reader.next() { out.append(e.fields) }
        return out
    }
}
