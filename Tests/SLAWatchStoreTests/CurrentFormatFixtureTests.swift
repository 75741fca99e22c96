import Foundation
import GRDB
import SLAWatchCore
import Testing

@testable import SLAWatchStore

/// A `state.sqlite` of today's format, written by the code of commit 6567f36 from
/// `Fixtures/current/objectives.yaml` and a fixed, seeded sequence of events (group_by
/// instances, one refused, burn-rate windows, a percentile, an adaptive baseline, a calendar
/// month with pace, a closed day, gauge levels and cumulative bases), kept as its SQL dump.
/// Restoring it must give back exactly the snapshots and the status that code read from it:
/// however the engine's insides change, a daemon upgraded in place keeps its state.
///
/// `SLAWATCH_WRITE_FIXTURE=1 swift test --filter CurrentFormatFixtureTests` rewrites the
/// fixture (only when the format changes on purpose, with a migration).
@Suite struct CurrentFormatFixtureTests {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/current")
    /// When the fixture's events end and its status is read (2026-11-20T12:00:00Z).
    static let end = 1_795_694_400.0

    static func objectives() throws -> [Objective] {
        let text = try String(contentsOf: dir.appendingPathComponent("objectives.yaml"), encoding: .utf8)
        return try ObjectivesConfig.parse(text, file: "objectives.yaml")
    }

    /// The events: three days up to `end`, every 5 minutes, deterministic.
    static func run(_ engine: inout Engine, store: StateStore) throws {
        var rng = UInt64(42)
        func next(_ n: Int) -> Int {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((rng >> 33) % UInt64(n))
        }
        var t = end - 3 * 86400
        var cumulative = 0.0
        while t <= end {
            var events: [Event] = []
            for _ in 0..<(5 + next(20)) {
                let status = next(100) < 3 ? "503" : "200"
                events.append(
                    Event(metric: "api.requests", value: 1, kind: .counter, labels: ["status": status], time: t)
                )
                events.append(
                    Event(
                        metric: "api.latency",
                        value: Double(20 + next(400)),
                        kind: .distribution,
                        labels: ["customer": ["acme", "globex", "initech"][next(3)]],
                        time: t
                    )
                )
            }
            if next(4) == 0 { events.append(Event(metric: "api.errors", value: 1, kind: .counter, time: t)) }
            if next(6) == 0 {
                events.append(Event(metric: "api.user", value: 1, kind: .set, time: t, member: "u\(next(9))"))
            }
            if next(10) == 0 { events.append(Event(metric: "leads.qualified", value: 1, kind: .counter, time: t)) }
            if next(8) == 0 {
                cumulative += Double(100 + next(900))
                events.append(Event(metric: "deals.revenue", value: cumulative, kind: .cumulative, time: t))
            }
            events.append(Event(metric: "queue.depth", value: Double(next(50)), kind: .gauge, time: t))
            _ = engine.ingest(events, now: t)
            let transitions = engine.evaluate(at: t)
            try store.write(
                StoreBatch(
                    instances: engine.takeChanges(),
                    periodResults: transitions.filter { $0.kind == .periodResult },
                    gaugeLevels: engine.takeDirtyGaugeLevels()
                ),
                at: t
            )
            t += 300
        }
    }

