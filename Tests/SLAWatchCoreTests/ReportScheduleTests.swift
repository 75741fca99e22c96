import Foundation
import Testing

@testable import SLAWatchCore

/// The schedule of the daemon's reports: which weekly and monthly report is due when, named in
/// the schedule's time zone, and the `reports:` keys with their errors.
@Suite struct ReportScheduleTests {
    static func t(_ s: String) -> Double { RFC3339.parse(s)! }

    @Test func theLatestWeeklyAndMonthlyReportsDue() throws {
        let s = ReportSchedule(weekly: (1, 9 * 60), monthly: true, monthlyMinute: 30, timeZone: "Europe/Paris")
        // Thursday 2026-12-03 10:00 UTC: this week's Monday 09:00 Paris (08:00 UTC) passed.
        let due = s.latestDue(now: Self.t("2026-12-03T10:00:00Z"))
        #expect(due.map(\.name) == ["2026-W49", "2026-11"])
        #expect(due[0].at == Self.t("2026-11-30T08:00:00Z"))
        #expect(due[0].start == Self.t("2026-11-29T23:00:00Z"))
        #expect(due[1].at == Self.t("2026-11-30T23:30:00Z"))
        #expect(due[1].start == Self.t("2026-10-31T23:00:00Z"))
        #expect(due[1].end == Self.t("2026-11-30T23:00:00Z"))
        // Monday 2026-11-30 07:59 UTC, before the slot: last week's report is the latest due,
        // and October's (1 November 00:30 Paris) the latest monthly.
        let early = s.latestDue(now: Self.t("2026-11-30T07:59:00Z"))
        #expect(early.map(\.name) == ["2026-W48", "2026-10"])
        #expect(early[0].at == Self.t("2026-11-23T08:00:00Z"))
        // Across the change to summer time (Sunday 2026-03-29 in Paris): Monday 09:00 is 07:00 UTC.
        let spring = ReportSchedule(weekly: (1, 9 * 60), monthly: false, timeZone: "Europe/Paris")
            .latestDue(now: Self.t("2026-03-30T07:00:00Z"))
        #expect(spring.map(\.name) == ["2026-W14"])
        #expect(spring.first?.at == Self.t("2026-03-30T07:00:00Z"))
        #expect(ReportSchedule(weekly: nil, monthly: false).latestDue(now: 0).isEmpty)
    }

    @Test func weeklyAndTimeTexts() {
        #expect(ReportSchedule.parseWeekly("mon 09:00")! == (1, 540))
        #expect(ReportSchedule.parseWeekly("Sunday 23:59")! == (7, 1439))
        #expect(ReportSchedule.parseWeekly("monxyz 09:00") == nil)
        #expect(ReportSchedule.parseWeekly("mon 9:00")! == (1, 540))
        #expect(ReportSchedule.parseWeekly("mon 24:00") == nil)
        #expect(ReportSchedule.parseWeekly("09:00") == nil)
    }

    @Test func theReportsKeysAndTheirErrors() throws {
        let c = try DaemonConfig.parse(
            """
            reports:
              weekly: "thu 16:30"
              monthly: false
              time_zone: Europe/Berlin
              directory: out/reports
              formats: [html, csv]
            """,
            file: "/etc/slawatch/slawatch.yaml"
        )
        #expect(c.reports.weekly! == (4, 990))
        #expect(!c.reports.monthly)
        #expect(c.reports.timeZone == "Europe/Berlin")
        #expect(c.reports.directory == "/etc/slawatch/out/reports")
        #expect(c.reports.formats == [.html, .csv])
        #expect(try DaemonConfig.parse("reports: {weekly: false}\n", file: "/x.yaml").reports.weekly == nil)
        #expect(DaemonConfig.systemDefaults.reports.weekly! == (1, 540))
        do {
            _ = try DaemonConfig.parse(
                "reports:\n  weekly: someday\n  time_zone: Mars/Olympus\n  formats: [pdf]\n",
                file: "/etc/slawatch/slawatch.yaml"
            )
            Issue.record("bad reports keys were accepted")
        } catch {
            let text = "\(error)"
            #expect(text.contains("slawatch.yaml:2"))
            #expect(text.contains("reports.weekly: 'someday' is not a day and time"))
            #expect(text.contains("slawatch.yaml:3"))
            #expect(text.contains("reports.time_zone: 'Mars/Olympus' is not an IANA time zone"))
            #expect(text.contains("reports.formats: 'pdf' is not one of"))
        }
    }
}
