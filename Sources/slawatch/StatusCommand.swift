import ArgumentParser
import Foundation
import SLAWatchCore
import SLAWatchDaemon
import SLAWatchStore

/// `slawatch status`: where every objective stands (docs/reports.md, "`slawatch status`").
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each objective: window, value, baseline, state, pace or budget, trend.",
        discussion: """
            Asks the running daemon (its control socket) or, with --state PATH, reads a stopped \
            daemon's state file (a copy of it is restored with the configured objectives). One row \
            per objective instance, grouped by SLA, fitted to the terminal's width (80 columns \
            when not a terminal); colours and Unicode only on a terminal (NO_COLOR turns colours \
            off). --state also filters by alert state when given ok, pending, breached or nodata \
            (comma-separated). Exits 2 when the daemon or the file cannot be read.
            """
    )

    @OptionGroup var options: ConfigOption
    @Option(name: .long, help: "Control socket path (default: control.sock beside the ingest socket).")
    var socket: String?
    @Flag(name: .long, help: "Print the daemon's JSON answer as is (same as --output json).")
    var json = false
    @Option(name: .long, help: "text or json.")
    var output = "text"
    @Flag(
        name: .long,
        help: "Print the daemon's Prometheus exposition (what metrics_textfile holds) instead."
    )
    var metrics = false
    @Option(name: .long, help: "Only this SLA.")
    var sla: String?
    @Option(name: .long, help: "Only this customer.")
    var customer: String?
    @Option(
        name: .long,
        help:
            "Only objectives in these states (ok, pending, breached, nodata; comma-separated), or a state file to read instead of asking the daemon."
    )
    var state: String?
    @Flag(name: .long, help: "Redraw every --interval seconds until interrupted.")
    var watch = false
    @Option(name: .long, help: "Seconds between redraws with --watch.")
    var interval: Double = 2

    /// The alert states of `--state` when it names states, else `nil` (a file).
    var stateFilter: Set<AlertState>? {
        guard let state else { return nil }
        let names = state.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let states = names.compactMap(AlertState.init(rawValue:))
        return states.count == names.count && !states.isEmpty ? Set(states) : nil
    }

    func validate() throws {
        if !["text", "json"].contains(output) { throw ValidationError("--output is text or json") }
        if !interval.isFinite || interval < 0.1 || interval > 86400 {
            throw ValidationError("--interval is a number of seconds from 0.1 to 86400")
        }
    }

    func run() throws {
        let tty = isatty(STDOUT_FILENO) == 1
        repeat {
            let text = try draw(tty: tty)
            if watch && tty {
                // Home and clear, then the table: redrawn in place.
                print("\u{1B}[H\u{1B}[2J" + text, terminator: "\n")
            } else {
                print(text)
            }
            if watch {
                fflush(nil)
                Thread.sleep(forTimeInterval: interval)
                if !tty { print("") }
            }
        } while watch
    }

    /// One drawing of the status.
    func draw(tty: Bool) throws -> String {
        let env = ProcessInfo.processInfo.environment
        let color = tty && (env["NO_COLOR"] ?? "").isEmpty && env["TERM"] != "dumb"
        var width = 80
        if tty {
            var size = winsize()
            if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { width = Int(size.ws_col) }
        } else if let c = env["COLUMNS"].flatMap(Int.init), c > 0 {
            width = c
        }
        let table = StatusTable(width: width, unicode: tty, color: color)
        let now = Date().timeIntervalSince1970
        if metrics {
            var text = try ask("metrics")
            if text.hasSuffix("\n") { text.removeLast() }
            return text
        }
        if let path = state, stateFilter == nil {
            return try fromStateFile(path, table: table, now: now)
        }
        let reply = try ask()
        if json || output == "json" {
            guard sla != nil || customer != nil || stateFilter != nil else {
                return reply.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        var r: StatusReply
        do {
            r = try StatusReply.decode(reply)
        } catch {
            printError("slawatch status: unexpected answer (a daemon of another version?): \(reply)")
            throw ExitCode(2)
        }
        r.objectives = filtered(r.objectives)
        if json || output == "json" { return r.json }
        return r.text(now: now, table: table)
    }

    func filtered(_ objectives: [Engine.Status]) -> [Engine.Status] {
        objectives.filter { o in
            (sla == nil || o.sla == sla) && (customer == nil || o.customer == customer)
                && (stateFilter?.contains(o.state) ?? true)
        }
    }

    /// The daemon's answer to `request` on its control socket.
    func ask(_ request: String = "status") throws -> String {
        let path: String
        do {
            path = try controlSocket(socket, options)
        } catch {
            printError("slawatch status: \(error)")
            throw ExitCode(2)
        }
        let reply: String
        do {
            reply = try UnixClient.exchange(path: path, payload: Data((request + "\n").utf8), until: nil, timeout: 10)
        } catch {
            printError("slawatch status: \(error)")
            throw ExitCode(2)
        }
        if reply.isEmpty {
            printError(
                "slawatch status: \(path) gave no answer; status talks to the control socket (control.sock), not to an ingest socket"
            )
            throw ExitCode(2)
        }
        return reply
    }

    /// The directory the state file is copied into (one per process).
    static let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
        "slawatch-status-\(getpid())"
    ).path

    /// SIGINT and SIGTERM remove `dir` and end the process (130 or 143), so an interrupted
    /// `--watch` leaves no copy of a state file behind.
    static func removeOnSignal(_ dir: String) {
        guard signalSources.isEmpty else { return }
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                try? FileManager.default.removeItem(atPath: dir)
                _exit(128 + sig)
            }
            source.resume()
            signalSources.append(source)
        }
    }

    /// The signal sources, kept alive for the process; set up once, from the main thread.
    nonisolated(unsafe) private static var signalSources: [any DispatchSourceSignal] = []

    /// The status of a stopped daemon: a copy of its state file restored into an engine of the
    /// configured objectives, evaluated at `now`, trends from its SLI history.
    func fromStateFile(_ path: String, table: StatusTable, now: Double) throws -> String {
        let config: DaemonConfig
        let objectives: [Objective]
        do {
            config = try options.load()
            objectives = try ObjectivesConfig.load(directory: config.objectivesDirectory)
        } catch {
            printError("slawatch status: \(error)")
            throw ExitCode(2)
        }
        let fm = FileManager.default
        // What is not a state file of this slawatch (missing, empty, another database, a newer
        // schema) is refused before anything is copied.
        do {
            try StateStore.checkReadable(atPath: path)
        } catch {
            printError("slawatch status: cannot read \(path): \(error)")
            throw ExitCode(2)
        }
        let dir = Self.scratch
        // Interrupted (Ctrl-C ends --watch), the copy goes too.
        Self.removeOnSignal(dir)
        defer { try? fm.removeItem(atPath: dir) }
        var statuses: [Engine.Status]
        do {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for suffix in ["", "-wal"] where fm.fileExists(atPath: path + suffix) {
                try fm.copyItem(atPath: path + suffix, toPath: dir + "/state.sqlite" + suffix)
            }
            let store = try StateStore(path: dir + "/state.sqlite")
            var engine = Engine(objectives: objectives, maxFutureSkew: config.maxFutureSkew, at: now)
            engine.restore(try store.loadSnapshots())
            statuses = engine.status(at: now)
            // The trend ends where the file's history does.
            let written = try store.historyEnd() ?? now
            for step in SLIHistory.steps {
                let points = try store.history(
                    step: step,
                    from: written - Double(step * (SLIHistory.trendPoints + 1)),
                    to: written
                )
                for k in statuses.indices where statuses[k].trendStep == step {
                    statuses[k].trend = Array(
                        (points[statuses[k].objective] ?? []).map(\.value).suffix(SLIHistory.trendPoints)
                    )
                }
            }
        } catch {
            printError("slawatch status: cannot read \(path): \(error)")
            throw ExitCode(2)
        }
        statuses = filtered(statuses)
        if json || output == "json" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            return String(decoding: (try? encoder.encode(statuses)) ?? Data("[]".utf8), as: UTF8.self)
        }
        let saved = (try? fm.attributesOfItem(atPath: path)[.modificationDate] as? Date)?.map {
            RFC3339.format($0.timeIntervalSince1970)
        }
        return table.render(statuses, now: now) + "\n\nfrom the state file \(path)"
            + (saved.map { ", written \($0)" } ?? "")
    }
}
