import Foundation
import GRDB
import SLAWatchCore

/// Persistence of engine state in SQLite (GRDB, WAL) at `state_directory/state.sqlite`.
///
/// Tables (migration `v1`):
/// - `objective_state(objective PK, fingerprint, state JSON, updated_at)`: one alert state per
///   objective instance;
/// - `window_bucket(objective, bucket, samples, count, sum, value_sum, min, max)`: window
///   buckets (rolling ids `⌊t/r⌋`, calendar ids = period start, unix seconds);
/// - `window_meta(objective PK, closed_before)`: calendar periods already judged;
/// - `period_result(objective, period_start, period_end, value, baseline, met, judged_at)`:
///   closed calendar periods, for reports;
/// - `gauge_level(series PK, value)` (migration `v2`): the current level of each gauge series, so
///   etsy-style gauge deltas continue from the right base after a restart. `v2` also adds
///   `window_bucket.members` (JSON array of distinct set members);
/// - `drop_ledger` (`v3`, `v4`): every drop file ingested, committed with its events;
/// - `window_bucket.sketch` (`v5`): the bucket's `QuantileSketch` (JSON), for percentile SLIs;
/// - `window_bucket.good` (`v6`): good events of ratio SLIs.
///
/// Durability: `PRAGMA synchronous = FULL` in WAL mode, so a committed snapshot survives power
/// loss, not only a process crash (GRDB's `DatabasePool` would lower it to NORMAL; this store
/// uses a `DatabaseQueue` and asserts the setting in tests).
public final class StateStore: Sendable {
    /// The SQLite file.
    public let path: String
    private let db: DatabaseQueue

    /// Opens (creating if needed) the store at `path` and migrates it.
    /// - Throws: GRDB's `DatabaseError` when the file cannot be opened or migrated.
    public init(path: String) throws {
        self.path = path
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        db = try DatabaseQueue(path: path, configuration: config)
        var migrator = DatabaseMigrator()
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
        try migrator.migrate(db)
    }

    /// `PRAGMA synchronous` of the connection (2 = FULL) and `journal_mode`, for tests.
    public func durabilitySettings() throws -> (synchronous: Int, journalMode: String) {
        try db.read { db in
            (
                try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1,
                try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? ""
            )
        }
    }

    /// Writes snapshots and period results in one transaction: for each snapshot, its state row
    /// and all its buckets replace what was stored.
    /// - Throws: GRDB's `DatabaseError`; nothing is written then.
    public func save(
        _ snapshots: [Engine.Snapshot],
        periodResults: [Transition] = [],
        gaugeLevels: [String: Double] = [:],
        ledger: [LedgerEntry] = [],
        at now: Double
    ) throws {
        if snapshots.isEmpty && periodResults.isEmpty && gaugeLevels.isEmpty && ledger.isEmpty { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        try db.write { db in
            for s in snapshots {
                let json = String(decoding: try encoder.encode(s.state), as: UTF8.self)
                try db.execute(
                    sql: """
                        INSERT INTO objective_state (objective, fingerprint, state, updated_at) VALUES (?, ?, ?, ?)
                        ON CONFLICT(objective) DO UPDATE SET fingerprint = excluded.fingerprint,
                            state = excluded.state, updated_at = excluded.updated_at
                        """,
                    arguments: [s.objective, s.fingerprint, json, now]
                )
                try db.execute(sql: "DELETE FROM window_bucket WHERE objective = ?", arguments: [s.objective])
                for (id, a) in s.buckets {
                    let members = try a.members.map {
                        String(decoding: try encoder.encode($0.sorted()), as: UTF8.self)
                    }
                    let sketch = try a.sketch.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
                    try db.execute(
                        sql: """
                            INSERT INTO window_bucket
                                (objective, bucket, samples, count, sum, value_sum, min, max, members, sketch, good)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            s.objective, id, a.samples, a.count, a.sum, a.valueSum, a.min, a.max, members, sketch,
                            a.good,
                        ]
                    )
                }
                try db.execute(
                    sql: """
                        INSERT INTO window_meta (objective, closed_before) VALUES (?, ?)
                        ON CONFLICT(objective) DO UPDATE SET closed_before = excluded.closed_before
                        """,
                    arguments: [s.objective, s.closedBefore]
                )
            }
            for e in ledger {
                try db.execute(
                    sql: """
                        INSERT INTO drop_ledger
                            (name, device, inode, size, mtime_ns, content_hash, accepted, rejected, ingested_at,
                             archived_name, timestamped, untimestamped, not_counted)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        e.name, Int64(bitPattern: e.device), Int64(bitPattern: e.inode), e.size, e.mtimeNanoseconds,
                        e.contentHash, e.accepted, e.rejected, now, e.archivedName, e.timestamped, e.untimestamped,
                        e.notCounted.map { "[" + $0.map(String.init).joined(separator: ",") + "]" },
                    ]
                )
            }
            for (series, value) in gaugeLevels {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO gauge_level (series, value) VALUES (?, ?)",
                    arguments: [series, value]
                )
            }
            for r in periodResults where r.kind == .periodResult {
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO period_result
                            (objective, period_start, period_end, value, baseline, met, judged_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [r.objective, r.periodStart, r.periodEnd, r.value ?? 0, r.baseline, r.met == true, r.at]
                )
            }
        }
    }

