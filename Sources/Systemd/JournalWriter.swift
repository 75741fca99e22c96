import Foundation

/// Writes journal entries on a dedicated thread behind a bounded queue, so a stalled journald
/// (a blocking `sendmsg` after 512 queued datagrams, `net.unix.max_dgram_qlen`) never blocks the
/// caller. When the queue is full the entry is dropped and counted; once the queue has room again
/// a summary entry built by `dropSummary(count)` is written with the exact number dropped.
///
/// Without a journal socket, entries go to stderr, one line each (`Journal.stderrLine`).
// @unchecked: every mutable field is read and written under `condition` only; the blocking
// waits need a condition variable, which `Synchronization.Mutex` does not have.
public final class JournalWriter: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [[(String, String)]] = []
    private var droppedSinceSummary = 0
    private var totalDropped = 0
    private var written = 0
    private var inFlight = false
    private var stopping = false
    private let capacity: Int
    private let dropSummary: @Sendable (Int) -> [(String, String)]
    private let useJournal: Bool
    private var thread: Thread?
    /// Unix seconds of the last time the writer thread finished an entry (watchdog progress).
    public private(set) var lastProgress: Double = Date().timeIntervalSince1970

    /// Starts the writer thread.
    /// - Parameters:
    ///   - capacity: queued entries before new ones are dropped (default 4096).
    ///   - forceStderr: write to stderr even when journald is available (tests, `--stderr`).
    ///   - dropSummary: builds the summary entry for `count` dropped entries.
    public init(
        capacity: Int = 4096,
        forceStderr: Bool = false,
        dropSummary: @escaping @Sendable (Int) -> [(String, String)]
    ) {
        self.capacity = capacity
        self.dropSummary = dropSummary
        self.useJournal = !forceStderr && Journal.isAvailable
        let t = Thread { [weak self] in self?.run() }
        t.name = "slawatch-journal"
        thread = t
        t.start()
    }

    /// Whether entries go to journald (`false`: stderr).
    public var writesToJournal: Bool { useJournal }

    /// Queues an entry. Never blocks on journald.
    /// - Returns: `false` when the queue was full and the entry was dropped (and counted).
    @discardableResult
    public func enqueue(_ fields: [(String, String)]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if queue.count >= capacity || stopping {
            droppedSinceSummary += 1
            totalDropped += 1
            return false
        }
        queue.append(fields)
        condition.signal()
        return true
    }

    /// Whether the writer keeps up: its queue is empty, or it finished an entry within the last
    /// `seconds` (a journald that stalls for longer shows here, and stops the watchdog pings).
    public func isProgressing(within seconds: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return (queue.isEmpty && !inFlight) || Date().timeIntervalSince1970 - lastProgress < seconds
    }

    /// Entries dropped since start.
    public var droppedCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return totalDropped
    }

    /// Entries written since start.
    public var writtenCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return written
    }

    /// Waits until every queued entry is written, at most `timeout` seconds.
    /// - Returns: `true` when the queue drained in time.
    @discardableResult
    public func flush(timeout: Double = 5) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while !queue.isEmpty || inFlight {
            if !condition.wait(until: deadline) { return false }
        }
        return true
    }

    /// Writes what is queued (up to `timeout` seconds) and stops the thread.
    public func shutdown(timeout: Double = 5) {
        flush(timeout: timeout)
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty && stopping {
                condition.unlock()
                return
            }
            var entry = queue.removeFirst()
            var summary: [(String, String)]?
            if droppedSinceSummary > 0 && queue.count < capacity / 2 {
                summary = dropSummary(droppedSinceSummary)
                droppedSinceSummary = 0
            }
            inFlight = true
            condition.unlock()
            if let summary { write(summary) }
            write(entry)
            entry = []
            condition.lock()
            inFlight = false
            written += 1
            lastProgress = Date().timeIntervalSince1970
            condition.broadcast()
            condition.unlock()
        }
    }

    private func write(_ fields: [(String, String)]) {
        if useJournal {
            do {
                try Journal.send(fields: fields)
                return
            } catch {
                FileHandle.standardError.write(Data("slawatch: journal write failed: \(error)\n".utf8))
            }
        }
        FileHandle.standardError.write(Data((Journal.stderrLine(fields) + "\n").utf8))
    }
}