    static func statusJSON(_ engine: Engine) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return String(decoding: try encoder.encode(engine.status(at: end)), as: UTF8.self)
    }

    static func snapshotsJSON(_ snapshots: [Engine.Snapshot]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return String(decoding: try encoder.encode(snapshots.sorted { $0.objective < $1.objective }), as: UTF8.self)
    }

    static func scratch() throws -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("slawatch-fixture-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d.appendingPathComponent("state.sqlite").path
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["SLAWATCH_WRITE_FIXTURE"] == "1"))
    func writeFixture() throws {
        let path = try Self.scratch()
        let store = try StateStore(path: path)
        var engine = Engine(objectives: try Self.objectives())
        engine.tracksGaugeLevels = true
        try Self.run(&engine, store: store)
        let dump = try DatabaseQueue(path: path).read { db in
            var sql = ""
            for table in try String.fetchAll(
                db,
                sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            ) {
                let create = try String.fetchOne(
                    db,
                    sql: "SELECT sql FROM sqlite_master WHERE name = ?",
                    arguments: [table]
                )!
                sql += create + ";\n"
                // SQLite's quote(): integers as written, text quoted, blobs as X'…' (an exact dump).
                let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(\"\(table)\")").map { $0["name"] as String }
                // Reals with 17 significant digits in exponent form (quote() keeps 15: lossy).
                let values = columns.map {
                    "(CASE typeof(\"\($0)\") WHEN 'real' THEN printf('%.17e', \"\($0)\") ELSE quote(\"\($0)\") END)"
                }
                .joined(separator: " || ', ' || ")
                for row in try String.fetchAll(
                    db,
                    sql:
                        "SELECT 'INSERT INTO \"\(table)\" VALUES(' || \(values) || ');' FROM \"\(table)\" ORDER BY \(columns.map { "\"\($0)\"" }.joined(separator: ", "))"
                ) {
                    sql += row + "\n"
                }
            }
            for index in try String.fetchAll(
                db,
                sql: "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name"
            ) {
                sql += index + ";\n"
            }
            return sql
        }
        try dump.write(to: Self.dir.appendingPathComponent("state.sql"), atomically: true, encoding: .utf8)
        try Self.snapshotsJSON(try store.loadSnapshots()).write(
            to: Self.dir.appendingPathComponent("snapshots.json"),
            atomically: true,
            encoding: .utf8
        )
        var restored = Engine(objectives: try Self.objectives())
        restored.restore(try store.loadSnapshots())
        try Self.statusJSON(restored).write(
            to: Self.dir.appendingPathComponent("status.json"),
            atomically: true,
            encoding: .utf8
        )
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["SLAWATCH_WRITE_FIXTURE"] != "1"))
    func todaysStateFileRestoresUnchanged() throws {
        let path = try Self.scratch()
        let sql = try String(contentsOf: Self.dir.appendingPathComponent("state.sql"), encoding: .utf8)
        try DatabaseQueue(path: path).writeWithoutTransaction { db in try db.execute(sql: sql) }
        let store = try StateStore(path: path)
        let loaded = try store.loadSnapshots()
        // Compared decoded: a bucket dictionary encodes in hash order, which differs per process.
        // Written at schema 8: migrated to 9, its saved state counts as history from the start.
        let expected = try JSONDecoder().decode(
            [Engine.Snapshot].self,
            from: Data(contentsOf: Self.dir.appendingPathComponent("snapshots.json"))
        ).map(withHistory)
        #expect(loaded.sorted { $0.objective < $1.objective } == expected)
        #expect(loaded.count == 12)
        // `v14` moved `last_seen` and `closed_before` out of `instance` into `instance_progress`.
        let (columns, progress, seen) = try store.db.read { db in
            (
                try Row.fetchAll(db, sql: "PRAGMA table_info(instance)").map { $0["name"] as String },
                try Int.fetchOne(db, sql: "SELECT count(*) FROM instance_progress") ?? 0,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM instance_progress WHERE last_seen IS NOT NULL") ?? 0
            )
        }
        #expect(!columns.contains("last_seen") && !columns.contains("closed_before"))
        #expect(columns.contains("state") && columns.contains("sealed"))
        #expect(progress == 12)
        #expect(seen == expected.filter { $0.state.lastSeen != nil }.count)
        #expect(seen >= 10)
        #expect(loaded.map(\.buckets.count).reduce(0, +) > 100)
        // Every kind of instance is there: group_by instances, burn-rate windows, the rest.
        let names = Set(loaded.map(\.objective))
        #expect(names.contains("latency-by-customer{customer=acme}"))
        #expect(names.contains { $0.hasPrefix("availability/burn:") })
        #expect(names.isSuperset(of: ["errors-5m", "latency-p99-1d", "leads-monthly", "revenue-daily"]))
        var engine = Engine(objectives: try Self.objectives())
        engine.restore(loaded)
        let status = try String(contentsOf: Self.dir.appendingPathComponent("status.json"), encoding: .utf8)
        // Every key the fixture's status holds has the same value (keys added since, such as
        // `pace` and `unit`, are new information, not a change).
        let now = try JSONSerialization.jsonObject(with: Data(try Self.statusJSON(engine).utf8)) as? [[String: Any]]
        let then = try JSONSerialization.jsonObject(with: Data(status.utf8)) as? [[String: Any]]
        #expect(now?.count == then?.count)
        for (a, b) in zip(now ?? [], then ?? []) {
            for (key, value) in b {
                #expect(
                    (a[key] as? NSObject)?.isEqual(value) == true || (a[key] is NSNull && value is NSNull),
                    "\(b["objective"] ?? "?").\(key): \(a[key] ?? "missing") != \(value)"
                )
            }
        }
        // What the engine snapshots again is what it restored.
        // What the engine snapshots again is what it restored (plus the group_by parent, which
        // holds no data and is never stored).
        let again = engine.allSnapshots().sorted { $0.objective < $1.objective }
        #expect(again.filter { $0.objective != "latency-by-customer" } == expected)
        #expect(again.first { $0.objective == "latency-by-customer" }?.buckets.isEmpty == true)
        #expect(try store.loadGaugeLevels().count >= 2)
    }
}

/// A snapshot as the `v9-history-since` migration leaves a state saved before it: history since
/// `0` (saved state counts as history).
func withHistory(_ s: Engine.Snapshot) -> Engine.Snapshot {
    var s = s
    if s.state.historySince == nil { s.state.historySince = 0 }
    return s
}
