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

    /// Good counted by another producer than total: 12 good of 10 is no SLI of 1.2 that meets
    /// "at least 98 %". One entry names both counts, status shows it, nothing is judged (a
    /// breach does not recover on it), and judging resumes once the window is valid again.
    @Test func moreGoodThanTotalIsNoValidSLI() throws {
        var o = objective(metric: "mail.sent", good: GoodSelector(metric: "mail.delivered", match: [:]), baseline: 0.98)
        o.nodata = .ok
        var e = Engine(objectives: [o])
        func send(_ metric: String, _ n: Int, at t: Double) -> [Event] {
            Array(repeating: Event(metric: metric, value: 1, kind: .counter, labels: [:], time: t), count: n)
        }
        _ = e.ingest(send("mail.sent", 10, at: 100) + send("mail.delivered", 12, at: 100), now: 100)
        let t = e.evaluate(at: 101)
        #expect(t.map(\.kind) == [.ratioInvalid])
        let f = Dictionary(AlertEntry.fields(t[0], e.objectives[0]), uniquingKeysWith: { a, _ in a })
        #expect(f["MESSAGE_ID"] == MessageID.ratioInvalid)
        #expect(f["SLAWATCH_GOOD_EVENTS"] == "12")
        #expect(f["SLAWATCH_TOTAL_EVENTS"] == "10")
        #expect(f["SLAWATCH_ERROR_BUDGET"] == nil)
        #expect(f["PRIORITY"] == "4")
        #expect(f["MESSAGE"]?.contains("holds 12 good events but only 10 in all") == true)
        let s = try #require(e.status(at: 101).first)
        #expect(s.value == nil)
        #expect(s.invalid == "12 good events of 10 in all")
        #expect(s.errorBudget == nil)
        #expect(s.state == .ok)
        // One entry per invalid spell.
        #expect(e.evaluate(at: 102).isEmpty)
        // Valid again (the total catches up, 12 of 20): judged, and 60 % breaches.
        _ = e.ingest(send("mail.sent", 10, at: 103), now: 103)
        #expect(e.evaluate(at: 104).map(\.kind) == [.breach])
        #expect(e.status(at: 104).first?.invalid == nil)
        // Breached, then invalid again (a burst of late good events): no recovery on 1.x.
        _ = e.ingest(send("mail.delivered", 30, at: 105), now: 105)
        #expect(e.evaluate(at: 106).map(\.kind) == [.ratioInvalid])
        #expect(e.status(at: 106).first?.state == .breached)
    }

    /// The same for "at most": 5xx counted as 12 of 10 requests is not a burn of 1.2 / target,
    /// and no burn-rate rule fires on it.
    @Test func moreSelectedThanTotalFiresNoBurnRate() {
        var o = objective(metric: "req", good: GoodSelector(metric: "req.errors", match: [:]), baseline: 0.01)
        o.direction = .atMost
        o.nodata = .ok
        o.burnRateAlerts = [BurnRateRule(factor: 14.4, long: 3600, short: 300)]
        var e = Engine(objectives: [o])
        let events =
            Array(repeating: Event(metric: "req", value: 1, kind: .counter, labels: [:], time: 100), count: 10)
            + Array(repeating: Event(metric: "req.errors", value: 1, kind: .counter, labels: [:], time: 100), count: 12)
        _ = e.ingest(events, now: 100)
        #expect(e.evaluate(at: 101).map(\.kind) == [.ratioInvalid])
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
        // A ratio baseline written as a percentage, as SLAs write it; only ratios take one.
        #expect(
            errors("        sli: ratio\n        baseline: 99.9%\n        good: {labels: {status: \"200\"}}").isEmpty
        )
        #expect(
            errors("        sli: ratio\n        baseline: 101%\n        good: {labels: {status: \"200\"}}").map(\.key)
                == ["slas[0].objectives[0].baseline"]
        )
        let percent = errors("        sli: count\n        baseline: 95%")
        #expect(percent.map(\.key) == ["slas[0].objectives[0].baseline"])
        #expect(percent.first?.message.contains("only a ratio SLI takes") == true)
    }

    @Test func aPercentageBaselineIsTheRatioItSays() throws {
        let o = try ObjectivesConfig.parse(
            """
            slas:
              - name: api
                provider: platform
                customer: web
                objectives:
                  - {name: availability, metric: api.requests, sli: ratio, good: {labels: {status: "!~5.."}}, window: 30d, direction: at_least, baseline: 99.95 %}
            """,
            file: "api.yaml"
        )
        #expect(o.first?.baseline.value == 0.9995)
        #expect(o.first?.baseline.source == "99.95 %")
        // Exactly the number 0.999 is (99.9 / 100 would be 0.9990000000000001).
        let nines = try ObjectivesConfig.parse(
            """
            slas:
              - name: api
                provider: platform
                customer: web
                compliance_target: 99.9%
                objectives:
                  - {name: a, metric: r, sli: ratio, good: {metric: g}, window: 30d, direction: at_least, baseline: 99.9%}
            """,
            file: "api.yaml"
        )
        #expect(nines.first?.baseline.value == 0.999)
        #expect(nines.first?.sla.complianceTarget == 0.999)
    }
}
