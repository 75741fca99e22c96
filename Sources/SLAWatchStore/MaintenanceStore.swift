import Foundation
import GRDB
import SLAWatchCore

/// Maintenance announced at run time (`slawatch maintenance add`), in the `maintenance` table
/// (`v12`): kept until deleted, so `list` shows the past ones too.
extension StateStore {
    /// Stores `m` (its `id` ignored) and returns it with its new id.
    /// - Throws: GRDB's `DatabaseError`.
    public func addMaintenance(_ m: RuntimeMaintenance) throws -> RuntimeMaintenance {
        try db.write { db in
            try db.execute(
                sql: """
                    INSERT INTO maintenance (sla, objective, from_time, to_time, reason, announced_at, ended_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [m.sla, m.objective, m.window.from, m.window.to, m.window.reason, m.announcedAt, m.endedAt]
            )
            var stored = m
            stored.id = Int(db.lastInsertedRowID)
            return stored
        }
    }

    /// Every maintenance announced at run time, in id order.
    /// - Throws: GRDB's `DatabaseError`.
    public func runtimeMaintenance() throws -> [RuntimeMaintenance] {
        try db.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT id, sla, objective, from_time, to_time, reason, announced_at, ended_at FROM maintenance ORDER BY id"
            ).map { r in
                RuntimeMaintenance(
                    id: r["id"],
                    sla: r["sla"],
                    objective: r["objective"],
                    window: MaintenanceWindow(from: r["from_time"], to: r["to_time"], reason: r["reason"]),
                    announcedAt: r["announced_at"],
                    endedAt: r["ended_at"]
                )
            }
        }
    }

    /// Ends maintenance `id` at `time` (before its planned end).
    /// - Returns: whether a maintenance with that id exists and was not ended before.
    /// - Throws: GRDB's `DatabaseError`.
    public func endMaintenance(id: Int, at time: Double) throws -> Bool {
        try db.write { db in
            try db.execute(
                sql: "UPDATE maintenance SET ended_at = ? WHERE id = ? AND ended_at IS NULL",
                arguments: [time, id]
            )
            return db.changesCount > 0
        }
    }
}

/// Silences (`slawatch silence add`), in the `silence` table (`v12`).
extension StateStore {
    /// Stores `s` (its `id` ignored) and returns it with its new id.
    /// - Throws: GRDB's `DatabaseError`.
    public func addSilence(_ s: Silence) throws -> Silence {
        try db.write { db in
            try db.execute(
                sql: """
                    INSERT INTO silence (sla, objective, from_time, to_time, reason, created_at, ended_at, muted)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [s.sla, s.objective, s.from, s.to, s.reason, s.createdAt, s.endedAt, s.muted]
            )
            var stored = s
            stored.id = Int(db.lastInsertedRowID)
            return stored
        }
    }

    /// Every silence, in id order.
    /// - Throws: GRDB's `DatabaseError`.
    public func silences() throws -> [Silence] {
        try db.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT id, sla, objective, from_time, to_time, reason, created_at, ended_at, muted FROM silence ORDER BY id"
            ).map { r in
                Silence(
                    id: r["id"],
                    sla: r["sla"],
                    objective: r["objective"],
                    from: r["from_time"],
                    to: r["to_time"],
                    reason: r["reason"],
                    createdAt: r["created_at"],
                    endedAt: r["ended_at"],
                    muted: r["muted"]
                )
            }
        }
    }

    /// Writes silence `s`'s muted count and end (`ended_at`, once its summary was written).
    /// - Throws: GRDB's `DatabaseError`.
    public func updateSilence(_ s: Silence) throws {
        try db.write { db in
            try db.execute(
                sql: "UPDATE silence SET muted = ?, ended_at = ?, to_time = ? WHERE id = ?",
                arguments: [s.muted, s.endedAt, s.to, s.id]
            )
        }
    }
}

/// Review reminders (`review_by:`), in the `review_reminder` table (`v12`): per SLA, the
/// reminder cycle's `review_by`, the SLA's definition when it began, and the last reminder's due
/// time.
extension StateStore {
    /// Every SLA's reminder state: SLA → (review_by, fingerprint, last due), unix seconds.
    /// - Throws: GRDB's `DatabaseError`.
    public func reviewReminders() throws -> [String: (reviewBy: Double, fingerprint: String, lastDue: Double)] {
        try db.read { db in
            var out: [String: (Double, String, Double)] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT sla, review_by, fingerprint, last_due FROM review_reminder") {
                out[r["sla"]] = (r["review_by"], r["fingerprint"], r["last_due"])
            }
            return out
        }
    }

    /// Records that SLA `sla`'s reminder due at `due` was written.
    /// - Throws: GRDB's `DatabaseError`.
    public func setReviewReminder(sla: String, reviewBy: Double, fingerprint: String, lastDue: Double) throws {
        try db.write { db in
            try db.execute(
                sql:
                    "INSERT OR REPLACE INTO review_reminder (sla, review_by, fingerprint, last_due) VALUES (?, ?, ?, ?)",
                arguments: [sla, reviewBy, fingerprint, lastDue]
            )
        }
    }
}
