import Foundation
import Testing

@testable import SLAWatchCore

/// Adaptive baselines: learned from the SLI's own history, per season slot.
@Suite struct AdaptiveBaselineTests {
    private func objective(_ rule: AdaptiveRule, forSeconds: Double = 0) -> Objective {
        Objective(
            name: "orders",
            sla: SLA(name: "shop", provider: "ops", customer: "sales"),
            metric: "orders",
            sli: .sum,
            window: .rolling(seconds: 60),
            direction: .atLeast,
            baseline: Baseline(value: 0, kind: .adaptive, source: rule.description, adaptive: rule),
            forSeconds: forSeconds,
            nodata: .ok
        )
    }

    /// Feeds `perMinute[k]` orders in minute k and evaluates every 10 s; returns the transitions.
    private func run(_ engine: inout Engine, minutes perMinute: [Double], from start: Double = 600) -> [Transition] {
        var out: [Transition] = []
        for (k, n) in perMinute.enumerated() {
            let t0 = start + Double(k) * 60
            _ = engine.ingest([Event(metric: "orders", value: n, kind: .counter, time: t0 + 1)], now: t0 + 1)
            for s in stride(from: 10.0, through: 60, by: 10) { out += engine.evaluate(at: t0 + s) }
        }
        return out
    }

    @Test func learnsThenJudgesAgainstTheMedianTimesTheFactor() {
        let rule = AdaptiveRule(statistic: 0.5, periods: 3, every: 60, factor: 0.5, minHistory: 2)
        var engine = Engine(objectives: [objective(rule)])
        // Untrusted at first: a minute of zero orders is not judged.
        var t = run(&engine, minutes: [100, 0])
        #expect(t.isEmpty)
        // History 100, 0, 100, 120 (last 3: 0, 100, 120 → median 100 → baseline 50).
        t = run(&engine, minutes: [100, 120], from: 720)
        #expect(engine.status().first?.baseline == 50)
        t = run(&engine, minutes: [40], from: 840)
        #expect(t.map(\.kind) == [.breach])
        #expect(t.first?.baseline == 50)
        #expect(t.first?.value == 40)
        // 40 joins the history (100, 120, 40 → median 100): 60 orders are fine again.
        t = run(&engine, minutes: [60], from: 900)
        #expect(t.map(\.kind) == [.recovery])
    }

    @Test func floorAndPercentileStatistic() {
        let rule = AdaptiveRule(statistic: 0.25, periods: 4, every: 60, factor: 1, floor: 30, minHistory: 4)
        #expect(rule.baseline([10, 20, 30, 40]) == 30)  // p25 = 10, floored at 30
        #expect(rule.baseline([100, 200, 300, 400]) == 100)
        #expect(rule.baseline([100, 200, 300]) == nil)  // untrusted
        #expect(rule.description == "p25 of the last 4 1m samples, at least 30")
    }

    @Test func seasonSlotsFollowTheLocalWeek() {
        let utc = TimeZone(identifier: "UTC")!
        let rule = AdaptiveRule(every: 3600, season: .hourOfWeek)
        // 1970-01-05 was a Monday.
        #expect(rule.slot(4 * 86400 + 1800, zone: utc) == 0)
        #expect(rule.slot(4 * 86400 + 86400 + 3 * 3600 + 5, zone: utc) == 27)
        let paris = TimeZone(identifier: "Europe/Paris")!
        // 2026-03-30 (a Monday) 00:30 in Paris is Sunday 22:30 UTC.
        let t = RFC3339.parse("2026-03-29T22:30:00Z")!
        #expect(rule.slot(t, zone: paris) == 0)
        #expect(AdaptiveRule(every: 86400, season: .dayOfWeek).slot(t, zone: utc) == 6)
    }

    @Test func restartKeepsTheHistory() {
        let rule = AdaptiveRule(statistic: 0.5, periods: 3, every: 60, factor: 0.5, minHistory: 2)
        let minutes: [Double] = [100, 90, 110, 100, 30, 30, 100, 100, 20, 100]
        var straight = Engine(objectives: [objective(rule)])
        let expected = run(&straight, minutes: minutes)
        for cut in 1..<minutes.count {
            var first = Engine(objectives: [objective(rule)])
            var got = run(&first, minutes: Array(minutes[..<cut]))
            var second = Engine(objectives: [objective(rule)])
            second.restore(first.allSnapshots())
            got += run(&second, minutes: Array(minutes[cut...]), from: 600 + Double(cut) * 60)
            #expect(got == expected, "restart after minute \(cut)")
        }
        #expect(expected.filter { $0.kind == .breach }.count == 2)
    }

