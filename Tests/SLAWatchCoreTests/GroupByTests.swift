import Foundation
import Testing

@testable import SLAWatchCore

/// `group_by`: one objective, one instance per customer, each with its own window, state and
/// journal entries.
@Suite struct GroupByTests {
    private func objective(maxInstances: Int = 100) -> Objective {
        var o = Objective(
            name: "latency",
            sla: SLA(name: "api", provider: "platform", customer: "customers"),
            metric: "lat",
            match: ["service": "api"],
            sli: .avg,
            window: .rolling(seconds: 300),
            direction: .atMost,
            baseline: Baseline(value: 300, kind: .fixed, source: "300"),
            nodata: .ok,
            unit: "ms"
        )
        o.groupBy = ["customer"]
        o.maxInstances = maxInstances
        return o
    }

    private func lat(_ v: Double, _ customer: String?, at t: Double, service: String = "api") -> Event {
        var labels = ["service": service]
        if let customer { labels["customer"] = customer }
        return Event(metric: "lat", value: v, kind: .distribution, labels: labels, time: t)
    }

    @Test func eachCustomerHasItsOwnStateAndEntries() throws {
        var e = Engine(objectives: [objective()])
        _ = e.ingest(
            [lat(500, "acme", at: 10), lat(100, "globex", at: 10), lat(900, "initech", at: 10, service: "web")],
            now: 10
        )
        let t = e.evaluate(at: 20)
        #expect(t.map(\.objective) == ["latency{customer=acme}"])
        #expect(t.map(\.kind) == [.breach])
        let status = e.status(at: 20)
        #expect(status.map(\.objective) == ["latency{customer=acme}", "latency{customer=globex}"])
        #expect(status.map(\.value) == [500, 100])
        // The entry names the objective and the instance separately.
        let o = try #require(e.objective(named: "latency{customer=acme}"))
        let f = Dictionary(AlertEntry.fields(t[0], o), uniquingKeysWith: { a, _ in a })
        #expect(f["SLAWATCH_OBJECTIVE"] == "latency")
        #expect(f["SLAWATCH_INSTANCE"] == "customer=acme")
        #expect(f["MESSAGE"]?.hasPrefix("latency{customer=acme} breached: 500 ms") == true)
        // acme recovers on its own; globex is untouched.
        _ = e.ingest([lat(100, "acme", at: 400)], now: 400)
        #expect(e.evaluate(at: 400).map { "\($0.objective) \($0.kind)" } == ["latency{customer=acme} recovery"])
    }

    /// Only events of the objective's metric make instances: label sets that other metrics'
    /// events carry in the same batch (or no labels at all) create none and take no slot of
    /// `max_instances` (they once made `latency{customer=}`, which refused a real customer).
    @Test func otherMetricsLabelSetsCreateNoInstance() {
        var e = Engine(objectives: [objective(maxInstances: 2)])
        let r = e.ingest(
            [
                Event(metric: "requests", value: 1, kind: .counter, labels: ["status": "200"], time: 10),
                Event(metric: "queue", value: 3, kind: .gauge, time: 10),
                lat(500, "acme", at: 10),
                Event(metric: "requests", value: 1, kind: .counter, labels: ["customer": "initech"], time: 10),
                lat(100, "globex", at: 11),
            ],
            now: 11
        )
        #expect(r.rejected.isEmpty)
        #expect(e.status(at: 11).map(\.objective) == ["latency{customer=acme}", "latency{customer=globex}"])
        #expect(e.evaluate(at: 12).map { "\($0.objective) \($0.kind)" } == ["latency{customer=acme} breach"])
    }

