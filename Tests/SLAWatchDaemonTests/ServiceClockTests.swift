import Foundation
import Logging
import SLAWatchCore
import SLAWatchStore
import Synchronization
import Testing

@testable import SLAWatchDaemon

/// The daemon's services on a clock the test advances: ticks, commits, pings and `STATUS=` text
/// without sleeping for real.
@Suite struct ServiceClockTests {
    static func actor(clock: ManualClock, objectives: [Objective] = []) throws -> EngineActor {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slawatch-svc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let store = try StateStore(path: dir.appendingPathComponent("state.sqlite").path)
        return EngineActor(engine: Engine(objectives: objectives), store: store, clock: { clock.now })
    }

    static let logger = Logger(label: "test")

    static let count = Objective(
        name: "errors",
        sla: SLA(name: "s", provider: "p", customer: "c"),
        metric: "err",
        sli: .count,
        window: .rolling(seconds: 60),
        direction: .atMost,
        baseline: Baseline(value: 2, kind: .fixed, source: "2"),
        nodata: .ok
    )

    /// A commit every `snapshot_interval`, none before.
    @Test func snapshotServiceCommitsEachInterval() async throws {
        let clock = ManualClock()
        let actor = try Self.actor(clock: clock)
        let journal = JournalEmitter(forceStderr: true)
        let service = SnapshotService(actor: actor, journal: journal, clock: clock, interval: 5, logger: Self.logger)
        let task = Task { try await service.run() }
        try await clock.waitForSleeps(1)
        let before = await actor.commits
        clock.advance(by: 4.9)
        clock.advance(by: 0)
        #expect(clock.sleepsStarted == 1)
        #expect(await actor.commits == before)
        clock.advance(by: 0.1)
        try await clock.waitForSleeps(2)
        #expect(await actor.commits == before + 1)
        clock.advance(by: 5)
        try await clock.waitForSleeps(3)
        #expect(await actor.commits == before + 2)
        task.cancel()
        try await task.value
    }

    /// `STATUS=` after each evaluation: objectives, breaches, and the ingest rate.
    @Test func evaluationServiceJudgesAndReportsStatus() async throws {
        let clock = ManualClock()
        let actor = try Self.actor(clock: clock, objectives: [Self.count])
        let texts = Mutex<[String]>([])
        var service = EvaluationService(
            actor: actor,
            journal: JournalEmitter(forceStderr: true),
            clock: clock,
            interval: 1,
            logger: Self.logger
        )
        service.status = { text in texts.withLock { $0.append(text) } }
        let task = Task { try await service.run() }
        try await clock.waitForSleeps(1)
        _ = await actor.ingest(EventBatch((0..<100).map { _ in Event(metric: "err", value: 1, kind: .counter) }))
        clock.advance(by: 1)
        try await clock.waitForSleeps(2)
        #expect(await actor.states() == [.breached])
        #expect(await actor.lastEvaluation == clock.now)
        // 100 events in 1 s, smoothed over about ten seconds: 10 events/s.
        #expect(texts.withLock { $0 } == ["watching 1 objectives, 1 breached, 0 without data, 10 events/s"])
        clock.advance(by: 1)
        try await clock.waitForSleeps(3)
        // No events in the next second: the rate decays (10 + (0 − 10) × 0.1).
        #expect(texts.withLock { $0.last } == "watching 1 objectives, 1 breached, 0 without data, 9 events/s")
        clock.advance(by: 0.5)
        #expect(clock.sleepsStarted == 3)
        task.cancel()
        try await task.value
    }

    /// Pings every half interval while the engine evaluates and the pipeline drains; withheld
    /// when the last evaluation is older than three evaluation intervals.
    @Test func watchdogPingsOnlyWhileTheEngineEvaluates() async throws {
        let clock = ManualClock()
        let actor = try Self.actor(clock: clock)
        let pipeline = IngestPipeline(clock: clock)
        let consumer = Task { await pipeline.run(engine: actor) }
        let pings = Mutex(0)
        var service = WatchdogService(
            actor: actor,
            pipeline: pipeline,
            journal: JournalEmitter(forceStderr: true),
            clock: clock,
            interval: 20,
            evaluationInterval: 1,
            logger: Self.logger
        )
        service.ping = { pings.withLock { $0 += 1 } }
        _ = await actor.evaluate()
        let task = Task { try await service.run() }
        try await clock.waitForSleeps(1)
        // The barrier went through the pipeline; the engine evaluated just now.
        try await Task.sleep(for: .milliseconds(50))
        clock.advance(by: 10)
        try await clock.waitForSleeps(2)
        #expect(pings.withLock { $0 } == 1)
        // No evaluation for 20 s (more than max(20, 3 × 1)): withheld.
        try await Task.sleep(for: .milliseconds(50))
        clock.advance(by: 10)
        try await clock.waitForSleeps(3)
        #expect(pings.withLock { $0 } == 1)
        // Evaluating again brings the pings back.
        _ = await actor.evaluate()
        try await Task.sleep(for: .milliseconds(50))
        clock.advance(by: 10)
        try await clock.waitForSleeps(4)
        #expect(pings.withLock { $0 } == 2)
        task.cancel()
        try await task.value
        pipeline.finish()
        await consumer.value
    }
}

/// The interval between writes under a sustained stream of `#sync`s: group commit bounded by
/// the write's own CPU cost.
@Suite struct WriteIntervalTests {
    @Test func writesTakeATenthOfTheCPUWithinTheBounds() {
        // A cheap write: the floor.
        #expect(EngineActor.writeInterval(cpu: .milliseconds(2)) == .milliseconds(50))
        // A write that used 12 ms of CPU: the next one 120 ms after its start.
        #expect(EngineActor.writeInterval(cpu: .milliseconds(12)) == .milliseconds(120))
        // A huge write: a sync behind it waits no more than the cap.
        #expect(EngineActor.writeInterval(cpu: .milliseconds(400)) == .milliseconds(250))
    }

    /// The CPU clock of a thread counts its own work only: a sleep adds next to nothing, and
    /// work adds no more than the wall time it took.
    @Test func threadCPUTimeCountsWorkNotWaiting() {
        let a = threadCPUTime()
        Thread.sleep(forTimeInterval: 0.05)
        let b = threadCPUTime()
        #expect(b - a < .milliseconds(20))
        let start = ContinuousClock.now
        while threadCPUTime() - b < .milliseconds(30) && ContinuousClock.now - start < .seconds(20) {}
        let c = threadCPUTime()
        let wall = ContinuousClock.now - start
        #expect(c - b >= .milliseconds(30))
        #expect(c - b <= wall + .milliseconds(1))
    }
}
