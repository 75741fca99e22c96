import Foundation
import GRDB
import Testing

@testable import SLAWatchCore
@testable import SLAWatchStore

/// The incremental state path: a commit writes what changed, percentile windows keep sealed
/// sketches packed and their sealed merge in the store, and a restarted engine judges exactly
/// as the one that never stopped.
@Suite struct IncrementalStoreTests {
    static let objectives = try! ObjectivesConfig.parse(
        """
        slas:
          - name: api
            provider: platform
            customer: web
            objectives:
              - {name: p99, metric: api.latency, sli: p99, window: 10m, direction: at_most, baseline: 300, nodata: ok}
              - {name: p50-sampled, metric: api.latency, labels: {route: /cart}, sli: p50, window: 10m, direction: at_most, baseline: 300, nodata: ok}
              - {name: errors, metric: api.errors, sli: count, window: 10m, direction: at_most, baseline: 1000, nodata: ok}
        """,
        file: "o.yaml"
    )

    struct Rng {
        var state: UInt64
        mutating func next() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
        }
    }

    func tempStore() throws -> StateStore {
        try StateStore(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("slawatch-inc-\(UUID())/state.sqlite")
                .path
        )
    }

    func values(_ e: Engine, at t: Double) -> [String: Double?] {
        Dictionary(uniqueKeysWithValues: e.status(at: t).map { ($0.objective, $0.value) })
    }

    /// Events at `t` over 10 s: latencies (some sampled, some late) and errors.
    func events(_ t: Double, _ rng: inout Rng) -> [Event] {
        var out: [Event] = []
        for _ in 0..<40 {
            let late = rng.next() < 0.1
            let at = late ? t - 60 - rng.next() * 300 : t + rng.next() * 10
            out.append(
                Event(
                    metric: "api.latency",
                    value: exp(3 + rng.next() * 3),
                    kind: .distribution,
                    labels: ["route": rng.next() < 0.5 ? "/cart" : "/x"],
                    time: at,
                    sampleRate: rng.next() < 0.2 ? 0.25 : 1
                )
            )
        }
        out.append(Event(metric: "api.errors", value: 1, kind: .counter, time: t))
        return out
    }

    @Test func aRestartedEngineJudgesExactlyAsTheOneThatNeverStopped() throws {
        var rng = Rng(state: 11)
        let store = try tempStore()
        var live = Engine(objectives: Self.objectives)
        let t0 = 1_764_000_000.0
        var t = t0
        // 30 minutes of 10-second batches, a commit after each evaluation; a restart every 5
        // minutes compares a restored engine with the live one.
        for step in 0..<180 {
            _ = live.ingest(events(t, &rng), now: t + 10)
            t += 10
            _ = live.evaluate(at: t)
            try store.write(StoreBatch(instances: live.takeChanges()), at: t)
            if step % 30 == 29 {
                var restored = Engine(objectives: Self.objectives)
                restored.restore(try store.loadSnapshots(keepingSketchesPacked: true))
                let expected = values(live, at: t)
                #expect(values(restored, at: t) == expected, "after \(step + 1) steps")
                // And after one more batch for both, judged by evaluation.
                let more = events(t, &rng)
                _ = live.ingest(more, now: t + 10)
                _ = restored.ingest(more, now: t + 10)
                t += 10
                let a = live.evaluate(at: t)
                let b = restored.evaluate(at: t)
                #expect(a.map(\.kind) == b.map(\.kind))
                #expect(values(restored, at: t) == values(live, at: t))
                try store.write(StoreBatch(instances: live.takeChanges()), at: t)
            }
        }
        // The p99 matches the exact nearest-rank value of what the window holds, within 1%.
        #expect(values(live, at: t)["p99"]! != nil)
    }

    /// An engine that took 30 latencies (10 ms, 11 ms, …), one every 10 s from `t0`, each
    /// arriving `lag` seconds after its event time.
    func latencies(from t0: Double, arrivingAfter lag: Double) -> Engine {
        var e = Engine(objectives: Self.objectives)
        for k in 0..<30 {
            let t = t0 + Double(k) * 10
            _ = e.ingest(
                [Event(metric: "api.latency", value: Double(10 + k), kind: .distribution, time: t)],
                now: t + lag
            )
        }
        return e
    }

    @Test func aLateEventIntoASealedBucketMakesTheStoredMergeStale() throws {
        let store = try tempStore()
        let t0 = 1_764_000_000.0
        var e = latencies(from: t0, arrivingAfter: 1)
        var now = t0 + 300
        _ = e.evaluate(at: now)
        try store.write(StoreBatch(instances: e.takeChanges()), at: now)
        // A late event lands in a sealed bucket after the merge was stored.
        _ = e.ingest([Event(metric: "api.latency", value: 5000, kind: .distribution, time: t0 + 50)], now: now)
        try store.write(StoreBatch(instances: e.takeChanges()), at: now)
        var restored = Engine(objectives: Self.objectives)
        restored.restore(try store.loadSnapshots(keepingSketchesPacked: true))
        #expect(values(restored, at: now)["p99"]! == values(e, at: now)["p99"]!)
        #expect((values(restored, at: now)["p99"]! ?? 0) > 4900)
        now += 1
        #expect(values(restored, at: now) == values(e, at: now))
    }

    @Test func aCommitWritesOnlyWhatChanged() throws {
        let store = try tempStore()
        var e = Engine(objectives: Self.objectives)
        let t0 = 1_764_000_000.0
        for k in 0..<60 {
            _ = e.ingest(
                [Event(metric: "api.errors", value: 1, kind: .counter, time: t0 + Double(k) * 10)],
                now: t0 + Double(k) * 10
            )
        }
        _ = e.evaluate(at: t0 + 600)
        try store.write(StoreBatch(instances: e.takeChanges()), at: t0 + 600)
        // One more event: one instance, one bucket.
        _ = e.ingest([Event(metric: "api.errors", value: 1, kind: .counter, time: t0 + 601)], now: t0 + 601)
        let changes = e.takeChanges()
        #expect(changes.map(\.objective) == ["errors"])
        #expect(changes.first?.buckets.count == 1)
        #expect(changes.first?.state == nil)  // the alert state did not change
        #expect(changes.first?.replaceAll == false)
        // Nothing more: nothing to write.
        #expect(e.takeChanges().isEmpty)
        // Buckets the window dropped are deleted from the store.
        _ = e.evaluate(at: t0 + 1200)
        let dropped = e.takeChanges().first { $0.objective == "errors" }
        #expect(dropped?.dropBefore != nil)
        try store.write(StoreBatch(instances: [dropped!]), at: t0 + 1200)
        let stored = try store.loadSnapshots().first { $0.objective == "errors" }
        #expect(stored?.buckets.keys.allSatisfy { $0 >= dropped!.dropBefore! } == true)
    }

    /// A commit of a newer event time rewrites the narrow `instance_progress` row, not the
    /// `instance` row with its state JSON and sealed sketch (counted by a trigger on the store's
    /// own connection); the restored engine still has the newest event time.
    @Test func aNewerEventTimeLeavesTheInstanceRowAlone() throws {
        let store = try tempStore()
        let t0 = 1_764_000_000.0
        var e = latencies(from: t0, arrivingAfter: 0)
        _ = e.evaluate(at: t0 + 300)
        try store.write(StoreBatch(instances: e.takeChanges()), at: t0 + 300)
        try store.db.write { db in
            try db.execute(
                sql: """
                    CREATE TEMP TABLE instance_updates (n INTEGER);
                    CREATE TEMP TRIGGER count_instance_updates AFTER UPDATE ON main.instance
                    BEGIN INSERT INTO instance_updates VALUES (1); END;
                    """
            )
        }
        _ = e.ingest([Event(metric: "api.latency", value: 42, kind: .distribution, time: t0 + 301.5)], now: t0 + 302)
        let changes = e.takeChanges()
        #expect(changes.map(\.objective) == ["p99"])
        #expect(changes.first?.state == nil)
        try store.write(StoreBatch(instances: changes), at: t0 + 302)
        let updates = try store.db.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM instance_updates") }
        #expect(updates == 0)
        let seen = try store.db.read { db in
            try Double.fetchAll(
                db,
                sql: """
                    SELECT last_seen FROM instance_progress JOIN instance ON instance.id = instance
                    WHERE name = 'p99'
                    """
            )
        }
        #expect(seen == [t0 + 301.5])
        var restored = Engine(objectives: Self.objectives)
        restored.restore(try store.loadSnapshots(keepingSketchesPacked: true))
        #expect(restored.status(at: t0 + 302).first { $0.objective == "p99" }?.lastSeen == t0 + 301.5)
        #expect(values(restored, at: t0 + 302) == values(e, at: t0 + 302))
    }

    @Test func bucketsRoundTripBitForBitPackedOrNot() throws {
        var rng = Rng(state: 3)
        for _ in 0..<200 {
            var a = Aggregate()
            for _ in 0..<Int(rng.next() * 300) {
                let v = (rng.next() - 0.2) * pow(10, rng.next() * 6 - 3)
                let kind: MetricKind = rng.next() < 0.5 ? .distribution : .counter
                a.add(value: v, kind: kind, sampleRate: rng.next() < 0.3 ? 0.1 : 1, member: nil, quantiles: true)
            }
            if rng.next() < 0.3 { a.members = ["x", "é", ""] }
            a.good = (rng.next() * 10).rounded()
            let bytes = BucketCodec.encode(a)
            #expect(try BucketCodec.decode(bytes) == a)
            let (fields, packed) = try bytes.withUnsafeBytes { try BucketCodec.decodeKeepingSketchPacked($0) }
            var back = fields
            if let packed { back.sketch = try BucketCodec.unpackSketch(packed) }
            #expect(back == a)
            // Taking a packed sketch out of a merge that holds it leaves the rest.
            if let sketch = a.sketch, a.sketch!.total == a.sketch!.total.rounded() {
                var merged = sketch
                merged.merge(sketch)
                try BucketCodec.mergePacked(BucketCodec.packSketch(sketch), into: &merged, sign: -1)
                #expect(merged == sketch)
            }
        }
        #expect(throws: BucketCodec.DecodeError.self) { try BucketCodec.decode([2, 0, 0]) }
        #expect(throws: BucketCodec.DecodeError.self) { try BucketCodec.decode([1, 4, 0, 5]) }
    }
}
