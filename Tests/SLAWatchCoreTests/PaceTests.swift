import Foundation
import Testing

@testable import SLAWatchCore

/// Pace of cumulative calendar targets: "at least 100 leads a month", checked while the month
/// runs.
@Suite struct PaceTests {
    private func objective(_ rule: PaceRule, window: CalendarUnit = .month) -> Objective {
        var o = Objective(
            name: "leads",
            sla: SLA(name: "leads-to-sales", provider: "marketing", customer: "sales"),
            metric: "leads",
            sli: .count,
            window: .calendar(window),
            timeZone: "Europe/Paris",
            direction: .atLeast,
            baseline: Baseline(value: 100, kind: .fixed, source: "100"),
            unit: "leads"
        )
        o.pace = rule
        return o
    }

    private func lead(_ n: Double, at t: Double) -> [Event] {
        [Event(metric: "leads", value: n, kind: .counter, time: t)]
    }

    @Test func linearPaceWarnsOnceAndRecovers() throws {
        var e = Engine(objectives: [objective(PaceRule(minElapsed: 0.25))])
        let start = try #require(RFC3339.parse("2026-11-01T00:00:00+01:00"))  // November: 30 days
        _ = e.evaluate(at: start + 60)
        _ = e.ingest(lead(10, at: start + 3600), now: start + 3600)
        // Day 6 (20%): too early to judge.
        #expect(e.evaluate(at: start + 6 * 86400).isEmpty)
        // Day 15 (50%): 10 leads, 50 expected, on track for 20: off pace, once.
        let t = e.evaluate(at: start + 15 * 86400)
        #expect(t.map(\.kind) == [.paceAtRisk])
        #expect(t.first?.pace?.expected == 50)
        #expect(t.first?.pace?.projection == 20)
        #expect(e.evaluate(at: start + 15 * 86400 + 3600).isEmpty)
        let fields = Dictionary(AlertEntry.fields(t[0], e.objectives[0]), uniquingKeysWith: { a, _ in a })
        #expect(fields["MESSAGE_ID"] == MessageID.paceAtRisk)
        #expect(fields["PRIORITY"] == "4")
        #expect(fields["SLAWATCH_EXPECTED"] == "50")
        #expect(fields["SLAWATCH_PROJECTION"] == "20")
        #expect(
            fields["MESSAGE"]
                == "leads is off pace: 10 leads so far in the month starting 2026-11-01, 50 expected by now (50% of the period), on track for 20; baseline at least 100 (marketing → sales)"
        )
        // A good week: 70 leads by day 21 (70%) projects to 100: back on pace.
        _ = e.ingest(lead(60, at: start + 20 * 86400), now: start + 20 * 86400)
        #expect(e.evaluate(at: start + 21 * 86400).map(\.kind) == [.paceOnTrack])
        // The month closes short: the period result is a miss; the new month starts fresh.
        let close = e.evaluate(at: start + 30 * 86400 + 60)
        #expect(close.map(\.kind) == [.periodResult, .breach])
        #expect(close.first?.met == false)
    }

    @Test func businessDaysSkipWeekendsAndHolidays() throws {
        let paris = try #require(CalendarPeriods(timeZoneIdentifier: "Europe/Paris"))
        // The ISO week of Monday 2026-12-21; Friday the 25th is a holiday: 4 business days.
        let monday = try #require(RFC3339.parse("2026-12-21T00:00:00+01:00"))
        let rule = PaceRule(spread: .businessDays, holidays: ["2026-12-25"])
        let end = monday + 7 * 86400
        #expect(rule.elapsed(start: monday, end: end, now: monday + 2 * 86400, periods: paris) == 0.5)
        #expect(rule.elapsed(start: monday, end: end, now: monday + 4 * 86400 + 43200, periods: paris) == 1)
        #expect(rule.elapsed(start: monday, end: end, now: monday + 6 * 86400, periods: paris) == 1)
        #expect(PaceRule().elapsed(start: monday, end: end, now: monday + 3.5 * 86400, periods: paris) == 0.5)
        // A month across the DST change: March 2026 in Paris has 22 business days.
        let march = try #require(RFC3339.parse("2026-03-01T00:00:00+01:00"))
        let april = try #require(RFC3339.parse("2026-04-01T00:00:00+02:00"))
        let afterTen = try #require(RFC3339.parse("2026-03-14T00:00:00+01:00"))  // 10 business days done
        let f = PaceRule(spread: .businessDays).elapsed(start: march, end: april, now: afterTen, periods: paris)
        #expect(abs(f - 10.0 / 22.0) < 1e-12)
    }

    @Test func aRestartKeepsTheWarningOnce() throws {
        let start = try #require(RFC3339.parse("2026-11-01T00:00:00+01:00"))
        let o = objective(PaceRule(minElapsed: 0.1))
        var a = Engine(objectives: [o])
        _ = a.evaluate(at: start + 60)
        _ = a.ingest(lead(5, at: start + 3600), now: start + 3600)
        #expect(a.evaluate(at: start + 10 * 86400).map(\.kind) == [.paceAtRisk])
        var b = Engine(objectives: [o])
        b.restore(a.allSnapshots())
        #expect(b.evaluate(at: start + 11 * 86400).isEmpty)
    }

    @Test func paceOnlyForCumulativeTargets() {
        let text = """
            slas:
              - name: s
                provider: p
                customer: c
                objectives:
                  - {name: a, metric: m, sli: count, window: month, direction: at_least, baseline: 100, pace: {by: business_days, holidays: [2026-12-25], min_elapsed: 20%}}
                  - {name: b, metric: m, sli: avg, window: 5m, direction: at_most, baseline: 1, pace: {}}
                  - {name: c, metric: m, sli: count, window: week, direction: at_least, baseline: 5, pace: {by: fortnightly, holidays: [christmas]}}
            """
        let errors = objectiveErrors(text, file: "p.yaml")
        #expect(
            errors.map(\.key).sorted() == [
                "slas[0].objectives[1].pace", "slas[0].objectives[2].pace.by",
                "slas[0].objectives[2].pace.holidays",
            ]
        )
        let ok = try? ObjectivesConfig.parse(
            String(text.split(separator: "\n").prefix(6).joined(separator: "\n")),
            file: "p.yaml"
        )
        #expect(ok?.first?.pace == PaceRule(spread: .businessDays, holidays: ["2026-12-25"], minElapsed: 0.2))
    }
}
