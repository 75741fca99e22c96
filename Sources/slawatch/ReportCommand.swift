import ArgumentParser
import Foundation
import SLAWatchCore
import SLAWatchDaemon

/// `slawatch report`: the verdicts of closed calendar periods (docs/reports.md).
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Show the verdict of every closed calendar period: value, baseline, met or missed, trend.",
        discussion: """
            Reads the period verdicts (the period_result table) from the state file, the running \
            daemon's (state_directory/state.sqlite of --config; read beside the daemon's writes) \
            or a copy (--state PATH), and joins them with the configured objectives for SLA, \
            provider, customer and unit. Periods are named in the objective's time zone (2026-11, \
            2026-W48, 2026-Q4). Formats: text, markdown, json, csv, html (one self-contained page \
            with a chart of each objective's SLI over its latest period). Exits 2 when the state file \
            cannot be read, 1 when --sla, --customer, --objective, --period or --at match nothing. \
            --credits totals what each customer is owed under the objectives' consequences per \
            --period (default quarter). --at keeps the periods that began at or before the time: the one holding it and the \
            ones before (the trend).
            """
    )

    @OptionGroup var options: ConfigOption
    @Option(name: .long, help: "State file to read (default: state.sqlite in the config's state_directory).")
    var state: String?
    @Option(name: .long, help: "Only this SLA.")
    var sla: String?
    @Option(name: .long, help: "Only this customer.")
    var customer: String?
    @Option(name: .long, help: "Only this objective (its group_by instances included).")
    var objective: String?
    @Option(name: .long, help: "Only periods of this kind: day, week, month or quarter.")
    var period: String?
    @Option(name: .long, help: "Periods up to the one holding this time (\(TimeArgument.forms)).")
    var at: String?
    @Option(name: .long, help: "text, markdown, json, csv or html.")
    var format = "text"
    @Option(name: .long, help: "Write to FILE instead of standard output (replaced atomically).")
    var output: String?
    @Flag(
        name: .long,
        help: "Total the credits owed per customer over each --period (default quarter) instead of listing verdicts."
    )
    var credits = false

    func validate() throws {
        if let at, TimeArgument.parse(at, now: Date().timeIntervalSince1970) == nil {
            throw ValidationError("--at '\(at)' is not \(TimeArgument.forms)")
        }
        if let period, CalendarUnit(rawValue: period) == nil {
            throw ValidationError("--period is one of \(CalendarUnit.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if credits, format == "html" {
            throw ValidationError("--credits is text, markdown, json or csv")
        }
        if credits, let period, period != "month", period != "quarter" {
            throw ValidationError("--credits totals per month or quarter (--period month|quarter)")
        }
        if ReportFormat(rawValue: format) == nil {
            throw ValidationError("--format is one of \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let config: DaemonConfig
        do {
            config = try options.load()
        } catch {
            printError("slawatch report: \(error)")
            throw ExitCode(2)
        }
        let path = state ?? config.stateDirectory + "/state.sqlite"
        // Without the objectives (a copy read elsewhere) the verdicts still print, unlabelled.
        var objectives: [Objective] = []
        do {
            objectives = try ObjectivesConfig.load(directory: config.objectivesDirectory)
        } catch {
            printError(
                "warning: objectives in \(config.objectivesDirectory) not read (\(error)); SLA fields left empty"
            )
        }
        let all: [PeriodVerdictRow]
        do {
            all = try ReportBuilder.rows(statePath: path, objectives: objectives)
        } catch {
            printError("slawatch report: cannot read period verdicts from \(path): \(error)")
            throw ExitCode(2)
        }
        var rows = all
        if let sla { rows = rows.filter { $0.sla == sla } }
        if let customer { rows = rows.filter { $0.customer == customer } }
        if let objective { rows = rows.filter { $0.objective == objective } }
        // With --credits, --period is the span credits are totalled over, not a filter.
        if let period, !credits { rows = rows.filter { $0.calendarUnit == period } }
        if let at, let t = TimeArgument.parse(at, now: Date().timeIntervalSince1970) {
            rows = rows.filter { $0.periodStart <= t }
        }
        if rows.isEmpty, sla != nil || customer != nil || objective != nil || period != nil || at != nil,
            !all.isEmpty
        {
            printError("slawatch report: no closed period matches the filters (\(all.count) verdict(s) in \(path))")
            throw ExitCode(1)
        }
        let chosen = ReportFormat(rawValue: format) ?? .text
        if credits {
            let zones = Dictionary(objectives.map { ($0.name, $0.timeZone) }, uniquingKeysWith: { a, _ in a })
            let totals = CreditTotal.totals(
                rows,
                unit: period.flatMap(CalendarUnit.init(rawValue:)) ?? .quarter,
                zone: { zones[$0.objective] ?? "UTC" }
            )
            try write(CreditTotal.render(totals, format: chosen))
            return
        }
        var history: [String: [HistoryPoint]] = [:]
        if chosen == .html {
            do {
                history = try ReportBuilder.history(statePath: path, for: rows)
            } catch {
                printError("warning: SLI history not read from \(path) (\(error)); charts left empty")
            }
        }
        // SOURCE_DATE_EPOCH (reproducible-builds.org) fixes the "generated" time.
        let generated =
            ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap(Double.init)
            ?? Date().timeIntervalSince1970
        try write(ReportBuilder.render(rows, format: chosen, history: history, generated: generated))
    }

    /// Prints `text`, or writes it to `--output` atomically.
    /// - Throws: `ExitCode(2)` when the file cannot be written (said on standard error).
    private func write(_ text: String) throws {
        guard let output else {
            print(text, terminator: "")
            return
        }
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        let parent = (output as NSString).deletingLastPathComponent
        if output.isEmpty || fm.fileExists(atPath: output, isDirectory: &isDirectory) && isDirectory.boolValue {
            printError("slawatch report: cannot write '\(output)': it is a directory (name a file)")
            throw ExitCode(2)
        }
        if !parent.isEmpty, !fm.fileExists(atPath: parent) {
            printError("slawatch report: cannot write \(output): no directory \(parent)")
            throw ExitCode(2)
        }
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch {
            printError("slawatch report: cannot write \(output): \((error as NSError).localizedDescription)")
            throw ExitCode(2)
        }
    }
}