    /// Median ∓ k scaled MADs: scale-free, on the right side for either direction, and right
    /// for negative values (where a factor below 1 would raise an "at least" bar).
    @Test func deviationFormAroundTheMedian() {
        var rule = AdaptiveRule(every: 60, minHistory: 5)
        rule.deviations = 3
        // Median 11, absolute deviations 0, 1, 1, 2, 2 → MAD 1, scaled 1.4826.
        let history: [Double] = [10, 12, 11, 13, 9]
        #expect(abs((rule.baseline(history, direction: .atLeast) ?? 0) - (11 - 3 * 1.4826)) < 1e-9)
        #expect(abs((rule.baseline(history, direction: .atMost) ?? 0) - (11 + 3 * 1.4826)) < 1e-9)
        #expect(abs((rule.baseline(history.map { -$0 }, direction: .atLeast) ?? 0) - (-11 - 3 * 1.4826)) < 1e-9)
        #expect(rule.baseline(Array(history.prefix(4)), direction: .atLeast) == nil)
        #expect(rule.description == "median of the last 4 1m samples ∓ 3 scaled MADs")
    }

    /// A slot without enough history falls back to a coarser season: hour of the week → hour
    /// of the day → the whole history, and says which.
    @Test func aSlotWithoutHistoryFallsBackToACoarserSeason() {
        var rule = AdaptiveRule(statistic: 0.5, periods: 4, every: 3600, season: .hourOfWeek, minHistory: 3)
        let history0: [Int: [Double]] = [9: [100], 33: [110, 120], 57: [130]]
        // Without `fallback`, a slot waits for its own history.
        #expect(rule.baseline(history0, slot: 9, direction: .atLeast).season == nil)
        rule.fallback = true
        // Monday 09:00 is slot 9; Tuesday and Wednesday 09:00 are 33 and 57.
        let history: [Int: [Double]] = [9: [100], 33: [110, 120], 57: [130], 10: [5, 6, 7]]
        let monday = rule.baseline(history, slot: 9, direction: .atLeast)
        #expect(monday.season == .hourOfDay)
        #expect(monday.value == 110)  // median of 100, 110, 120, 130 (nearest rank)
        // Monday 10:00 holds three samples of its own.
        #expect(rule.baseline(history, slot: 10, direction: .atLeast).season == .hourOfWeek)
        #expect(rule.baseline(history, slot: 10, direction: .atLeast).value == 6)
        // Friday 23:00: nothing at that hour of any day. The whole history stands in only once
        // it covers a day (24 hourly samples); 7 do not.
        #expect(rule.baseline(history, slot: 119, direction: .atLeast).season == nil)
        var day = history
        for h in 11..<24 { day[h] = [Double(200 + h)] }  // Monday 11:00 … 23:00
        day[0] = [50]
        day[1] = [300]
        day[2] = [40]
        day[3] = [60]
        let late = rule.baseline(day, slot: 119, direction: .atLeast)
        #expect(late.season == AdaptiveRule.Season.none)
        // The whole history's median (212 of 24 samples) is above values seen at other hours:
        // it never judges a value inside the range seen, so the bar is the lowest one, 5.
        #expect(late.value == 5)
        #expect(rule.baseline(day, slot: 119, direction: .atMost).value == 300)
        #expect(rule.baseline([:], slot: 9, direction: .atLeast).season == nil)
    }

    /// The deviation form's spread is the largest of the slot's own scaled MAD, the pooled one
    /// (every sample's distance from its own slot's median) and 1 % of the median: a slot whose
    /// few samples happen to agree does not make every small wobble a breach.
    @Test func theDeviationSpreadIsPooledAcrossSlots() throws {
        var rule = AdaptiveRule(periods: 8, every: 3600, season: .hourOfDay, minHistory: 3)
        rule.deviations = 3
        // Slot 9's samples agree exactly (its own MAD is 0); slots 10 and 11 stray.
        let history: [Int: [Double]] = [9: [100, 100, 100], 10: [50, 52, 48, 54, 46], 11: [10, 14, 6, 18, 2]]
        // Residuals: slot 9: 0 0 0; slot 10 (median 50): 0 2 2 4 4; slot 11 (median 10): 0 4 4 8 8.
        // Sorted: 0 0 0 0 0 2 2 4 4 4 4 8 8 → median 2 → pooled spread 2 × 1.4826.
        #expect(abs(rule.pooledSpread(history) - 2 * 1.4826) < 1e-9)
        let nine = rule.baseline(history, slot: 9, direction: .atLeast)
        #expect(nine.season == .hourOfDay)
        #expect(abs((nine.value ?? 0) - (100 - 3 * 2 * 1.4826)) < 1e-9)
        // Slot 11's own MAD (4 × 1.4826) is larger than the pooled one and wins.
        #expect(abs((rule.baseline(history, slot: 11, direction: .atMost).value ?? 0) - (10 + 3 * 4 * 1.4826)) < 1e-9)
        // A series without noise anywhere: the spread is 1 % of the median.
        let flat: [Int: [Double]] = [9: [-200, -200, -200]]
        #expect(abs((rule.baseline(flat, slot: 9, direction: .atLeast).value ?? 0) - (-200 - 3 * 2)) < 1e-9)
        #expect(abs((rule.baseline(flat, slot: 9, direction: .atMost).value ?? 0) - (-200 + 3 * 2)) < 1e-9)
    }

