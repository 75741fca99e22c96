import ArgumentParser
import Foundation
import Logging
import SLAWatchCore
import SLAWatchDaemon
import ServiceLifecycle
import Systemd
import UnixSignals

/// `slawatch`: the daemon and its command-line client (design §3 "CLI").
@main
struct SLAWatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slawatch",
        abstract: "Watches service-level agreements: events in, journal alerts out.",
        discussion: """
            slawatch keeps rolling and calendar windows of metric events (statsd/DogStatsD or JSON \
            lines on Unix sockets, or files in a drop directory), judges every objective of every \
            SLA against its baseline, keeps its state in SQLite so that nothing acknowledged is \
            lost, and writes one structured journal entry per state change: journalctl \
            SYSLOG_IDENTIFIER=slawatch, with journalctl -x explaining each MESSAGE_ID. Files: \
            /etc/slawatch/slawatch.yaml (the daemon), /etc/slawatch/objectives.d/*.yaml (SLAs and \
            objectives), /var/lib/slawatch (state.sqlite, drop/), /run/slawatch (ingest.sock, \
            ingest.dgram, control.sock). Reference: /usr/share/doc/slawatch/README.md (operations), \
            /usr/share/doc/slawatch/protocol.md (the input protocol), \
            /usr/share/doc/slawatch/objectives.md (every objective key, with examples), \
            /usr/share/doc/slawatch/drop-directory.md (files), \
            /usr/share/doc/slawatch/performance.md (measured figures); example objectives in \
            /usr/share/doc/slawatch/examples/objectives.d/.
            """,
        version: SLAWatchVersion.current,
        subcommands: [
            DaemonCommand.self, PushCommand.self, StatusCommand.self, AlertsCommand.self, CheckCommand.self,
            ReplayCommand.self, TestCommand.self, BenchCommand.self, ReportCommand.self, MaintenanceCommand.self,
            SilenceCommand.self, ForwardCommand.self, ImportCommand.self, ExportCommand.self,
        ]
    )

    /// Parses and runs, first answering a mistyped command with the closest one
    /// (`slawatch statsu` → "did you mean 'status'?"), which swift-argument-parser does not do.
    static func main() async {
        let args = Array(CommandLine.arguments.dropFirst())
        let names = configuration.subcommands.map { $0._commandName } + ["help"]
        if let first = args.first, !first.hasPrefix("-"), !names.contains(first) {
            let hint = Suggestion.closest(to: first, among: names).map { "; did you mean '\($0)'?" } ?? ""
            printError(
                "Error: unknown command '\(first)'\(hint)\nUsage: slawatch <subcommand>\n  See 'slawatch --help' for more information."
            )
            Glibc.exit(64)  // EX_USAGE, as swift-argument-parser exits on other usage errors
        }
        await main(nil)
    }
}

/// Options shared by commands that need the config.
struct ConfigOption: ParsableArguments {
    @Option(
        name: .long,
        help: "Daemon config file (slawatch.yaml). Without it: the embedded default, state under ./.slawatch."
    )
    var config: String?

    func load() throws -> DaemonConfig {
        if let config {
            return try DaemonConfig.load(path: config)
        }
        return DaemonConfig.embedded()
    }
}

/// Resolves the ingest socket: `--socket`, then `$SLAWATCH_SOCKET`, then the `--config` file's
/// runtime directory; without `--config`, the local `./.slawatch/run/ingest.sock` of `make run`
/// when it exists, else the installed service's `/run/slawatch/ingest.sock`.
/// The control socket: `explicit`, else `control.sock` beside the configured ingest socket.
/// - Throws: the config's error when it cannot be read.
func controlSocket(_ explicit: String?, _ config: ConfigOption) throws -> String {
    if let explicit { return explicit }
    return (try ingestSocket(nil, config) as NSString).deletingLastPathComponent + "/control.sock"
}

