import Foundation
import SLAWatchCore
import Testing

/// The daemon writes its scheduled reports (`reports:`): the weekly report of the current ISO
/// week (its slot set to today 00:00 UTC, so it is due at once) with where every objective
/// stands, and the monthly report of the month before when that month has verdicts; one
/// journal entry each, naming the files; a restart writes neither again.
@Suite struct ScheduledReportTests {
    @Test func theWeeklyAndMonthlyReportsAreWrittenOnceWithAnEntry() throws {
        let now = Date().timeIntervalSince1970
        let weekday = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][
            (Calendar(identifier: .iso8601).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date()).weekday! + 5)
                % 7
        ]
        let daemon = try TestDaemon(
            objectivesYAML: ReportScenario.objectivesYAML,
            extraConfig: "reports: {weekly: \"\(weekday) 00:00\", monthly: true, formats: [html, markdown, json]}\n"
        )
        // The scenario's November, as a daemon that ran then left it.
        let scenario = FileManager.default.temporaryDirectory.appendingPathComponent(
            "slawatch-sched-\(UUID().uuidString)"
        )
        .path
        _ = try ReportScenario.write(into: scenario)
        let state = daemon.root.appendingPathComponent("state").path
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: scenario + "/state/state.sqlite", toPath: state + "/state.sqlite")
        let schedule = ReportSchedule(weekly: ReportSchedule.parseWeekly("\(weekday) 00:00"))
        let due = schedule.latestDue(now: now)
        let weekly = try #require(due.first { $0.kind == "weekly" })
        let monthly = try #require(due.first { $0.kind == "monthly" })
        // The scenario holds November 2026 only: a later month has no verdict and no report.
        let expectMonthly = monthly.name == "2026-11"
        try daemon.start()
        let reports = state + "/reports/"
        let deadline = Date().addingTimeInterval(30)
        // Both reports (the monthly is written after the weekly: on a loaded machine seconds
        // after it).
        func written(_ name: String) -> Bool {
            ["html", "md", "json"].allSatisfy { FileManager.default.fileExists(atPath: reports + name + "." + $0) }
        }
        while Date() < deadline, !written(weekly.name) || (expectMonthly && !written(monthly.name)) {
            Thread.sleep(forTimeInterval: 0.2)
        }
        Thread.sleep(forTimeInterval: 0.5)
        for ext in ["html", "md", "json"] {
            #expect(FileManager.default.fileExists(atPath: reports + weekly.name + "." + ext), "\(weekly.name).\(ext)")
            #expect(FileManager.default.fileExists(atPath: reports + monthly.name + "." + ext) == expectMonthly)
        }
        let md = try String(contentsOfFile: reports + weekly.name + ".md", encoding: .utf8)
        #expect(md.hasPrefix("# Weekly SLA report \(weekly.name)\n"))
        #expect(md.contains("## Where things stand at "))
        #expect(md.contains("| leads-to-sales: qualified-leads | month |"))
        let json =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: reports + weekly.name + ".json"))
            )
            as? [String: Any]
        let standing = try #require(json?["standing"] as? [[String: Any]])
        #expect(standing.map { $0["objective"] as? String } == ["qualified-leads", "availability", "latency"])
        let pace = try #require(standing[0]["pace"] as? [String: Any])
        #expect(["met", "on track", "at risk", "too early"].contains(pace["outlook"] as? String ?? ""))
        #expect(standing[1]["pace"] is NSNull)
        let html = try String(contentsOfFile: reports + weekly.name + ".html", encoding: .utf8)
        #expect(html.contains("<h2>Where things stand at "))
        #expect(!html.contains("<script"))
        if expectMonthly {
            let month = try String(contentsOfFile: reports + "2026-11.md", encoding: .utf8)
            #expect(month.hasPrefix("# Monthly SLA report 2026-11\n"))
            #expect(month.contains("| 2026-W47 | 99.895% |"))
        }
        let entries = try journalEntries(["MESSAGE_ID=\(MessageID.reportWritten)", "_PID=\(daemon.lastPID ?? 0)"])
        #expect(entries.count == (expectMonthly ? 2 : 1))
        let w = try #require(entries.first { $0["SLAWATCH_REPORT"] == "weekly" })
        #expect(w["SLAWATCH_REPORT_NAME"] == weekly.name)
        #expect(w["SLAWATCH_REPORT_FILE"] == reports + weekly.name + ".html")
        #expect(
            w["MESSAGE"]?.contains(
                "weekly report \(weekly.name) written to \(reports)\(weekly.name).html (also .md, .json)"
            ) == true
        )
        // A restart finds the files and writes nothing again.
        let before =
            try FileManager.default.attributesOfItem(atPath: reports + weekly.name + ".html")[.modificationDate]
            as? Date
        #expect(daemon.stop() == 0)
        try daemon.start()
        Thread.sleep(forTimeInterval: 7)
        let after =
            try FileManager.default.attributesOfItem(atPath: reports + weekly.name + ".html")[.modificationDate]
            as? Date
        #expect(before == after)
        #expect(try journalEntries(["MESSAGE_ID=\(MessageID.reportWritten)", "_PID=\(daemon.lastPID ?? 0)"]).isEmpty)
        _ = daemon.stop()
    }
}
