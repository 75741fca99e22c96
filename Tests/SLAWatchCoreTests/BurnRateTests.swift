import Foundation
import Testing

@testable import SLAWatchCore

/// Multi-window multi-burn-rate alerts on a ratio objective's error budget (SRE workbook).
@Suite struct BurnRateTests {
    private func objective(minEvents: Int = 0, errorsAtMost: Bool = false) -> Objective {
        var o = Objective(
            name: "availability",
            sla: SLA(name: "api", provider: "platform", customer: "web"),
            metric: "req",
            sli: .ratio,
            window: .rolling(seconds: 30 * 86400),
            direction: .atLeast,
            baseline: Baseline(value: 0.999, kind: .fixed, source: "0.999"),
            severity: .err,
            nodata: .ok,
            good: GoodSelector(metric: "req", match: ["status": "!~5.."])
        )
        if errorsAtMost {
            // The same promise stated the other way: at most 0.1 % of the requests are 5xx.
            o.direction = .atMost
            o.baseline = Baseline(value: 0.001, kind: .fixed, source: "0.001")
            o.good = GoodSelector(metric: "req", match: ["status": "=~5.."])
        }
        o.burnRateAlerts = [
            BurnRateRule(factor: 14.4, long: 3600, short: 300, severity: .crit),
            BurnRateRule(factor: 6, long: 6 * 3600, short: 1800),
        ]
        o.minEvents = minEvents
        return o
    }

    /// `n` requests per minute, `bad` of them 503, for minutes `[from, to)`, evaluating each
    /// minute; returns the burn-rate transitions with their minute.
    private func traffic(
        _ e: inout Engine,
        from: Int,
        to: Int,
        perMinute n: Int,
        bad: Int
    ) -> [(Int, TransitionKind, String)] {
        var out: [(Int, TransitionKind, String)] = []
        for m in from..<to {
            let t = 1_000_000 + Double(m) * 60
            var events = Array(
                repeating: Event(metric: "req", value: 1, kind: .counter, labels: ["status": "200"], time: t),
                count: n - bad
            )
            events += Array(
                repeating: Event(metric: "req", value: 1, kind: .counter, labels: ["status": "503"], time: t),
                count: bad
            )
            _ = e.ingest(events, now: t)
            for x in e.evaluate(at: t + 30) where x.kind == .burnRate || x.kind == .burnRateResolved {
                out.append((m, x.kind, x.burn?.rule.id ?? ""))
            }
        }
        return out
    }

    /// Status shows each rule's burn rate over both of its windows and whether it fires (what
    /// the Prometheus exposition's `slawatch_objective_burn_rule_*` families carry).
    @Test func statusGivesEachRulesBurnRatesAndWhetherItFires() throws {
        var e = Engine(objectives: [objective()])
        _ = traffic(&e, from: 0, to: 60, perMinute: 2000, bad: 1)
        _ = traffic(&e, from: 60, to: 63, perMinute: 2000, bad: 2000)
        let now = 1_000_000 + 62 * 60 + 30.0
        let rules = try #require(e.status(at: now).first?.burnRules)
        #expect(rules.map(\.rule) == ["14.4x 1h/5m", "6x 6h/30m"])
        let fast = rules[0]
        #expect(fast.factor == 14.4)
        #expect(fast.long == 3600 && fast.short == 300)
        #expect(fast.firing)
        // 5m: minutes 58–62, 2 × 1 + 3 × 2,000 bad of 10,000: 60.02 % bad ÷ 0.1 % allowed.
        #expect(abs(try #require(fast.shortRate) - 600.2) < 1e-9)
        // 1h: the 59 whole minutes of 1-minute buckets inside it (4–62): 6,056 bad of 118,000.
        #expect(abs(try #require(fast.longRate) - 6056.0 / 118_000 / 0.001) < 1e-9)
        let slow = rules[1]
        #expect(slow.firing)
        // 6h: all 63 minutes, 6,060 bad of 126,000; 30m: minutes 33–62, 6,027 bad of 60,000.
        #expect(abs(try #require(slow.longRate) - 6060.0 / 126_000 / 0.001) < 1e-9)
        #expect(abs(try #require(slow.shortRate) - 6027.0 / 60_000 / 0.001) < 1e-9)
        // After the outage, the 5m window clears: the fast rule stops, its long window still burns.
        _ = traffic(&e, from: 63, to: 70, perMinute: 2000, bad: 0)
        let later = try #require(e.status(at: 1_000_000 + 69 * 60 + 30).first?.burnRules.first)
        #expect(!later.firing)
        #expect(later.shortRate == 0)
        #expect((later.longRate ?? 0) > 14.4)
    }