func ingestSocket(_ explicit: String?, _ config: ConfigOption) throws -> String {
    if let explicit { return explicit }
    if let env = ProcessInfo.processInfo.environment["SLAWATCH_SOCKET"], !env.isEmpty { return env }
    let local = try config.load().runtimeDirectory + "/ingest.sock"
    if config.config != nil || FileManager.default.fileExists(atPath: local) { return local }
    let service = DaemonConfig.systemDefaults.runtimeDirectory + "/ingest.sock"
    return FileManager.default.fileExists(atPath: service) ? service : local
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Run the daemon in the foreground (SIGTERM/SIGINT stop it gracefully)."
    )

    @OptionGroup var options: ConfigOption

    @Flag(name: .long, help: "Write journal entries to stderr even when journald is running.")
    var stderr = false

    func run() async throws {
        // A SIGHUP before the reload handler is installed (during start-up) must not kill the
        // daemon: ignore it until then (sd_notify(3), Type=notify-reload).
        signal(SIGHUP, SIG_IGN)
        var logger = Logger(label: "slawatch")
        logger.logLevel = .info
        let activated: ActivatedSockets
        do {
            activated = try ActivatedSockets(named: SocketActivation.listenFDs())
        } catch {
            printError("slawatch: \(error)")
            throw ExitCode(1)
        }
        let config: DaemonConfig
        let objectives: [Objective]
        do {
            config = try options.load()
            objectives = try ObjectivesConfig.load(directory: config.objectivesDirectory)
        } catch let e as ConfigErrors {
            printError(e.description)
            throw ExitCode(78)  // EX_CONFIG
        }
        if objectives.isEmpty {
            logger.warning("no objectives in \(config.objectivesDirectory); events are accepted but nothing is judged")
        }
        let journal = JournalEmitter(
            capacity: config.journalQueueSize,
            forceStderr: stderr,
            maxAlertsPerMinute: config.maxAlertsPerMinute
        )
        let daemon = Daemon(
            config: config,
            objectives: objectives,
            logger: logger,
            journal: journal,
            activated: activated,
            configPath: options.config
        )
        // SIGTERM and SIGINT stop the daemon gracefully; the signal is handled here (not by the
        // service group) so that the "stopped" entry can say which one it was.
        let group = ServiceGroup(
            services: [daemon],
            gracefulShutdownSignals: [],
            cancellationSignals: [],
            logger: logger
        )
        // Trapped before the task runs, so a signal in between is not lost.
        let stopSignals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        let signals = Task {
            for await signal in stopSignals {
                daemon.stopReason.record(.signal(signal == .sigint ? "SIGINT" : "SIGTERM"))
                await group.triggerGracefulShutdown()
            }
        }
        defer { signals.cancel() }
        do {
            try await group.run()
        } catch {
            printError("slawatch: \(error)")
            // The daemon writes its own "stopped" entry when it gets that far; an error before
            // or instead of that is said here.
            let reason = StopReason.Reason.fatalError("\(error)")
            daemon.stopReason.record(reason)
            let uptime = daemon.stopReason.startedAt.map { Date().timeIntervalSince1970 - $0 } ?? 0
            journal.emit(Daemon.stoppedEntry(reason, uptime: uptime))
            journal.flush()
            journal.shutdown()
            throw ExitCode((error as? StartupError)?.exitCode ?? 1)
        }
        journal.shutdown()
    }
}