    /// Loads every stored snapshot.
    /// - Throws: GRDB's `DatabaseError`, or a decoding error for a corrupt state row.
    public func loadSnapshots() throws -> [Engine.Snapshot] {
        let decoder = JSONDecoder()
        return try db.read { db in
            var buckets: [String: [Int64: Aggregate]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM window_bucket") {
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
                buckets[row["objective"], default: [:]][row["bucket"]] = a
            }
            var closed: [String: Int64?] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM window_meta") {
                closed[row["objective"]] = row["closed_before"] as Int64?
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM objective_state ORDER BY objective").map { row in
                let name: String = row["objective"]
                let json: String = row["state"]
                return Engine.Snapshot(
                    objective: name,
                    fingerprint: row["fingerprint"],
                    state: try decoder.decode(InstanceState.self, from: Data(json.utf8)),
                    buckets: buckets[name] ?? [:],
                    closedBefore: closed[name] ?? nil
                )
            }
        }
    }

    /// Stored gauge levels (series key → level).
    public func loadGaugeLevels() throws -> [String: Double] {
        try db.read { db in
            var out: [String: Double] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT series, value FROM gauge_level") {
                out[row["series"]] = row["value"]
            }
            return out
        }
    }

    /// A stored period result.
    public struct PeriodResult: Sendable, Equatable {
        /// Objective name.
        public var objective: String
        /// Period `[start, end)`, unix seconds.
        public var start: Double
        /// End of the period.
        public var end: Double
        /// SLI value of the period.
        public var value: Double
        /// Baseline in force.
        public var baseline: Double
        /// Whether the target was met.
        public var met: Bool
    }

    /// Period results of closed calendar periods, oldest first.
    public func periodResults(objective: String? = nil) throws -> [PeriodResult] {
        try db.read { db in
            let rows: [Row]
            if let objective {
                rows = try Row.fetchAll(
                    db,
                    sql: "SELECT * FROM period_result WHERE objective = ? ORDER BY period_start",
                    arguments: [objective]
                )
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM period_result ORDER BY objective, period_start")
            }
            return rows.map {
                PeriodResult(
                    objective: $0["objective"],
                    start: $0["period_start"],
                    end: $0["period_end"],
                    value: $0["value"],
                    baseline: $0["baseline"],
                    met: $0["met"]
                )
            }
        }
    }
}

/// A drop file recorded in the same transaction as its events (the exactly-once ledger): if the
/// daemon stops after the commit but before the file is moved to `processed/`, the next start
/// finds the file here and moves it to `archivedName` without counting it again; a later file
/// with the same content is recognized as a repeat (`StateStore.ledgerEntry(contentHash:)`).
public struct LedgerEntry: Sendable, Equatable {
    /// The file name in the drop directory.
    public var name: String
    /// `st_dev`.
    public var device: UInt64
    /// `st_ino`.
    public var inode: UInt64
    /// Size in bytes.
    public var size: Int64
    /// Modification time in nanoseconds since the epoch.
    public var mtimeNanoseconds: Int64
    /// Hex digest of the content (`DropDirectory.contentHash`).
    public var contentHash: String
    /// Events accepted from it.
    public var accepted: Int
    /// Lines rejected.
    public var rejected: Int
    /// The name it gets (or got) in `processed/`, chosen before the commit so that a move
    /// interrupted by a crash is finished under the same name.
    public var archivedName: String
    /// Events in it that carried an explicit time (a repeat of the file skips these).
    public var timestamped: Int
    /// Events in it without a time (arrival time; a repeat counts these again).
    public var untimestamped: Int
    /// Unix seconds of the commit (set by the store when read back; ignored when written).
    public var ingestedAt: Double
    /// Ordinals (positions among the file's parsed events) of events that were not counted
    /// (unauthorized, too late, in the future): a repeat counts these. `nil` when unknown (more
    /// than 100,000, or an entry from before this was recorded): a repeat then skips every
    /// timestamped event.
    public var notCounted: [Int]?

