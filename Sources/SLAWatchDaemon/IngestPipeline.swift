import Foundation
import SLAWatchCore

/// Per-source tallies for acknowledgements (`#sync`). Shared between a connection's event-loop
/// handler and the pipeline consumer, hence the lock.
public final class SourceTally: @unchecked Sendable {
    private let lock = NSLock()
    private var _accepted = 0
    private var _rejected = 0
    private var _sinceAck: [LineRejection] = []
    /// Who sent the lines: `socket ingest.sock peer pid=… uid=…`, a file path, ….
    public let source: String

    /// Creates an empty tally for `source`.
    public init(source: String) { self.source = source }

    /// Adds accepted events and rejected lines.
    public func add(accepted: Int, rejections: [LineRejection]) {
        lock.lock()
        defer { lock.unlock() }
        _accepted += accepted
        _rejected += rejections.count
        if _sinceAck.count < 1000 { _sinceAck += rejections.prefix(1000 - _sinceAck.count) }
    }

    /// Rejections recorded since the last call (at most 1000), for an acknowledgement.
    public func takeRejectionsSinceAck() -> [LineRejection] {
        lock.lock()
        defer { lock.unlock() }
        defer { _sinceAck = [] }
        return _sinceAck
    }

    /// (accepted events, rejected lines or events) since the source connected.
    public var totals: (accepted: Int, rejected: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (_accepted, _rejected)
    }
}

/// A unit of work for the single ingest consumer, kept in arrival order.
public enum IngestWork: Sendable {
    /// Parsed events with their source line numbers (parallel arrays), and the lines the
    /// parser rejected.
    case batch(events: EventBatch, lines: [Int], parseRejections: [LineRejection], tally: SourceTally)
    /// Everything before this is ingested; commit, then call `reply`.
    case sync(reply: @Sendable (_ committed: Bool) -> Void)
    /// Everything before this is ingested; call `done` (no commit).
    case barrier(done: @Sendable () -> Void)
}

/// The ordered hand-off between listeners (on NIO event loops) and the engine actor: listeners
/// yield whole batches into an `AsyncStream`; one consumer task feeds the engine.
public final class IngestPipeline: Sendable {
    private let continuation: AsyncStream<IngestWork>.Continuation
    private let stream: AsyncStream<IngestWork>
    /// Batches go back here once ingested; listeners fill them again (no allocation per event).
    public let pool = EventBatchPool(capacity: 16)
    /// Unknown `|`-fields and DogStatsD events/service checks skipped by all listeners.
    public let ignored = IgnoredCounter()

    /// Creates the pipeline (unbounded buffer; back-pressure comes in a later issue).
    public init() {
        (stream, continuation) = AsyncStream<IngestWork>.makeStream()
    }

    /// Queues work; safe from any thread.
    public func submit(_ work: IngestWork) { continuation.yield(work) }

    /// Stops accepting work; `run` returns after draining what was queued.
    public func finish() { continuation.finish() }

    /// Feeds the engine until `finish()` is called and the queue is drained; rejections go to
    /// `reporter` (rate-limited journal entries per source).
    public func run(engine: EngineActor, reporter: RejectionReporter? = nil) async {
        // The last ingested batch, recycled once the work item holding it is gone (so the
        // listener that reuses it holds the only reference and does not copy it).
        var ingested: (EventBatch, [Int])?
        for await work in stream {
            if let (events, lines) = ingested.take() { pool.recycle(events, lines) }
            switch work {
            case .batch(let events, let lines, let parseRejections, let tally):
                if !parseRejections.isEmpty {
                    await engine.countParseRejections(
                        Dictionary(parseRejections.map { ($0.reason, 1) }, uniquingKeysWith: +)
                    )
                }
                let r = events.isEmpty ? Engine.IngestResult() : await engine.ingest(events)
                let rejections = r.rejected.map { x in
                    LineRejection(line: lines[x.index], reason: x.reason, excerpt: events.metric(at: x.index))
                }
                ingested = (events, lines)
                let all = (parseRejections + rejections).sorted { $0.line < $1.line }
                tally.add(accepted: r.accepted, rejections: all)
                reporter?.note(
                    source: tally.source,
                    accepted: r.accepted,
                    rejections: all,
                    now: Date().timeIntervalSince1970
                )
            case .sync(let reply):
                do {
                    try await engine.commit()
                    reply(true)
                } catch {
                    reply(false)
                }
            case .barrier(let done):
                done()
            }
        }
    }
}

/// Totals of harmless input that was skipped (not errors): unknown DogStatsD `|`-fields and
/// `_e{…}`/`_sc|…` messages. Thread-safe.
public final class IgnoredCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var total = ParseStats()

    /// Adds what a listener's batcher counted since its previous report (`now − before`).
    public func add(_ now: ParseStats, since before: ParseStats) {
        guard now != before else { return }
        lock.lock()
        total.ignoredFields += now.ignoredFields - before.ignoredFields
        total.ignoredMessages += now.ignoredMessages - before.ignoredMessages
        lock.unlock()
    }

    /// The totals so far.
    public var value: ParseStats {
        lock.lock()
        defer { lock.unlock() }
        return total
    }
}
