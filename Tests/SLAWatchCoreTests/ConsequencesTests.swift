import Foundation
import Testing

@testable import SLAWatchCore

/// Consequences of a miss: service credits in tiers of a fee, capped, with the contract's words,
/// per closed period, in the period report entry and in reports (docs/objectives.md).
@Suite struct ConsequencesTests {
    static let yaml = """
        slas:
          - name: api
            provider: platform
            customer: sales
            report_periods: [month]
            consequences:
              tiers:
                - {below: 99.9%, credit: 10%}
                - {below: 99%, credit: 25%}
              fee: 2000
              currency: EUR
              cap: 20%
              penalty: service credit on the next invoice
              escalation: account-manager@example.com
            objectives:
              - name: availability
                metric: api.requests
                sli: ratio
                good: {labels: {status: "!~5.."}}
                window: 1h
                direction: at_least
                baseline: 99.9%
                nodata: ok
        """

    static func utc(_ s: String) -> Double { RFC3339.parse(s)! }

    /// A quarter of 1,000 requests an hour: October all good, November 5 failures an hour
    /// (99.5 %: the 10 % tier), December 20 an hour (98 %: the 25 % tier, capped at 20 %).
    static func quarter() throws -> (objective: Objective, reports: [Transition]) {
        let o = try #require(try ObjectivesConfig.parse(yaml, file: "api.yaml").first)
        var e = Engine(objectives: [o])
        var reports: [Transition] = []
        var t = utc("2026-10-01T00:00:00Z")
        let end = utc("2027-01-01T00:00:00Z")
        let november = utc("2026-11-01T00:00:00Z")
        let december = utc("2026-12-01T00:00:00Z")
        while t <= end {
            reports += e.evaluate(at: t).filter { $0.kind == .periodReport }
            let bad = t >= december ? 20.0 : t >= november ? 5 : 0
            let events = [
                Event(
                    metric: "api.requests",
                    value: 1000 - bad,
                    kind: .counter,
                    labels: ["status": "200"],
                    time: t + 1800
                ),
                Event(metric: "api.requests", value: bad, kind: .counter, labels: ["status": "503"], time: t + 1800),
            ]
            _ = e.ingest(events, now: t + 1800)
            t += 3600
        }
        return (o, reports)
    }

