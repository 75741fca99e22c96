import Foundation
import SLAWatchCore
import SLAWatchStore

/// What `slawatch report` and the scheduled reports share: the verdicts of a state file joined
/// with the objectives, the SLI history their charts need, and the rendering in each format
/// (docs/reports.md). Reads go through a read-only connection of their own (SQLite WAL), so a
/// report never holds the daemon's commits.
public enum ReportBuilder {
    /// The verdicts of every closed period in the state file at `path` (`period_result` and
    /// `period_report`), joined with `objectives` (`PeriodReport.rows`) and with the definition
    /// changes stored for each period (`objective_version`).
    /// - Throws: the store's error (no file, unreadable, `StateStore.NewerSchema`).
    public static func rows(statePath path: String, objectives: [Objective]) throws -> [PeriodVerdictRow] {
        let results = try StateStore.periodResults(atPath: path)
        // The definition changes stored (reloads, edits, versions dated ahead).
        let changes = StateStore.definitionChanges(try StateStore.objectiveVersions(atPath: path))
        return PeriodReport.rows(
            results.map { ($0.objective, $0.start, $0.end, $0.value, $0.baseline, $0.met) },
            reports: results.map(\.report),
            objectives: objectives,
            changes: changes.map { ($0.objective, $0.at, $0.changes) }
        )
    }

    /// The SLI history of each instance's latest period among `rows` (and of the span `extra`,
    /// for a report's standing), both steps: the chart takes the one that suits the period.
    /// - Throws: the store's error.
    public static func history(
        statePath path: String,
        for rows: [PeriodVerdictRow],
        extra: (start: Double, end: Double)? = nil
    ) throws -> [String: [HistoryPoint]] {
        var latest: [String: PeriodVerdictRow] = [:]
        for r in rows where (latest[r.instance]?.periodStart ?? -.infinity) < r.periodStart { latest[r.instance] = r }
        var from = latest.values.map(\.periodStart).min()
        var to = latest.values.map(\.periodEnd).max()
        if let extra {
            from = min(from ?? extra.start, extra.start)
            to = max(to ?? extra.end, extra.end)
        }
        guard let from, let to else { return [:] }
        return try StateStore.history(atPath: path, steps: SLIHistory.steps, from: from, to: to)
    }

    /// `rows` in `format`, with the standing of the objectives (`Engine.Status`, `status(at:)`)
    /// first when given (the scheduled reports), and charts from `history` (HTML).
    public static func render(
        _ rows: [PeriodVerdictRow],
        format: ReportFormat,
        history: [String: [HistoryPoint]] = [:],
        standing: [Engine.Status] = [],
        title: String = "SLA report",
        generated: Double
    ) -> String {
        switch format {
        case .html:
            return HTMLReport.render(rows, history: history, standing: standing, title: title, generated: generated)
        default:
            return PeriodReport.render(rows, format: format, standing: standing, title: title, generated: generated)
        }
    }
}
