import Foundation
import SLAWatchCore
import SLAWatchStore
import Testing

/// `slawatch report` against a state file holding closed period verdicts.
@Suite struct ReportCommandTests {
    /// A config directory with a monthly leads target in Berlin time, and a state file with
    /// three closed months (met, missed, met).
    static func setUp() throws -> (config: String, state: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slawatch-report-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: dir + "/objectives.d", withIntermediateDirectories: true)
        try """
        slas:
          - name: leads-to-sales
            provider: marketing
            customer: sales
            objectives:
              - name: qualified-leads
                metric: leads
                sli: count
                window: month
                time_zone: Europe/Berlin
                direction: at_least
                baseline: 100
                unit: leads
          - name: checkout
            provider: platform
            customer: shop
            report_periods: [week]
            compliance_target: 99%
            objectives:
              - {name: latency, metric: lat, sli: p95, window: 5m, direction: at_most, baseline: 300, unit: ms}
        """.write(toFile: dir + "/objectives.d/leads.yaml", atomically: true, encoding: .utf8)
        try """
        state_directory: \(dir)/state
        runtime_directory: \(dir)/run
        drop_directory: \(dir)/drop
        objectives_directory: \(dir)/objectives.d
        """.write(toFile: dir + "/slawatch.yaml", atomically: true, encoding: .utf8)
        let store = try StateStore(path: dir + "/state/state.sqlite")
        func month(_ a: String, _ b: String, _ value: Double, _ met: Bool) -> Transition {
            Transition(
                objective: "qualified-leads",
                kind: .periodResult,
                from: .ok,
                to: met ? .ok : .breached,
                at: RFC3339.parse(b)! + 60,
                value: value,
                baseline: 100,
                episode: met ? nil : "e",
                periodStart: RFC3339.parse(a)!,
                periodEnd: RFC3339.parse(b)!,
                met: met
            )
        }
        var week = PeriodTally(
            unit: .week,
            start: RFC3339.parse("2026-11-23T00:00:00Z")!,
            end: RFC3339.parse("2026-11-30T00:00:00Z")!,
            from: RFC3339.parse("2026-11-30T00:00:00Z")!
        )
        week.met = 604_800 - 3_600 - 600
        week.breached = 3_600
        week.unjudged = 600
        week.episodes = 2
        week.worstValue = 812
        week.worstBaseline = 300
        week.worstAt = RFC3339.parse("2026-11-26T14:05:00Z")!
        let report = Transition(
            objective: "latency",
            kind: .periodReport,
            from: .ok,
            to: .ok,
            at: week.end + 1,
            value: 240,
            baseline: 300,
            episode: nil,
            periodStart: week.start,
            periodEnd: week.end,
            met: true,
            detail: .periodReport(week)
        )
        try store.save(
            [],
            periodResults: [
                report,
                month("2026-08-31T22:00:00Z", "2026-09-30T22:00:00Z", 120, true),
                month("2026-09-30T22:00:00Z", "2026-10-31T23:00:00Z", 80, false),
                month("2026-10-31T23:00:00Z", "2026-11-30T23:00:00Z", 104, true),
            ],
            at: RFC3339.parse("2026-12-01T00:00:00Z")!
        )
        return (dir + "/slawatch.yaml", dir + "/state/state.sqlite")
    }

    /// Consequences on the leads target: October's 80 leads fall in the 25 % tier of a
    /// 1,000 EUR fee; `--credits --period quarter` totals it per customer and quarter (Berlin).
    @Test func creditsAreTotalledPerCustomerAndQuarter() throws {
        let (config, _) = try Self.setUp()
        let objectives = (config as NSString).deletingLastPathComponent + "/objectives.d/leads.yaml"
        let text = try String(contentsOfFile: objectives, encoding: .utf8)
            .replacingOccurrences(
                of: "    customer: sales\n",
                with: """
                        customer: sales
                        consequences:
                          tiers: [{below: 100, credit: 10%}, {below: 90, credit: 25%}]
                          fee: 1000
                          currency: EUR
                          penalty: credit note within 30 days

                    """
            )
        try text.write(toFile: objectives, atomically: true, encoding: .utf8)
        let (rc, out, err) = try slawatch(["report", "--config", config, "--credits", "--period", "quarter"])
        #expect(rc == 0, "\(err)")
        #expect(
            out == """
                sales 2026-Q3: 0 EUR owed, 0 of 1 period(s) credited, 0 missed
                sales 2026-Q4: 250 EUR owed, 1 of 2 period(s) credited, 1 missed
                  leads-to-sales: qualified-leads 2026-10: 25% = 250 EUR

                """
        )
        let (rc2, csv, _) = try slawatch([
            "report", "--config", config, "--credits", "--period", "month", "--format", "csv",
        ])
        #expect(rc2 == 0)
        #expect(csv.components(separatedBy: "\r\n")[2] == "sales,2026-10,2026-09-30T22:00:00Z,EUR,1,1,1,250")
        // The verdict rows carry the credit too.
        let (_, table, _) = try slawatch(["report", "--config", config, "--sla", "leads-to-sales"])
        #expect(table.contains("2026-10   80 leads  100 leads  MISSED   −40 (−33.3%)  25% (250 EUR)"))
        let (rc3, _, usage) = try slawatch(["report", "--config", config, "--credits", "--format", "html"])
        #expect(rc3 == 64)
        #expect(usage.contains("--credits is text, markdown, json or csv"))
    }

    @Test func theClosedMonthsPrintWithVerdictAndTrendInEveryFormat() throws {
        let (config, state) = try Self.setUp()
        let (rc, out, err) = try slawatch(["report", "--config", config])
        #expect(rc == 0, "\(err)")
        #expect(
            out == """
                checkout (platform → shop): latency, at most — weekly compliance — met 1 of 1 period(s)
                  period     value  compliance  in breach  episodes  worst                           verdict
                  2026-W48  240 ms     99.404%         1h         2  812 ms at 2026-11-26T14:05:00Z  met

                leads-to-sales (marketing → sales): qualified-leads, at least — met 2 of 3 period(s)
                  period       value   baseline  verdict        change
                  2026-09  120 leads  100 leads  met
                  2026-10   80 leads  100 leads  MISSED   −40 (−33.3%)
                  2026-11  104 leads  100 leads  met        +24 (+30%)

                """
        )
        // A copy of the state file, read without the daemon's config: the same verdicts.
        let copy = state + ".copy"
        try FileManager.default.copyItem(atPath: state, toPath: copy)
        let (rc2, csv, _) = try slawatch(["report", "--config", config, "--state", copy, "--format", "csv"])
        #expect(rc2 == 0)
        #expect(
            csv.components(separatedBy: "\r\n")[3]
                == "leads-to-sales,marketing,sales,qualified-leads,qualified-leads,2026-10,2026-09-30T22:00:00Z,2026-10-31T23:00:00Z,80,leads,at_least,100,missed,,,,,,,,,,,,,,,,,"
        )
        let file = state + ".md"
        let (rc3, _, _) = try slawatch(["report", "--config", config, "--format", "markdown", "--output", file])
        #expect(rc3 == 0)
        #expect(
            try String(contentsOfFile: file, encoding: .utf8).contains(
                "| 2026-11 | 104 leads | 100 leads | met | +24 (+30%) |"
            )
        )
        let (rc4, json, _) = try slawatch(["report", "--config", config, "--format", "json", "--customer", "sales"])
        #expect(rc4 == 0)
        let doc = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: [[String: Any]]]
        #expect(doc?["periods"]?.compactMap { $0["met"] as? Bool } == [true, false, true])
        let (rc5, weekly, _) = try slawatch(["report", "--config", config, "--format", "json", "--sla", "checkout"])
        #expect(rc5 == 0)
        let w = try JSONSerialization.jsonObject(with: Data(weekly.utf8)) as? [String: [[String: Any]]]
        let row = try #require(w?["periods"]?.first)
        #expect(row["report"] as? String == "week")
        #expect(row["period"] as? String == "2026-W48")
        #expect(row["timeInBreach"] as? Double == 3600)
        #expect(row["episodes"] as? Int == 2)
        #expect(abs((row["compliance"] as? Double ?? 0) - 600_600.0 / 604_200) < 1e-12)
    }

    /// What is not a state file of this slawatch is refused by report and status alike, with
    /// the file named: an empty file, a file of a newer slawatch (an unknown migration).
    @Test func anEmptyFileOrANewerStateFileIsRefused() throws {
        let (config, state) = try Self.setUp()
        let empty = state + ".empty"
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        for command in ["report", "status"] {
            let (rc, _, err) = try slawatch([command, "--config", config, "--state", empty])
            #expect(rc == 2, "\(command)")
            #expect(err.contains("\(empty) is not a slawatch state file"), "\(command): \(err)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: empty)).isEmpty)
        let newer = state + ".newer"
        try FileManager.default.copyItem(atPath: state, toPath: newer)
        try sqlite(newer, "INSERT INTO grdb_migrations VALUES ('v99-from-the-future');")
        let (rc, _, err) = try slawatch(["report", "--config", config, "--state", newer])
        #expect(rc == 2)
        #expect(err.contains("v99-from-the-future"))
        let (rc2, _, err2) = try slawatch(["report", "--config", config, "--output", "/nonexistent-dir/x.md"])
        #expect(rc2 == 2)
        #expect(err2 == "slawatch report: cannot write /nonexistent-dir/x.md: no directory /nonexistent-dir\n")
    }

    @Test func aMissingStateFileOrAFilterMatchingNothingIsSaid() throws {
        let (config, state) = try Self.setUp()
        let (rc, _, err) = try slawatch(["report", "--config", config, "--state", state + ".nope"])
        #expect(rc == 2)
        #expect(err.contains("cannot read period verdicts from \(state).nope"))
        let (rc2, _, err2) = try slawatch(["report", "--config", config, "--sla", "other"])
        #expect(rc2 == 1)
        #expect(err2.contains("no closed period matches the filters (4 verdict(s)"))
        let (rc4, weekly, _) = try slawatch(["report", "--config", config, "--period", "week", "--format", "csv"])
        #expect(rc4 == 0)
        #expect(
            weekly.components(separatedBy: "\r\n").dropFirst().filter { !$0.isEmpty }.map {
                $0.split(separator: ",")[5]
            } == ["2026-W48"]
        )
        let (rc7, monthly, _) = try slawatch(["report", "--config", config, "--period", "month", "--format", "csv"])
        #expect(rc7 == 0)
        #expect(monthly.components(separatedBy: "\r\n").dropFirst().filter { !$0.isEmpty }.count == 3)
        // --at: the period holding the time and the ones before (local dates in the machine's zone).
        let (rc8, upToOctober, _) = try slawatch(
            ["report", "--config", config, "--at", "2026-10-15T12:00:00Z", "--period", "month", "--format", "csv"]
        )
        #expect(rc8 == 0)
        #expect(
            upToOctober.components(separatedBy: "\r\n").dropFirst().filter { !$0.isEmpty }.map {
                $0.split(separator: ",")[5]
            }
                == ["2026-09", "2026-10"]
        )
        let (rc9, _, err9) = try slawatch(["report", "--config", config, "--at", "someday"])
        #expect(rc9 != 0)
        #expect(err9.contains("--at 'someday' is not a duration ago"))
        let (rc5, _, err5) = try slawatch(["report", "--config", config, "--period", "quarter"])
        #expect(rc5 == 1)
        #expect(err5.contains("no closed period matches the filters"))
        let (rc6, _, err6) = try slawatch(["report", "--config", config, "--period", "fortnight"])
        #expect(rc6 != 0)
        #expect(err6.contains("--period is one of day, week, month, quarter"))
        let (rc3, _, err3) = try slawatch(["report", "--config", config, "--format", "pdf"])
        #expect(rc3 != 0)
        #expect(err3.contains("--format is one of text, markdown, json, csv"))
    }
}
