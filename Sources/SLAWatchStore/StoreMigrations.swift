import Foundation
import GRDB
import SLAWatchCore

extension StateStore {
    /// Migrations `v1` to `v7`, as the formats before the incremental store created them.
    static func registerLegacyMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE objective_state (
                        objective TEXT PRIMARY KEY NOT NULL,
                        fingerprint TEXT NOT NULL,
                        state TEXT NOT NULL,
                        updated_at REAL NOT NULL
                    );
                    CREATE TABLE window_bucket (
                        objective TEXT NOT NULL,
                        bucket INTEGER NOT NULL,
                        samples INTEGER NOT NULL,
                        count REAL NOT NULL,
                        sum REAL NOT NULL,
                        value_sum REAL NOT NULL,
                        min REAL,
                        max REAL,
                        PRIMARY KEY (objective, bucket)
                    );
                    CREATE TABLE window_meta (
                        objective TEXT PRIMARY KEY NOT NULL,
                        closed_before INTEGER
                    );
                    CREATE TABLE period_result (
                        objective TEXT NOT NULL,
                        period_start REAL NOT NULL,
                        period_end REAL NOT NULL,
                        value REAL NOT NULL,
                        baseline REAL NOT NULL,
                        met INTEGER NOT NULL,
                        judged_at REAL NOT NULL,
                        PRIMARY KEY (objective, period_start)
                    );
                    """
            )
        }
        migrator.registerMigration("v2-sets-and-gauges") { db in
            try db.execute(
                sql: """
                    ALTER TABLE window_bucket ADD COLUMN members TEXT;
                    CREATE TABLE gauge_level (
                        series TEXT PRIMARY KEY NOT NULL,
                        value REAL NOT NULL
                    );
                    """
            )
        }
        migrator.registerMigration("v3-drop-ledger") { db in
            try db.execute(
                sql: """
                    CREATE TABLE drop_ledger (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        name TEXT NOT NULL,
                        device INTEGER NOT NULL,
                        inode INTEGER NOT NULL,
                        size INTEGER NOT NULL,
                        mtime_ns INTEGER NOT NULL,
                        content_hash TEXT NOT NULL,
                        accepted INTEGER NOT NULL,
                        rejected INTEGER NOT NULL,
                        ingested_at REAL NOT NULL
                    );
                    CREATE INDEX drop_ledger_identity ON drop_ledger (device, inode, size, mtime_ns);
                    """
            )
        }
        migrator.registerMigration("v4-ledger-archive-and-dedupe") { db in
            try db.execute(
                sql: """
                    ALTER TABLE drop_ledger ADD COLUMN archived_name TEXT NOT NULL DEFAULT '';
                    ALTER TABLE drop_ledger ADD COLUMN timestamped INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE drop_ledger ADD COLUMN untimestamped INTEGER NOT NULL DEFAULT 0;
                    CREATE INDEX drop_ledger_content ON drop_ledger (content_hash);
                    """
            )
        }
        migrator.registerMigration("v5-bucket-sketch") { db in
            try db.execute(sql: "ALTER TABLE window_bucket ADD COLUMN sketch TEXT")
        }
        migrator.registerMigration("v6-bucket-good") { db in
            try db.execute(sql: "ALTER TABLE window_bucket ADD COLUMN good REAL NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v7-ledger-not-counted") { db in
            try db.execute(sql: "ALTER TABLE drop_ledger ADD COLUMN not_counted TEXT")
        }
    }

    /// `v8`: `instance` and binary `bucket` rows from `objective_state`, `window_meta` and
    /// `window_bucket` (whose JSON sketches and members are decoded once, here), which are dropped.
    static func migrateToIncremental(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE instance (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    fingerprint TEXT NOT NULL,
                    state TEXT NOT NULL,
                    closed_before INTEGER,
                    last_seen REAL,
                    updated_at REAL NOT NULL,
                    sealed BLOB,
                    sealed_low INTEGER,
                    sealed_high INTEGER
                );
                CREATE TABLE bucket (
                    instance INTEGER NOT NULL,
                    id INTEGER NOT NULL,
                    data BLOB NOT NULL,
                    PRIMARY KEY (instance, id)
                ) WITHOUT ROWID;
                """
        )
        let decoder = JSONDecoder()
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var closed: [String: Int64] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT objective, closed_before FROM window_meta") {
            if let c: Int64 = row["closed_before"] { closed[row["objective"]] = c }
        }
        var ids: [String: Int64] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT * FROM objective_state ORDER BY objective") {
            let name: String = row["objective"]
            let json: String = row["state"]
            var state = try decoder.decode(InstanceState.self, from: Data(json.utf8))
            let lastSeen = state.lastSeen
            state.lastSeen = nil
            try db.execute(
                sql: """
                    INSERT INTO instance (name, fingerprint, state, closed_before, last_seen, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    name, row["fingerprint"] as String, String(decoding: try encoder.encode(state), as: UTF8.self),
                    closed[name], lastSeen, row["updated_at"] as Double,
                ]
            )
            ids[name] = db.lastInsertedRowID
        }
        let insert = try db.makeStatement(sql: "INSERT INTO bucket (instance, id, data) VALUES (?, ?, ?)")
        for row in try Row.fetchAll(db, sql: "SELECT * FROM window_bucket") {
            guard let instance = ids[row["objective"]] else { continue }
            var a = Aggregate()
            a.samples = row["samples"]
            a.count = row["count"]
            a.sum = row["sum"]
            a.valueSum = row["value_sum"]
            a.min = row["min"]
            a.max = row["max"]
            a.good = row["good"]
            if let members: String = row["members"] {
                a.members = Set(try decoder.decode([String].self, from: Data(members.utf8)))
            }
            if let sketch: String = row["sketch"] {
                a.sketch = try decoder.decode(QuantileSketch.self, from: Data(sketch.utf8))
            }
            try insert.execute(arguments: [instance, row["bucket"] as Int64, Data(BucketCodec.encode(a))])
        }
        try db.execute(sql: "DROP TABLE window_bucket; DROP TABLE window_meta; DROP TABLE objective_state;")
    }
}