    @Test func aQuarterWithTwoCreditTiers() throws {
        let (o, reports) = try Self.quarter()
        #expect(
            reports.map(\.periodStart)
                == ["2026-10-01", "2026-11-01", "2026-12-01"].map { Self.utc($0 + "T00:00:00Z") }
        )
        let credits = reports.map { $0.creditOutcome(o) }
        #expect(credits.map { $0?.value } == [1, 0.995, 0.98])
        #expect(credits.map { $0?.credit } == [0, 0.1, 0.2])  // December: 25 %, capped at 20 %
        #expect(credits.map { $0?.amount } == [0, 200, 400])
        #expect(reports.map(\.met) == [true, false, false])
        // The contract's words come with a missed or credited period only.
        #expect(
            credits.map { $0?.consequence } == [
                nil, "service credit on the next invoice", "service credit on the next invoice",
            ]
        )

        let november = AlertEntry.fields(reports[1], o)
        func field(_ name: String) -> String? { november.first { $0.0 == name }?.1 }
        #expect(field("SLAWATCH_CREDIT") == "0.1")
        #expect(field("SLAWATCH_CREDIT_AMOUNT") == "200")
        #expect(field("SLAWATCH_CREDIT_CURRENCY") == "EUR")
        #expect(field("SLAWATCH_CREDIT_READING") == "sli")
        #expect(field("SLAWATCH_CONSEQUENCE") == "service credit on the next invoice")
        #expect(field("SLAWATCH_ESCALATION") == "account-manager@example.com")
        let message = try #require(field("MESSAGE"))
        #expect(
            message.contains(
                "; credit 10% (200 EUR); service credit on the next invoice; escalate to account-manager@example.com"
            )
        )
        let october = AlertEntry.fields(reports[0], o)
        #expect(october.first { $0.0 == "SLAWATCH_CREDIT" }?.1 == "0")
        #expect(!october.contains { $0.0 == "SLAWATCH_CONSEQUENCE" })

        // Reports: the same credit per row, and 600 EUR owed for the quarter.
        let rows = PeriodReport.rows(
            reports.map { ($0.objective, $0.periodStart, $0.periodEnd, $0.value ?? .nan, $0.baseline, $0.met) },
            reports: reports.map(\.report),
            objectives: [o]
        )
        #expect(rows.map { $0.credit?.amount } == [0, 200, 400])
        let text = PeriodReport.render(rows, format: .text)
        #expect(text.contains("10% (200 EUR)"))
        #expect(text.contains("20% (400 EUR)"))
        let csv = PeriodReport.render(rows, format: .csv)
        #expect(csv.contains(",0.2,400,EUR,service credit on the next invoice,,\r\n"))
        let totals = CreditTotal.totals(rows, unit: .quarter) { _ in "UTC" }
        #expect(totals.count == 1)
        let q = try #require(totals.first)
        #expect(q.customer == "sales")
        #expect(q.period == "2026-Q4")
        #expect(q.amount == 600)
        #expect(q.currency == "EUR")
        #expect((q.periods, q.credited, q.missed) == (3, 2, 2))
        #expect(q.items.map(\.period) == ["2026-11", "2026-12"])
        let owed = CreditTotal.render(totals, format: .text)
        #expect(owed.hasPrefix("sales 2026-Q4: 600 EUR owed, 2 of 3 period(s) credited, 2 missed\n"))
        // Per month, each month is its own total.
        #expect(CreditTotal.totals(rows, unit: .month) { _ in "UTC" }.map(\.amount) == [0, 200, 400])
    }

    /// Tiers read compliance by default for objectives judged continuously; an "at most" SLI
    /// takes tiers above its bounds; a cap as an amount caps the amount.
    @Test func readingsSidesAndCaps() throws {
        var c = Consequences()
        c.tiers = [.init(above: 300, credit: 0.05), .init(above: 500, credit: 0.15)]
        c.fee = 1000
        c.cap = .amount(100)
        c.on = .sli
        let o = try #require(try ObjectivesConfig.parse(Self.yaml, file: "api.yaml").first)
        #expect(c.outcome(for: o, unit: .month, sli: 301, compliance: nil, met: false)?.amount == 50)
        #expect(c.outcome(for: o, unit: .month, sli: 900, compliance: nil, met: false)?.amount == 100)
        #expect(c.outcome(for: o, unit: .month, sli: 900, compliance: nil, met: false)?.credit == 0.1)
        #expect(c.outcome(for: o, unit: .month, sli: 300, compliance: nil, met: true)?.credit == 0)
        // Another unit, or no reading (no data): no outcome.
        #expect(c.outcome(for: o, unit: .week, sli: 900, compliance: nil, met: false) == nil)
        #expect(c.outcome(for: o, unit: .month, sli: nil, compliance: 0.5, met: nil) == nil)
        var latency = o
        latency.sli = .percentile(99)
        #expect(Consequences().reading(for: latency) == .compliance)
        #expect(Consequences().reading(for: o) == .sli)
    }

    @Test func badConsequencesAreErrorsNamingFileLineAndKey() throws {
        let cases: [(String, String, String, Int)] = [
            ("- {below: 99.9%, credit: 10%}", "- {below: 99.9%, above: 1, credit: 10%}", "one bound", 8),
            ("- {below: 99%, credit: 25%}", "- {below: 99%, credit: 150%}", "at most 100%", 9),
            ("- {below: 99%, credit: 25%}", "- {above: 2, credit: 25%}", "mix below and above", 8),
            ("cap: 20%", "cap: lots", "not a share of the fee", 12),
            ("fee: 2000", "fee: -5", "not an amount", 10),
            ("report_periods: [month]", "report_periods: [week]", "reports no month", 16),
            // Tiers that could never apply, or only to met periods (found by a helper's review).
            ("- {below: 99%, credit: 25%}", "- {below: 150%, credit: 25%}", "is a share from 0 to 100%", 16),
            ("{below: ", "{above: ", "its credits lie below a bound, not above", 16),
            ("fee: 2000", "fee: 1e308", "from 0 to 1e12", 10),
            ("cap: 20%", "cap: 5000", "more than the fee", 12),
            ("penalty: service credit on the next invoice", "penalty: \"two\\nlines\"", "one line of text", 13),
        ]
        for (from, to, says, line) in cases {
            let text = Self.yaml.replacingOccurrences(of: from, with: to)
            do {
                _ = try ObjectivesConfig.parse(text, file: "api.yaml")
                Issue.record("\(to) was accepted")
            } catch {
                let err = try #require(error.errors.first { $0.message.contains(says) }, "\(error)")
                #expect(err.file == "api.yaml")
                #expect(err.line == line, "\(to): \(err)")
            }
        }
        // Tiers on the period SLI of an objective judged by time: refused, naming it.
        let p99 = Self.yaml.replacingOccurrences(of: "sli: ratio", with: "sli: p99")
            .replacingOccurrences(of: "good: {labels: {status: \"!~5..\"}}", with: "unit: ms")
            .replacingOccurrences(of: "baseline: 99.9%", with: "baseline: 300")
            .replacingOccurrences(of: "fee: 2000", with: "fee: 2000\n      on: sli")
        #expect(throws: ConfigErrors.self) { try ObjectivesConfig.parse(p99, file: "api.yaml") }
        do {
            _ = try ObjectivesConfig.parse(p99, file: "api.yaml")
        } catch {
            #expect(error.description.contains("availability is judged by compliance"))
        }
    }
}
