import Foundation

/// Runs the store's writes on a thread of its own, off the engine actor and off Swift's
/// cooperative pool, with group commit: every batch submitted while a write is in flight joins
/// the next write, and each of their waiters is answered by that one transaction, in the order
/// they were submitted.
///
/// A batch whose write fails is kept and written with the next one (its waiters are told it
/// failed), so nothing taken from the engine is ever dropped: a drop file's events and its ledger
/// entry stay together until a write holding both succeeds.
// @unchecked: every mutable field is read and written under `condition` only; the blocking
// waits need a condition variable, which `Synchronization.Mutex` does not have.
public final class StoreWriter: @unchecked Sendable {
    /// Called once the batch it was submitted with is durable (`nil`) or its write failed.
    public typealias Completion = @Sendable (_ error: Error?) -> Void

    private let store: StateStore
    private let clock: @Sendable () -> Double
    private let condition = NSCondition()
    private var queued: StoreBatch?
    /// Whether the queued batch is kept for the next write when its write fails.
    private var queuedKept = true
    private var waiting: [Completion] = []
    private var retained: StoreBatch?
    private var stopped = false
    private var writing = false
    private var _commits = 0
    private var _failures = 0
    private var _lastError: String?
    private var _lastWriteCPUTime: Duration = .zero

    /// Starts the writer thread.
    /// - Parameter clock: unix seconds, for `updated_at` and `ingested_at`.
    public init(store: StateStore, clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.store = store
        self.clock = clock
        let thread = Thread { [self] in run() }
        thread.name = "slawatch-store"
        thread.start()
        let checkpoints = Thread { [self] in checkpointLoop() }
        checkpoints.name = "slawatch-checkpoint"
        checkpoints.start()
    }

    /// Passive checkpoints on their own connection and thread, when the store is quiet (no commit
    /// for a second) or at least every 30 s under constant load: a checkpoint's fsync of the
    /// database file competes with a commit's fsync of the WAL in the file system's journal, so
    /// a checkpoint every few commits would put ~100 ms on the `#sync` answers behind them.
    private func checkpointLoop() {
        var checkpointed = 0
        var lastCheckpoint = Date()
        var lastCommitSeen = 0
        var quietSince = Date()
        while true {
            condition.lock()
            let done = stopped && queued == nil && !writing
            let commits = _commits
            condition.unlock()
            if commits != lastCommitSeen {
                lastCommitSeen = commits
                quietSince = Date()
            }
            let due =
                commits != checkpointed
                && (done || Date().timeIntervalSince(quietSince) >= 1 || Date().timeIntervalSince(lastCheckpoint) >= 30)
            if due {
                _ = try? store.checkpoint()
                checkpointed = commits
                lastCheckpoint = Date()
            }
            if done { return }
            Thread.sleep(forTimeInterval: 0.25)
        }
    }

    /// Queues a batch; `completion` is called on the writer thread once it is durable or failed.
    /// - Parameter keepOnFailure: `false` for a batch that must not outlive a failed write (a
    ///   drop file's, which is read again instead): the next write holds only what was kept
    ///   before it. Such a batch is submitted alone, while nothing else is queued (the engine
    ///   actor holds the store for it).
    public func submit(_ batch: StoreBatch, keepOnFailure: Bool = true, completion: @escaping Completion) {
        condition.lock()
        if queued == nil {
            queued = batch
            queuedKept = keepOnFailure
        } else {
            queued!.absorb(batch)
            queuedKept = queuedKept && keepOnFailure
        }
        waiting.append(completion)
        condition.signal()
        condition.unlock()
    }

    /// Queues a batch and waits until it is durable.
    /// - Throws: the store's error when the write failed (the batch is kept for the next write).
    public func commit(_ batch: StoreBatch) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
            submit(batch) { error in
                if let error { c.resume(throwing: error) } else { c.resume() }
            }
        }
    }

    /// Successful writes since start.
    public var commits: Int {
        condition.lock()
        defer { condition.unlock() }
        return _commits
    }

    /// Failed writes since start, and the last failure's text.
    public var failures: (count: Int, last: String?) {
        condition.lock()
        defer { condition.unlock() }
        return (_failures, _lastError)
    }

    /// The CPU time the last write (or failed write) took on the writer thread: what a write
    /// costs the cores ingest needs, without the disk's flush latency it waited out.
    public var lastWriteCPUTime: Duration {
        condition.lock()
        defer { condition.unlock() }
        return _lastWriteCPUTime
    }

    /// Whether everything submitted so far is written (or failed): nothing queued, nothing in flight.
    public var isIdle: Bool {
        condition.lock()
        defer { condition.unlock() }
        return queued == nil && !writing
    }

    /// Lets the thread finish what is queued, then end. Later submissions fail.
    public func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private struct Stopped: Error, CustomStringConvertible {
        var description: String { "the store writer has stopped" }
    }

    private func run() {
        while true {
            condition.lock()
            while queued == nil && !stopped { condition.wait() }
            guard let next = queued else {
                let late = waiting
                waiting = []
                condition.unlock()
                for w in late { w(Stopped()) }
                return
            }
            let before = retained
            var batch = retained ?? StoreBatch()
            batch.absorb(next)
            let keep = queuedKept
            let waiters = waiting
            queued = nil
            queuedKept = true
            waiting = []
            writing = true
            condition.unlock()
            var failure: Error?
            let cpu = threadCPUTime()
            do {
                try store.write(batch, at: clock())
            } catch {
                failure = error
            }
            let used = threadCPUTime() - cpu
            condition.lock()
            writing = false
            _lastWriteCPUTime = used
            if let failure {
                retained = keep ? batch : before
                _failures += 1
                _lastError = "\(failure)"
            } else {
                retained = nil
                _commits += 1
            }
            condition.unlock()
            for w in waiters { w(failure) }
        }
    }
}

/// The CPU time the calling thread has used (`CLOCK_THREAD_CPUTIME_ID`, POSIX.1-2008), in
/// nanoseconds' resolution; `.zero` where the clock is unavailable.
public func threadCPUTime() -> Duration {
    var ts = timespec()
    guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0 else { return .zero }
    return .seconds(ts.tv_sec) + .nanoseconds(ts.tv_nsec)
}
