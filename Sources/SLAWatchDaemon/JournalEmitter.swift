import SLAWatchCore
import Systemd

/// The one place slawatch's journal entries leave the process: every component hands it a typed
/// `JournalEntry`; it renders the entry (`JournalEntry.journalFields`: `SYSLOG_IDENTIFIER`, the
/// priority digit) and queues it on the `JournalWriter`, which never blocks on journald and
/// counts what a full queue drops (then writes one "journal entries dropped" entry with the
/// exact count). Transition entries pass the `StormLimiter` first (`max_alerts_per_minute`).
public final class JournalEmitter: Sendable {
    private let writer: JournalWriter
    private let storm: StormLimiter

    /// Starts the writer thread.
    /// - Parameters:
    ///   - capacity: queued entries before new ones are dropped (`journal_queue_size`).
    ///   - forceStderr: one line per entry on stderr even when journald is available (`--stderr`,
    ///     tests).
    ///   - maxAlertsPerMinute: transition entries written per minute before the rest are counted
    ///     in one summary entry.
    public init(capacity: Int = 4096, forceStderr: Bool = false, maxAlertsPerMinute: Int = 1000) {
        writer = JournalWriter(capacity: capacity, forceStderr: forceStderr) { dropped in
            Self.droppedEntry(dropped).journalFields
        }
        storm = StormLimiter(limit: maxAlertsPerMinute)
    }

    /// The entry written once the queue has room again after `count` entries were dropped.
    static func droppedEntry(_ count: Int) -> JournalEntry {
        JournalEntry(
            MessageID.journalDropped,
            priority: .warning,
            message: "slawatch dropped \(count) journal entries: the journal writer queue was full",
            fields: ["SLAWATCH_DROPPED": String(count)]
        )
    }

    /// Queues an entry; never blocks on journald.
    /// - Returns: `false` when the queue was full and the entry was dropped (and counted).
    @discardableResult
    public func emit(_ entry: JournalEntry) -> Bool { writer.enqueue(entry.journalFields) }

    /// Queues transition entries at `now` (unix seconds), after the summary of a finished storm
    /// minute if there is one; beyond `max_alerts_per_minute` an entry is counted, not written.
    public func emitTransitions(_ entries: [JournalEntry], now: Double) {
        flushStorm(now: now)
        for e in entries where storm.allow(kind: e.transition?.rawValue ?? "other", now: now) { emit(e) }
    }

    /// Writes the summary of a storm minute that ended by `now` (every minute's end, or at once
    /// with `force`, as at shutdown).
    public func flushStorm(now: Double, force: Bool = false) {
        if let summary = storm.summary(now: now, force: force) { emit(summary) }
    }

    /// Whether entries go to journald (`false`: stderr).
    public var writesToJournal: Bool { writer.writesToJournal }
    /// Entries written since start.
    public var writtenCount: Int { writer.writtenCount }
    /// Entries dropped since start (queue full).
    public var droppedCount: Int { writer.droppedCount }

    /// Whether the writer keeps up (watchdog): its queue is empty, or it finished an entry
    /// within the last `seconds`.
    public func isProgressing(within seconds: Double) -> Bool { writer.isProgressing(within: seconds) }

    /// Waits until every queued entry is written, at most `timeout` seconds.
    /// - Returns: `true` when the queue drained in time.
    @discardableResult
    public func flush(timeout: Double = 5) -> Bool { writer.flush(timeout: timeout) }

    /// Writes what is queued (up to `timeout` seconds) and stops the writer thread.
    public func shutdown(timeout: Double = 5) { writer.shutdown(timeout: timeout) }
}
