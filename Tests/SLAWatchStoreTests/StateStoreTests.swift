import Foundation
import GRDB
import Testing

@testable import SLAWatchCore
@testable import SLAWatchStore

@Suite struct StateStoreTests {
    private func tempPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent(
            "slawatch-store-\(UUID().uuidString)/state.sqlite"
        )
        .path
    }

    private func aggregate(_ values: [Double]) -> Aggregate {
        var a = Aggregate()
        for v in values { a.add(Event(metric: "m", value: v, kind: .distribution)) }
        return a
    }

    @Test func walAndFullSynchronousAreInForce() throws {
        let store = try StateStore(path: tempPath())
        let s = try store.durabilitySettings()
        #expect(s.synchronous == 2)  // FULL: a committed snapshot survives power loss
        #expect(s.journalMode == "wal")
    }

    @Test func snapshotsRoundTripThroughTheFile() throws {
        let path = tempPath()
        var state = InstanceState()
        state.state = .breached
        state.since = 1_700_000_000
        state.episode = "1700000000-3"
        state.episodeCounter = 3
        state.trackedPeriodStart = 1_699_999_000
        let snapshots = [
            Engine.Snapshot(
                objective: "a",
                fingerprint: "m||5m|UTC",
                state: state,
                buckets: [100: aggregate([1, 2, 3]), 101: aggregate([7.5])],
                closedBefore: nil
            ),
            Engine.Snapshot(
                objective: "b",
                fingerprint: "n||month|Europe/Paris",
                state: InstanceState(),
                buckets: [:],
                closedBefore: 1_698_793_200
            ),
        ]
        do {
            let store = try StateStore(path: path)
            try store.save(snapshots, at: 1_700_000_100)
        }
        let reopened = try StateStore(path: path)
        #expect(try reopened.loadSnapshots() == snapshots)
    }

    @Test func setMembersAndQuantileSketchesRoundTrip() throws {
        let path = tempPath()
        var sketchy = Aggregate()
        for v in [12.0, 15, 15, 900, -1, 0] {
            sketchy.add(value: v, kind: .distribution, sampleRate: 0.5, member: nil, quantiles: true)
        }
        var set = Aggregate()
        for m in ["alice", "bob", "alice", "émile"] { set.add(value: 1, kind: .set, sampleRate: 1, member: m) }
        let snapshots = [
            Engine.Snapshot(
                objective: "p95",
                fingerprint: "lat||5m|UTC|sketch",
                state: InstanceState(),
                buckets: [7: sketchy, 8: set],
                closedBefore: nil
            )
        ]
        do { try StateStore(path: path).save(snapshots, at: 1) }
        let back = try StateStore(path: path).loadSnapshots()
        #expect(back == snapshots)
        #expect(back.first?.buckets[8]?.distinctMembers == 3)
        #expect(back.first?.buckets[7]?.sketch?.total == 12)
        #expect(back.first?.buckets[7]?.sketch?.quantile(0.5) == sketchy.sketch?.quantile(0.5))
    }

    @Test func aLaterSnapshotReplacesEvictedBuckets() throws {
        let store = try StateStore(path: tempPath())
        let first = Engine.Snapshot(
            objective: "a",
            fingerprint: "f",
            state: InstanceState(),
            buckets: [1: aggregate([1]), 2: aggregate([2])],
            closedBefore: nil
        )
        try store.save([first], at: 0)
        var second = first
        second.buckets = [2: aggregate([2, 4])]
        try store.save([second], at: 1)
        let loaded = try store.loadSnapshots()
        #expect(loaded.count == 1)
        #expect(loaded.first?.buckets.keys.sorted() == [2])
        #expect(loaded.first?.buckets[2]?.sum == 6)
        #expect(loaded.first?.buckets[2]?.max == 4)
    }

    @Test func periodResultsAreStored() throws {
        let store = try StateStore(path: tempPath())
        let t = Transition(
            objective: "leads",
            kind: .periodResult,
            from: .ok,
            to: .breached,
            at: 1_701_388_801,
            value: 42,
            baseline: 100,
            episode: "x",
            periodStart: 1_698_793_200,
            periodEnd: 1_701_385_200,
            met: false
        )
        try store.save([], periodResults: [t], at: 1_701_388_801)
        let results = try store.periodResults(objective: "leads")
        #expect(results.count == 1)
        #expect(results.first?.value == 42)
        #expect(results.first?.met == false)
        #expect(results.first?.start == 1_698_793_200)
    }

    @Test func engineStateSurvivesARestartThroughTheStore() throws {
        let sla = SLA(name: "s", provider: "p", customer: "c")
        let objective = Objective(
            name: "errors",
            sla: sla,
            metric: "errors",
            sli: .count,
            window: .rolling(seconds: 300),
            direction: .atMost,
            baseline: Baseline(value: 2, kind: .fixed, source: "2"),
            nodata: .ok
        )
        var engine = Engine(objectives: [objective])
        let t0 = 1_700_000_000.0
        _ = engine.ingest(
            (0..<3).map { Event(metric: "errors", value: 1, kind: .counter, time: t0 + Double($0)) },
            now: t0 + 5
        )
        let first = engine.evaluate(at: t0 + 5)
        #expect(first.map(\.kind) == [.breach])
        let store = try StateStore(path: tempPath())
        try store.save(engine.takeDirtySnapshots(), at: t0 + 5)

        var restarted = Engine(objectives: [objective])
        restarted.restore(try store.loadSnapshots())
        #expect(restarted.evaluate(at: t0 + 6).isEmpty)  // still breached, nothing re-announced
        let later = restarted.evaluate(at: t0 + 400)  // the errors left the window
        #expect(later.map(\.kind) == [.recovery])
        #expect(later.first?.episode == first.first?.episode)
    }
}