    /// `baseline: adaptive` is the documented default setting, the one scored over NAB.
    @Test func theDefaultSettingIsOneWord() throws {
        let text = """
            slas:
              - name: s
                provider: p
                customer: c
                objectives:
                  - {name: o, metric: m, sli: avg, window: 1h, direction: at_most, baseline: adaptive}
            """
        let o = try #require(try ObjectivesConfig.parse(text, file: "d.yaml").first)
        #expect(o.baseline.kind == .adaptive)
        let rule = try #require(o.baseline.adaptive)
        #expect(rule == AdaptiveRule.standard)
        #expect(rule.deviations == 6 && rule.periods == 8 && rule.every == 3600 && rule.minHistory == 3)
        #expect(rule.season == .hourOfWeek && rule.fallback)
        #expect(
            o.baseline.source
                == "median of the last 8 1h samples of the same hour of the week ∓ 6 scaled MADs, a coarser season while a slot holds fewer than 3"
        )
    }

    /// The season in force reaches status and the entries.
    @Test func theSeasonInForceIsInStatusAndEntries() throws {
        let rule = AdaptiveRule(statistic: 0.5, periods: 3, every: 60, season: .hourOfDay, factor: 0.5, minHistory: 2)
        var engine = Engine(objectives: [objective(rule)])
        let t = run(&engine, minutes: [100, 120, 110, 10])
        #expect(engine.status().first?.baselineSeason == "hour_of_day")
        let breach = try #require(t.first { $0.kind == .breach })
        let f = Dictionary(AlertEntry.fields(breach, engine.objectives[0]), uniquingKeysWith: { a, _ in a })
        #expect(f["SLAWATCH_BASELINE_SEASON"] == "hour_of_day")
    }

    @Test func configErrors() {
        func keys(_ baseline: String) -> [String] {
            let text = """
                slas:
                  - name: s
                    provider: p
                    customer: c
                    objectives:
                      - name: o
                        metric: m
                        sli: sum
                        window: 1h
                        direction: at_least
                        baseline: \(baseline)
                """
            return objectiveErrors(text).map(\.key)
        }
        #expect(keys("{adaptive: {statistic: median, periods: 4, season: hour_of_week, factor: 0.6}}").isEmpty)
        #expect(keys("{adaptive: {statistic: mode}}") == ["slas[0].objectives[0].baseline.adaptive.statistic"])
        #expect(keys("{adaptive: {season: fortnight}}") == ["slas[0].objectives[0].baseline.adaptive.season"])
        #expect(keys("{adaptive: {factor: -1}}") == ["slas[0].objectives[0].baseline.adaptive.factor"])
        #expect(keys("{adaptive: {deviations: 3, season: hour_of_week, fallback: true}}").isEmpty)
        #expect(keys("adaptive").isEmpty)
        #expect(keys("adaptiv").count == 1)
        #expect(keys("{adaptive: {fallback: maybe}}") == ["slas[0].objectives[0].baseline.adaptive.fallback"])
        #expect(
            keys("{adaptive: {deviations: 3, factor: 0.5}}") == ["slas[0].objectives[0].baseline.adaptive.deviations"]
        )
        #expect(keys("{adaptive: {deviations: -1}}") == ["slas[0].objectives[0].baseline.adaptive.deviations"])
        #expect(
            keys("{adaptive: {periods: 2, min_history: 3}}") == ["slas[0].objectives[0].baseline.adaptive.min_history"]
        )
        #expect(keys("{adaptive: true}") == ["slas[0].objectives[0].baseline.adaptive"])
    }
}
