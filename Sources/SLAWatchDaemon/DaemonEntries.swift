import Foundation
import SLAWatchCore
import SLAWatchStore

/// The daemon's own journal entries (start, stop, reload, limits, store failures, drop files),
/// each with its `MESSAGE_ID` (catalog: `docs/catalog`). Pure: the daemon hands them to its
/// `JournalEmitter`.
enum DaemonEntry {
    /// "started": version, objectives watched, instances restored, the ingest socket.
    static func started(objectives: Int, restored: Int, socket: String) -> JournalEntry {
        JournalEntry(
            MessageID.started,
            priority: .info,
            message:
                "slawatch \(SLAWatchVersion.current) started: watching \(objectives) objective(s), restored state of \(restored), listening on \(socket)",
            fields: [
                "SLAWATCH_VERSION": SLAWatchVersion.current, "SLAWATCH_OBJECTIVES": String(objectives),
                "SLAWATCH_RESTORED": String(restored), "SLAWATCH_SOCKET": socket,
            ]
        )
    }

    /// "stopped": why (a signal, or a fatal error: priority `err`), after how long.
    static func stopped(_ reason: StopReason.Reason, uptime: Double) -> JournalEntry {
        let up = DurationText.format(max(0, uptime).rounded())
        var e: JournalEntry
        switch reason {
        case .signal(let name):
            e = JournalEntry(
                MessageID.stopped,
                priority: .info,
                message: "slawatch \(SLAWatchVersion.current) stopped: \(name), after \(up); final snapshot written",
                fields: ["SLAWATCH_REASON": name]
            )
        case .fatalError(let error):
            e = JournalEntry(
                MessageID.stopped,
                priority: .err,
                message: "slawatch \(SLAWatchVersion.current) stopped: fatal error after \(up): \(error)",
                fields: ["SLAWATCH_REASON": "fatal_error", "SLAWATCH_ERROR": error]
            )
        }
        e.append("SLAWATCH_VERSION", SLAWatchVersion.current)
        e.append("SLAWATCH_UPTIME", String(Int(max(0, uptime).rounded())))
        return e
    }

    /// SIGHUP applied: what changed, and whether settings other than the objectives wait for a
    /// restart.
    static func reloaded(
        path: String,
        objectives: Int,
        summary: EngineActor.ReloadSummary,
        restartNeeded: Bool
    ) -> JournalEntry {
        JournalEntry(
            MessageID.configReloaded,
            priority: .notice,
            message:
                "slawatch reloaded \(path): \(objectives) objective(s), \(summary.added.count) added, "
                + "\(summary.changed.count) changed, \(summary.removed.count) removed, \(summary.unchanged) unchanged"
                + (restartNeeded ? "; settings other than the objectives take effect at the next restart" : ""),
            fields: [
                "SLAWATCH_CONFIG": path, "SLAWATCH_OBJECTIVES": String(objectives),
                "SLAWATCH_ADDED": summary.added.joined(separator: " "),
                "SLAWATCH_CHANGED": summary.changed.joined(separator: " "),
                "SLAWATCH_REMOVED": summary.removed.joined(separator: " "),
            ]
        )
    }

    /// SIGHUP refused: the old configuration stays; the first error's file, line and key.
    static func refused(path: String, errors e: ConfigErrors) -> JournalEntry {
        let first = e.errors.first
        return JournalEntry(
            MessageID.configRefused,
            priority: .err,
            message:
                "slawatch refused the new configuration, the old one stays active: \(e.errors.map(\.description).joined(separator: "; "))",
            fields: [
                "SLAWATCH_CONFIG": path, "SLAWATCH_ERROR_FILE": first?.file ?? "",
                "SLAWATCH_ERROR_LINE": first.map { String($0.line) } ?? "", "SLAWATCH_ERROR_KEY": first?.key ?? "",
                "SLAWATCH_ERROR": first?.message ?? "", "SLAWATCH_ERRORS": String(e.errors.count),
            ]
        )
    }

    /// SIGHUP refused for another reason (a file that cannot be read).
    static func refused(path: String, error: any Error) -> JournalEntry {
        JournalEntry(
            MessageID.configRefused,
            priority: .err,
            message: "slawatch refused the new configuration, the old one stays active: \(error)",
            fields: ["SLAWATCH_CONFIG": path, "SLAWATCH_ERROR": "\(error)"]
        )
    }

    /// An SLA is due for review (`review_by:`).
    static func reviewDue(sla: String, reviewBy: Double, overdueDays: Int) -> JournalEntry {
        let date = String(RFC3339.format(reviewBy).prefix(10))
        let late = overdueDays > 0 ? ", \(overdueDays) day(s) ago" : ""
        return JournalEntry(
            MessageID.slaReview,
            priority: .notice,
            message:
                "SLA \(sla) is due for review (review_by \(date)\(late)): check that its objectives still match the business, then edit it (this reminder repeats weekly until the SLA is edited)",
            fields: ["SLAWATCH_SLA": sla, "SLAWATCH_REVIEW_BY": date, "SLAWATCH_OVERDUE_DAYS": String(overdueDays)]
        )
    }