/// The store of the previous format (v7: JSON states, one row per bucket with JSON sketches) is
/// migrated on first open, and reads back exactly what v7 read from it.
@Suite struct StoreMigrationTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// A v7 `state.sqlite` built from the SQL dump (SQLite through GRDB, no sqlite3 program needed).
    static func v7Store() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slawatch-v7-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("state.sqlite").path
        let sql = try String(contentsOf: fixtures.appendingPathComponent("state-v7.sql"), encoding: .utf8)
        let q = try DatabaseQueue(path: path)
        try q.writeWithoutTransaction { db in try db.execute(sql: sql) }
        return path
    }

    @Test func v7IsMigratedAndReadsBackTheSame() throws {
        let path = try Self.v7Store()
        let store = try StateStore(path: path)
        // v9: saved state counts as history from the start.
        let expected = try JSONDecoder().decode(
            [Engine.Snapshot].self,
            from: Data(contentsOf: Self.fixtures.appendingPathComponent("state-v7-snapshots.json"))
        ).map(withHistory)
        let migrated = try store.loadSnapshots()
        #expect(migrated.count == 11)
        #expect(migrated.map(\.buckets.count).reduce(0, +) == 182)
        #expect(migrated == expected.sorted { $0.objective < $1.objective })
        let gauges = try JSONDecoder().decode(
            [String: Double].self,
            from: Data(contentsOf: Self.fixtures.appendingPathComponent("state-v7-gauges.json"))
        )
        #expect(try store.loadGaugeLevels() == gauges)
        let ledger = try #require(try store.ledgerEntry(contentHash: "0123456789abcdef/statsd"))
        #expect(ledger.notCounted == [3])
        #expect(ledger.accepted == 10)
        // The old tables are gone; a second open does not migrate again.
        let tables = try DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        }
        #expect(!tables.contains("window_bucket") && !tables.contains("objective_state") && tables.contains("bucket"))
        #expect(try StateStore(path: path).loadSnapshots() == migrated)
        // A p99 bucket kept its sketch bit for bit.
        let p99 = try #require(migrated.first { $0.objective == "latency-p99-30d" })
        #expect(p99.buckets.values.contains { ($0.sketch?.binCount ?? 0) > 50 })
    }
}