    /// A ratio with its good events in another metric: a label set makes an instance only as
    /// its own metric's event matches (a good-metric event is judged by the good selectors, not
    /// by the total's), so no instance comes from a label set that counts nowhere.
    @Test func aRatiosGoodMetricMakesInstancesOnlyThroughTheGoodSelectors() {
        var o = Objective(
            name: "delivery",
            sla: SLA(name: "mail", provider: "platform", customer: "customers"),
            metric: "mail.sent",
            match: ["region": "eu"],
            sli: .ratio,
            window: .rolling(seconds: 300),
            direction: .atLeast,
            baseline: Baseline(value: 0.9, kind: .fixed, source: "0.9"),
            nodata: .ok,
            good: GoodSelector(metric: "mail.delivered", match: ["result": "ok"])
        )
        o.groupBy = ["customer"]
        o.maxInstances = 2
        var e = Engine(objectives: [o])
        func ev(_ metric: String, _ labels: [String: String]) -> Event {
            Event(metric: metric, value: 1, kind: .counter, labels: labels, time: 10)
        }
        let r = e.ingest(
            [
                ev("mail.sent", ["region": "eu", "customer": "acme"]),
                ev("mail.delivered", ["region": "eu", "customer": "acme", "result": "ok"]),
                // Matches the total's selector, but it is a good-metric event that is not good:
                // counts nowhere, makes no instance.
                ev("mail.delivered", ["region": "eu", "customer": "zzz", "result": "bounced"]),
                // Another region: not the objective's.
                ev("mail.sent", ["region": "us", "customer": "yyy"]),
                ev("mail.sent", ["region": "eu", "customer": "globex"]),
            ],
            now: 10
        )
        #expect(r.rejected.isEmpty)
        #expect(e.status(at: 11).map(\.objective) == ["delivery{customer=acme}", "delivery{customer=globex}"])
        #expect(e.status(at: 11).map(\.value) == [1, 0])
    }

    @Test func maxInstancesRefusesNewValuesWithOneEntry() {
        var e = Engine(objectives: [objective(maxInstances: 2)])
        let r = e.ingest([lat(1, "a", at: 10), lat(1, "b", at: 10), lat(1, "c", at: 10), lat(1, "d", at: 11)], now: 11)
        #expect(r.rejected.map(\.reason) == [.instanceLimit, .instanceLimit])
        #expect(r.rejected.map(\.index) == [2, 3])
        let t = e.evaluate(at: 20)
        #expect(t.map(\.kind) == [.instanceLimit])
        #expect(t.first?.refusedInstance == "customer=c")
        let f = Dictionary(AlertEntry.fields(t[0], e.objectives[0]), uniquingKeysWith: { a, _ in a })
        #expect(f["MESSAGE_ID"] == MessageID.instanceLimit)
        #expect(f["SLAWATCH_MAX_INSTANCES"] == "2")
        // Reported once: more refusals later write nothing new.
        _ = e.ingest([lat(1, "e", at: 30)], now: 30)
        #expect(e.evaluate(at: 40).isEmpty)
        // A missing label is a value of its own (empty), like Prometheus.
        var f2 = Engine(objectives: [objective()])
        _ = f2.ingest([lat(1, nil, at: 10)], now: 10)
        #expect(f2.status(at: 10).map(\.objective) == ["latency{customer=}"])
    }

    @Test func instancesSurviveARestartAndAReload() {
        var a = Engine(objectives: [objective()])
        _ = a.ingest([lat(500, "acme", at: 10), lat(100, "globex", at: 10)], now: 10)
        _ = a.evaluate(at: 20)
        var b = Engine(objectives: [objective()])
        b.restore(a.allSnapshots())
        #expect(b.status(at: 30).map(\.objective) == ["latency{customer=acme}", "latency{customer=globex}"])
        #expect(b.status().first?.state == .breached)
        #expect(b.evaluate(at: 30).isEmpty)  // no second breach entry
        _ = b.ingest([lat(100, "acme", at: 400)], now: 400)
        #expect(b.evaluate(at: 400).map(\.kind) == [.recovery])
    }

    @Test func aStagedFileCreatesInstancesToo() {
        var e = Engine(objectives: [objective()])
        e.beginStaging()
        _ = e.ingest(EventBatch([lat(700, "acme", at: 10)]), now: 10, staged: true)
        #expect(e.status(at: 10).first?.value == nil)  // not visible before the commit
        e.commitStaging(now: 11)
        #expect(e.status(at: 11).first?.value == 700)
    }