    /// A silence ended: what it muted.
    static func silenceEnded(_ s: Silence) -> JournalEntry {
        let scope = [s.sla, s.objective].compactMap { $0 }.joined(separator: "/")
        return JournalEntry(
            MessageID.silenceEnded,
            priority: .notice,
            message:
                "silence \(s.id) of \(scope) ended: \(s.muted) entr\(s.muted == 1 ? "y" : "ies") muted since \(RFC3339.format(s.from)) (\(s.reason))",
            fields: [
                "SLAWATCH_SILENCE": String(s.id), "SLAWATCH_SILENCE_SCOPE": scope, "SLAWATCH_MUTED": String(s.muted),
                "SLAWATCH_REASON": s.reason, "SLAWATCH_WINDOW_START": RFC3339.format(s.from),
                "SLAWATCH_WINDOW_END": RFC3339.format(s.to),
            ]
        )
    }

    /// `max_series` reached (once per run).
    static func seriesLimit(_ limit: Int) -> JournalEntry {
        JournalEntry(
            MessageID.seriesLimit,
            priority: .warning,
            message:
                "slawatch reached max_series (\(limit)): events that would start a new gauge or cumulative counter series are refused (series_limit) and counted",
            fields: ["SLAWATCH_MAX_SERIES": String(limit)]
        )
    }

    /// A snapshot could not be written.
    static func storeFailure(_ error: any Error) -> JournalEntry {
        JournalEntry(
            MessageID.storeFailure,
            priority: .err,
            message: "slawatch could not write its snapshot: \(error)"
        )
    }