    @Test func anOutageFiresTheFastRuleAndStopsSoonAfter() {
        var e = Engine(objectives: [objective()])
        // An hour at 0.05% errors (burn 0.5): nothing.
        #expect(traffic(&e, from: 0, to: 60, perMinute: 2000, bad: 1).isEmpty)
        // A full outage: after one minute the 5m window burns 1000×/5-ish, the 1h window passes
        // 14.4× a few minutes in.
        let outage = traffic(&e, from: 60, to: 70, perMinute: 2000, bad: 2000)
        #expect(outage.map(\.1) == [.burnRate, .burnRate])
        #expect(outage.first?.2 == "14.4x 1h/5m")
        #expect(outage.first?.0 == 60)
        // Fixed: the 5m window clears after 5 minutes, so both alerts stop then (the 1h window
        // still burns high: the short window is what stops the alert).
        let after = traffic(&e, from: 70, to: 80, perMinute: 2000, bad: 0)
        #expect(after.map(\.1) == [.burnRateResolved])
        #expect(after.first?.0 == 74)
        let slower = traffic(&e, from: 80, to: 100, perMinute: 2000, bad: 0)
        #expect(slower.map(\.1) == [.burnRateResolved])
        #expect(slower.first?.2 == "6x 6h/30m")
    }

