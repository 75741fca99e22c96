import ArgumentParser
import Foundation
import FoundationNetworking
import SLAWatchCore
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
    var alertmanager: String
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
        guard let base = URL(string: alertmanager), base.scheme == "http" || base.scheme == "https" else {
            throw ValidationError("--alertmanager is an http(s) URL, e.g. http://127.0.0.1:9093")
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
        let endpoint = base.appendingPathComponent("api/v2/alerts")
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
            if now - lastResend >= resendSeconds {
                // Still firing: re-sent so Alertmanager does not resolve them on its own.
                let sent = Set(posts.flatMap { $0 }.map(\.key))
                posts[posts.count - 1] += firing.values.filter { !sent.contains($0.key) }.sorted { $0.key < $1.key }
                lastResend = now
            }
            for alerts in posts where !alerts.isEmpty {
                guard try await deliver(alerts, to: endpoint, giveUpAfter: giveUp) else {
                    printError("slawatch forward: gave up delivering to \(endpoint.absoluteString); the cursor stays")
                    throw ExitCode(1)
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

    /// POSTs `alerts` until Alertmanager takes them (2xx), retrying with exponential back-off
    /// from 1 s, capped at 60 s; a 4xx other than 429 is the payload's fault and is reported
    /// and skipped (retrying would block every later alert). Returns `false` when `giveUpAfter`
    /// seconds passed without success.
    func deliver(_ alerts: [AlertmanagerAlert], to url: URL, giveUpAfter: Double?) async throws -> Bool {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var request = URLRequest(url: url, timeoutInterval: 10)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try encoder.encode(alerts)
        let started = Date().timeIntervalSince1970
        var delay = 1.0
        while true {
            var problem: String
            do {
                let (body, response) = try await URLSession.shared.data(for: request)
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                if (200..<300).contains(status) { return true }
                problem = "HTTP \(status): \(String(decoding: body.prefix(300), as: UTF8.self))"
                if (400..<500).contains(status) && status != 429 {
                    printError("slawatch forward: Alertmanager refused \(alerts.count) alert(s), skipped: \(problem)")
                    return true
                }
            } catch {
                problem = "\(error.localizedDescription)"
            }
            if let giveUpAfter, Date().timeIntervalSince1970 - started >= giveUpAfter { return false }
            printError("slawatch forward: \(url.absoluteString): \(problem); retrying in \(Int(delay)) s")
            try await Task.sleep(nanoseconds: UInt64(delay * 1e9))
            delay = min(60, delay * 2)
        }
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

    /// Writes `state` to `path` atomically (a temporary beside it, fsync, rename).
    static func save(_ state: ForwardState, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let data = try encoder.encode(state)
        let temp = path + ".tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == data.count, fsync(fd) == 0, rename(temp, path) == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
    }
}
