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
