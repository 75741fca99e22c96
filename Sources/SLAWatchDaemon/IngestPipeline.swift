import Foundation
import SLAWatchCore
import Synchronization

/// Per-source tallies for acknowledgements (`#sync`). Shared between a connection's event-loop
/// handler and the pipeline consumer, hence the lock.
public final class SourceTally: Sendable {
    private struct State {
        var accepted = 0
        var rejected = 0
        var sinceAck: [LineRejection] = []
    }
    private let state = Mutex(State())
    /// Who sent the lines: `socket ingest.sock peer pid=… uid=…`, a file path, ….
    public let source: String
    /// Which input it came through, for the per-source counters of `slawatch status`.
    public let kind: IngestSource

    /// Creates an empty tally for `source`.
    public init(source: String, kind: IngestSource) {
        self.source = source
        self.kind = kind
    }

    /// Adds accepted events and rejected lines.
    public func add(accepted: Int, rejections: [LineRejection]) {
        state.withLock { s in
            s.accepted += accepted
            s.rejected += rejections.count
            if s.sinceAck.count < 1000 { s.sinceAck += rejections.prefix(1000 - s.sinceAck.count) }
        }
    }

    /// Rejections recorded since the last call (at most 1000), for an acknowledgement.
    public func takeRejectionsSinceAck() -> [LineRejection] {
        state.withLock { s in
            defer { s.sinceAck = [] }
            return s.sinceAck
        }
    }

    /// (accepted events, rejected lines or events) since the source connected.
    public var totals: (accepted: Int, rejected: Int) { state.withLock { ($0.accepted, $0.rejected) } }
}

/// A unit of work for the single ingest consumer, kept in arrival order.
public enum IngestWork: Sendable {
    /// Parsed events with their source line numbers (parallel arrays), and the lines the
    /// parser rejected.
    case batch(events: EventBatch, lines: [Int], parseRejections: [LineRejection], tally: SourceTally)
    /// A batch with `#sync` lines in it (all from one connection): the whole batch is ingested
    /// at once, then each sync's `prepare` runs in line order once the tallies of the lines
    /// before it are added (it reads them), and one commit answers them all: once it is durable
    /// (`true`) or failed (`false`), the answers the functions `prepare` returned make, in line
    /// order, go to `deliver` as one text (one write to the connection, however many syncs).
    /// A batch cut at every sync would cost a name lookup per event for a producer that syncs
    /// often.
    case batchWithSyncs(
        events: EventBatch,
        lines: [Int],
        parseRejections: [LineRejection],
        tally: SourceTally,
        syncs: [(line: Int, prepare: @Sendable () -> @Sendable (_ committed: Bool) -> String)],
        deliver: @Sendable (String) -> Void
    )
    /// Everything before this is ingested; call `done` (no commit).
    case barrier(done: @Sendable () -> Void)
    /// Everything before this is ingested, and the answers of every `#sync` before it are
    /// written: `done` runs after the next commit (in commit order), e.g. to close a connection
    /// only after its acknowledgements went out.
    case afterAnswers(done: @Sendable () -> Void)
}

/// The ordered hand-off between listeners (on NIO event loops) and the engine actor: listeners
/// yield whole batches into an `AsyncStream`; one consumer task feeds the engine.
///
/// Bounded: when more than `limit` events wait, `isFull` holds and listeners stop reading (the
/// stream handler turns autoRead off and registers `whenRoom`; the datagram thread waits in
/// `waitForRoom()`) until the consumer has taken the queue below half the limit. Senders then
/// wait in the kernel's socket buffers: nothing is dropped, and memory stays flat.
public final class IngestPipeline: Sendable {
    private let continuation: AsyncStream<IngestWork>.Continuation
    private let stream: AsyncStream<IngestWork>
    private let gate: QueueGate
    /// Batches go back here once ingested; listeners fill them again (no allocation per event).
    public let pool = EventBatchPool(capacity: 16)
    /// Accepted, rejected and ignored input per source (stream, datagram, drop directory).
    public let counters: IngestCounters

    private let clock: any DaemonClock

    /// Creates the pipeline, bounded at `limit` queued events (back-pressure on the listeners).
    /// - Parameter counters: where stream and datagram input is counted (the daemon's, shared
    ///   with the drop directory).
    /// - Parameter limit: events queued at most before listeners stop reading (`max_queued_events`).
    /// - Parameter clock: the time rejection entries are noted at.
    public init(
        counters: IngestCounters = IngestCounters(),
        limit: Int = 500_000,
        clock: any DaemonClock = SystemClock()
    ) {
        self.clock = clock
        self.counters = counters
        self.gate = QueueGate(limit: limit)
        (stream, continuation) = AsyncStream<IngestWork>.makeStream()
    }

