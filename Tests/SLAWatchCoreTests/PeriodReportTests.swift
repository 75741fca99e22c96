import Foundation
import SLAWatchCore
import Testing

/// `slawatch report`'s rendering: period names in the objective's time zone and the four formats.
@Suite struct PeriodReportTests {
    static let berlin = TimeZone(identifier: "Europe/Berlin")!

    static func t(_ s: String) -> Double { RFC3339.parse(s)! }

    /// Calendar periods are named as people name them, in the objective's zone: a Berlin month
    /// starts at 23:00 UTC the day before (22:00 in summer), an ISO week on a Monday.
    @Test func periodsAreNamedInTheObjectivesZone() {
        let zone = Self.berlin
        #expect(
            PeriodReport.label(start: Self.t("2026-10-31T23:00:00Z"), end: Self.t("2026-11-30T23:00:00Z"), zone: zone)
                == "2026-11"
        )
        #expect(
            PeriodReport.label(start: Self.t("2026-09-30T22:00:00Z"), end: Self.t("2026-10-31T23:00:00Z"), zone: zone)
                == "2026-10"
        )
        #expect(
            PeriodReport.label(start: Self.t("2026-11-22T23:00:00Z"), end: Self.t("2026-11-29T23:00:00Z"), zone: zone)
                == "2026-W48"
        )
        #expect(
            PeriodReport.label(start: Self.t("2026-12-27T23:00:00Z"), end: Self.t("2027-01-03T23:00:00Z"), zone: zone)
                == "2026-W53"
        )
        #expect(
            PeriodReport.label(start: Self.t("2026-11-29T23:00:00Z"), end: Self.t("2026-11-30T23:00:00Z"), zone: zone)
                == "2026-11-30"
        )
        #expect(
            PeriodReport.label(start: Self.t("2026-09-30T22:00:00Z"), end: Self.t("2026-12-31T23:00:00Z"), zone: zone)
                == "2026-Q4"
        )
        #expect(
            PeriodReport.label(start: Self.t("2025-12-31T23:00:00Z"), end: Self.t("2026-12-31T23:00:00Z"), zone: zone)
                == "2026"
        )
        // The same instants in UTC are no calendar period: named by their bounds.
        #expect(
            PeriodReport.label(
                start: Self.t("2026-10-31T23:00:00Z"),
                end: Self.t("2026-11-30T23:00:00Z"),
                zone: TimeZone(identifier: "UTC")!
            )
                == "2026-10-31T23:00:00Z/2026-11-30T23:00:00Z"
        )
    }

    static let leads = Objective(
        name: "qualified-leads",
        sla: SLA(name: "leads-to-sales", provider: "marketing", customer: "sales"),
        metric: "leads",
        sli: .count,
        window: .calendar(.month),
        timeZone: "Europe/Berlin",
        direction: .atLeast,
        baseline: Baseline(value: 100, kind: .fixed, source: "100"),
        unit: "leads"
    )

    static var rows: [PeriodVerdictRow] {
        PeriodReport.rows(
            [
                ("qualified-leads", t("2026-10-31T23:00:00Z"), t("2026-11-30T23:00:00Z"), 104, 100, true),
                ("qualified-leads", t("2026-08-31T22:00:00Z"), t("2026-09-30T22:00:00Z"), 120, 100, true),
                ("qualified-leads", t("2026-09-30T22:00:00Z"), t("2026-10-31T23:00:00Z"), 80, 100, false),
                ("gone", t("2026-10-01T00:00:00Z"), t("2026-11-01T00:00:00Z"), 3, 5, false),
            ],
            objectives: [leads]
        )
    }

    @Test func textShowsEachPeriodWithItsVerdictAndTrend() {
        #expect(
            PeriodReport.render(Self.rows, format: .text) == """
                gone — met 0 of 1 period(s)
                  period   value  baseline  verdict  change
                  2026-10      3         5  MISSED

                leads-to-sales (marketing → sales): qualified-leads, at least — met 2 of 3 period(s)
                  period       value   baseline  verdict        change
                  2026-09  120 leads  100 leads  met
                  2026-10   80 leads  100 leads  MISSED   −40 (−33.3%)
                  2026-11  104 leads  100 leads  met        +24 (+30%)

                """
        )
        #expect(PeriodReport.render([], format: .text).hasPrefix("No closed period yet"))
    }

    @Test func markdownCsvAndJsonCarryTheSameNumbers() throws {
        let md = PeriodReport.render(Self.rows, format: .markdown)
        #expect(md.contains("### leads-to-sales (marketing → sales): qualified-leads, at least — met 2 of 3 period(s)"))
        #expect(md.contains("| 2026-10 | 80 leads | 100 leads | MISSED | −40 (−33.3%) |"))
        let csv = PeriodReport.render(Self.rows, format: .csv).components(separatedBy: "\r\n")
        #expect(
            csv[0]
                == "sla,provider,customer,objective,instance,period,period_start,period_end,value,unit,direction,baseline,verdict,report,compliance,time_in_breach,time_unjudged,episodes,worst_value,worst_baseline,worst_at,good_events,total_events,budget_used,credit,credit_amount,currency,consequence,time_excluded,definition_changes"
        )
        #expect(
            csv[1] == ",,,gone,gone,2026-10,2026-10-01T00:00:00Z,2026-11-01T00:00:00Z,3,,,5,missed,,,,,,,,,,,,,,,,,"
        )
        #expect(
            csv[3]
                == "leads-to-sales,marketing,sales,qualified-leads,qualified-leads,2026-10,2026-09-30T22:00:00Z,2026-10-31T23:00:00Z,80,leads,at_least,100,missed,,,,,,,,,,,,,,,,,"
        )
        #expect(csv.count == 6 && csv[5].isEmpty)
        struct Doc: Decodable { var periods: [PeriodVerdictRow] }
        let doc = try JSONDecoder().decode(Doc.self, from: Data(PeriodReport.render(Self.rows, format: .json).utf8))
        #expect(doc.periods.map(\.period) == ["2026-10", "2026-09", "2026-10", "2026-11"])
        #expect(doc.periods.map(\.met) == [false, true, false, true])
        #expect(doc.periods[2].value == 80 && doc.periods[2].baseline == 100 && doc.periods[2].customer == "sales")
    }

    /// A `group_by` instance is matched to its objective and takes its `customer` label as customer;
    /// CSV quotes what needs it.
    @Test func groupByInstancesAndQuoting() {
        var o = Self.leads
        o.groupBy = ["customer"]
        let rows = PeriodReport.rows(
            [
                (
                    "qualified-leads{customer=acme, inc}", Self.t("2026-10-31T23:00:00Z"),
                    Self.t("2026-11-30T23:00:00Z"), 7, 10, false
                )
            ],
            objectives: [o]
        )
        #expect(rows.first?.objective == "qualified-leads")
        #expect(rows.first?.customer == "acme")
        let csv = PeriodReport.render(rows, format: .csv).components(separatedBy: "\r\n")
        #expect(
            csv[1].hasPrefix(
                "leads-to-sales,marketing,acme,qualified-leads,\"qualified-leads{customer=acme, inc}\",2026-11,"
            )
        )
    }
}
