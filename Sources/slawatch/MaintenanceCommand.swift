import ArgumentParser
import Foundation
import SLAWatchCore
import SLAWatchDaemon

/// `slawatch maintenance add|list|end`: maintenance announced at run time, through the running
/// daemon's control socket (docs/objectives.md, "Service hours and maintenance").
struct MaintenanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "maintenance",
        abstract: "Announce, list and end maintenance of an SLA (excluded from its maths, as configured maintenance).",
        discussion: """
            The running daemon stores each maintenance in its state file and applies it from its \
            next evaluation: the SLA's objectives (or one of them) are not judged and their time \
            and events are excluded, with maintenance_started and maintenance_ended entries. An \
            SLA with maintenance_notice refuses maintenance that starts sooner than that. Exits 1 \
            when the daemon refuses the request (the reason on standard error), 2 when it cannot \
            be reached.
            """,
        subcommands: [Add.self, List.self, End.self]
    )

    /// Options every subcommand takes: the config (for the socket's place) or the socket.
    struct Target: ParsableArguments {
        @OptionGroup var options: ConfigOption
        @Option(name: .long, help: "Control socket path (default: control.sock beside the ingest socket).")
        var socket: String?

        /// Sends `request` and returns the daemon's JSON answer; exits 1 on `{"error"}`. Errors
        /// are said as `slawatch COMMAND: …` (`maintenance add`, `silence list`).
        func send(_ request: String, command: String) throws -> [String: Any] {
            let path: String
            do {
                path = try controlSocket(socket, options)
            } catch {
                printError("slawatch \(command): \(error)")
                throw ExitCode(2)
            }
            let reply: String
            do {
                reply = try UnixClient.exchange(
                    path: path,
                    payload: Data((request + "\n").utf8),
                    until: nil,
                    timeout: 10
                )
            } catch {
                printError("slawatch \(command): \(error)")
                throw ExitCode(2)
            }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(reply.utf8))) as? [String: Any] else {
                printError("slawatch \(command): \(path) gave no answer a control socket gives")
                throw ExitCode(2)
            }
            if let error = object["error"] as? String {
                printError("slawatch \(command): \(error)")
                throw ExitCode(1)
            }
            return object
        }
    }

    /// `--from` (default now; a duration: that long from now) and `--to` (a time, or a duration
    /// after the start) as unix seconds.
    /// - Throws: `ExitCode(64)` after saying which option is not a time.
    static func span(from: String?, to: String, command: String) throws -> (Double, Double) {
        let now = Date().timeIntervalSince1970
        var start = now
        if let from {
            guard let t = TimeArgument.parse(from, now: now) else {
                printError("slawatch \(command): --from '\(from)' is not \(TimeArgument.forms)")
                throw ExitCode(64)
            }
            // A bare duration reads as "that long ago" elsewhere; here it means from now on.
            start = DurationText.seconds(from).map { now + $0 } ?? t
        }
        if let d = DurationText.seconds(to) { return (start, start + d) }
        guard let t = TimeArgument.parse(to, now: now) else {
            printError("slawatch \(command): --to '\(to)' is neither a time (\(TimeArgument.forms)) nor a duration")
            throw ExitCode(64)
        }
        return (start, t)
    }

    /// One maintenance as a line: `3  active   api/availability  2026-12-03T10:00:00Z → … database upgrade`.
    static func line(_ m: [String: Any]) -> String {
        let scope = (m["sla"] as? String ?? "") + ((m["objective"] as? String).map { "/" + $0 } ?? "")
        let id = "\(m["id"] as? Int ?? 0)"
        let state = m["state"] as? String ?? ""
        let ended =
            ((m["ended"] as? String).map { ", ended \($0)" } ?? "")
            + (m["applies"] as? Bool == false ? " (no such SLA or objective since a reload)" : "")
        return
            "\(id.padding(toLength: 4, withPad: " ", startingAt: 0)) \(state.padding(toLength: 8, withPad: " ", startingAt: 0)) "
            + "\(scope)  \(m["from"] as? String ?? "") → \(m["to"] as? String ?? "")\(ended)  \(m["reason"] as? String ?? "")"
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Announce maintenance of an SLA or one of its objectives."
        )
        @OptionGroup var target: Target
        @Option(name: .long, help: "The SLA.") var sla: String
        @Option(name: .long, help: "Only this objective of the SLA.") var objective: String?
        @Option(name: .long, help: "Start: an RFC 3339 time or date, or a duration from now (2h); default now.")
        var from: String?
        @Option(name: .long, help: "End: an RFC 3339 time or date, or a duration after the start (2h).") var to: String
        @Option(name: .long, help: "Why, as announced to the customer (one line, at most 1000 characters).")
        var reason: String

        func validate() throws {
            if reason.count > 1000 {
                throw ValidationError("--reason is at most 1000 characters (\(reason.count) given)")
            }
        }

        func run() throws {
            let (start, end) = try MaintenanceCommand.span(from: from, to: to, command: "maintenance add")
            var body: [String: Any] = [
                "sla": sla, "from": RFC3339.format(start), "to": RFC3339.format(end), "reason": reason,
            ]
            if let objective { body["objective"] = objective }
            let json = String(
                decoding: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]),
                as: UTF8.self
            )
            let answer = try target.send("maintenance add " + json, command: "maintenance add")
            if let m = answer["added"] as? [String: Any] { print("added " + MaintenanceCommand.line(m)) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List maintenance announced at run time.")
        @OptionGroup var target: Target
        @Flag(name: .long, help: "Print the daemon's JSON answer.") var json = false

        func run() throws {
            let answer = try target.send("maintenance list", command: "maintenance list")
            let list = answer["maintenance"] as? [[String: Any]] ?? []
            if json {
                let data = try JSONSerialization.data(withJSONObject: answer, options: [.prettyPrinted, .sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else if list.isEmpty {
                print("No maintenance announced at run time.")
            } else {
                for m in list { print(MaintenanceCommand.line(m)) }
            }
        }
    }

    struct End: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a maintenance now (its number from list).")
        @OptionGroup var target: Target
        @Argument(help: "The maintenance's number.") var id: Int

        func run() throws {
            let answer = try target.send("maintenance end \(id)", command: "maintenance end")
            if let m = answer["ended"] as? [String: Any] { print("ended " + MaintenanceCommand.line(m)) }
        }
    }
}

/// `slawatch silence add|list|end`: mute the journal entries of an SLA's or an objective's
/// instances for a while, through the running daemon (docs/objectives.md, "Silences").
struct SilenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "silence",
        abstract: "Mute an SLA's or an objective's journal entries for a while (numbers unchanged).",
        discussion: """
            The running daemon keeps each silence in its state file. While it runs, the alert \
            entries (breach, recovery, no data, pending, pace, burn rate) of matching instances \
            are not written, only counted; period verdicts and reports are unchanged. When it ends \
            (at its end, or by silence end) one entry says how many it muted. Exits 1 when the \
            daemon refuses the request, 2 when it cannot be reached.
            """,
        subcommands: [Add.self, List.self, End.self]
    )

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mute an SLA or an objective (or one instance of it)."
        )
        @OptionGroup var target: MaintenanceCommand.Target
        @Option(name: .long, help: "The SLA.") var sla: String?
        @Option(name: .long, help: "The objective, or one instance: latency{customer=acme}.") var objective: String?
        @Option(name: .long, help: "Start: an RFC 3339 time or date, or a duration from now (2h); default now.")
        var from: String?
        @Option(name: .customLong("for"), help: "How long (2h); or an end with --to.") var duration: String?
        @Option(name: .long, help: "End: an RFC 3339 time or date.") var to: String?
        @Option(name: .long, help: "Why (one line, at most 1000 characters).") var reason: String

        func validate() throws {
            if reason.count > 1000 {
                throw ValidationError("--reason is at most 1000 characters (\(reason.count) given)")
            }
            if sla == nil && objective == nil { throw ValidationError("name --sla, --objective, or both") }
            if (duration == nil) == (to == nil) { throw ValidationError("give --for or --to (one of them)") }
        }

        func run() throws {
            let (start, end) = try MaintenanceCommand.span(from: from, to: duration ?? to ?? "", command: "silence add")
            var body: [String: Any] = ["from": RFC3339.format(start), "to": RFC3339.format(end), "reason": reason]
            if let sla { body["sla"] = sla }
            if let objective { body["objective"] = objective }
            let json = String(
                decoding: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]),
                as: UTF8.self
            )
            let answer = try target.send("silence add " + json, command: "silence add")
            if let s = answer["added"] as? [String: Any] { print("added " + SilenceCommand.line(s)) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List silences.")
        @OptionGroup var target: MaintenanceCommand.Target
        @Flag(name: .long, help: "Print the daemon's JSON answer.") var json = false

        func run() throws {
            let answer = try target.send("silence list", command: "silence list")
            let list = answer["silences"] as? [[String: Any]] ?? []
            if json {
                let data = try JSONSerialization.data(withJSONObject: answer, options: [.prettyPrinted, .sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else if list.isEmpty {
                print("No silence.")
            } else {
                for s in list { print(SilenceCommand.line(s)) }
            }
        }
    }

    struct End: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a silence now (its number from list).")
        @OptionGroup var target: MaintenanceCommand.Target
        @Argument(help: "The silence's number.") var id: Int

        func run() throws {
            let answer = try target.send("silence end \(id)", command: "silence end")
            if let s = answer["ended"] as? [String: Any] { print("ended " + SilenceCommand.line(s)) }
        }
    }

    /// `2    active   api/latency  FROM → TO  4 muted  reason`.
    static func line(_ s: [String: Any]) -> String {
        let scope = [s["sla"] as? String, s["objective"] as? String].compactMap { $0 }.joined(separator: "/")
        let id = "\(s["id"] as? Int ?? 0)"
        let state = s["state"] as? String ?? ""
        return
            "\(id.padding(toLength: 4, withPad: " ", startingAt: 0)) \(state.padding(toLength: 8, withPad: " ", startingAt: 0)) "
            + "\(scope)  \(s["from"] as? String ?? "") → \(s["to"] as? String ?? "")  \(s["muted"] as? Int ?? 0) muted  "
            + (s["reason"] as? String ?? "")
    }
}
