import Foundation
import GRDB
import Testing

@testable import SLAWatchCore
@testable import SLAWatchStore

/// State files that lie: a newer schema is refused untouched, a damaged row costs only its
/// instance (the file kept as evidence), and the errors name table, row and objective.
@Suite struct StateFileFaultTests {
    private func tempPath() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slawatch-fault-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent("state.sqlite").path
    }

    private func aggregate(_ values: [Double]) -> Aggregate {
        var a = Aggregate()
        for v in values { a.add(Event(metric: "m", value: v, kind: .distribution)) }
        return a
    }

    /// Two instances, `good` and `bad`, each with two buckets, saved to a new store at `path`.
    private func seed(_ path: String) throws {
        var breached = InstanceState()
        breached.state = .breached
        breached.since = 1_700_000_000
        let snapshots = [
            Engine.Snapshot(
                objective: "bad",
                fingerprint: "m||5m|UTC",
                state: breached,
                buckets: [100: aggregate([1, 2]), 101: aggregate([3])],
                closedBefore: nil
            ),
            Engine.Snapshot(
                objective: "good",
                fingerprint: "n||5m|UTC",
                state: InstanceState(),
                buckets: [100: aggregate([5]), 101: aggregate([6, 7])],
                closedBefore: nil
            ),
        ]
        try StateStore(path: path).save(snapshots, at: 1_700_000_100)
    }

    @Test func aNewStoreRecordsItsSchemaVersion() throws {
        let path = tempPath()
        _ = try StateStore(path: path)
        let version = try DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: "PRAGMA user_version") }
        #expect(version == StateStore.schemaVersion)
        #expect(StateStore.schemaVersion == 14)
    }

    @Test func aHigherUserVersionIsRefusedAndNotWritten() throws {
        let path = tempPath()
        try seed(path)
        let newer = StateStore.schemaVersion + 1
        try DatabaseQueue(path: path).writeWithoutTransaction {
            try $0.execute(sql: "PRAGMA user_version = \(newer)")
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect {
            _ = try StateStore(path: path)
        } throws: { error in
            guard let e = error as? StateStore.NewerSchema else { return false }
            return e.found == newer && e.known == StateStore.schemaVersion && e.unknownMigrations.isEmpty
                && e.description.contains("schema version \(newer)")
                && e.description.contains("knows up to \(StateStore.schemaVersion)")
                && e.description.contains(path)
        }
        // Nothing was written: the file is byte for byte what it was, version included.
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        let version = try DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: "PRAGMA user_version") }
        #expect(version == newer)
    }

    @Test func anUnknownMigrationIsRefusedAndNamed() throws {
        let path = tempPath()
        try seed(path)
        try DatabaseQueue(path: path).write {
            try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v10-something-newer')")
        }
        #expect {
            _ = try StateStore(path: path)
        } throws: { error in
            (error as? StateStore.NewerSchema)?.unknownMigrations == ["v10-something-newer"]
                && "\(error)".contains("v10-something-newer")
        }
        let rows = try DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM instance") }
        #expect(rows == 2)
    }

    @Test func aDamagedStateRowNamesTableRowAndObjective() throws {
        let path = tempPath()
        try seed(path)
        let id = try DatabaseQueue(path: path).write { db -> Int64 in
            try db.execute(sql: "UPDATE instance SET state = '{\"state\": 42' WHERE name = 'bad'")
            return try Int64.fetchOne(db, sql: "SELECT id FROM instance WHERE name = 'bad'")!
        }
        #expect {
            _ = try StateStore(path: path).loadSnapshots()
        } throws: { error in
            guard let e = error as? StateStore.DamagedRowError else { return false }
            return e.row.table == "instance" && e.row.row == "\(id)" && e.row.objective == "bad"
                && e.description.contains("objective bad")
        }
    }

    @Test func aDamagedRowCostsOnlyItsInstanceAndTheFileIsKept() throws {
        let path = tempPath()
        try seed(path)
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "UPDATE instance SET state = 'not json' WHERE name = 'bad'")
        }
        let store = try StateStore(path: path)
        let (snapshots, damaged, evidence) = try store.loadSnapshotsSkippingDamaged(now: 1_764_680_000)
        #expect(snapshots.map(\.objective) == ["good"])
        #expect(snapshots.first?.buckets.keys.sorted() == [100, 101])
        #expect(damaged.count == 1)
        #expect(damaged.first?.table == "instance")
        #expect(damaged.first?.objective == "bad")
        let copy = try #require(evidence)
        #expect(copy == path + ".damaged-20251202T125320Z")
        // The evidence holds the row as it was; the store no longer does.
        let kept = try DatabaseQueue(path: copy).read {
            try String.fetchOne($0, sql: "SELECT state FROM instance WHERE name = 'bad'")
        }
        #expect(kept == "not json")
        var st = stat()
        #expect(stat(copy, &st) == 0 && st.st_mode & 0o077 == 0)
        // The next start meets no damage, and the instance can be written again.
        let again = try StateStore(path: path)
        let second = try again.loadSnapshotsSkippingDamaged(now: 1_764_680_100)
        #expect(second.damaged.isEmpty && second.evidence == nil)
        #expect(second.snapshots.map(\.objective) == ["good"])
        try again.save(
            [
                Engine.Snapshot(
                    objective: "bad",
                    fingerprint: "m||5m|UTC",
                    state: InstanceState(),
                    buckets: [:],
                    closedBefore: nil
                )
            ],
            at: 1_764_680_200
        )
        #expect(try again.loadSnapshots().map(\.objective) == ["bad", "good"])
    }

    @Test func aDamagedBucketCostsOnlyItsInstance() throws {
        let path = tempPath()
        try seed(path)
        let (instance, bucket) = try DatabaseQueue(path: path).write { db -> (Int64, Int64) in
            let id = try Int64.fetchOne(db, sql: "SELECT id FROM instance WHERE name = 'good'")!
            try db.execute(sql: "UPDATE bucket SET data = x'FFFF01' WHERE instance = ? AND id = 101", arguments: [id])
            return (id, 101)
        }
        let store = try StateStore(path: path)
        for packed in [false, true] {
            #expect {
                _ = try store.loadSnapshots(keepingSketchesPacked: packed)
            } throws: { error in
                (error as? StateStore.DamagedRowError)?.row
                    == .init(
                        table: "bucket",
                        row: "\(instance)/\(bucket)",
                        objective: "good",
                        error: (error as? StateStore.DamagedRowError)?.row.error ?? ""
                    )
            }
        }
        let (snapshots, damaged, evidence) = try store.loadSnapshotsSkippingDamaged(
            keepingSketchesPacked: true,
            now: 1_764_680_000
        )
        #expect(snapshots.map(\.objective) == ["bad"])
        #expect(snapshots.first?.state.state == .breached)
        #expect(damaged.map(\.row) == ["\(instance)/\(bucket)"])
        #expect(evidence != nil)
    }

    /// A large load is split by instance over parallel read-only connections: the same
    /// snapshots as one read, in the same order, and a damaged bucket in any share costs only
    /// its instance.
    @Test func aLoadSplitOverConnectionsGivesWhatOneReadGives() throws {
        let path = tempPath()
        var snapshots: [Engine.Snapshot] = []
        for n in 0..<9 {
            var buckets: [Int64: Aggregate] = [:]
            for b in 0..<5 {
                let values: [Double] = (0...b).map { Double(n * 10 + $0) }
                buckets[Int64(100 + b)] = aggregate(values)
            }
            snapshots.append(
                Engine.Snapshot(
                    objective: "o\(n)",
                    fingerprint: "m||5m|UTC",
                    state: InstanceState(),
                    buckets: buckets,
                    closedBefore: nil
                )
            )
        }
        try StateStore(path: path).save(snapshots, at: 1_700_000_100)
        let store = try StateStore(path: path)
        for packed in [false, true] {
            let one = try store.loadSnapshots(keepingSketchesPacked: packed)
            let split = try store.loadSnapshots(keepingSketchesPacked: packed, parallelAbove: 0)
            #expect(one.map(\.objective) == (0..<9).map { "o\($0)" })
            #expect(split.map(\.objective) == one.map(\.objective))
            #expect(split.map(\.buckets) == one.map(\.buckets))
            #expect(split.map(\.packedBuckets) == one.map(\.packedBuckets))
            #expect(split.map { $0.packedBuckets.count + $0.buckets.count } == Array(repeating: 5, count: 9))
        }
        // Damage in the last instance (the last share): only it is left out.
        try DatabaseQueue(path: path).write { db in
            let id = try Int64.fetchOne(db, sql: "SELECT id FROM instance WHERE name = 'o8'")!
            try db.execute(sql: "UPDATE bucket SET data = x'FFFF01' WHERE instance = ? AND id = 103", arguments: [id])
        }
        let (kept, damaged, _) = try StateStore(path: path).loadSnapshotsSkippingDamaged(
            keepingSketchesPacked: true,
            parallelAbove: 0,
            now: 1_764_680_000
        )
        #expect(kept.map(\.objective) == (0..<8).map { "o\($0)" })
        #expect(damaged.map(\.objective) == ["o8"])
    }
}
