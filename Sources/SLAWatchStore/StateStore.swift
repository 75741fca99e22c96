import Foundation
import GRDB
import SLAWatchCore

/// Persistence of engine state in SQLite (GRDB, WAL) at `state_directory/state.sqlite`.
///
/// Tables (migrations `v1` to `v8`):
/// - `instance(id PK, name UNIQUE, fingerprint, state JSON, closed_before, last_seen, updated_at)`
///   (`v8`): one row per objective instance; `state` is rewritten only when the alert state
///   changes;
/// - `bucket(instance, id, data BLOB, PK (instance, id)) WITHOUT ROWID` (`v8`): one row per window
///   bucket in `BucketCodec`'s binary form (rolling ids `⌊t/r⌋`, calendar ids = period start); a
///   commit upserts only the buckets that changed and deletes the ones a window dropped;
/// - `period_result(objective, period_start, period_end, value, baseline, met, judged_at)`:
///   closed calendar periods, for reports;
/// - `gauge_level(series PK, value)` (`v2`): the current level of each gauge series (etsy gauge
///   deltas) and each cumulative counter's base;
/// - `drop_ledger` (`v3`, `v4`, `v7`): every drop file ingested, committed with its events.
///
/// `v8` migrates the earlier `objective_state`, `window_meta` and `window_bucket` (one row per
/// bucket with JSON sketches and set members) into `instance` and `bucket`, then drops them.
///
/// Writes go through cached prepared statements in one transaction per commit
/// (`write(_:at:)`); `StoreWriter` runs them on a thread of their own and answers every waiter of
/// a commit together (group commit).
///
/// Durability: `PRAGMA synchronous = FULL` in WAL mode, so a committed snapshot survives power
/// loss, not only a process crash (GRDB's `DatabasePool` would lower it to NORMAL; this store
/// uses a `DatabaseQueue` and asserts the setting in tests).
public final class StateStore: Sendable {
    /// The SQLite file.
    public let path: String
    private let db: DatabaseQueue
    /// Instance name → row id, filled at open and by writes (used inside `db` transactions only,
    /// which GRDB serializes).
    private let ids = InstanceIDs()
    private let checkpointConnection = Locked<DatabaseQueue?>(nil)

