import Foundation
import Logging
import SLAWatchCore
import ServiceLifecycle

/// Writes the scheduled reports (`reports:` in slawatch.yaml, docs/reports.md): each minute it
/// asks the schedule for the latest weekly and monthly report due, and writes the one whose
/// files are missing from the reports directory (so a report missed while the daemon was down
/// is written at the next start, and none twice). Each report is written in every configured
/// format, each file atomically (write, then rename), and announced by one journal entry
/// naming its files (`MessageID.reportWritten`); a failure is journaled once per report and
/// kind of error and retried at the next check. The service does not throw.
struct ReportService: Service {
    let actor: EngineActor
    let journal: JournalEmitter
    let clock: any DaemonClock
    let schedule: ReportSchedule
    /// Where the files go.
    let directory: String
    /// The state file the verdicts and history are read from (read-only, beside the writer).
    let statePath: String
    let logger: Logger
    /// Seconds between checks.
    var interval: Double = 60
    /// Seconds from the start to the first check.
    var firstCheck: Double = 5

    func run() async throws {
        await cancelWhenGracefulShutdown { await self.loop() }
    }

    private func loop() async {
        var reported: Set<String> = []
        // Months found without verdicts: not read again each minute.
        var empty: Set<String> = []
        // The first check after the first evaluations, so the standing has values.
        do { try await clock.sleep(seconds: firstCheck) } catch { return }
        while !Task.isCancelled {
            for due in schedule.latestDue(now: clock.now) where !empty.contains(due.name) {
                if await !write(due, failuresReported: &reported) { empty.insert(due.name) }
            }
            do { try await clock.sleep(seconds: interval) } catch { return }
        }
    }

    /// The file of `due` in `format`.
    func file(_ due: ReportSchedule.Due, _ format: ReportFormat) -> String {
        directory + "/" + due.name + "." + format.fileExtension
    }

    /// Writes `due` unless all its files exist.
    /// - Returns: `false` for a monthly report of a month without verdicts (nothing written).
    @discardableResult
    func write(_ due: ReportSchedule.Due, failuresReported: inout Set<String>) async -> Bool {
        let fm = FileManager.default
        let files = schedule.formats.map { file(due, $0) }
        guard !files.isEmpty, files.contains(where: { !fm.fileExists(atPath: $0) }) else { return true }
        do {
            try ensureDirectory()
            let objectives = await actor.objectives()
            let standing = due.kind == "weekly" ? await actor.status() : []
            var rows = try ReportBuilder.rows(statePath: statePath, objectives: objectives)
            // The weekly report: periods that ended in the five weeks before it (the latest week
            // and month with their trend); the monthly: the month's periods and the year before.
            let from = due.kind == "weekly" ? due.at - 35 * 86400 : due.start - 366 * 86400
            rows = rows.filter { $0.periodEnd > from && $0.periodEnd <= max(due.end, due.at) }
            // A month with no verdict at all (the daemon was not running then) gets no report.
            if due.kind == "monthly", !rows.contains(where: { $0.periodEnd > due.start }) { return false }
            let span = standing.compactMap(\.pace).map { ($0.periodStart, $0.periodEnd) }
            let extra = span.isEmpty ? nil : (span.map(\.0).min()!, span.map(\.1).max()!)
            let history = try ReportBuilder.history(statePath: statePath, for: rows, extra: extra)
            let title = due.kind == "weekly" ? "Weekly SLA report \(due.name)" : "Monthly SLA report \(due.name)"
            for format in schedule.formats {
                var text = ReportBuilder.render(
                    rows,
                    format: format,
                    history: history,
                    standing: standing,
                    title: title,
                    generated: clock.now
                )
                // Without a standing (the monthly report) the title heads the periods.
                if standing.isEmpty, format == .markdown { text = "# \(title)\n\n" + text }
                if standing.isEmpty, format == .text { text = title + "\n\n" + text }
                try Data(text.utf8).write(to: URL(fileURLWithPath: file(due, format)), options: .atomic)
            }
            let missed = rows.filter { $0.met == false }.count
            let atRisk = standing.filter { $0.pace?.outlook == "at risk" }.count
            logger.info("\(due.kind) report \(due.name) written to \(directory)")
            journal.emit(
                DaemonEntry.reportWritten(due, files: files, periods: rows.count, missed: missed, atRisk: atRisk)
            )
        } catch {
            let key = due.name + " " + String(describing: type(of: error))
            logger.error("\(due.kind) report \(due.name) not written: \(error)")
            if !failuresReported.contains(key) {
                failuresReported.insert(key)
                journal.emit(DaemonEntry.reportFailed(due, directory: directory, error: error))
            }
        }
        return true
    }

    private func ensureDirectory() throws {
        try FileManager.default.createDirectory(
            atPath: directory,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o750]
        )
    }
}
