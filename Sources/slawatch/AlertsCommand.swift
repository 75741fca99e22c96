import ArgumentParser
import Foundation
import SLAWatchCore
import Systemd

/// `slawatch alerts`: what slawatch wrote to the journal, filtered the way people ask ("what
/// broke for sales this week?"), read through sd_journal (not by parsing journalctl output).
struct AlertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "Show slawatch's alert entries from the journal.",
        discussion: """
            Equivalent journalctl filters: --customer sales is SLAWATCH_CUSTOMER=sales, --objective X \
            is SLAWATCH_OBJECTIVE=X, --state breached is SLAWATCH_STATE=breached, --since 7d is \
            --since "-7d", --namespace N is --namespace N, --merge is --merge, --directory D is -D D, \
            --file F is --file F; all entries: journalctl \
            SYSLOG_IDENTIFIER=slawatch -o json. --since and --until take a duration ago (7d, 12h), \
            now, today, yesterday, a date (2026-12-01), a local date-time (2026-12-01 14:30) or an \
            RFC 3339 time. A host column shows when the entries come from more than one host \
            (a fleet's journal gathered by systemd-journal-remote, docs/fleet.md).
            """
    )

    // `.unconditional`: `--since -12h` (journalctl's spelling) is a value, not an option.
    @Option(
        name: .long,
        parsing: .unconditional,
        help:
            "Start: a duration ago (7d, -12h), now, today, yesterday, a date (2026-12-01), a local date-time (2026-12-01 14:30), or RFC 3339."
    )
    var since: String?
    @Option(name: .long, parsing: .unconditional, help: "End, in the same forms as --since (entries at or before it).")
    var until: String?
    @Option(name: .long, help: "Only this objective (SLAWATCH_OBJECTIVE).")
    var objective: [String] = []
    @Option(name: .long, help: "Only this customer (SLAWATCH_CUSTOMER).")
    var customer: [String] = []
    @Option(name: .long, help: "Only this SLA (SLAWATCH_SLA).")
    var sla: [String] = []
    @Option(name: .long, help: "Only entries into this state: ok, pending, breached, nodata.")
    var state: [String] = []
    @Flag(
        name: .shortAndLong,
        help: "Keep running and print new entries as they are written (from the last 10 without --since)."
    )
    var follow = false
    @Flag(name: .long, help: "Also show entries that are not objective transitions (input rejected, files, reloads).")
    var all = false
    @Option(name: .long, help: "text or json (one object per line, journal field names).")
    var output: String = "text"
    @Option(
        name: .long,
        help: "Read this journal namespace (systemd-journald NAMESPACE, journalctl --namespace) instead of the default."
    )
    var namespace: String?
    @Flag(name: .long, help: "Read every journal of this machine, local and remote (journal-remote's), interleaved.")
    var merge = false
    @Option(name: .long, help: "Read the journal files in this directory (e.g. /var/log/journal/remote).")
    var directory: String?
    @Option(name: .long, help: "Read this journal file (repeatable).")
    var file: [String] = []

    /// The journal files to read.
    var source: JournalReader.Source {
        if merge { return .merged }
        if let directory { return .directory(directory) }
        if !file.isEmpty { return .files(file) }
        return namespace.map { .namespace($0) } ?? .local
    }

    func validate() throws {
        let sources = [merge, directory != nil, !file.isEmpty, namespace != nil].filter { $0 }.count
        if sources > 1 { throw ValidationError("--merge, --directory, --file and --namespace are exclusive") }
        guard output == "text" || output == "json" else { throw ValidationError("--output must be text or json") }
        if let since, TimeArgument.parse(since, now: Date().timeIntervalSince1970) == nil {
            throw ValidationError("--since '\(since)' is not \(TimeArgument.forms)")
        }
        if let until, TimeArgument.parse(until, now: Date().timeIntervalSince1970) == nil {
            throw ValidationError("--until '\(until)' is not \(TimeArgument.forms)")
        }
        if until != nil && follow { throw ValidationError("--until and --follow cannot be combined") }
        for s in state where AlertState(rawValue: s) == nil {
            throw ValidationError("--state '\(s)' is not one of ok, pending, breached, nodata")
        }
    }

    func run() throws {
        var matches = ["SYSLOG_IDENTIFIER=slawatch"]
        matches += objective.map { "SLAWATCH_OBJECTIVE=\($0)" }
        matches += customer.map { "SLAWATCH_CUSTOMER=\($0)" }
        matches += sla.map { "SLAWATCH_SLA=\($0)" }
        matches += state.map { "SLAWATCH_STATE=\($0)" }
        let now = Date().timeIntervalSince1970
        let end = until.flatMap { TimeArgument.parse($0, now: now) }
        let reader: JournalReader
        do {
            // Following without --since starts from the last 10 entries, as journalctl -f does.
            reader = try JournalReader(
                matching: matches,
                since: since.flatMap { TimeArgument.parse($0, now: now) },
                last: follow && since == nil ? 10 : nil,
                source: source
            )
        } catch {
            printError("slawatch alerts: cannot read the journal: \(error)")
            throw ExitCode(2)
        }
        var shown = 0
        // The host column when entries come from more than one host (a merged or remote
        // journal): known after reading them all, or from the start when following such one.
        var hosts = Set<String>()
        var pending: [JournalReader.Entry] = []
        var showHost = follow && source != .local && !(source == namespace.map { .namespace($0) })
        repeat {
            while let entry = try reader.next() {
                if let end, entry.time > end { break }
                if !all && entry.fields["SLAWATCH_TRANSITION"] == nil { continue }
                if follow {
                    print(render(entry, host: showHost))
                } else {
                    pending.append(entry)
                    hosts.insert(entry.fields["_HOSTNAME"] ?? "")
                }
                shown += 1
            }
            if follow {
                fflush(nil)
                reader.wait(timeout: 1)
            }
        } while follow
        showHost = hosts.count > 1
        for entry in pending { print(render(entry, host: showHost)) }
        if shown == 0 && output == "text" { printError("no matching entries") }
    }

    private static let priorities = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]

    private func render(_ entry: JournalReader.Entry, host: Bool) -> String {
        if output == "json" {
            var object = entry.fields.filter {
                $0.key.hasPrefix("SLAWATCH_") || ["MESSAGE", "MESSAGE_ID", "PRIORITY"].contains($0.key)
            }
            object["__REALTIME_TIMESTAMP"] = String(Int64(entry.time * 1_000_000))
            if let h = entry.fields["_HOSTNAME"] { object["_HOSTNAME"] = h }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
        let priority = Int(entry.fields["PRIORITY"] ?? "6").map { Self.priorities[min(max($0, 0), 7)] } ?? "info"
        let date = Date(timeIntervalSince1970: entry.time)
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        let hostColumn = host ? "\(entry.fields["_HOSTNAME"] ?? "-")  " : ""
        return
            "\(formatter.string(from: date))  \(hostColumn)\(priority.padding(toLength: 7, withPad: " ", startingAt: 0))  \(entry.fields["MESSAGE"] ?? "")"
    }
}
