import ArgumentParser
import Foundation
import SLAWatchCore

/// `slawatch replay`: backtests objectives over recorded files (`Replay`).
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run objectives over recorded event files, with event time as the clock.",
        discussion: """
            Reads FILEs in any drop-directory format (.statsd, .jsonl, .json, .csv, .prom), sorts \
            their events by event time, and runs the same engine the daemon runs, evaluating every \
            --step seconds of event time. Prints the journal entries the daemon would have written \
            (text, or --output json with the same field names as `journalctl -o json`), then a \
            summary of breach episodes on standard error. Events without a time are skipped. An \
            objective whose metric never appears in the files (or never with its labels) gets a \
            warning naming the closest metric that does. Exits 2 when the objectives directory is \
            missing or holds no objective, or a file cannot be read. CSV exports with their own \
            columns: --csv-metric NAME reads every CSV file's time and value columns \
            (--csv-time-column, --csv-value-column) as metric NAME; or put drop.csv mappings in the \
            --config file. Example: slawatch replay --objectives config/examples/nab-taxi \
            --csv-metric taxi.passengers ../shared/data/nab/nyc_taxi.csv
            """
    )

    @Option(name: .long, help: "Directory of objective files (*.yaml).")
    var objectives: String
    @Option(name: .long, help: "Daemon config whose drop.csv mappings apply to CSV files.")
    var config: String?
    @Option(name: .long, help: "Metric name for CSV files without a metric column.")
    var csvMetric: String?
    @Option(name: .long, help: "Time column for --csv-metric (default: timestamp, else time).")
    var csvTimeColumn: String?
    @Option(name: .long, help: "Value column for --csv-metric.")
    var csvValueColumn = "value"
    @Option(name: .long, help: "Kind of the CSV rows for --csv-metric (counter, gauge, distribution, set).")
    var csvKind = "counter"
    @Option(name: .long, help: "Time zone of CSV times without an offset.")
    var csvTimeZone = "UTC"
    @Option(name: .long, help: "Seconds of event time between evaluations (a duration such as 60s or 5m).")
    var step = "60s"
    @Option(name: .long, help: "text or json.")
    var output = "text"
    @Argument(help: "Event files.")
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one event file") }
        if output != "text" && output != "json" { throw ValidationError("--output is text or json") }
        if (DurationText.seconds(step) ?? 0) <= 0 {
            throw ValidationError("--step '\(step)' is not a duration longer than zero (60s, 5m)")
        }
        if MetricKind(rawValue: csvKind) == nil { throw ValidationError("--csv-kind '\(csvKind)' is not a kind") }
    }

    func run() throws {
        let objs: [Objective]
        do {
            objs = try ObjectivesConfig.loadRequired(directory: objectives)
        } catch {
            printError("slawatch replay: \(error)")
            throw ExitCode(2)
        }
        var mappings: [CSVMapping] = []
        if let csvMetric {
            mappings.append(
                CSVMapping(
                    pattern: "*",
                    metric: csvMetric,
                    timeColumn: csvTimeColumn,
                    valueColumn: csvValueColumn,
                    kind: MetricKind(rawValue: csvKind) ?? .counter,
                    timeZone: csvTimeZone
                )
            )
        }
        if let config {
            do {
                mappings += try DaemonConfig.load(path: config).drop.csv
            } catch {
                printError("slawatch replay: \(error)")
                throw ExitCode(2)
            }
        }
        var events: [Event] = []
        for path in files {
            do {
                let f = try Replay.read(path: path, csv: mappings)
                for r in f.rejections.prefix(5) {
                    printError("\(path):\(r.line): \(r.reason.rawValue): \(r.explanation) (\(r.excerpt))")
                }
                if f.rejections.count > 5 { printError("\(path): \(f.rejections.count - 5) more rejected line(s)") }
                events += f.events
            } catch {
                printError("slawatch replay: \(error)")
                throw ExitCode(2)
            }
        }
        // A metric that never appears is most often a typo: say so before the results.
        for u in Replay.unseen(objectives: objs, events: events) { printError("warning: \(u)") }
        let stepSeconds = DurationText.seconds(step) ?? 60
        let json = output == "json"
        let summary = Replay.run(objectives: objs, events: events, step: stepSeconds) { entry, at in
            if json {
                var object: [String: String] = ["SLAWATCH_AT": RFC3339.format(at)]
                for (k, v) in entry.journalFields { object[k] = v }
                let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("\(RFC3339.format(at))  \(entry.message)")
            }
        }
        printError(
            "replayed \(summary.events) event(s) in \(summary.evaluations) evaluation(s) of \(step); "
                + "\(summary.untimed) without a time skipped, \(summary.rejected) too late"
        )
        for o in objs {
            let episodes = summary.episodes.filter { $0.objective == o.name }
            printError("\(o.name): \(episodes.count) breach episode(s)")
            for e in episodes {
                printError("  \(RFC3339.format(e.start)) – \(e.end.map(RFC3339.format) ?? "(still breached)")")
            }
        }
    }
}