struct PushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Send statsd or JSON lines to the daemon and wait until they are committed.",
        discussion: """
            Lines come from the arguments, or from standard input when there are none. The command \
            waits for the daemon's acknowledgement (#sync) and exits 1 when any line was rejected, \
            printing each line number and reason.
            """
    )

    @OptionGroup var options: ConfigOption
    @Option(name: .long, help: "Ingest socket path (default: $SLAWATCH_SOCKET, else the config's runtime directory).")
    var socket: String?
    @Option(name: .long, help: "Seconds to wait for the acknowledgement.")
    var timeout: Double = 30
    @Flag(
        inversion: .prefixedNo,
        help: "Wait until the events are committed (#sync) and exit 1 on rejected lines (default)."
    )
    var sync = true
    @Argument(help: "Lines such as 'leads.qualified:1|c|#source:web'.")
    var lines: [String] = []

    func run() throws {
        let path: String
        do {
            path = try ingestSocket(socket, options)
        } catch {
            printError("slawatch push: \(error)")
            throw ExitCode(2)
        }
        var payload = Data()
        if lines.isEmpty {
            payload = FileHandle.standardInput.readDataToEndOfFile()
            if let last = payload.last, last != UInt8(ascii: "\n") { payload.append(UInt8(ascii: "\n")) }
        } else {
            for l in lines { payload.append(contentsOf: Array((l + "\n").utf8)) }
        }
        let id = String(ProcessInfo.processInfo.processIdentifier)
        if !sync {
            // Fire and forget, like any statsd client: send, half-close, wait for the daemon to
            // close (it has read everything by then), no acknowledgement.
            do {
                _ = try UnixClient.exchange(path: path, payload: payload, until: nil, timeout: timeout)
            } catch {
                printError("slawatch push: \(error)")
                throw ExitCode(2)
            }
            return
        }
        payload.append(contentsOf: Array("#sync \(id)\n".utf8))
        let reply: String
        do {
            reply = try UnixClient.exchange(path: path, payload: payload, until: "\(id) ", timeout: timeout)
        } catch {
            printError("slawatch push: \(error)")
            throw ExitCode(2)
        }
        var rejected = 0
        // The lines as sent, to show each rejected one whole (the daemon echoes at most 200
        // bytes). Split on the byte: in Swift "\r\n" is one Character, never equal to "\n".
        let sent = Self.lines(payload)
        for line in Self.lines(Data(reply.utf8)) {
            let parts = line.split(separator: " ", maxSplits: 3).map(String.init)
            if parts.first == "rejected", parts.count >= 3 {
                printError(Self.explain(rejected: parts, sent: sent))
            } else if parts.first == "ok", parts.count >= 4, parts[1] == id {
                // (An "ok" for a #sync line of the user's own is not the summary.)
                print("accepted \(parts[2]), rejected \(parts[3])")
                rejected = Int(parts[3]) ?? 0
            } else if parts.first == "error", parts.count >= 2, parts[1] == id {
                printError("slawatch push: daemon answered: \(line)")
                throw ExitCode(2)
            }
        }
        if rejected > 0 { throw ExitCode(1) }
    }

    /// `line 2: value is not a number (invalid_value): leads.qualified:oops|c`: the reason in the
    /// terms of the line's own grammar (JSON or statsd), its code, and the line as sent.
    /// For a JSON array line, the daemon's excerpt starts `[element K] `: that element is named.
    static func explain(rejected parts: [String], sent: [String]) -> String {
        let number = Int(parts[1]) ?? 0
        let code = parts[2]
        var text = parts.count > 3 ? parts[3] : ""
        var element = ""
        var elementIndex: Int?
        if text.hasPrefix("[element "), let close = text.firstIndex(of: "]") {
            element = ", " + text[text.index(after: text.startIndex)..<close]
            elementIndex = Int(text[text.index(text.startIndex, offsetBy: 9)..<close])
        }
        if number >= 1 && number <= sent.count { text = sent[number - 1] }
        let grammar = element.isEmpty ? LineGrammar.socket(Array(text.utf8)) : .json
        let reason = RejectReason(rawValue: code).map { r in
            r == .invalidJSON && grammar == .json
                ? JSONDiagnosis.explain(text, element: elementIndex) ?? r.explanation(in: grammar)
                : r.explanation(in: grammar)
        }
        if text.utf8.count > 300 { text = String(decoding: Array(text.utf8.prefix(300)), as: UTF8.self) + "…" }
        return "line \(number)\(element): \(reason.map { "\($0) (\(code))" } ?? code): \(text)"
    }

    /// The lines of `data`, split at each `\n` byte, a trailing `\r` removed from each.
    static func lines(_ data: Data) -> [String] {
        data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { bytes in
            var b = bytes
            while b.last == UInt8(ascii: "\r") { b = b.dropLast() }
            return String(decoding: b, as: UTF8.self)
        }
    }
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the daemon config and objectives; errors name file, line and key.",
        discussion: """
            Exits 0 when everything is valid, 1 with one `file:line: key: message` per problem, 2 \
            when there is nothing to check (the objectives directory does not exist or holds no \
            objective). With event FILEs (any drop-directory format), also warns about each \
            objective whose metric never appears in them, or never with its labels, and suggests \
            the closest metric that does.
            """
    )

    @OptionGroup var options: ConfigOption
    @Option(name: .long, help: "Objectives directory to check instead of the config's objectives_directory.")
    var objectives: String?
    @Argument(help: "Recorded event files to check the objectives' metrics against.")
    var files: [String] = []
    @Flag(name: .long, help: "Also show what a reload (SIGHUP) would change against the running daemon.")
    var diff = false
    @Option(name: .long, help: "Control socket path for --diff (default: control.sock beside the ingest socket).")
    var socket: String?

    func run() throws {
        let config: DaemonConfig
        do {
            config = try options.load()
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        let directory = objectives ?? config.objectivesDirectory
        let loaded: [Objective]
        do {
            try ObjectivesConfig.requireObjectiveFiles(in: directory)
        } catch {
            printError("slawatch check: \(error)")
            throw ExitCode(2)
        }
        do {
            loaded = try ObjectivesConfig.load(directory: directory)
        } catch {
            printError(error.description)
            throw ExitCode(1)
        }
        if loaded.isEmpty {
            printError("slawatch check: \(directory): objectives directory holds no objective")
            throw ExitCode(2)
        }
        print("\(config.source ?? "embedded default config"): ok")
        print("\(loaded.count) objective(s) in \(directory)")
        for o in loaded {
            // What the SLI counts, in words: a threshold's good events, a time slice's good slices.
            var what = "\(o.sli.rawValue) of \(o.metric)"
            if let t = o.timeslices {
                what =
                    "share of good \(DurationText.format(Double(t.slice))) slices (\(t.sli.rawValue) \(t.good)) of \(o.metric)"
            } else if let v = o.good?.value {
                what = "ratio of \(o.metric) events \(v)"
            }
            // An inherited objective says whose it is (the level above, its own name there).
            let inherited = o.ancestors.first.map { " (inherits \($0))" } ?? ""
            print(
                "  \(o.name): \(what) over \(o.window), \(o.direction.phrase) "
                    + (o.baseline.kind == .fixed ? AlertEntry.value(o.baseline.value, sli: o.sli) : o.baseline.source)
                    + inherited
            )
        }
        if diff { try showDiff(loaded) }
        if files.isEmpty { return }
        var events: [Event] = []
        for path in files {
            do {
                events += try Replay.read(path: path, csv: config.drop.csv).events
            } catch {
                printError("slawatch check: \(error)")
                throw ExitCode(2)
            }
        }
        let unseen = Replay.unseen(objectives: loaded, events: events)
        for u in unseen { printError("warning: \(u)") }
        print("\(events.count) event(s) in \(files.count) file(s); \(unseen.count) objective input(s) never seen")
    }

    /// `--diff`: the running daemon's objectives against `loaded`, as a reload would apply them:
    /// added, removed, and each changed key with its running and new value.
    /// - Throws: `ExitCode(2)` when the daemon cannot be asked.
    func showDiff(_ loaded: [Objective]) throws {
        let reply: String
        do {
            let path = try controlSocket(socket, options)
            reply = try UnixClient.exchange(path: path, payload: Data("objectives\n".utf8), until: nil, timeout: 10)
        } catch {
            printError("slawatch check --diff: \(error)")
            throw ExitCode(2)
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(reply.utf8))) as? [String: Any],
            let running = object["objectives"] as? [String: [String: String]]
        else {
            printError("slawatch check --diff: the daemon did not list its objectives (an older slawatch?)")
            throw ExitCode(2)
        }
        var lines: [String] = []
        for o in loaded {
            guard let before = running[o.name] else {
                lines.append("  + \(o.name) (new)")
                continue
            }
            let changes = o.definitionFields.compactMap { f -> String? in
                let old = before[f.key] ?? ""
                return old == f.value
                    ? nil : "\(f.key) \(old.isEmpty ? "(none)" : old) → \(f.value.isEmpty ? "(none)" : f.value)"
            }
            if !changes.isEmpty { lines.append("  ~ \(o.name): " + changes.joined(separator: "; ")) }
        }
        let names = Set(loaded.map(\.name))
        for name in running.keys.sorted() where !names.contains(name) {
            lines.append("  - \(name) (removed: its state and windows are dropped)")
        }
        print(lines.isEmpty ? "reload would change nothing" : "reload would change \(lines.count) objective(s):")
        for l in lines { print(l) }
    }
}
