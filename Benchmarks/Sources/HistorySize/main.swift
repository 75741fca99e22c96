// The size of SLI history in the store, for docs/performance.md: writes DAYS days of history
// for INSTANCES instances through `StateStore.write`, one commit per simulated day (each
// instance's 288 five-minute points and 24 hourly ones, as `Engine.takeHistory` gives them),
// with the store's own retention (5-minute points 35 days, hourly ones `period_retention`, 400
// days), then prints the rows kept and the bytes the store uses for them per instance.
//
// usage: history-size [INSTANCES] [DAYS]   (default 20 instances, 400 days: about a minute)
// Values are a latency-like SLI (random, 17 significant digits as real SLIs have), a constant
// baseline, 1 % of steps breached.
import Foundation
import GRDB
import SLAWatchCore
import SLAWatchStore

let args = CommandLine.arguments
let instances = args.count > 1 ? Int(args[1]) ?? 20 : 20
let days = args.count > 2 ? Int(args[2]) ?? 400 : 400
let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slawatch-history-size-\(getpid())")
defer { try? FileManager.default.removeItem(at: dir) }
let path = dir.appendingPathComponent("state.sqlite").path
let store = try StateStore(path: path)
let names = (0..<instances).map { "checkout-latency{service=s\($0)}" }
let start = 1_764_547_200.0  // 2025-12-01T00:00:00Z
func point(_ name: String, _ step: Int, _ t: Int64) -> HistoryPoint {
    var rng = SystemRandomNumberGenerator()
    let v = Double.random(in: 80...400, using: &rng)
    return HistoryPoint(
        instance: name,
        step: step,
        start: t,
        value: v,
        worst: v * Double.random(in: 1...1.5, using: &rng),
        baseline: 300,
        breached: Int.random(in: 0..<100, using: &rng) == 0
    )
}
for d in 0..<days {
    let day = start + Double(d) * 86400
    var batch = StoreBatch()
    batch.history.reserveCapacity(instances * 312)
    for name in names {
        for k in 0..<288 { batch.history.append(point(name, 300, Int64(day) + Int64(k) * 300)) }
        for k in 0..<24 { batch.history.append(point(name, 3600, Int64(day) + Int64(k) * 3600)) }
    }
    try store.write(batch, at: day + 86400)
}
let db = try DatabaseQueue(path: path)
let (rows, used) = try db.read { db -> (Int, Int) in
    let rows = try Int.fetchOne(db, sql: "SELECT count(*) FROM sli_history") ?? 0
    // Pages of the history table and its series names (sqlite's dbstat), in use.
    let used =
        try Int.fetchOne(
            db,
            sql: "SELECT sum(pgsize - unused) FROM dbstat WHERE name IN ('sli_history', 'history_series', 'sqlite_autoindex_history_series_1')"
        ) ?? 0
    return (rows, used)
}
let perInstance = Double(used) / Double(instances)
print(
    String(
        format: "history %d instances %d days: %d rows (%.0f per instance), %.0f bytes per instance (%.1f bytes per row)",
        instances,
        days,
        rows,
        Double(rows) / Double(instances),
        perInstance,
        Double(used) / Double(max(rows, 1))
    )
)
