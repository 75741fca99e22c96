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
            --since "-7d"; all entries: journalctl SYSLOG_IDENTIFIER=slawatch -o json.
            """
    )

    @Option(name: .long, help: "Start: a duration ago (7d, 12h), today, or an RFC 3339 time.")
    var since: String?
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

    func validate() throws {
        guard output == "text" || output == "json" else { throw ValidationError("--output must be text or json") }
        if let since, Self.parseSince(since) == nil {
            throw ValidationError("--since '\(since)' is not a duration (7d, 12h), today, or an RFC 3339 time")
        }
        for s in state where AlertState(rawValue: s) == nil {
            throw ValidationError("--state '\(s)' is not one of ok, pending, breached, nodata")
        }
    }

    /// `7d` → now − 7 days; `today` → local midnight; RFC 3339 as is.
    static func parseSince(_ text: String, now: Date = Date()) -> Double? {
        if text == "today" { return Calendar.current.startOfDay(for: now).timeIntervalSince1970 }
        if let t = RFC3339.parse(text) { return t }
        if let d = DurationText.seconds(text) { return now.timeIntervalSince1970 - d }
        return nil
    }

    func run() throws {
        var matches = ["SYSLOG_IDENTIFIER=slawatch"]
        matches += objective.map { "SLAWATCH_OBJECTIVE=\($0)" }
        matches += customer.map { "SLAWATCH_CUSTOMER=\($0)" }
        matches += sla.map { "SLAWATCH_SLA=\($0)" }
        matches += state.map { "SLAWATCH_STATE=\($0)" }
        let reader: JournalReader
        do {
            // Following without --since starts from the last 10 entries, as journalctl -f does.
            reader = try JournalReader(
                matching: matches,
                since: since.flatMap { Self.parseSince($0) },
                last: follow && since == nil ? 10 : nil
            )
        } catch {
            printError("slawatch alerts: cannot read the journal: \(error)")
            throw ExitCode(2)
        }
        var shown = 0
        repeat {
            while let entry = try reader.next() {
                if !all && entry.fields["SLAWATCH_TRANSITION"] == nil { continue }
                print(render(entry))
                shown += 1
            }
            if follow {
                fflush(nil)
                reader.wait(timeout: 1)
            }
        } while follow
        if shown == 0 && output == "text" { printError("no matching entries") }
    }

    private static let priorities = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]

    private func render(_ entry: JournalReader.Entry) -> String {
        if output == "json" {
            var object = entry.fields.filter {
                $0.key.hasPrefix("SLAWATCH_") || ["MESSAGE", "MESSAGE_ID", "PRIORITY"].contains($0.key)
            }
            object["__REALTIME_TIMESTAMP"] = String(Int64(entry.time * 1_000_000))
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
        let priority = Int(entry.fields["PRIORITY"] ?? "6").map { Self.priorities[min(max($0, 0), 7)] } ?? "info"
        let date = Date(timeIntervalSince1970: entry.time)
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return
            "\(formatter.string(from: date))  \(priority.padding(toLength: 7, withPad: " ", startingAt: 0))  \(entry.fields["MESSAGE"] ?? "")"
    }
}
