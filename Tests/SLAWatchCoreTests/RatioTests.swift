import Foundation
import Testing

@testable import SLAWatchCore

/// Ratio SLIs: `good / total`, summed over the window.
@Suite struct RatioTests {
    private func objective(
        metric: String = "api.requests",
        match: [String: String] = [:],
        good: GoodSelector,
        baseline: Double = 0.999
    ) -> Objective {
        Objective(
            name: "availability",
            sla: SLA(name: "api", provider: "platform", customer: "web"),
            metric: metric,
            match: match,
            sli: .ratio,
            window: .rolling(seconds: 3600),
            direction: .atLeast,
            baseline: Baseline(value: baseline, kind: .fixed, source: "\(baseline)"),
            nodata: .alert,
            good: good
        )
    }

    private func requests(_ status: String, _ n: Int, at t: Double, service: String = "api") -> [Event] {
        Array(
            repeating: Event(
                metric: "api.requests",
                value: 1,
                kind: .counter,
                labels: ["status": status, "service": service],
                time: t
            ),
            count: n
        )
    }

    @Test func oneMetricWithANegativeRegexMatcher() {
        var e = Engine(objectives: [objective(good: GoodSelector(metric: "api.requests", match: ["status": "!~5.."]))])
        // No events: undefined, not 100%.
        #expect(e.status(at: 1000).first?.value == nil)
        _ = e.ingest(
            requests("200", 996, at: 990) + requests("404", 2, at: 991) + requests("503", 2, at: 992),
            now: 1000
        )
        #expect(e.status(at: 1000).first?.value == 0.998)
        let t = e.evaluate(at: 1000)
        #expect(t.map(\.kind) == [.breach])
        #expect(t.first?.value == 0.998)
    }

    @Test func twoMetricsAndSampledCounters() {
        var e = Engine(objectives: [objective(good: GoodSelector(metric: "api.requests.ok"))])
        _ = e.ingest(
            [
                Event(metric: "api.requests", value: 100, kind: .counter, time: 990, sampleRate: 0.5),  // 200 requests
                Event(metric: "api.requests.ok", value: 199, kind: .counter, time: 991),
            ],
            now: 1000
        )
        #expect(e.status(at: 1000).first?.value == 0.995)
    }

    @Test func countsAreSummedOverTheWindowNotPerBucketRatiosAveraged() {
        var e = Engine(objectives: [objective(good: GoodSelector(metric: "api.requests", match: ["status": "=~2.."]))])
        // One bucket with 1 good of 1, another (an hour's 1/60 later) with 0 good of 99.
        _ = e.ingest(requests("200", 1, at: 100) + requests("500", 99, at: 400), now: 500)
        #expect(e.status(at: 500).first?.value == 0.01)  // an average of bucket ratios would say 0.5
    }

    @Test func selectorsFilterTheTotalToo() {
        var e = Engine(objectives: [
            objective(match: ["service": "api"], good: GoodSelector(metric: "api.requests", match: ["status": "200"]))
        ])
        _ = e.ingest(
            requests("200", 9, at: 10) + requests("500", 1, at: 10) + requests("500", 90, at: 10, service: "batch"),
            now: 20
        )
        #expect(e.status(at: 20).first?.value == 0.9)
    }

    @Test func errorBudgetAndBurnRateInEntriesAndStatus() {
        var e = Engine(objectives: [objective(good: GoodSelector(metric: "api.requests", match: ["status": "!~5.."]))])
        // 10,000 requests, 30 failed, against 99.9%: a budget of 10, overspent by 20, burning 3×.
        _ = e.ingest(requests("200", 9970, at: 990) + requests("500", 30, at: 991), now: 1000)
        let t = e.evaluate(at: 1000)
        let budget = t.first?.errorBudget(.atLeast)
        #expect(abs((budget?.budget ?? 0) - 10) < 1e-9)
        #expect(abs((budget?.remaining ?? 0) + 20) < 1e-9)
        #expect(abs((budget?.burnRate ?? 0) - 3) < 1e-9)
        let o = e.objectives[0]
        let fields = Dictionary(AlertEntry.fields(t[0], o), uniquingKeysWith: { a, _ in a })
        #expect(fields["SLAWATCH_ERROR_BUDGET"] == "10")
        #expect(fields["SLAWATCH_BUDGET_REMAINING"] == "-20")
        #expect(fields["SLAWATCH_BURN_RATE"] == "3")
        let status = e.status(at: 1000).first
        #expect(abs((status?.burnRate ?? 0) - 3) < 1e-9)
        #expect(abs((status?.errorBudget ?? 0) - 10) < 1e-9)
    }