    /// Opens (creating if needed) the store at `path` and migrates it.
    /// - Throws: GRDB's `DatabaseError` when the file cannot be opened or migrated, or
    ///   `BucketCodec.DecodeError`/`DecodingError` for a corrupt row met while migrating.
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
            // Checkpoints run on a connection of their own (`checkpoint()`), never inside a commit:
            // an automatic one would hold the commit, and every #sync behind it, for ~100 ms.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
            // Once a checkpoint completed and the WAL restarts, a file grown past 64 MiB shrinks.
            try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
        }
        db = try DatabaseQueue(path: path, configuration: config)
        var migrator = DatabaseMigrator()
        Self.registerLegacyMigrations(&migrator)
        migrator.registerMigration("v8-incremental-binary-buckets") { db in
            try Self.migrateToIncremental(db)
        }
        try migrator.migrate(db)
        try db.read { db in
            for row in try Row.fetchAll(db, sql: "SELECT id, name FROM instance") {
                ids.set(row["name"], row["id"])
            }
        }
    }

    /// Copies committed WAL frames into the database file (`PRAGMA wal_checkpoint(PASSIVE)`) on a
    /// connection of its own, so commits never wait for it: a passive checkpoint takes no lock a
    /// writer needs. Run it from a thread of its own (`StoreWriter` does, after commits).
    /// - Returns: `(frames in the WAL, frames checkpointed)`.
    /// - Throws: GRDB's `DatabaseError`.
    @discardableResult
    public func checkpoint() throws -> (log: Int, checkpointed: Int) {
        try checkpointer.writeWithoutTransaction { db in
            let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)")
            return (row?[1] ?? 0, row?[2] ?? 0)
        }
    }

    /// The connection that runs checkpoints.
    private var checkpointer: DatabaseQueue {
        get throws {
            if let q = checkpointConnection.value { return q }
            var config = Configuration()
            config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            let q = try DatabaseQueue(path: path, configuration: config)
            checkpointConnection.value = q
            return q
        }
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

    /// Writes one commit's worth of changes in one transaction: per instance its changed buckets
    /// (upserted), dropped buckets (deleted), and its state, `last_seen` and `closed_before` when
    /// they changed; then ledger entries, gauge levels and period results. With `batch.full`,
    /// instances not in the batch are deleted with their buckets.
    /// - Throws: GRDB's `DatabaseError`; nothing is written then.
    public func write(_ batch: StoreBatch, at now: Double) throws {
        if batch.isEmpty { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var blob: [UInt8] = []
        blob.reserveCapacity(256)
        let added = try db.write { db -> [(String, Int64)] in
            let insertInstance = try db.cachedStatement(
                sql: """
                    INSERT INTO instance (name, fingerprint, state, closed_before, last_seen, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """
            )
            let updateState = try db.cachedStatement(
                sql: "UPDATE instance SET state = ?, fingerprint = ?, updated_at = ? WHERE id = ?"
            )
            let updateMeta = try db.cachedStatement(
                sql: "UPDATE instance SET closed_before = ?, last_seen = ?, fingerprint = ? WHERE id = ?"
            )
            let upsertBucket = try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO bucket (instance, id, data) VALUES (?, ?, ?)"
            )
            let dropBuckets = try db.cachedStatement(sql: "DELETE FROM bucket WHERE instance = ? AND id < ?")
            let clearBuckets = try db.cachedStatement(sql: "DELETE FROM bucket WHERE instance = ?")
            let updateSealed = try db.cachedStatement(
                sql: "UPDATE instance SET sealed = ?, sealed_low = ?, sealed_high = ? WHERE id = ?"
            )
            var added: [(String, Int64)] = []
            for c in batch.instances {
                let stateJSON = try c.state.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
                let id: Int64
                if let known = ids.get(c.objective) {
                    id = known
                    if let stateJSON {
                        try updateState.execute(arguments: [stateJSON, c.fingerprint, now, id])
                    }
                    try updateMeta.execute(arguments: [c.closedBefore, c.lastSeen, c.fingerprint, id])
                } else {
                    let json = try stateJSON ?? String(decoding: try encoder.encode(InstanceState()), as: UTF8.self)
                    try insertInstance.execute(arguments: [
                        c.objective, c.fingerprint, json, c.closedBefore, c.lastSeen, now,
                    ])
                    id = db.lastInsertedRowID
                    added.append((c.objective, id))
                }
                if c.replaceAll {
                    try clearBuckets.execute(arguments: [id])
                } else if let before = c.dropBefore {
                    try dropBuckets.execute(arguments: [id, before])
                }
                for (bucket, aggregate) in c.buckets {
                    blob.removeAll(keepingCapacity: true)
                    BucketCodec.encode(aggregate, into: &blob)
                    try upsertBucket.execute(arguments: [id, bucket, Data(blob)])
                }
                switch c.sealedSummary {
                case .unchanged: break
                case .clear: try updateSealed.execute(arguments: [nil, nil, nil, id] as StatementArguments)
                case .set(let low, let high, let aggregate):
                    try updateSealed.execute(arguments: [Data(BucketCodec.encode(aggregate)), low, high, id])
                }
            }
            if batch.full {
                let keep = Set(batch.instances.map(\.objective))
                for row in try Row.fetchAll(db, sql: "SELECT id, name FROM instance") {
                    let name: String = row["name"]
                    if keep.contains(name) { continue }
                    let id: Int64 = row["id"]
                    try db.execute(sql: "DELETE FROM bucket WHERE instance = ?", arguments: [id])
                    try db.execute(sql: "DELETE FROM instance WHERE id = ?", arguments: [id])
                }
            }
            if !batch.ledger.isEmpty {
                let insert = try db.cachedStatement(
                    sql: """
                        INSERT INTO drop_ledger
                            (name, device, inode, size, mtime_ns, content_hash, accepted, rejected, ingested_at,
                             archived_name, timestamped, untimestamped, not_counted)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """
                )
                for e in batch.ledger {
                    try insert.execute(arguments: [
                        e.name, Int64(bitPattern: e.device), Int64(bitPattern: e.inode), e.size, e.mtimeNanoseconds,
                        e.contentHash, e.accepted, e.rejected, now, e.archivedName, e.timestamped, e.untimestamped,
                        e.notCounted.map { "[" + $0.map(String.init).joined(separator: ",") + "]" },
                    ])
                }
            }
            // A full write holds every series kept: the others (metrics no objective uses any
            // more, series beyond max_series) go.
            if batch.full { try db.execute(sql: "DELETE FROM gauge_level") }
            if !batch.gaugeLevels.isEmpty {
                let upsert = try db.cachedStatement(
                    sql: "INSERT OR REPLACE INTO gauge_level (series, value) VALUES (?, ?)"
                )
                for (series, value) in batch.gaugeLevels { try upsert.execute(arguments: [series, value]) }
            }
            for r in batch.periodResults where r.kind == .periodResult {
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO period_result
                            (objective, period_start, period_end, value, baseline, met, judged_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [r.objective, r.periodStart, r.periodEnd, r.value ?? 0, r.baseline, r.met == true, r.at]
                )
            }
            return added
        }
        // Known ids only once the transaction committed (a rollback leaves them unknown).
        for (name, id) in added { ids.set(name, id) }
        if batch.full { ids.retain(Set(batch.instances.map(\.objective))) }
    }

    /// Writes whole snapshots (every bucket replaces what was stored) with the other records, in
    /// one transaction; see `write(_:at:)`.
    /// - Throws: GRDB's `DatabaseError`; nothing is written then.
    public func save(
        _ snapshots: [Engine.Snapshot],
        periodResults: [Transition] = [],
        gaugeLevels: [String: Double] = [:],
        ledger: [LedgerEntry] = [],
        at now: Double
    ) throws {
        let instances = snapshots.map { s in
            var state = s.state
            state.lastSeen = nil
            return Engine.InstanceChange(
                objective: s.objective,
                fingerprint: s.fingerprint,
                state: state,
                lastSeen: s.state.lastSeen,
                closedBefore: s.closedBefore,
                buckets: s.buckets.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                dropBefore: nil,
                replaceAll: true
            )
        }
        try write(
            StoreBatch(instances: instances, periodResults: periodResults, gaugeLevels: gaugeLevels, ledger: ledger),
            at: now
        )
    }

    /// Loads every stored instance with its buckets.
    /// - Parameter keepingSketchesPacked: leave bucket sketches in their stored form
    ///   (`Engine.Snapshot.packedBuckets`) for a window to keep packed, instead of decoding them
    ///   into `buckets` (the daemon's start-up: 10,000 percentile instances of 60 buckets decode
    ///   nothing but their newest buckets).
    /// - Throws: GRDB's `DatabaseError`, a `DecodingError` for a corrupt state, or
    ///   `BucketCodec.DecodeError` for a corrupt bucket (naming the instance and bucket).
    public func loadSnapshots(keepingSketchesPacked: Bool = false) throws -> [Engine.Snapshot] {
        let decoder = JSONDecoder()
        return try db.read { db in
            var buckets: [Int64: [Int64: Aggregate]] = [:]
            var packed: [Int64: PackedBuckets] = [:]
            // Rows come grouped by instance: its buckets gather here, then go to `packed` once.
            var current: (instance: Int64, buckets: PackedBuckets)?
            let cursor = try Row.fetchCursor(db, sql: "SELECT instance, id, data FROM bucket ORDER BY instance, id")
            while let row = try cursor.next() {
                let instance: Int64 = row[0]
                let id: Int64 = row[1]
                if keepingSketchesPacked && current?.instance != instance {
                    if let done = current { packed[done.instance] = done.buckets }
                    current = (instance, PackedBuckets())
                }
                try row.withUnsafeData(atIndex: 2) { data in
                    guard let data else { return }
                    do {
                        try data.withUnsafeBytes { raw in
                            if keepingSketchesPacked {
                                let (a, sketch) = try BucketCodec.decodeKeepingSketchPacked(raw)
                                current!.buckets.append(id: id, aggregate: a, sketch: sketch)
                            } else {
                                buckets[instance, default: [:]][id] = try BucketCodec.decode(raw)
                            }
                        }
                    } catch {
                        throw BucketCodec.DecodeError(description: "instance \(instance) bucket \(id): \(error)")
                    }
                }
            }
            if let done = current { packed[done.instance] = done.buckets }
            current = nil
            return try Row.fetchAll(db, sql: "SELECT * FROM instance ORDER BY name").map { row in
                let id: Int64 = row["id"]
                let json: String = row["state"]
                var state = try decoder.decode(InstanceState.self, from: Data(json.utf8))
                state.lastSeen = row["last_seen"]
                var snapshot = Engine.Snapshot(
                    objective: row["name"],
                    fingerprint: row["fingerprint"],
                    state: state,
                    buckets: buckets[id] ?? [:],
                    closedBefore: row["closed_before"]
                )
                snapshot.packedBuckets = packed.removeValue(forKey: id) ?? PackedBuckets()
                if keepingSketchesPacked, let low: Int64 = row["sealed_low"], let high: Int64 = row["sealed_high"],
                    let data: Data = row["sealed"]
                {
                    let aggregate = try data.withUnsafeBytes { raw in try BucketCodec.decode(raw) }
                    snapshot.sealedSummary = (low, high, aggregate)
                }
                return snapshot
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

/// One commit's worth of state changes (`StateStore.write(_:at:)`).
public struct StoreBatch: Sendable {
    /// Changed instances.
    public var instances: [Engine.InstanceChange]
    /// `instances` holds every instance: stored ones not in it are deleted.
    public var full: Bool
    /// Closed calendar periods.
    public var periodResults: [Transition]
    /// Changed gauge levels and cumulative bases.
    public var gaugeLevels: [String: Double]
    /// Drop files whose events are in this commit.
    public var ledger: [LedgerEntry]

    /// Creates a batch.
    public init(
        instances: [Engine.InstanceChange] = [],
        full: Bool = false,
        periodResults: [Transition] = [],
        gaugeLevels: [String: Double] = [:],
        ledger: [LedgerEntry] = []
    ) {
        self.instances = instances
        self.full = full
        self.periodResults = periodResults
        self.gaugeLevels = gaugeLevels
        self.ledger = ledger
    }

    /// Nothing to write.
    public var isEmpty: Bool {
        instances.isEmpty && !full && periodResults.isEmpty && gaugeLevels.isEmpty && ledger.isEmpty
    }

    /// Adds a later batch to this one (a failed commit's batch absorbs the next): later bucket
    /// totals, states and levels win; drops and replacements accumulate.
    public mutating func absorb(_ later: StoreBatch) {
        if later.full {
            let carried = self
            self = later
            ledger = carried.ledger + later.ledger
            periodResults = carried.periodResults + later.periodResults
            gaugeLevels = carried.gaugeLevels.merging(later.gaugeLevels) { _, n in n }
            return
        }
        var index: [String: Int] = [:]
        for (k, c) in instances.enumerated() { index[c.objective] = k }
        for c in later.instances {
            guard let k = index[c.objective] else {
                index[c.objective] = instances.count
                instances.append(c)
                continue
            }
            var merged = instances[k]
            if c.replaceAll {
                merged = c
            } else {
                if let d = c.dropBefore {
                    merged.dropBefore = max(merged.dropBefore ?? d, d)
                    merged.buckets.removeAll { $0.id < d }
                }
                var byID: [Int64: Aggregate] = [:]
                for b in merged.buckets { byID[b.id] = b.aggregate }
                for b in c.buckets { byID[b.id] = b.aggregate }
                merged.buckets = byID.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
                merged.state = c.state ?? merged.state
                merged.lastSeen = c.lastSeen ?? merged.lastSeen
                merged.closedBefore = c.closedBefore ?? merged.closedBefore
                merged.fingerprint = c.fingerprint
                if case .unchanged = c.sealedSummary {} else { merged.sealedSummary = c.sealedSummary }
            }
            instances[k] = merged
        }
        periodResults += later.periodResults
        gaugeLevels.merge(later.gaugeLevels) { _, n in n }
        ledger += later.ledger
    }
}

/// A value behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) { stored = value }

    var value: Value {
        get {
            lock.lock()
            defer { lock.unlock() }
            return stored
        }
        set {
            lock.lock()
            defer { lock.unlock() }
            stored = newValue
        }
    }
}

/// Instance name → row id, shared by the store's transactions. Thread-safe.
final class InstanceIDs: @unchecked Sendable {
    private let lock = NSLock()
    private var ids: [String: Int64] = [:]

    func get(_ name: String) -> Int64? {
        lock.lock()
        defer { lock.unlock() }
        return ids[name]
    }

    func set(_ name: String, _ id: Int64) {
        lock.lock()
        defer { lock.unlock() }
        ids[name] = id
    }

    func retain(_ names: Set<String>) {
        lock.lock()
        defer { lock.unlock() }
        ids = ids.filter { names.contains($0.key) }
    }
}
