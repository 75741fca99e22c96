import Foundation
import SLAWatchCore
import Synchronization
import Systemd

/// Tells operators who is sending garbage without flooding the journal: at most one "input
/// rejected" entry per source per `interval` (60 s), carrying exact counts since the previous
/// entry, counts per reason and the first offending line (truncated to 200 bytes). Rejections
/// are also totalled per source for `slawatch status`.
public final class RejectionReporter: Sendable {
    private struct Pending {
        var accepted = 0
        var rejected = 0
        var byReason: [RejectReason: Int] = [:]
        var first: LineRejection?
        var lastReport: Double?
        var totalRejected = 0
    }

    private let sources = Mutex<[String: Pending]>([:])
    private let interval: Double
    private let emit: @Sendable (JournalEntry) -> Void
    private let maxSources = 10_000

    /// - Parameters:
    ///   - interval: seconds between two entries for the same source.
    ///   - emit: writes one journal entry (the daemon's `JournalEmitter`).
    public init(interval: Double = 60, emit: @escaping @Sendable (JournalEntry) -> Void) {
        self.interval = interval
        self.emit = emit
    }

    /// Records what a source sent; writes an entry now if the source has rejections and none
    /// was written for it within `interval`.
    public func note(source: String, accepted: Int, rejections: [LineRejection], now: Double) {
        let entry = sources.withLock { sources -> JournalEntry? in
            var p = sources[source] ?? Pending()
            p.accepted += accepted
            p.rejected += rejections.count
            p.totalRejected += rejections.count
            for r in rejections { p.byReason[r.reason, default: 0] += 1 }
            if p.first == nil { p.first = rejections.first }
            var entry: JournalEntry?
            if p.rejected > 0, now - (p.lastReport ?? -Double.infinity) >= interval {
                entry = Self.entry(source, p)
                p = Pending(lastReport: now, totalRejected: p.totalRejected)
            }
            sources[source] = p
            if sources.count > maxSources {
                // Forget quiet sources first; their totals are gone, their pending counts were zero.
                for (k, v) in sources where v.rejected == 0 && sources.count > maxSources / 2 { sources[k] = nil }
            }
            return entry
        }
        if let entry { emit(entry) }
    }

    /// Writes the entries that were held back and are now due (call periodically).
    public func flush(now: Double, force: Bool = false) {
        let entries = sources.withLock { sources -> [JournalEntry] in
            var entries: [JournalEntry] = []
            for (source, p) in sources where p.rejected > 0 && (force || now - (p.lastReport ?? 0) >= interval) {
                entries.append(Self.entry(source, p))
                sources[source] = Pending(lastReport: now, totalRejected: p.totalRejected)
            }
            return entries
        }
        for e in entries { emit(e) }
    }

    /// Rejections since start per source.
    public var totals: [String: Int] {
        sources.withLock { $0.compactMapValues { $0.totalRejected > 0 ? $0.totalRejected : nil } }
    }

    private static func entry(_ source: String, _ p: Pending) -> JournalEntry {
        let reasons = p.byReason.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }
            .joined(separator: " ")
        var e = JournalEntry(
            MessageID.inputRejected,
            priority: .warning,
            message:
                "rejected \(p.rejected) input item(s) (lines, JSON array elements or datagrams) from \(source) (accepted \(p.accepted) events)"
                + (p.first.map { "; first at line \($0.line): \($0.explanation) (\($0.reason.rawValue))" } ?? ""),
            fields: [
                "SLAWATCH_SOURCE": source, "SLAWATCH_ACCEPTED": String(p.accepted),
                "SLAWATCH_REJECTED": String(p.rejected), "SLAWATCH_REJECT_REASONS": reasons,
            ]
        )
        if let first = p.first {
            e.append("SLAWATCH_FIRST_ERROR_LINE", String(first.line))
            e.append("SLAWATCH_FIRST_ERROR_REASON", first.reason.rawValue)
            e.append("SLAWATCH_FIRST_ERROR", String(first.excerpt.prefix(200)))
        }
        return e
    }
}