    /// Creates a ledger entry.
    public init(
        name: String,
        device: UInt64,
        inode: UInt64,
        size: Int64,
        mtimeNanoseconds: Int64,
        contentHash: String,
        accepted: Int,
        rejected: Int,
        archivedName: String = "",
        timestamped: Int = 0,
        untimestamped: Int = 0,
        ingestedAt: Double = 0,
        notCounted: [Int]? = []
    ) {
        self.notCounted = notCounted
        self.name = name
        self.device = device
        self.inode = inode
        self.size = size
        self.mtimeNanoseconds = mtimeNanoseconds
        self.contentHash = contentHash
        self.accepted = accepted
        self.rejected = rejected
        self.archivedName = archivedName
        self.timestamped = timestamped
        self.untimestamped = untimestamped
        self.ingestedAt = ingestedAt
    }
}

extension StateStore {
    private static let ledgerColumns = """
        name, device, inode, size, mtime_ns, content_hash, accepted, rejected, archived_name, timestamped,
        untimestamped, ingested_at, not_counted
        """

    private static func ledgerEntry(_ row: Row) -> LedgerEntry {
        LedgerEntry(
            name: row["name"],
            device: UInt64(bitPattern: row["device"]),
            inode: UInt64(bitPattern: row["inode"]),
            size: row["size"],
            mtimeNanoseconds: row["mtime_ns"],
            contentHash: row["content_hash"],
            accepted: row["accepted"],
            rejected: row["rejected"],
            archivedName: row["archived_name"],
            timestamped: row["timestamped"],
            untimestamped: row["untimestamped"],
            ingestedAt: row["ingested_at"],
            notCounted: (row["not_counted"] as String?).flatMap {
                try? JSONDecoder().decode([Int].self, from: Data($0.utf8))
            }
        )
    }

    /// The ledger entry of this very file (same identity and content), `nil` when it was never
    /// committed.
    /// - Throws: GRDB's `DatabaseError`.
    public func ledgerEntry(
        device: UInt64,
        inode: UInt64,
        size: Int64,
        mtimeNanoseconds: Int64,
        contentHash: String
    ) throws -> LedgerEntry? {
        try db.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT \(Self.ledgerColumns) FROM drop_ledger
                    WHERE device = ? AND inode = ? AND size = ? AND mtime_ns = ? AND content_hash = ?
                    ORDER BY id LIMIT 1
                    """,
                arguments: [
                    Int64(bitPattern: device), Int64(bitPattern: inode), size, mtimeNanoseconds, contentHash,
                ]
            ).map(Self.ledgerEntry)
        }
    }

    /// The earliest ingested file with this content (any name and identity), `nil` when none.
    /// - Throws: GRDB's `DatabaseError`.
    public func ledgerEntry(contentHash: String) throws -> LedgerEntry? {
        try db.read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT \(Self.ledgerColumns) FROM drop_ledger WHERE content_hash = ? ORDER BY id LIMIT 1",
                arguments: [contentHash]
            ).map(Self.ledgerEntry)
        }
    }

    /// Deletes ledger entries committed before `cutoff` (unix seconds).
    /// - Returns: the number deleted.
    /// - Throws: GRDB's `DatabaseError`.
    @discardableResult
    public func pruneLedger(before cutoff: Double) throws -> Int {
        try db.write { db in
            try db.execute(sql: "DELETE FROM drop_ledger WHERE ingested_at < ?", arguments: [cutoff])
            return db.changesCount
        }
    }
}
