import Foundation
import GRDB
import SLAWatchCore
import Synchronization

/// Persistence of engine state in SQLite (GRDB, WAL) at `state_directory/state.sqlite`.
///
/// Tables (migrations `v1` to `v14`):
/// - `instance(id PK, name UNIQUE, fingerprint, state JSON, updated_at, sealed BLOB, sealed_low,
///   sealed_high)` (`v8`, `v14`): one row per objective instance; `state` is rewritten only when
///   the alert state changes, `sealed` (a percentile window's merge of its sealed buckets) when a
///   bucket is sealed;
/// - `instance_progress(instance PK, closed_before, last_seen)` (`v14`): what moves with nearly
///   every commit of an instance (its newest event time, its closed calendar periods), in a narrow
///   row of its own so a commit does not rewrite the wide `instance` row (state JSON, sealed
///   sketch) of every instance it touches;
/// - `bucket(instance, id, data BLOB, PK (instance, id)) WITHOUT ROWID` (`v8`): one row per window
///   bucket in `BucketCodec`'s binary form (rolling ids `⌊t/r⌋`, calendar ids = period start); a
///   commit upserts only the buckets that changed and deletes the ones a window dropped;
/// - `period_result(objective, period_start, period_end, value, baseline, met, judged_at)`:
///   closed calendar periods, for reports;
/// - `gauge_level(series PK, value)` (`v2`): the current level of each gauge series (etsy gauge
///   deltas) and each cumulative counter's base;
/// - `drop_ledger` (`v3`, `v4`, `v7`): every drop file ingested, committed with its events;
/// - `period_report` (`v10`): report periods of objectives judged continuously;
/// - `history_series(id PK, name UNIQUE)` and `sli_history(series, step, start, value, worst,
///   baseline, breached, PK (series, step, start)) WITHOUT ROWID` (`v11`): SLI history points
///   (`HistoryPoint`), 5-minute ones kept 35 days, hourly ones `periodRetention`. A series is
///   named like its instance but outlives it (a removed objective's past stays in reports).
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
    let db: DatabaseQueue
    /// Instance name → row id, filled at open and by writes (used inside `db` transactions only,
    /// which GRDB serializes).
    private let ids = InstanceIDs()
    private let checkpointConnection = Mutex<DatabaseQueue?>(nil)

    /// The schema this binary reads and writes (`PRAGMA user_version` once migrated; `8`: the
    /// incremental store of binary buckets; `9`: instance states with `historySince`; `14`:
    /// `instance_progress`). A file with a higher one is refused.
    public static let schemaVersion = 14
    /// Seconds period verdicts and hourly SLI history are kept (`period_retention`).
    public let periodRetention: Double
    /// History series name → id (as `ids`).
    private let historyIDs = InstanceIDs()
    /// When retention last deleted old rows (unix seconds; at most hourly).
    private let lastPrune = Mutex<Double>(-.infinity)

    /// A state file written by a newer slawatch: this binary neither reads nor writes it.
    public struct NewerSchema: Error, CustomStringConvertible {
        /// The state file.
        public var path: String
        /// Its `PRAGMA user_version`.
        public var found: Int
        /// `StateStore.schemaVersion`.
        public var known: Int
        /// Migrations applied to it that this binary does not know.
        public var unknownMigrations: [String]

        /// "state file … has schema version 9 (migrations …); this slawatch knows up to 8 …".
        public var description: String {
            let migrations =
                unknownMigrations.isEmpty
                ? "" : " (migrations unknown here: \(unknownMigrations.joined(separator: ", ")))"
            return
                "state file \(path) has schema version \(found)\(migrations); this slawatch knows up to \(known) and will neither read nor write it: run the newer slawatch, or move the file aside to start with empty state"
        }
    }

    /// Opens (creating if needed) the store at `path` and migrates it.
    /// - Throws: `NewerSchema` for a file written by a newer binary (nothing is written to it);
    ///   GRDB's `DatabaseError` when the file cannot be opened or migrated, or
    ///   `BucketCodec.DecodeError`/`DecodingError` for a corrupt row met while migrating.
    public init(path: String, periodRetention: Double = 400 * 86400) throws {
        self.path = path
        self.periodRetention = periodRetention
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
        let migrator = Self.migrator()
        // A store written by a newer binary (a migration this one does not know, or a higher
        // `user_version`) is not read or written: its rows may mean something else.
        let (version, unknown) = try db.read { db in
            (
                try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0,
                try migrator.appliedIdentifiers(db).subtracting(migrator.migrations).sorted()
            )
        }
        if version > Self.schemaVersion || !unknown.isEmpty {
            throw NewerSchema(path: path, found: version, known: Self.schemaVersion, unknownMigrations: unknown)
        }
        try migrator.migrate(db)
        if version < Self.schemaVersion {
            try db.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA user_version = \(Self.schemaVersion)")
            }
        }
        try db.read { db in
            for row in try Row.fetchAll(db, sql: "SELECT id, name FROM instance") {
                ids.set(row["name"], row["id"])
            }
            for row in try Row.fetchAll(db, sql: "SELECT id, name FROM history_series") {
                historyIDs.set(row["name"], row["id"])
            }
        }
    }

    /// Every migration this binary knows, in order (`v1` … `v14`).
    static func migrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        Self.registerLegacyMigrations(&migrator)
        migrator.registerMigration("v8-incremental-binary-buckets") { db in
            try Self.migrateToIncremental(db)
        }
        // `historySince` (a rolling window is judged in full once history covers it): state
        // saved before it was kept counts as history from the start (`0`).
        migrator.registerMigration("v9-history-since") { db in
            try db.execute(
                sql: """
                    UPDATE instance SET state = json_set(state, '$.historySince', 0)
                    WHERE json_extract(state, '$.historySince') IS NULL
                    """
            )
        }
        // Report periods of objectives judged continuously (compliance per week, month…).
        migrator.registerMigration("v10-period-report") { db in
            try db.execute(
                sql: """
                    CREATE TABLE period_report (
                        objective TEXT NOT NULL,
                        unit TEXT NOT NULL,
                        period_start REAL NOT NULL,
                        period_end REAL NOT NULL,
                        met_seconds REAL NOT NULL,
                        breach_seconds REAL NOT NULL,
                        unjudged_seconds REAL NOT NULL,
                        episodes INTEGER NOT NULL,
                        worst_value REAL,
                        worst_baseline REAL,
                        worst_at REAL,
                        good REAL,
                        total REAL,
                        value REAL,
                        baseline REAL NOT NULL,
                        met INTEGER,
                        judged_at REAL NOT NULL,
                        PRIMARY KEY (objective, unit, period_start)
                    )
                    """
            )
        }
        // SLI history for charts.
        migrator.registerMigration("v11-sli-history") { db in
            try db.execute(
                sql: """
                    CREATE TABLE history_series (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
                    CREATE TABLE sli_history (
                        series INTEGER NOT NULL,
                        step INTEGER NOT NULL,
                        start INTEGER NOT NULL,
                        value REAL,
                        worst REAL,
                        baseline REAL,
                        breached INTEGER NOT NULL,
                        PRIMARY KEY (series, step, start)
                    ) WITHOUT ROWID;
                    """
            )
        }
        // Maintenance announced at run time (`slawatch maintenance add`), silences, review reminders.
        migrator.registerMigration("v12-maintenance") { db in
            try db.execute(
                sql: """
                    CREATE TABLE maintenance (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        sla TEXT NOT NULL,
                        objective TEXT,
                        from_time REAL NOT NULL,
                        to_time REAL NOT NULL,
                        reason TEXT NOT NULL,
                        announced_at REAL NOT NULL,
                        ended_at REAL
                    );
                    CREATE TABLE silence (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        sla TEXT,
                        objective TEXT,
                        from_time REAL NOT NULL,
                        to_time REAL NOT NULL,
                        reason TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        ended_at REAL,
                        muted INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE TABLE review_reminder (
                        sla TEXT PRIMARY KEY NOT NULL,
                        review_by REAL NOT NULL,
                        fingerprint TEXT NOT NULL,
                        last_due REAL NOT NULL
                    )
                    """
            )
        }
        migrator.registerMigration("v13-objective-versions") { db in
            try db.execute(
                sql: """
                    CREATE TABLE objective_version (
                        objective TEXT NOT NULL,
                        effective_from REAL NOT NULL,
                        definition TEXT NOT NULL,
                        recorded_at REAL NOT NULL,
                        PRIMARY KEY (objective, effective_from)
                    )
                    """
            )
        }
        // `last_seen` and `closed_before` move to a narrow table: updating them in `instance`
        // rewrote the whole row (state JSON, sealed sketch) of every instance each commit touched.
        migrator.registerMigration("v14-instance-progress") { db in
            try db.execute(
                sql: """
                    CREATE TABLE instance_progress (
                        instance INTEGER PRIMARY KEY,
                        closed_before INTEGER,
                        last_seen REAL
                    );
                    INSERT INTO instance_progress (instance, closed_before, last_seen)
                        SELECT id, closed_before, last_seen FROM instance;
                    ALTER TABLE instance DROP COLUMN closed_before;
                    ALTER TABLE instance DROP COLUMN last_seen;
                    """
            )
        }
        return migrator
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
            try checkpointConnection.withLock { connection in
                if let q = connection { return q }
                var config = Configuration()
                config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
                let q = try DatabaseQueue(path: path, configuration: config)
                connection = q
                return q
            }
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
    /// (upserted), dropped buckets (deleted), its state and fingerprint when the state changed or
    /// its buckets were replaced, and its `last_seen` and `closed_before` (`instance_progress`);
    /// then ledger entries, gauge levels and period results. With `batch.full`, instances not in
    /// the batch are deleted with their buckets.
    /// - Throws: GRDB's `DatabaseError`; nothing is written then.
    public func write(_ batch: StoreBatch, at now: Double) throws {
        if batch.isEmpty { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var blob: [UInt8] = []
        blob.reserveCapacity(256)
        var newSeries: [String: Int64] = [:]
        let added = try db.write { db -> [(String, Int64)] in
            let insertInstance = try db.cachedStatement(
                sql: """
                    INSERT INTO instance (name, fingerprint, state, updated_at) VALUES (?, ?, ?, ?)
                    """
            )
            let updateState = try db.cachedStatement(
                sql: "UPDATE instance SET state = ?, fingerprint = ?, updated_at = ? WHERE id = ?"
            )
            let updateFingerprint = try db.cachedStatement(sql: "UPDATE instance SET fingerprint = ? WHERE id = ?")
            let upsertProgress = try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO instance_progress (instance, closed_before, last_seen) VALUES (?, ?, ?)"
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
                    } else if c.replaceAll {
                        // The engine replaces an instance's buckets when its data fingerprint
                        // changed (the only way it changes).
                        try updateFingerprint.execute(arguments: [c.fingerprint, id])
                    }
                } else {
                    let json = try stateJSON ?? String(decoding: try encoder.encode(InstanceState()), as: UTF8.self)
                    try insertInstance.execute(arguments: [c.objective, c.fingerprint, json, now])
                    id = db.lastInsertedRowID
                    added.append((c.objective, id))
                }
                try upsertProgress.execute(arguments: [id, c.closedBefore, c.lastSeen])
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
                    try Self.deleteInstance(id, in: db)
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
            for r in batch.periodResults where r.kind == .periodReport {
                guard let t = r.report else { continue }
                let insert = try db.cachedStatement(
                    sql: """
                        INSERT OR REPLACE INTO period_report
                            (objective, unit, period_start, period_end, met_seconds, breach_seconds,
                             unjudged_seconds, episodes, worst_value, worst_baseline, worst_at, good, total,
                             value, baseline, met, judged_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """
                )
                try insert.execute(arguments: [
                    r.objective, t.unit.rawValue, t.start, t.end, t.met, t.breached, t.unjudged, t.episodes,
                    t.worstValue, t.worstBaseline, t.worstAt, t.summedThrough == nil ? nil : t.good,
                    t.summedThrough == nil ? nil : t.total, r.value, r.baseline, r.met, r.at,
                ])
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
            try writeHistory(batch.history, db, newSeries: &newSeries)
            try pruneIfDue(db, now: now)
            return added
        }
        // Known ids only once the transaction committed (a rollback leaves them unknown).
        for (name, id) in added { ids.set(name, id) }
        for (name, id) in newSeries { historyIDs.set(name, id) }
        if batch.full { ids.retain(Set(batch.instances.map(\.objective))) }
    }

    /// Writes SLI history points (a point of a step already stored replaces it).
    private func writeHistory(_ points: [HistoryPoint], _ db: Database, newSeries: inout [String: Int64]) throws {
        guard !points.isEmpty else { return }
        let insertSeries = try db.cachedStatement(sql: "INSERT INTO history_series (name) VALUES (?)")
        let upsert = try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO sli_history (series, step, start, value, worst, baseline, breached)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """
        )
        for p in points {
            let series: Int64
            if let known = historyIDs.get(p.instance) ?? newSeries[p.instance] {
                series = known
            } else {
                try insertSeries.execute(arguments: [p.instance])
                series = db.lastInsertedRowID
                newSeries[p.instance] = series
            }
            try upsert.execute(arguments: [
                series, p.step, p.start, p.value, p.worst, p.baseline, p.breached,
            ])
        }
    }

    /// Deletes instance `id` with its buckets and progress row (inside a transaction).
    private static func deleteInstance(_ id: Int64, in db: Database) throws {
        try db.execute(sql: "DELETE FROM bucket WHERE instance = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM instance_progress WHERE instance = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM instance WHERE id = ?", arguments: [id])
    }

    /// At most hourly, inside a commit: deletes period verdicts and hourly history older than
    /// `periodRetention` and 5-minute history older than `SLIHistory.fineRetention`.
    private func pruneIfDue(_ db: Database, now: Double) throws {
        guard lastPrune.withLock({ now - $0 >= 3600 }) else { return }
        let cutoff = now - periodRetention
        try db.execute(sql: "DELETE FROM period_result WHERE period_end < ?", arguments: [cutoff])
        try db.execute(sql: "DELETE FROM period_report WHERE period_end < ?", arguments: [cutoff])
        try db.execute(sql: "DELETE FROM sli_history WHERE start < ?", arguments: [Int64(cutoff)])
        try db.execute(
            sql: "DELETE FROM sli_history WHERE step < 3600 AND start < ?",
            arguments: [Int64(now - SLIHistory.fineRetention)]
        )
        lastPrune.withLock { $0 = now }
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

    /// One stored row that cannot be decoded.
    public struct DamagedRow: Sendable, Equatable, CustomStringConvertible {
        /// `instance` (its JSON state) or `bucket` (its binary aggregate).
        public var table: String
        /// The row: the instance id, or `instance/bucket` for a bucket.
        public var row: String
        /// The instance's stored name (objective, and its labels for a group member).
        public var objective: String
        /// Why it cannot be decoded.
        public var error: String

        /// "table bucket, row 3/1700000000 (objective api-availability): …".
        public var description: String { "table \(table), row \(row) (objective \(objective)): \(error)" }
    }

    /// Loads every stored instance with its buckets.
    /// - Parameter keepingSketchesPacked: leave bucket sketches in their stored form
    ///   (`Engine.Snapshot.packedBuckets`) for a window to keep packed, instead of decoding them
    ///   into `buckets` (the daemon's start-up: 10,000 percentile instances of 60 buckets decode
    ///   nothing but their newest buckets).
    /// - Throws: GRDB's `DatabaseError`, or `DamagedRowError` for the first row that cannot be
    ///   decoded (naming table, row and objective).
    /// - Parameter parallelAbove: bucket rows above which the load is split by instance over
    ///   one read-only connection per core (at most 4), read at once.
    public func loadSnapshots(keepingSketchesPacked: Bool = false, parallelAbove: Int = 100_000) throws
        -> [Engine.Snapshot]
    {
        let (snapshots, damaged) = try load(keepingSketchesPacked: keepingSketchesPacked, parallelAbove: parallelAbove)
        if let first = damaged.first { throw DamagedRowError(row: first) }
        return snapshots
    }

    /// A row of the store that cannot be decoded (`loadSnapshots`).
    public struct DamagedRowError: Error, CustomStringConvertible {
        /// The row.
        public var row: DamagedRow
        /// "damaged state row: table …".
        public var description: String { "damaged state row: \(row)" }
    }

    /// Like `loadSnapshots`, but an instance with a row that cannot be decoded is left out
    /// instead of failing the load: the file is first copied aside whole (`VACUUM INTO`
    /// `state.sqlite.damaged-YYYYMMDDTHHMMSSZ`, the evidence), then the instance's rows are
    /// deleted, so it starts empty and the next start does not meet them again.
    /// - Parameter now: the time in the evidence file's name, unix seconds.
    /// - Returns: the snapshots of the intact instances, the damaged rows, and the evidence
    ///   copy's path (`nil` when nothing was damaged).
    /// - Throws: GRDB's `DatabaseError` (reading, copying or deleting).
    public func loadSnapshotsSkippingDamaged(
        keepingSketchesPacked: Bool = false,
        parallelAbove: Int = 100_000,
        now: Double
    ) throws -> (
        snapshots: [Engine.Snapshot], damaged: [DamagedRow], evidence: String?
    ) {
        let (snapshots, damaged) = try load(keepingSketchesPacked: keepingSketchesPacked, parallelAbove: parallelAbove)
        guard !damaged.isEmpty else { return (snapshots, [], nil) }
        let stamp = ISO8601DateFormatter.string(
            from: Date(timeIntervalSince1970: now),
            timeZone: TimeZone(identifier: "UTC")!,
            formatOptions: [.withYear, .withMonth, .withDay, .withTime, .withTimeZone]
        )
        var evidence = path + ".damaged-" + stamp
        var n = 1
        while FileManager.default.fileExists(atPath: evidence) {
            evidence = path + ".damaged-" + stamp + ".\(n)"
            n += 1
        }
        let names = Set(damaged.map(\.objective))
        try db.writeWithoutTransaction { db in
            try db.execute(sql: "VACUUM INTO ?", arguments: [evidence])
            try db.inTransaction {
                for name in names {
                    if let id = try Int64.fetchOne(db, sql: "SELECT id FROM instance WHERE name = ?", arguments: [name])
                    {
                        try Self.deleteInstance(id, in: db)
                    }
                }
                return .commit
            }
        }
        for name in names { ids.remove(name) }
        chmod(evidence, 0o600)
        return (snapshots, damaged, evidence)
    }

    /// One share of the bucket table, read by `scanBuckets`.
    private struct BucketScan: Sendable {
        var buckets: [Int64: [Int64: Aggregate]] = [:]
        var packed: [Int64: PackedBuckets] = [:]
        var damaged: [(instance: Int64, bucket: Int64, error: String)] = []
    }

    /// The buckets of instances with ids in `range`, in one read of `db`.
    private static func scanBuckets(_ db: Database, _ range: ClosedRange<Int64>, keepingSketchesPacked: Bool) throws
        -> BucketScan
    {
        var scan = BucketScan()
        var damagedInstances: Set<Int64> = []
        // Rows come grouped by instance: its buckets gather here, then go to `packed` once.
        var current: (instance: Int64, buckets: PackedBuckets)?
        let cursor = try Row.fetchCursor(
            db,
            sql: "SELECT instance, id, data FROM bucket WHERE instance BETWEEN ? AND ? ORDER BY instance, id",
            arguments: [range.lowerBound, range.upperBound]
        )
        while let row = try cursor.next() {
            let instance: Int64 = row[0]
            let id: Int64 = row[1]
            if keepingSketchesPacked && current?.instance != instance {
                if let done = current { scan.packed[done.instance] = done.buckets }
                current = (instance, PackedBuckets())
            }
            if damagedInstances.contains(instance) { continue }
            try row.withUnsafeData(atIndex: 2) { data in
                guard let data else { return }
                do {
                    try data.withUnsafeBytes { raw in
                        if keepingSketchesPacked {
                            let (a, sketch) = try BucketCodec.decodeKeepingSketchPacked(raw)
                            current!.buckets.append(id: id, aggregate: a, sketch: sketch)
                        } else {
                            scan.buckets[instance, default: [:]][id] = try BucketCodec.decode(raw)
                        }
                    }
                } catch {
                    damagedInstances.insert(instance)
                    scan.damaged.append((instance, id, "\(error)"))
                }
            }
        }
        if let done = current { scan.packed[done.instance] = done.buckets }
        return scan
    }

    /// Reads every bucket, split by instance id over up to `parallelReads` connections read at
    /// once (the start-up's load is mostly decoding and fresh memory, which two cores share):
    /// the first share on `db`, each other one on a read-only connection of its own. Only at
    /// start-up, before anything writes: every share sees the same file.
    private func scanAllBuckets(keepingSketchesPacked: Bool, parallelAbove: Int) throws -> BucketScan {
        let bounds = try db.read { db in
            try Row.fetchOne(db, sql: "SELECT MIN(instance), MAX(instance), COUNT(*) FROM bucket")
        }
        let low: Int64 = bounds?[0] ?? 0
        let high: Int64 = bounds?[1] ?? 0
        let rows: Int = bounds?[2] ?? 0
        let shares = rows <= parallelAbove ? 1 : max(1, min(Self.parallelReads, Int(high - low + 1)))
        if shares == 1 {
            return try db.read { try Self.scanBuckets($0, low...high, keepingSketchesPacked: keepingSketchesPacked) }
        }
        let step = (high - low + 1 + Int64(shares) - 1) / Int64(shares)
        let ranges = (0..<shares).map { k in (low + Int64(k) * step)...min(high, low + Int64(k + 1) * step - 1) }
        var config = Configuration()
        config.readonly = true
        let others = try (1..<shares).map { _ in try DatabaseQueue(path: path, configuration: config) }
        let connections = [db] + others
        let results = Mutex<[Result<BucketScan, any Error>?]>(Array(repeating: nil, count: shares))
        DispatchQueue.concurrentPerform(iterations: shares) { k in
            let r = Result {
                try connections[k].read {
                    try Self.scanBuckets($0, ranges[k], keepingSketchesPacked: keepingSketchesPacked)
                }
            }
            results.withLock { $0[k] = r }
        }
        var all = BucketScan()
        for r in results.withLock({ $0 }) {
            guard let r else { continue }
            let part = try r.get()
            all.buckets.merge(part.buckets) { a, _ in a }
            all.packed.merge(part.packed) { a, _ in a }
            all.damaged += part.damaged
        }
        return all
    }

    /// Connections a large bucket load reads on at once: the cores, at most 4.
    static let parallelReads = min(4, max(1, ProcessInfo.processInfo.activeProcessorCount))

    /// Every instance that decodes, and the rows that do not (their instances left out).
    private func load(keepingSketchesPacked: Bool, parallelAbove: Int) throws -> ([Engine.Snapshot], [DamagedRow]) {
        let decoder = JSONDecoder()
        let scan = try scanAllBuckets(keepingSketchesPacked: keepingSketchesPacked, parallelAbove: parallelAbove)
        let buckets = scan.buckets
        var packed = scan.packed
        let damagedBuckets = scan.damaged
        return try db.read { db in
            var damaged: [DamagedRow] = []
            var snapshots: [Engine.Snapshot] = []
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT instance.*, p.closed_before, p.last_seen FROM instance
                    LEFT JOIN instance_progress p ON p.instance = instance.id ORDER BY name
                    """
            ) {
                let id: Int64 = row["id"]
                let name: String = row["name"]
                if let bad = damagedBuckets.first(where: { $0.instance == id }) {
                    damaged.append(
                        DamagedRow(table: "bucket", row: "\(id)/\(bad.bucket)", objective: name, error: bad.error)
                    )
                    continue
                }
                do {
                    let json: String = row["state"]
                    var state = try decoder.decode(InstanceState.self, from: Data(json.utf8))
                    state.lastSeen = row["last_seen"]
                    var snapshot = Engine.Snapshot(
                        objective: name,
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
                    snapshots.append(snapshot)
                } catch {
                    damaged.append(
                        DamagedRow(table: "instance", row: "\(id)", objective: name, error: Self.describe(error))
                    )
                }
            }
            return (snapshots, damaged)
        }
    }

    /// A decoding error in words: what was wrong and where in the JSON (not Foundation's dump).
    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let c), DecodingError.keyNotFound(_, let c),
            DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            let path = c.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? c.debugDescription : "\(path): \(c.debugDescription)"
        default:
            return "\(error)"
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
        /// Whether the target was met; `nil` for a report period with no judged time.
        public var met: Bool?
        /// Report periods of objectives judged continuously: the tally (`nil` for a cumulative
        /// target's period result).
        public var report: PeriodTally? = nil
    }

    /// Period results of the state file at `path`, opened read-only (a running daemon's file,
    /// read beside its writes under WAL, or a copy): ordered by objective, then period.
    /// - Throws: `NewerSchema` for a file of a newer binary; GRDB's `DatabaseError` when the
    ///   file is missing, not a state file, or unreadable.
    public static func periodResults(atPath path: String) throws -> [PeriodResult] {
        try readOnly(path) { db in
            var out = try Row.fetchAll(db, sql: "SELECT * FROM period_result ORDER BY objective, period_start").map(
                resultRow
            )
            // A state file from before schema 10 has no report periods.
            if try db.tableExists("period_report") {
                out += try reportRows(db)
            }
            return out
        }
    }

    /// A file that is not a slawatch state file (empty, or another SQLite database).
    public struct NotAStateFile: Error, CustomStringConvertible {
        /// The file.
        public var path: String
        /// "PATH is not a slawatch state file (no period_result table)".
        public var description: String { "\(path) is not a slawatch state file (no period_result table)" }
    }

    /// Runs `body` on the state file at `path` opened read-only (WAL lets it read beside a
    /// running daemon's writes), after checking that this binary knows its schema.
    /// - Throws: `NewerSchema` (a higher `user_version` or a migration this binary does not
    ///   know); `NotAStateFile`; GRDB's `DatabaseError` (no file, not SQLite, unreadable); what
    ///   `body` throws.
    static func readOnly<T>(_ path: String, _ body: (Database) throws -> T) throws -> T {
        guard FileManager.default.fileExists(atPath: path) else {
            throw DatabaseError(resultCode: .SQLITE_CANTOPEN, message: "no state file at \(path)")
        }
        var config = Configuration()
        config.readonly = true
        let db = try DatabaseQueue(path: path, configuration: config)
        return try db.read { db in
            let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
            let m = migrator()
            let applied = try db.tableExists("grdb_migrations") ? try m.appliedIdentifiers(db) : []
            let unknown = applied.subtracting(m.migrations).sorted()
            if version > schemaVersion || !unknown.isEmpty {
                throw NewerSchema(path: path, found: version, known: schemaVersion, unknownMigrations: unknown)
            }
            guard try db.tableExists("period_result") else { throw NotAStateFile(path: path) }
            return try body(db)
        }
    }

    /// The SLI history points of `step` seconds (300 or 3600) with a start in `from..<to`, per
    /// series (instance name), oldest first, read from the state file at `path` without writing
    /// to it (as `periodResults(atPath:)`). A file from before schema 11 has none.
    /// - Throws: GRDB's `DatabaseError` (no file, unreadable), `NewerSchema`.
    public static func history(atPath path: String, step: Int, from: Double, to: Double) throws -> [String:
        [HistoryPoint]]
    {
        try readOnly(path) { try historyRows($0, step: step, from: from, to: to) }
    }

    /// The points of every step in `steps` (each instance's points of all of them, step by
    /// step), read through one read-only connection; see `history(atPath:step:from:to:)`.
    /// - Throws: as `history(atPath:step:from:to:)`.
    public static func history(atPath path: String, steps: [Int], from: Double, to: Double) throws -> [String:
        [HistoryPoint]]
    {
        try readOnly(path) { db in
            var out: [String: [HistoryPoint]] = [:]
            for step in steps {
                for (name, points) in try historyRows(db, step: step, from: from, to: to) {
                    out[name, default: []] += points
                }
            }
            return out
        }
    }

    /// Checks that `path` is a state file this binary reads (as `periodResults(atPath:)` does),
    /// reading nothing else.
    /// - Throws: `NewerSchema`, `NotAStateFile`, GRDB's `DatabaseError`.
    public static func checkReadable(atPath path: String) throws { try readOnly(path) { _ in } }

    /// When the newest SLI history step of this store ended (unix seconds), `nil` without
    /// history.
    /// - Throws: GRDB's `DatabaseError`.
    public func historyEnd() throws -> Double? {
        try db.read { db in
            guard try db.tableExists("sli_history") else { return nil }
            return try Double.fetchOne(db, sql: "SELECT max(start + step) FROM sli_history")
        }
    }

    /// The history points of this store; see `history(atPath:step:from:to:)`.
    /// - Throws: GRDB's `DatabaseError`.
    public func history(step: Int, from: Double, to: Double) throws -> [String: [HistoryPoint]] {
        try db.read { try Self.historyRows($0, step: step, from: from, to: to) }
    }

    static func historyRows(_ db: Database, step: Int, from: Double, to: Double) throws -> [String: [HistoryPoint]] {
        guard try db.tableExists("sli_history") else { return [:] }
        var out: [String: [HistoryPoint]] = [:]
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT s.name, h.start, h.value, h.worst, h.baseline, h.breached
                FROM sli_history h JOIN history_series s ON s.id = h.series
                WHERE h.step = ? AND h.start >= ? AND h.start < ?
                ORDER BY s.name, h.start
                """,
            arguments: [step, Int64(from.rounded(.down)), Int64(to.rounded(.up))]
        )
        while let r = try rows.next() {
            let name: String = r[0]
            out[name, default: []].append(
                HistoryPoint(
                    instance: name,
                    step: step,
                    start: r[1],
                    value: r[2],
                    worst: r[3],
                    baseline: r[4],
                    breached: r[5]
                )
            )
        }
        return out
    }

    /// A `period_result` row.
    static func resultRow(_ row: Row) -> PeriodResult {
        PeriodResult(
            objective: row["objective"],
            start: row["period_start"],
            end: row["period_end"],
            value: row["value"],
            baseline: row["baseline"],
            met: row["met"]
        )
    }

    /// The `period_report` rows, by objective, unit and period (`latestOnly`: the newest period
    /// of each objective and unit, read through the primary key).
    static func reportRows(_ db: Database, latestOnly: Bool = false) throws -> [PeriodResult] {
        let latest = """
             WHERE period_start = (SELECT MAX(period_start) FROM period_report l
                                   WHERE l.objective = r.objective AND l.unit = r.unit)
            """
        let sql = "SELECT * FROM period_report r\(latestOnly ? latest : "") ORDER BY objective, unit, period_start"
        return try Row.fetchAll(db, sql: sql).map {
            var t = PeriodTally(
                unit: CalendarUnit(rawValue: $0["unit"]) ?? .month,
                start: $0["period_start"],
                end: $0["period_end"],
                from: $0["period_end"]
            )
            t.met = $0["met_seconds"]
            t.breached = $0["breach_seconds"]
            t.unjudged = $0["unjudged_seconds"]
            t.episodes = $0["episodes"]
            t.worstValue = $0["worst_value"]
            t.worstBaseline = $0["worst_baseline"]
            t.worstAt = $0["worst_at"]
            if let good: Double = $0["good"], let total: Double = $0["total"] {
                t.good = good
                t.total = total
                t.summedThrough = 0
            }
            return PeriodResult(
                objective: $0["objective"],
                start: t.start,
                end: t.end,
                value: $0["value"] ?? .nan,
                baseline: $0["baseline"],
                met: $0["met"],
                report: t
            )
        }
    }

    /// Report periods of objectives judged continuously, by objective, unit and period.
    public func periodReports() throws -> [PeriodResult] { try db.read { try Self.reportRows($0) } }

    /// The newest closed period of each instance: its calendar window's period result, and its
    /// newest report period of each unit. Reads as many rows as there are instances and units,
    /// not the stored history (the daemon's start-up).
    /// - Throws: GRDB's `DatabaseError`.
    public func latestPeriods() throws -> [PeriodResult] {
        try db.read { db in
            let results = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM period_result r
                    WHERE period_start = (SELECT MAX(period_start) FROM period_result l WHERE l.objective = r.objective)
                    ORDER BY objective
                    """
            )
            return try results.map(Self.resultRow) + Self.reportRows(db, latestOnly: true)
        }
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
            return rows.map(Self.resultRow)
        }
    }
}
