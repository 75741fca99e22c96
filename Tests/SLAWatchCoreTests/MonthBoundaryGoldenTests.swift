import Foundation
import Testing

@testable import SLAWatchCore

/// Golden: a monthly target across the October/November 2026 boundary in New York (DST ends on
/// November 1st at 02:00, after the boundary) and Paris (DST ended a week before, so October
/// has 31 days and 1 hour), with the exact journal fields.
@Suite struct MonthBoundaryGoldenTests {
    private func objective(_ zone: String) -> Objective {
        Objective(
            name: "leads-\(zone)",
            sla: SLA(name: "leads-to-sales", provider: "marketing", customer: "sales"),
            metric: "lead",
            sli: .count,
            window: .calendar(.month),
            timeZone: zone,
            direction: .atLeast,
            baseline: Baseline(value: 3, kind: .fixed, source: "3"),
            severity: .warning,
            unit: "leads"
        )
    }

    @Test(arguments: [
        (
            "America/New_York", "-04:00",
            "2026-10-01T04:00:00Z", "2026-11-01T04:00:00Z",
            "leads-America/New_York missed its target: 2 leads in the month starting 2026-10-01, baseline at least 3 (marketing → sales)"
        ),
        (
            "Europe/Paris", "+01:00",
            "2026-09-30T22:00:00Z", "2026-10-31T23:00:00Z",
            "leads-Europe/Paris missed its target: 2 leads in the month starting 2026-10-01, baseline at least 3 (marketing → sales)"
        ),
    ])
    func octoberClosesAtLocalMidnight(_ c: (String, String, String, String, String)) throws {
        let (zone, offset, start, end, message) = c
        var e = Engine(objectives: [objective(zone)])
        let t = { (s: String) in RFC3339.parse(s + offset)! }
        _ = e.evaluate(at: t("2026-10-31T12:00:00"))
        // Two leads half an hour before local midnight, one half an hour after.
        let lead = { (at: Double) in Event(metric: "lead", value: 1, kind: .counter, time: at) }
        _ = e.ingest([lead(t("2026-10-31T23:30:00")), lead(t("2026-10-31T23:40:00"))], now: t("2026-10-31T23:45:00"))
        #expect(e.evaluate(at: t("2026-10-31T23:50:00")).isEmpty)  // October still open
        _ = e.ingest([lead(t("2026-11-01T00:30:00"))], now: t("2026-11-01T00:31:00"))
        let out = e.evaluate(at: t("2026-11-01T00:35:00"))
        #expect(out.map(\.kind) == [.periodResult, .breach])
        let f = Dictionary(AlertEntry.fields(out[0], e.objectives[0]), uniquingKeysWith: { a, _ in a })
        #expect(f["MESSAGE"] == message)
        #expect(f["SLAWATCH_VALUE"] == "2")
        #expect(f["SLAWATCH_RESULT"] == "missed")
        #expect(f["SLAWATCH_WINDOW_START"] == start)
        #expect(f["SLAWATCH_WINDOW_END"] == end)
        #expect(f["MESSAGE_ID"] == MessageID.periodResult)
        // November holds the third lead.
        #expect(e.status(at: t("2026-11-01T00:40:00")).first?.value == 1)
    }
}
