import Foundation
import SLAWatchCore

/// Keeps an alert storm (thousands of objectives changing state at once) from flooding the
/// journal, which would otherwise drop entries silently under its own rate limit (journald.conf
/// RateLimitBurst): at most `limit` transition entries per minute are written; the rest of that
/// minute is counted per transition kind and reported in one summary entry with exact counts
/// (`MESSAGE_ID` alerts suppressed). Every transition still happens in the engine and the store;
/// `slawatch status` shows the states.
final class StormLimiter: @unchecked Sendable {
    private let lock = NSLock()
    private let limit: Int
    private var windowStart = 0.0
    private var written = 0
    private var suppressed: [String: Int] = [:]

    init(limit: Int) { self.limit = limit }

    /// Whether an entry of this kind may be written now; if not, it is counted.
    func allow(kind: String, now: Double) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if now - windowStart >= 60 {
            // The summary of the previous window is taken by `summary(now:)` first.
            if suppressed.isEmpty {
                windowStart = now
                written = 0
            }
        }
        if written < limit && suppressed.isEmpty {
            written += 1
            return true
        }
        suppressed[kind, default: 0] += 1
        return false
    }

    /// The summary entry for a finished window with suppressed entries (or any, when `force`),
    /// and starts a new window.
    func summary(now: Double, force: Bool = false) -> JournalEntry? {
        lock.lock()
        defer { lock.unlock() }
        guard !suppressed.isEmpty, force || now - windowStart >= 60 else { return nil }
        let total = suppressed.values.reduce(0, +)
        let kinds = suppressed.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        var entry = JournalEntry(
            MessageID.alertsSuppressed,
            priority: .warning,
            message:
                "alert storm: \(total) transition entr\(total == 1 ? "y" : "ies") not written (\(kinds)) after \(written) in a minute; slawatch status shows every state",
            fields: [
                "SLAWATCH_SUPPRESSED": String(total), "SLAWATCH_WRITTEN": String(written),
                "SLAWATCH_SUPPRESSED_KINDS": kinds,
            ]
        )
        for (k, v) in suppressed.sorted(by: { $0.key < $1.key }) {
            entry.append(JournalField(rawValue: "SLAWATCH_SUPPRESSED_\(k.uppercased())"), String(v))
        }
        suppressed = [:]
        windowStart = now
        written = 0
        return entry
    }
}