    /// "At most 0.1 %" with `good` selecting the 5xx is the promise above stated the other way:
    /// the same budget, remaining and burn rate, in entries and status.
    @Test func anAtMostRatioHasTheBudgetOfItsAtLeastTwin() {
        var o = objective(good: GoodSelector(metric: "api.requests", match: ["status": "=~5.."]), baseline: 0.001)
        o.direction = .atMost
        var e = Engine(objectives: [o])
        _ = e.ingest(requests("200", 9970, at: 990) + requests("500", 30, at: 991), now: 1000)
        let t = e.evaluate(at: 1000)
        #expect(t.first?.kind == .breach)
        let fields = Dictionary(AlertEntry.fields(t[0], e.objectives[0]), uniquingKeysWith: { a, _ in a })
        #expect(fields["SLAWATCH_ERROR_BUDGET"] == "10")
        #expect(fields["SLAWATCH_BUDGET_REMAINING"] == "-20")
        #expect(fields["SLAWATCH_BURN_RATE"] == "3")
        let status = e.status(at: 1000).first
        #expect(abs((status?.errorBudget ?? 0) - 10) < 1e-9)
        #expect(abs((status?.budgetRemaining ?? 0) + 20) < 1e-9)
        #expect(status?.burnRate == 3)
        // Within the budget: 5 errors leave 5 of 10, burning at half the rate.
        var f = Engine(objectives: [o])
        _ = f.ingest(requests("200", 9995, at: 990) + requests("500", 5, at: 991), now: 1000)
        #expect(f.status(at: 1000).first?.budgetRemaining == 5)
        #expect(f.status(at: 1000).first?.burnRate == 0.5)
    }

    @Test func minEventsKeepsOneFailureOnAQuietServiceFromPaging() {
        var o = objective(good: GoodSelector(metric: "api.requests", match: ["status": "!~5.."]))
        o.minEvents = 100
        var e = Engine(objectives: [o])
        _ = e.ingest(requests("200", 3, at: 990) + requests("503", 1, at: 991), now: 1000)
        #expect(e.status(at: 1000).first?.value == 0.75)
        #expect(e.evaluate(at: 1000).isEmpty)  // 4 requests: not judged
        _ = e.ingest(requests("503", 100, at: 995), now: 1000)
        #expect(e.evaluate(at: 1001).map(\.kind) == [.breach])
    }

    @Test func matcherSyntax() throws {
        #expect(try LabelMatcher(name: "s", text: "!~5..").matches("503") == false)
        #expect(try LabelMatcher(name: "s", text: "!~5..").matches("1503") == true)  // anchored
        #expect(try LabelMatcher(name: "s", text: "!~5..").matches(nil) == true)
        #expect(try LabelMatcher(name: "s", text: "=~2..|3..").matches("302") == true)
        #expect(try LabelMatcher(name: "s", text: "!=GET").matches("POST") == true)
        #expect(try LabelMatcher(name: "s", text: "GET").matches("GET") == true)
        #expect(throws: LabelMatcher.BadRegex.self) { try LabelMatcher(name: "s", text: "=~(") }
        // Found by the regex fuzz target (Fuzz/corpus/regex/combining-mark): a regex that starts
        // with a combining mark fuses with `~` into one character; it is still a regex, and
        // `!~` is still its negation.
        let combining = try LabelMatcher(name: "s", text: "=~\u{301}k")
        #expect(combining.op == .matches)
        #expect(combining.value == "\u{301}k")
        #expect(combining.matches("\u{301}k"))
        #expect(!combining.matches("k"))
        #expect(try LabelMatcher(name: "s", text: "!~\u{301}k").matches("k"))
        #expect(try LabelMatcher(name: "s", text: "!=\u{301}").op == .notEqual)
    }

    @Test func configRules() throws {
        let ok = try ObjectivesConfig.parse(
            """
            slas:
              - name: api
                provider: platform
                customer: web
                objectives:
                  - name: availability
                    metric: api.requests
                    sli: ratio
                    good: {labels: {status: "!~5.."}}
                    window: 30d
                    direction: at_least
                    baseline: 0.999
            """,
            file: "api.yaml"
        )
        #expect(ok.first?.good == GoodSelector(metric: "api.requests", match: ["status": "!~5.."]))
        #expect(ok.first?.sli == .ratio)
        func errors(_ body: String) -> [ConfigError] {
            let text = """
                slas:
                  - name: api
                    provider: platform
                    customer: web
                    objectives:
                      - name: a
                        metric: api.requests
                        window: 30d
                        direction: at_least
                \(body)
                """
            return objectiveErrors(text, file: "api.yaml")
        }
        #expect(errors("        sli: ratio\n        baseline: 0.99").map(\.key) == ["slas[0].objectives[0].good"])
        #expect(
            errors("        sli: ratio\n        baseline: 99.9\n        good: {labels: {status: \"200\"}}").map(\.key)
                == ["slas[0].objectives[0].baseline"]
        )
        #expect(
            errors("        sli: ratio\n        baseline: 0.99\n        good: {labels: {status: \"=~(\"}}").map(\.key)
                == ["slas[0].objectives[0].good.labels.status"]
        )
        #expect(
            errors("        sli: count\n        baseline: 5\n        good: {metric: x}").map(\.key)
                == ["slas[0].objectives[0].good"]
        )
    }
}