    /// The entry for what happened to drop file `original` (`file`: its path), `nil` for
    /// outcomes that write none (retried, not input).
    static func dropFile(_ outcome: DropDirectory.Outcome, original: String, file: String) -> JournalEntry? {
        switch outcome {
        case .processed(let r):
            var message =
                "ingested \(original): \(r.accepted) event(s) from \(r.lines) line(s), \(r.rejected) rejected; moved to processed/\(r.name)"
            var priority: Severity = r.rejected > 0 ? .warning : .info
            var extra: [JournalEntry.Field] = []
            if let earlier = r.duplicateOf {
                extra.append(.init("SLAWATCH_DUPLICATE_OF", earlier))
                extra.append(.init("SLAWATCH_DUPLICATES_SKIPPED", String(r.skippedDuplicates)))
                if r.skippedDuplicates > 0 {
                    message +=
                        "; it repeats \(earlier): \(r.skippedDuplicates) timestamped event(s) already counted were skipped"
                }
                if r.possibleDuplicates > 0 {
                    message +=
                        "; possible duplicate of \(earlier): its \(r.possibleDuplicates) event(s) without a timestamp were counted again"
                    extra.append(.init("SLAWATCH_POSSIBLE_DUPLICATE_OF", earlier))
                    priority = .warning
                }
            }
            var e = JournalEntry(
                MessageID.fileIngested,
                priority: priority,
                message: message,
                fields: [
                    "SLAWATCH_FILE": file, "SLAWATCH_PROCESSED": r.name,
                    "SLAWATCH_LINES": String(r.lines), "SLAWATCH_ACCEPTED": String(r.accepted),
                    "SLAWATCH_REJECTED": String(r.rejected), "SLAWATCH_BYTES": String(r.bytes),
                    "SLAWATCH_SECONDS": String(format: "%.3f", r.seconds),
                    "SLAWATCH_FIRST_ERROR_LINE": r.firstErrorLine.map(String.init) ?? "",
                    "SLAWATCH_REJECT_REASONS": r.rejections.sorted { $0.key.rawValue < $1.key.rawValue }
                        .map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: " "),
                ]
            )
            e.fields += extra
            return e
        case .failed(let name, let reason):
            return JournalEntry(
                MessageID.fileFailed,
                priority: .err,
                message: "could not read \(original): \(reason); moved to failed/\(name)",
                fields: ["SLAWATCH_FILE": file, "SLAWATCH_ERROR": reason, "SLAWATCH_ACCEPTED": "0"]
            )
        case .stuck(_, _, let reason):
            return JournalEntry(
                MessageID.fileFailed,
                priority: .err,
                message: "\(original): \(reason); it stays in the drop directory and will not be read again",
                fields: ["SLAWATCH_FILE": file, "SLAWATCH_ERROR": reason]
            )
        case .alreadyIngested(let name):
            return JournalEntry(
                MessageID.fileIngested,
                priority: .notice,
                message:
                    "\(original) was ingested before a restart (it is in the ledger); moved to processed/\(name) without counting it again",
                fields: [
                    "SLAWATCH_FILE": file, "SLAWATCH_PROCESSED": name, "SLAWATCH_ACCEPTED": "0",
                    "SLAWATCH_DUPLICATE_OF": "ledger",
                ]
            )
        case .vanished:
            return vanishedFile(original: original, file: file)
        case .retry, .notInput:
            return nil
        }
    }

    /// The entry for drop file `original` (`file`: its path) that disappeared after it was seen
    /// and before it was read: renamed or deleted by someone other than the daemon.
    static func vanishedFile(original: String, file: String) -> JournalEntry {
        JournalEntry(
            MessageID.fileVanished,
            priority: .warning,
            message:
                "drop file \(original) disappeared before it was read (renamed or deleted by someone else); nothing of it was counted",
            fields: ["SLAWATCH_FILE": file, "SLAWATCH_ACCEPTED": "0"]
        )
    }

    /// The entry for a stream connection closed because its peer (`source`) left its answers
    /// unread for `seconds`, with `pendingBytes` of them waiting.
    static func stalledConnection(source: String, pendingBytes: Int, seconds: Double) -> JournalEntry {
        JournalEntry(
            MessageID.connectionStalled,
            priority: .warning,
            message:
                "closed \(source): it read none of its answers for \(String(format: "%.0f", seconds)) s (\(pendingBytes) bytes waiting); what it sent before was counted",
            fields: [
                "SLAWATCH_SOURCE": source, "SLAWATCH_BYTES": String(pendingBytes),
                "SLAWATCH_SECONDS": String(format: "%.1f", seconds),
            ]
        )
    }

    /// The entry for a scheduled report written: its files, how many closed periods it holds,
    /// how many were missed and how many cumulative targets are at risk now.
    static func reportWritten(
        _ due: ReportSchedule.Due,
        files: [String],
        periods: Int,
        missed: Int,
        atRisk: Int
    ) -> JournalEntry {
        let others = files.dropFirst().map { "." + ($0 as NSString).pathExtension }.joined(separator: ", ")
        var summary = "\(periods) closed period(s), \(missed) missed"
        if due.kind == "weekly" { summary += ", \(atRisk) target(s) at risk" }
        return JournalEntry(
            MessageID.reportWritten,
            priority: .info,
            message:
                "\(due.kind) report \(due.name) written to \(files.first ?? "")\(others.isEmpty ? "" : " (also \(others))"): \(summary)",
            fields: [
                "SLAWATCH_REPORT": due.kind, "SLAWATCH_REPORT_NAME": due.name,
                "SLAWATCH_REPORT_FILE": files.first ?? "",
                "SLAWATCH_REPORT_FILES": files.joined(separator: " "),
                "SLAWATCH_WINDOW_START": RFC3339.format(due.start),
                "SLAWATCH_WINDOW_END": RFC3339.format(due.end), "SLAWATCH_PERIODS": String(periods),
                "SLAWATCH_MISSED": String(missed), "SLAWATCH_AT_RISK": String(atRisk),
            ]
        )
    }

    /// The entry for a scheduled report that could not be written (retried each minute).
    static func reportFailed(_ due: ReportSchedule.Due, directory: String, error: Error) -> JournalEntry {
        JournalEntry(
            MessageID.reportFailed,
            priority: .err,
            message: "\(due.kind) report \(due.name) could not be written into \(directory): \(error)",
            fields: [
                "SLAWATCH_REPORT": due.kind, "SLAWATCH_REPORT_NAME": due.name, "SLAWATCH_REPORT_DIRECTORY": directory,
                "SLAWATCH_ERROR": "\(error)",
            ]
        )
    }

    /// The entry for a state file of a newer schema: the daemon does not start.
    static func stateRefused(_ e: StateStore.NewerSchema) -> JournalEntry {
        JournalEntry(
            MessageID.stateRefused,
            priority: .err,
            message: "slawatch did not start: \(e.description)",
            fields: [
                "SLAWATCH_STATE_FILE": e.path, "SLAWATCH_SCHEMA_FOUND": String(e.found),
                "SLAWATCH_SCHEMA_KNOWN": String(e.known), "SLAWATCH_ERROR": e.description,
            ]
        )
    }

    /// The entry for a state row that could not be decoded (`total` such rows in all); its
    /// instance starts empty, `evidence` is the copy of the file as it was.
    static func damagedState(_ row: StateStore.DamagedRow, path: String, evidence: String, total: Int) -> JournalEntry {
        let more = total > 1 ? " (\(total) damaged rows in all)" : ""
        return JournalEntry(
            MessageID.stateDamaged,
            priority: .err,
            message:
                "damaged state: \(row); objective \(row.objective) starts empty\(more); the file as it was is kept in \(evidence)",
            fields: [
                "SLAWATCH_STATE_FILE": path, "SLAWATCH_TABLE": row.table, "SLAWATCH_ROW": row.row,
                "SLAWATCH_OBJECTIVE": row.objective, "SLAWATCH_ERROR": row.error, "SLAWATCH_EVIDENCE": evidence,
            ]
        )
    }

    /// The entry when commits succeed again after `failures` failed ones since `since` (unix s).
    static func storeRecovered(failures: Int, since: Double) -> JournalEntry {
        let when = RFC3339.formatMilliseconds(since)
        return JournalEntry(
            MessageID.storeRecovered,
            priority: .notice,
            message: "slawatch writes its state again after \(failures) failed commit(s) since \(when)",
            fields: ["SLAWATCH_FAILURES": String(failures), "SLAWATCH_SINCE": when]
        )
    }
}
