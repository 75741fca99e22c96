import Foundation
import SLAWatchCore
import Synchronization

/// Keeps an alert storm (thousands of objectives changing state at once) from flooding the
/// journal, which would otherwise drop entries silently under its own rate limit (journald.conf
/// RateLimitBurst): at most `limit` transition entries per minute are written; the rest of that
/// minute is counted per transition kind and reported in one summary entry with exact counts
/// (`MESSAGE_ID` alerts suppressed). Every transition still happens in the engine and the store;
/// `slawatch status` shows the states.
final class StormLimiter: Sendable {
    private struct Minute {
        var start = 0.0
        var written = 0
        var suppressed: [String: Int] = [:]
    }
    private let limit: Int
    private let minute = Mutex(Minute())

    init(limit: Int) { self.limit = limit }

    /// Whether an entry of this kind may be written now; if not, it is counted.
    func allow(kind: String, now: Double) -> Bool {
        minute.withLock { m in
            // The summary of the previous minute is taken by `summary(now:)` first.
            if now - m.start >= 60 && m.suppressed.isEmpty {
                m.start = now
                m.written = 0
            }
            if m.written < limit && m.suppressed.isEmpty {
                m.written += 1
                return true
            }
            m.suppressed[kind, default: 0] += 1
            return false
        }
    }

    /// The summary entry for a finished window with suppressed entries (or any, when `force`),
    /// and starts a new window.
    func summary(now: Double, force: Bool = false) -> JournalEntry? {
        minute.withLock { m in
            guard !m.suppressed.isEmpty, force || now - m.start >= 60 else { return nil }
            let total = m.suppressed.values.reduce(0, +)
            let kinds = m.suppressed.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                .joined(separator: " ")
            var entry = JournalEntry(
                MessageID.alertsSuppressed,
                priority: .warning,
                message:
                    "alert storm: \(total) transition entr\(total == 1 ? "y" : "ies") not written (\(kinds)) after \(m.written) in a minute; slawatch status shows every state",
                fields: [
                    "SLAWATCH_SUPPRESSED": String(total), "SLAWATCH_WRITTEN": String(m.written),
                    "SLAWATCH_SUPPRESSED_KINDS": kinds,
                ]
            )
            for (k, v) in m.suppressed.sorted(by: { $0.key < $1.key }) {
                entry.append(JournalField(rawValue: "SLAWATCH_SUPPRESSED_\(k.uppercased())"), String(v))
            }
            m = Minute(start: now)
            return entry
        }
    }
}