    @Test func entryFieldsAndMessage() {
        var e = Engine(objectives: [objective()])
        _ = traffic(&e, from: 0, to: 60, perMinute: 1000, bad: 0)
        let t = 1_000_000 + 60.0 * 60
        _ = e.ingest(
            Array(
                repeating: Event(metric: "req", value: 1, kind: .counter, labels: ["status": "503"], time: t),
                count: 1000
            ),
            now: t
        )
        let x = try! #require(e.evaluate(at: t + 30).first { $0.kind == .burnRate })
        let f = Dictionary(AlertEntry.fields(x, e.objectives[0]), uniquingKeysWith: { a, _ in a })
        #expect(f["MESSAGE_ID"] == MessageID.burnRate)
        #expect(f["PRIORITY"] == "2")  // the rule's severity: crit
        #expect(f["SLAWATCH_BURN_RULE"] == "14.4x 1h/5m")
        #expect(f["SLAWATCH_BURN_RATE_SHORT"] == "200")  // 1000 bad of 5000 in 5 minutes
        #expect(f["SLAWATCH_EPISODE"]?.hasPrefix("burn-") == true)
        // 1000 bad of 59,000 in the hour (the oldest minute has left the window): 16.949×.
        #expect(
            f["MESSAGE"]
                == "availability is burning its error budget 16.949× over 1h and 200× over 5m (alert at 14.4×); at this rate the 30d budget lasts 1d18h28m48s (platform → web)"
        )
    }

    @Test func minEventsKeepsAQuietServiceFromPaging() {
        var e = Engine(objectives: [objective(minEvents: 100)])
        // 2 requests a minute, one of them failing: burn 500×, but 120 events an hour… and 10
        // minutes in only 20: nothing fires until the long window holds 100.
        let t = traffic(&e, from: 0, to: 60, perMinute: 2, bad: 1)
        #expect(t.first?.0 == 49)  // 50 minutes × 2 = 100 events
    }

    @Test func aRestartKeepsFiringAlertsAndTheirWindows() {
        var a = Engine(objectives: [objective()])
        _ = traffic(&a, from: 0, to: 62, perMinute: 2000, bad: 0)
        #expect(traffic(&a, from: 62, to: 64, perMinute: 2000, bad: 2000).map(\.1) == [.burnRate, .burnRate])
        var b = Engine(objectives: [objective()])
        b.restore(a.allSnapshots())
        #expect(b.allSnapshots().count == 5)  // the objective and its four burn windows
        // No second "fired" entry after the restart; the stop comes when the 5m window clears.
        let after = traffic(&b, from: 64, to: 70, perMinute: 2000, bad: 0)
        #expect(after.map(\.1) == [.burnRateResolved])
    }

    @Test func aFactorThatCanNeverFireIsAConfigError() {
        let text = """
            slas:
              - name: s
                provider: p
                customer: c
                objectives:
                  - name: a
                    metric: req
                    sli: ratio
                    good: {labels: {status: "!~5.."}}
                    window: 30d
                    direction: at_least
                    baseline: 0.99
                    burn_rate_alerts:
                      - {factor: 14.4, long: 1h, short: 5m}
                      - {factor: 150, long: 1h, short: 5m}
                      - {factor: 6, long: 30m, short: 6h}
            """
        let errors = objectiveErrors(text, file: "b.yaml")
        let keys = errors.map(\.key)
        #expect(
            keys == [
                "slas[0].objectives[0].burn_rate_alerts[1].factor",
                "slas[0].objectives[0].burn_rate_alerts[2].short",
            ]
        )
        #expect(errors.first?.message.contains("at most 100×") == true)

    }

    /// "At most 0.1 % errors" burns its budget exactly as "at least 99.9 % good" does: the same
    /// transitions in the same minutes, the same burn rates.
    @Test func anAtMostRatioBurnsLikeItsAtLeastTwin() throws {
        var a = Engine(objectives: [objective()])
        var b = Engine(objectives: [objective(errorsAtMost: true)])
        for (from, to, bad) in [(0, 60, 1), (60, 63, 2000), (63, 70, 0)] {
            let x = traffic(&a, from: from, to: to, perMinute: 2000, bad: bad)
            let y = traffic(&b, from: from, to: to, perMinute: 2000, bad: bad)
            #expect(x.map(\.0) == y.map(\.0))
            #expect(x.map(\.1) == y.map(\.1))
        }
        let t = 1_000_000 + 62.5 * 60.0
        let (x, y) = (try #require(a.status(at: t).first), try #require(b.status(at: t).first))
        #expect(abs((x.burnRate ?? 0) - (y.burnRate ?? -1)) < 1e-9)
        #expect(x.budgetRemaining == y.budgetRemaining)
        #expect(x.errorBudget == y.errorBudget)
    }

    /// A 100 % target leaves no budget: burn rules on it are refused with a reason, and its
    /// entries still carry budget 0 and remaining −bad.
    @Test func aHundredPercentTargetHasABudgetOfZeroAndNoBurnRules() throws {
        for (direction, baseline) in [("at_least", "1"), ("at_most", "0")] {
            let errors = objectiveErrors(
                """
                slas:
                  - name: s
                    provider: p
                    customer: c
                    objectives:
                      - {name: a, metric: req, sli: ratio, good: {labels: {status: "!~5.."}}, window: 30d,
                         direction: \(direction), baseline: "\(baseline)",
                         burn_rate_alerts: [{factor: 14.4, long: 1h, short: 5m}]}
                """,
                file: "z.yaml"
            )
            #expect(
                errors.map(\.key) == ["slas[0].objectives[0].burn_rate_alerts"],
                "\(direction) \(baseline): \(errors.map(\.message))"
            )
            #expect(errors.first?.message.contains("leaves no error budget") == true)
        }
        var o = objective()
        o.burnRateAlerts = []
        o.baseline = Baseline(value: 1, kind: .fixed, source: "1")
        var e = Engine(objectives: [o])
        let t = 1_000_000.0
        _ = e.ingest(
            Array(
                repeating: Event(metric: "req", value: 1, kind: .counter, labels: ["status": "200"], time: t),
                count: 97
            )
                + Array(
                    repeating: Event(metric: "req", value: 1, kind: .counter, labels: ["status": "503"], time: t),
                    count: 3
                ),
            now: t
        )
        let breach = try #require(e.evaluate(at: t + 1).first { $0.kind == .breach })
        let f = Dictionary(AlertEntry.fields(breach, e.objectives[0]), uniquingKeysWith: { a, _ in a })
        #expect(f["SLAWATCH_ERROR_BUDGET"] == "0")
        #expect(f["SLAWATCH_BUDGET_REMAINING"] == "-3")
        #expect(f["SLAWATCH_BURN_RATE"] == "inf")
        let status = try #require(e.status(at: t + 1).first)
        #expect(status.errorBudget == 0)
        #expect(status.budgetRemaining == -3)
        #expect(status.burnRate == nil)
    }

    /// Burn-rate rules with `group_by`: each customer's instance has its own burn windows, so
    /// one customer's outage pages for that customer only, and the windows survive a restart.
    @Test func eachGroupInstanceBurnsItsOwnBudget() throws {
        var o = objective()
        o.groupBy = ["customer"]
        o.maxInstances = 2
        func minute(_ e: inout Engine, _ m: Int, badFor: Set<String>) -> [Transition] {
            let t = 1_000_000 + Double(m) * 60
            var events: [Event] = []
            for c in ["acme", "globex", "initech"] {
                let bad = badFor.contains(c) ? 1000 : 0
                events += Array(
                    repeating: Event(
                        metric: "req",
                        value: 1,
                        kind: .counter,
                        labels: ["status": "200", "customer": c],
                        time: t
                    ),
                    count: 1000 - bad
                )
                events += Array(
                    repeating: Event(
                        metric: "req",
                        value: 1,
                        kind: .counter,
                        labels: ["status": "503", "customer": c],
                        time: t
                    ),
                    count: bad
                )
            }
            _ = e.ingest(events, now: t)
            return e.evaluate(at: t + 30).filter { $0.kind == .burnRate || $0.kind == .burnRateResolved }
        }
        var e = Engine(objectives: [o])
        for m in 0..<60 { #expect(minute(&e, m, badFor: []).isEmpty) }
        // acme and globex are the two instances (max_instances 2); initech is refused, so
        // the table holds the parent, its two burn parents, and each member with two burn
        // windows of its own... for the two rules' four window lengths.
        #expect(e.table.members[0]?.count == 2)
        #expect(e.table.burnParents[0]?.keys.sorted() == [300, 1800, 3600, 21600])
        let acme = try #require(e.table.id(named: "availability{customer=acme}"))
        #expect(e.table.burnWindows[acme]?.keys.sorted() == [300, 1800, 3600, 21600])
        #expect(e.table.id(named: "availability{customer=acme}/burn:5m") == e.table.burnWindows[acme]?[300])
        // acme fails entirely for a minute: acme's fast rule fires; globex is quiet.
        let fired = minute(&e, 60, badFor: ["acme"])
        #expect(fired.map(\.objective) == ["availability{customer=acme}", "availability{customer=acme}"])
        #expect(fired.map(\.kind) == [.burnRate, .burnRate])
        // 1000 bad of acme's 59,000 in the hour (its oldest minute has left the window):
        // 16.949× over 1h; 1000 of 5000 over 5m: 200×.
        let fast = try #require(fired.first { $0.burn?.rule.id == "14.4x 1h/5m" })
        #expect(abs((fast.burn?.long ?? 0) - 1000.0 / 59_000 / 0.001) < 1e-9)
        #expect(abs((fast.burn?.short ?? 0) - 200) < 1e-9)
        let f = Dictionary(
            AlertEntry.fields(fast, try #require(e.objective(named: fast.objective))),
            uniquingKeysWith: { a, _ in a }
        )
        #expect(f["SLAWATCH_BURN_RULE"] == "14.4x 1h/5m")
        #expect(f["SLAWATCH_OBJECTIVE"] == "availability")
        #expect(f["SLAWATCH_INSTANCE"] == "customer=acme")
        // A restart keeps acme's windows and firing rules: no second "fired", the stop comes
        // when acme's 5m window clears (minute 65), globex never burned.
        var b = Engine(objectives: [o])
        b.restore(e.allSnapshots())
        #expect(b.table.id(named: "availability{customer=acme}/burn:1h") != nil)
        var after: [Transition] = []
        for m in 61..<70 { after += minute(&b, m, badFor: []) }
        #expect(after.map(\.kind) == [.burnRateResolved])
        #expect(after.map(\.objective) == ["availability{customer=acme}"])
    }

    /// With per-customer baselines and no baseline, each rule is checked against every
    /// customer's own target: 300× fires for acme (99.9 %: at most 1000×) but never for the
    /// default 99.5 % (at most 200×).
    @Test func perCustomerTargetsBoundTheFactorEach() {
        let errors = objectiveErrors(
            """
            slas:
              - name: s
                provider: p
                customer: c
                objectives:
                  - {name: a, metric: req, sli: ratio, good: {labels: {status: "!~5.."}}, window: 30d,
                     direction: at_least, group_by: [customer], baselines: {customer: {acme: 99.9%, default: 99.5%}},
                     burn_rate_alerts: [{factor: 14.4, long: 1h, short: 5m}, {factor: 300, long: 1h, short: 5m}]}
            """,
            file: "b.yaml"
        )
        #expect(errors.map(\.key) == ["slas[0].objectives[0].burn_rate_alerts[1].factor"])
        #expect(
            errors.first?.message
                == "a burn rate of 300 can never happen for customer=default (target 0.995): even 100% bad events burn at most 200×"
        )
    }
}
