import ArgumentParser
import Foundation
import FoundationNetworking
import SLAWatchCore
import SLAWatchDaemon
import Systemd

/// `slawatch forward`: follows slawatch's journal entries and delivers them as alerts to
/// Alertmanager (API v2), with a persisted cursor (docs/forward.md).
struct ForwardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Deliver slawatch's alerts from the journal to Alertmanager.",
        discussion: """
            Follows the journal entries of slawatch (SYSLOG_IDENTIFIER=slawatch) from the cursor in \
            --state-file and POSTs each alert change to Alertmanager's /api/v2/alerts: breaches, \
            no data, burn rates and off-pace fire and resolve; missed periods fire for an hour. \
            Firing alerts are re-sent every --resend (Alertmanager resolves an alert it has not \
            heard of for resolve_timeout). The cursor is saved after each delivery, so a restart \
            or kill -9 loses nothing and re-sends at most what was in flight; while Alertmanager \
            is down the forwarder retries with capped exponential back-off, in journal order. \
            Without a saved cursor it starts at --since (default: one hour ago).
            """
    )

    @Option(name: .long, help: "Alertmanager's base URL, e.g. http://127.0.0.1:9093.")
    var alertmanager: String?
    @Option(name: .long, help: "POST each alert change to this URL (Alertmanager's webhook format; repeatable).")
    var webhook: [String] = []
    @Option(
        name: .long,
        help: "Run this program for each alert change, the webhook JSON on standard input (repeatable)."
    )
    var exec: [String] = []
    @Option(name: .long, help: "Programs of --exec running at once, at most (default 4).")
    var execConcurrency = 4
    @Option(name: .long, help: "A delivery (HTTP request or program) that takes longer fails (default 10s).")
    var timeout = "10s"
    @Option(name: .long, help: "Where the cursor and the firing alerts are kept (JSON, written atomically).")
    var stateFile: String
    @Option(name: .long, help: "Re-send firing alerts this often (default 1m).")
    var resend = "1m"
    @Option(name: .long, parsing: .unconditional, help: "Without a saved cursor, start at this time (default -1h).")
    var since = "-1h"
    @Option(name: .long, help: "Only entries with this journal field (FIELD=value; repeatable).")
    var match: [String] = []
    @Option(name: .long, help: "Read this journal namespace instead of the default.")
    var namespace: String?
    @Flag(name: .long, help: "Deliver what the journal holds now, then exit (0: all delivered).")
    var once = false
    @Option(name: .long, help: "Give up a delivery after this long (with --once; default: never).")
    var giveUpAfter: String?

    func run() async throws {
        var targets: [Target] = []
        if let alertmanager {
            guard let base = URL(string: alertmanager), base.scheme == "http" || base.scheme == "https" else {
                throw ValidationError("--alertmanager is an http(s) URL, e.g. http://127.0.0.1:9093")
            }
            targets.append(.alertmanager(base.appendingPathComponent("api/v2/alerts")))
        }
        for w in webhook {
            guard let url = URL(string: w), url.scheme == "http" || url.scheme == "https" else {
                throw ValidationError("--webhook is an http(s) URL: '\(w)'")
            }
            targets.append(.webhook(url))
        }
        for program in exec {
            guard FileManager.default.isExecutableFile(atPath: program) else {
                throw ValidationError("--exec: '\(program)' is not an executable file (give its path)")
            }
            targets.append(.exec(program))
        }
        guard !targets.isEmpty else { throw ValidationError("give --alertmanager, --webhook or --exec") }
        guard (1...256).contains(execConcurrency) else { throw ValidationError("--exec-concurrency is 1 to 256") }
        guard let timeoutSeconds = DurationText.seconds(timeout), timeoutSeconds > 0 else {
            throw ValidationError("--timeout is a duration, e.g. 10s")
        }
        guard let resendSeconds = DurationText.seconds(resend), resendSeconds >= 1 else {
            throw ValidationError("--resend is a duration of at least 1s, e.g. 1m")
        }
        for m in match where !m.contains("=") { throw ValidationError("--match is FIELD=value: '\(m)'") }
        var state = Self.load(stateFile)
        let start: Double?
        if state.cursor == nil {
            guard let t = TimeArgument.parse(since, now: Date().timeIntervalSince1970) else {
                throw ValidationError("--since: '\(since)' is not a time (-1h, today, 2026-12-01, an RFC 3339 time)")
            }
            start = t
        } else {
            start = nil
        }
        let reader = try JournalReader(
            matching: ["SYSLOG_IDENTIFIER=slawatch"] + match,
            since: start,
            namespace: namespace
        )
        if let cursor = state.cursor { try reader.seek(cursor: cursor) }
        let giveUp = giveUpAfter.flatMap(DurationText.seconds)
        var lastResend = Date().timeIntervalSince1970
        while true {
            var batch: [(fields: [String: String], time: Double, cursor: String)] = []
            while batch.count < 100, let e = try reader.next() {
                batch.append((e.fields, e.time, try reader.cursor()))
            }
            // Alerts to send, in journal order; a second change of one alert goes in the next
            // POST, so Alertmanager sees every state in order.
            var posts: [[AlertmanagerAlert]] = [[]]
            var firing = state.firing
            for entry in batch {
                guard let change = AlertForwarding.change(entry.fields, time: entry.time, firing: firing) else {
                    continue
                }
                if posts[posts.count - 1].contains(where: { $0.key == change.alert.key }) { posts.append([]) }
                posts[posts.count - 1].append(change.alert)
                if change.firing {
                    firing[change.alert.key] = change.alert
                } else {
                    firing[change.alert.key] = nil
                }
            }
            let now = Date().timeIntervalSince1970
            // Still firing: re-sent to Alertmanager so it does not resolve them on its own
            // (webhooks and programs get changes only).
            var resend: [AlertmanagerAlert] = []
            if now - lastResend >= resendSeconds {
                let sent = Set(posts.flatMap { $0 }.map(\.key))
                resend = firing.values.filter { !sent.contains($0.key) }.sorted { $0.key < $1.key }
                lastResend = now
            }
            for (k, alerts) in posts.enumerated() {
                for target in targets {
                    let list = target.isAlertmanager && k == posts.count - 1 ? alerts + resend : alerts
                    if list.isEmpty { continue }
                    guard try await deliver(list, to: target, timeout: timeoutSeconds, giveUpAfter: giveUp) else {
                        printError("slawatch forward: gave up delivering to \(target); the cursor stays")
                        throw ExitCode(1)
                    }
                }
            }
            if let last = batch.last {
                state.cursor = last.cursor
                state.firing = firing
                try Self.save(state, to: stateFile)
            }
            if batch.count < 100 {
                if once { return }
                reader.wait(timeout: min(resendSeconds, 1))
            }
        }
    }

    /// Where alerts go.
    enum Target: CustomStringConvertible {
        /// Alertmanager's `POST /api/v2/alerts` (the whole list in one request).
        case alertmanager(URL)
        /// One POST per alert change, in Alertmanager's webhook format.
        case webhook(URL)
        /// One run of the program per alert change, the webhook body on standard input.
        case exec(String)

        var isAlertmanager: Bool {
            if case .alertmanager = self { return true }
            return false
        }

        var description: String {
            switch self {
            case .alertmanager(let u), .webhook(let u): return u.absoluteString
            case .exec(let p): return p
            }
        }
    }

    /// What one attempt at a delivery came to.
    enum Attempt {
        /// Taken.
        case delivered
        /// Refused for good (a 4xx other than 429): said and skipped; retrying would block
        /// every later alert.
        case refused(String)
        /// Failed for now (connection, timeout, 5xx, 429, a program's non-zero exit): retried.
        case failed(String)
    }

    /// Delivers `alerts` to `target`, retrying what failed with exponential back-off from 1 s,
    /// capped at 60 s. Returns `false` when `giveUpAfter` seconds passed without success.
    func deliver(_ alerts: [AlertmanagerAlert], to target: Target, timeout: Double, giveUpAfter: Double?) async throws
        -> Bool
    {
        let started = Date().timeIntervalSince1970
        var delay = 1.0
        // The alerts still to deliver (a webhook or program takes them one by one; only the
        // ones that failed are tried again, in order).
        var pending = alerts
        while true {
            var problem = ""
            switch target {
            case .alertmanager(let url):
                switch await post(try Self.encoder.encode(pending), to: url, timeout: timeout) {
                case .delivered: return true
                case .refused(let why):
                    printError(
                        "slawatch forward: \(url.absoluteString) refused \(pending.count) alert(s), skipped: \(why)"
                    )
                    return true
                case .failed(let why): problem = why
                }
            case .webhook(let url):
                // In order; the first that fails and every later one wait for the retry.
                var rest = pending[...]
                while let alert = rest.first {
                    let body = try JSONSerialization.data(
                        withJSONObject: AlertForwarding.webhookBody(alert, now: Date().timeIntervalSince1970),
                        options: [.sortedKeys]
                    )
                    let outcome = await post(body, to: url, timeout: timeout)
                    if case .failed(let why) = outcome {
                        problem = why
                        break
                    }
                    if case .refused(let why) = outcome {
                        printError("slawatch forward: \(url.absoluteString) refused \(alert.key), skipped: \(why)")
                    }
                    rest = rest.dropFirst()
                }
                pending = Array(rest)
                if pending.isEmpty { return true }
            case .exec(let program):
                let results = await run(program, pending, timeout: timeout)
                pending = zip(pending, results).filter { !$0.1.isEmpty }.map(\.0)
                if pending.isEmpty { return true }
                problem = results.first { !$0.isEmpty } ?? ""
            }
            if let giveUpAfter, Date().timeIntervalSince1970 - started >= giveUpAfter { return false }
            printError("slawatch forward: \(target): \(problem); retrying in \(Int(delay)) s")
            try await Task.sleep(nanoseconds: UInt64(delay * 1e9))
            delay = min(60, delay * 2)
        }
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return e
    }()

    /// One POST of a JSON `body`.
    func post(_ body: Data, to url: URL, timeout: Double) async -> Attempt {
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = body
        do {
            let (reply, response) = try await URLSession.shared.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            if (200..<300).contains(status) { return .delivered }
            let why = "HTTP \(status): \(String(decoding: reply.prefix(300), as: UTF8.self))"
            return (400..<500).contains(status) && status != 429 ? .refused(why) : .failed(why)
        } catch {
            return .failed(error.localizedDescription)
        }
    }

    /// Runs `program` once per alert, at most `execConcurrency` at once, each with the webhook
    /// body on standard input and `timeout` seconds to exit 0. Returns, per alert, "" when it
    /// did, else why not.
    func run(_ program: String, _ alerts: [AlertmanagerAlert], timeout: Double) async -> [String] {
        var results = Array(repeating: "", count: alerts.count)
        var next = 0
        while next < alerts.count {
            let chunk = next..<min(alerts.count, next + execConcurrency)
            await withTaskGroup(of: (Int, String).self) { group in
                for k in chunk {
                    let body =
                        (try? JSONSerialization.data(
                            withJSONObject: AlertForwarding.webhookBody(alerts[k], now: Date().timeIntervalSince1970),
                            options: [.sortedKeys]
                        )) ?? Data()
                    group.addTask { (k, Self.runOnce(program, input: body, timeout: timeout)) }
                }
                for await (k, why) in group { results[k] = why }
            }
            next = chunk.upperBound
        }
        return results
    }

    /// One run of `program` with `input` on standard input: "" when it exited 0 within
    /// `timeout` seconds, else why not (it is killed when it overruns).
    static func runOnce(_ program: String, input: Data, timeout: Double) -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        let stdin = Pipe()
        p.standardInput = stdin
        p.standardOutput = FileHandle.nullDevice
        do {
            try p.run()
        } catch {
            return "cannot run \(program): \(error.localizedDescription)"
        }
        stdin.fileHandleForWriting.write(input)
        try? stdin.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        if p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            return "\(program) took longer than \(DurationText.format(timeout))"
        }
        return p.terminationStatus == 0 ? "" : "\(program) exited \(p.terminationStatus)"
    }

    /// The saved state, or a fresh one when the file does not exist or cannot be read (said on
    /// standard error: the forwarder then starts at --since).
    static func load(_ path: String) -> ForwardState {
        guard FileManager.default.fileExists(atPath: path) else { return ForwardState() }
        do {
            return try JSONDecoder().decode(ForwardState.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            printError("slawatch forward: \(path) cannot be read (\(error)); starting at --since")
            return ForwardState()
        }
    }

    /// Writes `state` to `path` atomically (`AtomicFile`), readable by the forwarder alone.
    static func save(_ state: ForwardState, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try AtomicFile.write(Array(try encoder.encode(state)), to: path, mode: 0o600)
    }
}