    /// Queues work; safe from any thread.
    public func submit(_ work: IngestWork) {
        gate.add(work.eventCount)
        continuation.yield(work)
    }

    /// More events wait than the limit: a listener should stop reading until `whenRoom` calls back.
    public var isFull: Bool { gate.isFull }

    /// Calls `resume` once the queue is below half its limit (at once if it is already).
    public func whenRoom(_ resume: @escaping @Sendable () -> Void) { gate.whenRoom(resume) }

    /// Blocks the calling thread while the queue is full (the datagram listener's thread).
    public func waitForRoom() { gate.waitForRoom() }

    /// Events queued now, and the most ever queued.
    public var queued: (now: Int, peak: Int) { gate.counts }

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
            defer { gate.remove(work.eventCount) }
            switch work {
            case .batchWithSyncs(let events, let lines, let parseRejections, let tally, let syncs, let deliver):
                let (r, all) = await ingest(events, lines, parseRejections, tally, engine, reporter)
                ingested = (events, lines)
                // Each sync answers for the lines before it: tallies are added in line order.
                // Event lines ascend, and the engine's rejections come in event order: per sync,
                // a binary search and a step along the rejections, not a look at every event.
                let rejected = r.rejected
                var e = 0
                var j = 0
                var k = 0
                var finishers: [@Sendable (Bool) -> String] = []
                for sync in syncs {
                    let end = Self.firstIndex(in: lines, from: e, atOrAfterLine: sync.line)
                    let j0 = j
                    while j < rejected.count && rejected[j].index < end { j += 1 }
                    let k0 = k
                    while k < all.count && all[k].line < sync.line { k += 1 }
                    tally.add(accepted: (end - e) - (j - j0), rejections: Array(all[k0..<k]))
                    finishers.append(sync.prepare())
                    e = end
                }
                tally.add(accepted: (lines.count - e) - (rejected.count - j), rejections: Array(all[k...]))
                let answer = finishers
                await engine.requestCommit { ok in deliver(answer.map { $0(ok) }.joined()) }
            case .batch(let events, let lines, let parseRejections, let tally):
                let (r, all) = await ingest(events, lines, parseRejections, tally, engine, reporter)
                ingested = (events, lines)
                tally.add(accepted: r.accepted, rejections: all)
            case .afterAnswers(let done):
                await engine.requestCommit { _ in done() }
            case .barrier(let done):
                done()
            }
        }
    }

    /// The first index at or after `start` whose line is `line` or later in `lines` (ascending),
    /// `lines.count` when none is.
    static func firstIndex(in lines: [Int], from start: Int, atOrAfterLine line: Int) -> Int {
        var (lo, hi) = (start, lines.count)
        while lo < hi {
            let mid = (lo + hi) / 2
            if lines[mid] < line { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Ingests one batch and counts it: the parser's rejections and the engine's (at their
    /// lines, in line order) go to the status counters, the per-reason totals and the rejection
    /// reporter. Returns the engine's result and every rejection of the batch.
    private func ingest(
        _ events: EventBatch,
        _ lines: [Int],
        _ parseRejections: [LineRejection],
        _ tally: SourceTally,
        _ engine: EngineActor,
        _ reporter: RejectionReporter?
    ) async -> (Engine.IngestResult, [LineRejection]) {
        if !parseRejections.isEmpty {
            await engine.countParseRejections(Dictionary(parseRejections.map { ($0.reason, 1) }, uniquingKeysWith: +))
        }
        let r = events.isEmpty ? Engine.IngestResult() : await engine.ingest(events)
        var all = parseRejections
        for x in r.rejected {
            all.append(LineRejection(line: lines[x.index], reason: x.reason, excerpt: events.metric(at: x.index)))
        }
        all.sort { $0.line < $1.line }
        counters.add(tally.kind, accepted: r.accepted, rejections: all.map(\.reason))
        reporter?.note(source: tally.source, accepted: r.accepted, rejections: all, now: clock.now)
        return (r, all)
    }
}

/// Where input comes from, as `slawatch status` counts it.
public enum IngestSource: String, Sendable, CaseIterable, Codable {
    /// The stream socket (`ingest.sock`).
    case stream
    /// The datagram socket (`ingest.dgram`).
    case datagram
    /// Files of the drop directory.
    case drop
}

/// What one source delivered since the daemon started: events accepted, input items rejected
/// (lines, JSON array elements, datagrams; per reason) and harmless input ignored (unknown
/// DogStatsD `|`-fields, DogStatsD events and service checks).
public struct SourceCounts: Sendable, Codable, Equatable {
    /// Events accepted (counted in windows, or matching no objective).
    public var accepted = 0
    /// Input items rejected.
    public var rejected = 0
    /// `ignoredFields + ignoredMessages`.
    public var ignored = 0
    /// Unknown `|`-fields skipped (the line itself counts).
    public var ignoredFields = 0
    /// DogStatsD events (`_e{…}`) and service checks (`_sc|…`) skipped.
    public var ignoredMessages = 0
    /// `rejected` per reason code (`invalid_value`, `too_late`, …).
    public var rejectedByReason: [String: Int] = [:]

    /// Zero counts.
    public init() {}

    /// The sum of two sources' counts.
    public static func + (a: SourceCounts, b: SourceCounts) -> SourceCounts {
        var c = a
        c.accepted += b.accepted
        c.rejected += b.rejected
        c.ignored += b.ignored
        c.ignoredFields += b.ignoredFields
        c.ignoredMessages += b.ignoredMessages
        c.rejectedByReason.merge(b.rejectedByReason, uniquingKeysWith: +)
        return c
    }
}

/// The per-source counters of `slawatch status`, fed by the pipeline (stream and datagram
/// batches), the listeners (ignored input) and the drop directory (each ingested file). Thread-safe.
public final class IngestCounters: Sendable {
    private let counts = Mutex<[IngestSource: SourceCounts]>([:])

    /// Creates zero counters.
    public init() {}

    /// Adds accepted events and rejected items of one source.
    public func add(_ source: IngestSource, accepted: Int, rejections: [RejectReason]) {
        counts.withLock { counts in
            var c = counts[source] ?? SourceCounts()
            c.accepted += accepted
            c.rejected += rejections.count
            for r in rejections { c.rejectedByReason[r.rawValue, default: 0] += 1 }
            counts[source] = c
        }
    }

    /// Adds accepted events and rejected items (counted per reason) of one source.
    public func add(_ source: IngestSource, accepted: Int, rejectedByReason: [RejectReason: Int]) {
        counts.withLock { counts in
            var c = counts[source] ?? SourceCounts()
            c.accepted += accepted
            for (r, n) in rejectedByReason where n > 0 {
                c.rejected += n
                c.rejectedByReason[r.rawValue, default: 0] += n
            }
            counts[source] = c
        }
    }

    /// Adds what a listener's batcher counted as ignored since its previous report (`now − before`).
    public func addIgnored(_ source: IngestSource, _ now: ParseStats, since before: ParseStats) {
        guard now != before else { return }
        counts.withLock { counts in
            var c = counts[source] ?? SourceCounts()
            c.ignoredFields += now.ignoredFields - before.ignoredFields
            c.ignoredMessages += now.ignoredMessages - before.ignoredMessages
            c.ignored = c.ignoredFields + c.ignoredMessages
            counts[source] = c
        }
    }

    /// Every source's counts (zero for a source that sent nothing), by `IngestSource` raw value.
    public var snapshot: [String: SourceCounts] {
        counts.withLock { counts in
            var out: [String: SourceCounts] = [:]
            for s in IngestSource.allCases { out[s.rawValue] = counts[s] ?? SourceCounts() }
            return out
        }
    }
}

extension IngestWork {
    /// Events the work item carries (what the queue's limit counts).
    var eventCount: Int {
        switch self {
        case .batch(let events, _, _, _), .batchWithSyncs(let events, _, _, _, _, _): return events.count
        case .barrier, .afterAnswers: return 0
        }
    }
}

/// The count of queued events against a limit, with the listeners waiting for room.
// @unchecked: every mutable field is read and written under `condition` only; the blocking
// waits need a condition variable, which `Synchronization.Mutex` does not have.
final class QueueGate: @unchecked Sendable {
    private let condition = NSCondition()
    private let limit: Int
    private var queued = 0
    private var peak = 0
    private var waiting: [@Sendable () -> Void] = []

    init(limit: Int) { self.limit = max(1, limit) }

    var isFull: Bool {
        condition.lock()
        defer { condition.unlock() }
        return queued > limit
    }

    var counts: (now: Int, peak: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (queued, peak)
    }

    func add(_ n: Int) {
        guard n > 0 else { return }
        condition.lock()
        queued += n
        peak = max(peak, queued)
        condition.unlock()
    }

    func remove(_ n: Int) {
        guard n > 0 else { return }
        condition.lock()
        queued -= n
        var resume: [@Sendable () -> Void] = []
        if queued <= limit / 2 {
            resume = waiting
            waiting = []
            condition.broadcast()
        }
        condition.unlock()
        for r in resume { r() }
    }

    func whenRoom(_ resume: @escaping @Sendable () -> Void) {
        condition.lock()
        if queued <= limit / 2 {
            condition.unlock()
            resume()
            return
        }
        waiting.append(resume)
        condition.unlock()
    }

    func waitForRoom() {
        condition.lock()
        while queued > limit { condition.wait() }
        condition.unlock()
    }
}
