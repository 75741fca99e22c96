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

        /// Sends `request` and returns the daemon's JSON answer; exits 1 on `{"error"}`.
        func send(_ request: String, command: String) throws -> [String: Any] {
            let path: String
            do {
                path = try controlSocket(socket, options)
            } catch {
                printError("slawatch maintenance \(command): \(error)")
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
                printError("slawatch maintenance \(command): \(error)")
                throw ExitCode(2)
            }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(reply.utf8))) as? [String: Any] else {
                printError("slawatch maintenance \(command): \(path) gave no answer a control socket gives")
                throw ExitCode(2)
            }
            if let error = object["error"] as? String {
                printError("slawatch maintenance \(command): \(error)")
                throw ExitCode(1)
            }
            return object
        }
    }

    /// One maintenance as a line: `3  active   api/availability  2026-12-03T10:00:00Z → … database upgrade`.
    static func line(_ m: [String: Any]) -> String {
        let scope = (m["sla"] as? String ?? "") + ((m["objective"] as? String).map { "/" + $0 } ?? "")
        let id = "\(m["id"] as? Int ?? 0)"
        let state = m["state"] as? String ?? ""
        let ended = (m["ended"] as? String).map { ", ended \($0)" } ?? ""
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
        @Option(name: .long, help: "Start (\(TimeArgument.forms); default now).") var from: String?
        @Option(name: .long, help: "End (\(TimeArgument.forms), or a duration after the start: 2h).") var to: String
        @Option(name: .long, help: "Why, as announced to the customer.") var reason: String

        func run() throws {
            let now = Date().timeIntervalSince1970
            let start: Double
            if let from {
                guard let t = TimeArgument.parse(from, now: now) else {
                    printError("slawatch maintenance add: --from '\(from)' is not \(TimeArgument.forms)")
                    throw ExitCode(64)
                }
                // A bare duration reads as "that long ago" elsewhere; here it means from now on.
                start = DurationText.seconds(from).map { now + $0 } ?? t
            } else {
                start = now
            }
            let end: Double
            if let d = DurationText.seconds(to) {
                end = start + d
            } else if let t = TimeArgument.parse(to, now: now) {
                end = t
            } else {
                printError(
                    "slawatch maintenance add: --to '\(to)' is neither a time (\(TimeArgument.forms)) nor a duration"
                )
                throw ExitCode(64)
            }
            var body: [String: Any] = [
                "sla": sla, "from": RFC3339.format(start), "to": RFC3339.format(end), "reason": reason,
            ]
            if let objective { body["objective"] = objective }
            let json = String(
                decoding: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]),
                as: UTF8.self
            )
            let answer = try target.send("maintenance add " + json, command: "add")
            if let m = answer["added"] as? [String: Any] { print("added " + MaintenanceCommand.line(m)) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List maintenance announced at run time.")
        @OptionGroup var target: Target
        @Flag(name: .long, help: "Print the daemon's JSON answer.") var json = false

        func run() throws {
            let answer = try target.send("maintenance list", command: "list")
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
            let answer = try target.send("maintenance end \(id)", command: "end")
            if let m = answer["ended"] as? [String: Any] { print("ended " + MaintenanceCommand.line(m)) }
        }
    }
}