    @Test func configKeys() throws {
        let text = """
            slas:
              - name: s
                provider: p
                customer: c
                objectives:
                  - {name: a, metric: m, sli: avg, window: 5m, direction: at_most, baseline: 1, group_by: [customer], max_instances: 50}
                  - {name: b, metric: m, sli: avg, window: 5m, direction: at_most, baseline: 1, group_by: [x, x], max_instances: 0}
            """
        let errors = objectiveErrors(text, file: "g.yaml")
        #expect(
            Set(errors.map(\.key)) == [
                "slas[0].objectives[1].group_by", "slas[0].objectives[1].max_instances",
            ]
        )
        let ok = try ObjectivesConfig.parse(
            String(text.split(separator: "\n").prefix(6).joined(separator: "\n")),
            file: "g.yaml"
        )
        #expect(ok.first?.groupBy == ["customer"])
        #expect(ok.first?.maxInstances == 50)
    }
}

/// Per-customer targets of one `group_by` objective: a corporate 99.5 % with 99.95 % for acme.
@Suite struct LabelBaselineTests {
    static let yaml = """
        slas:
          - name: api
            provider: platform
            customer: all
            objectives:
              - name: availability
                metric: api.requests
                sli: ratio
                good: {labels: {status: "!~5.."}}
                group_by: [customer]
                baselines: {customer: {acme: 99.95%, default: 99.5%}}
                window: 1h
                direction: at_least
                nodata: ok
        """

    @Test func eachCustomerIsJudgedByItsOwnTarget() throws {
        let o = try #require(try ObjectivesConfig.parse(Self.yaml, file: "api.yaml").first)
        #expect(o.baseline.value == 0.995)
        #expect(
            o.labelBaselines == LabelBaselines(label: "customer", values: ["acme": 0.9995], sources: ["acme": "99.95%"])
        )
        var e = Engine(objectives: [o])
        let t0 = 1_800_000_000.0
        // Both customers at 99.9 %: 999 good and 1 failure of 1,000.
        var events: [Event] = []
        for c in ["acme", "globex"] {
            events.append(
                Event(
                    metric: "api.requests",
                    value: 999,
                    kind: .counter,
                    labels: ["customer": c, "status": "200"],
                    time: t0
                )
            )
            events.append(
                Event(
                    metric: "api.requests",
                    value: 1,
                    kind: .counter,
                    labels: ["customer": c, "status": "500"],
                    time: t0
                )
            )
        }
        _ = e.ingest(events, now: t0)
        let t = e.evaluate(at: t0 + 1)
        #expect(t.filter { $0.kind == .breach }.map(\.objective) == ["availability{customer=acme}"])
        #expect(t.first { $0.kind == .breach }?.baseline == 0.9995)
        let status = e.status(at: t0 + 1)
        #expect(status.first { $0.objective == "availability{customer=globex}" }?.baseline == 0.995)
        #expect(status.first { $0.objective == "availability{customer=acme}" }?.baseline == 0.9995)
    }

    @Test func badPerLabelBaselinesNameFileLineAndKey() throws {
        let cases: [(String, String)] = [
            ("{customer: {acme: 99.95%, default: 99.5%}}", "{region: {eu: 99.9%, default: 99%}}"),
            ("{customer: {acme: 99.95%, default: 99.5%}}", "{customer: {acme: fast, default: 99%}}"),
            ("{customer: {acme: 99.95%, default: 99.5%}}", "{customer: {acme: 1.5, default: 99%}}"),
            ("{customer: {acme: 99.95%, default: 99.5%}}", "{customer: {acme: 99.9%}}"),
        ]
        let says = ["not a group_by label", "not a number or a percentage", "between 0 and 1", "missing required key"]
        for ((from, to), message) in zip(cases, says) {
            do {
                _ = try ObjectivesConfig.parse(Self.yaml.replacingOccurrences(of: from, with: to), file: "api.yaml")
                Issue.record("\(to) was accepted")
            } catch {
                let err = try #require(error.errors.first, "\(error)")
                #expect(err.message.contains(message), "\(err)")
                #expect(err.file == "api.yaml")
                #expect(err.line > 0)
            }
        }
    }
}
