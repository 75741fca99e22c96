import Foundation
import Testing

@testable import SLAWatchCore

private let sla = SLA(name: "leads-to-sales", provider: "marketing", customer: "sales")

private func objective(
    _ name: String,
    metric: String,
    match: [String: String] = [:],
    sli: SLIKind,
    window: WindowSpec,
    zone: String = "UTC",
    direction: Direction,
    baseline: Double,
    forSeconds: Double = 0,
    late: Double = 0,
    nodata: NodataPolicy = .alert
) -> Objective {
    Objective(
        name: name,
        sla: sla,
        metric: metric,
        match: match,
        sli: sli,
        window: window,
        timeZone: zone,
        direction: direction,
        baseline: Baseline(value: baseline, kind: .fixed, source: "\(baseline)"),
        forSeconds: forSeconds,
        lateTolerance: late,
        nodata: nodata
    )
}

/// The parts of a transition the scenarios pin down.
private struct Step: Equatable, CustomStringConvertible {
    var kind: TransitionKind
    var from: AlertState
    var to: AlertState
    var at: Double
    var value: Double?
    var episode: String?

    init(
        _ kind: TransitionKind,
        _ from: AlertState,
        _ to: AlertState,
        at: Double,
        value: Double?,
        episode: String? = nil
    ) {
        self.kind = kind
        self.from = from
        self.to = to
        self.at = at
        self.value = value
        self.episode = episode
    }

    init(_ t: Transition) {
        self.init(t.kind, t.from, t.to, at: t.at, value: t.value, episode: t.episode)
    }

    var description: String {
        "\(kind) \(from)→\(to) at \(Int64(at)) value \(value.map { "\($0)" } ?? "nil") episode \(episode ?? "nil")"
    }
}

private let t0 = 1_700_000_000.0

private func counts(_ metric: String, _ n: Int, at t: Double) -> [Event] {
    Array(repeating: Event(metric: metric, value: 1, kind: .counter, time: t), count: n)
}

@Suite struct ForDelayTests {
    @Test func pendingThenBreachThenRecoveryWithEpisodes() {
        let o = objective(
            "errors",
            metric: "err",
            sli: .count,
            window: .rolling(seconds: 10),
            direction: .atMost,
            baseline: 5,
            forSeconds: 5,
            nodata: .ok
        )
        var engine = Engine(objectives: [o])
        func ev(_ t: Double) -> [Step] { engine.evaluate(at: t).map(Step.init) }

        #expect(ev(t0) == [])
        #expect(engine.ingest(counts("err", 6, at: t0 + 1), now: t0 + 1).accepted == 6)
        #expect(ev(t0 + 1) == [Step(.pending, .ok, .pending, at: t0 + 1, value: 6)])
        #expect(ev(t0 + 3) == [])
        #expect(ev(t0 + 5) == [])  // bad for 4 s of the 5 s
        let ep1 = "\(Int64(t0) + 6)-1"
        #expect(ev(t0 + 6) == [Step(.breach, .pending, .breached, at: t0 + 6, value: 6, episode: ep1)])
        #expect(ev(t0 + 7) == [])
        #expect(engine.status().first?.episode == ep1)
        #expect(engine.status().first?.state == .breached)
        _ = engine.ingest(counts("err", 1, at: t0 + 8), now: t0 + 8)
        #expect(ev(t0 + 10) == [])  // window [t0+1, t0+10] still holds 7
        #expect(ev(t0 + 11) == [Step(.recovery, .breached, .ok, at: t0 + 11, value: 1, episode: ep1)])
        #expect(engine.status().first?.episode == nil)
        #expect(engine.status().first?.since == t0 + 11)

        // Bad again, but good again (empty window, nodata: ok) before `for:` elapses.
        _ = engine.ingest(counts("err", 6, at: t0 + 12), now: t0 + 12)
        #expect(ev(t0 + 12) == [Step(.pending, .ok, .pending, at: t0 + 12, value: 7)])
        #expect(ev(t0 + 16) == [])
        #expect(ev(t0 + 22) == [Step(.pendingCleared, .pending, .ok, at: t0 + 22, value: nil)])

        // A second episode gets a new id; its recovery repeats it.
        _ = engine.ingest(counts("err", 6, at: t0 + 30), now: t0 + 30)
        #expect(ev(t0 + 30) == [Step(.pending, .ok, .pending, at: t0 + 30, value: 6)])
        let ep2 = "\(Int64(t0) + 35)-2"
        #expect(ev(t0 + 35) == [Step(.breach, .pending, .breached, at: t0 + 35, value: 6, episode: ep2)])
        #expect(ev(t0 + 41) == [Step(.recovery, .breached, .ok, at: t0 + 41, value: nil, episode: ep2)])
        #expect(ep1 != ep2)
    }

    @Test func pendingRestartsAfterClearing() {
        // `for:` counts from the latest time the SLI went bad, not the first.
        let o = objective(
            "slow",
            metric: "lat",
            sli: .max,
            window: .rolling(seconds: 5),
            direction: .atMost,
            baseline: 100,
            forSeconds: 10,
            nodata: .keepState
        )
        var engine = Engine(objectives: [o])
        _ = engine.ingest([Event(metric: "lat", value: 150, kind: .gauge, time: t0)], now: t0)
        #expect(engine.evaluate(at: t0).map(Step.init) == [Step(.pending, .ok, .pending, at: t0, value: 150)])
        _ = engine.ingest([Event(metric: "lat", value: 20, kind: .gauge, time: t0 + 6)], now: t0 + 6)
        #expect(
            engine.evaluate(at: t0 + 6).map(Step.init) == [Step(.pendingCleared, .pending, .ok, at: t0 + 6, value: 20)]
        )
        _ = engine.ingest([Event(metric: "lat", value: 120, kind: .gauge, time: t0 + 8)], now: t0 + 8)
        #expect(engine.evaluate(at: t0 + 8).map(Step.init) == [Step(.pending, .ok, .pending, at: t0 + 8, value: 120)])
        _ = engine.ingest([Event(metric: "lat", value: 130, kind: .gauge, time: t0 + 12)], now: t0 + 12)
        #expect(engine.evaluate(at: t0 + 12).isEmpty)  // 10 s after t0, but only 4 s after t0 + 8
        _ = engine.ingest([Event(metric: "lat", value: 130, kind: .gauge, time: t0 + 17)], now: t0 + 17)
        #expect(engine.evaluate(at: t0 + 17).isEmpty)
        _ = engine.ingest([Event(metric: "lat", value: 140, kind: .gauge, time: t0 + 18)], now: t0 + 18)
        #expect(
            engine.evaluate(at: t0 + 18).map(Step.init)
                == [Step(.breach, .pending, .breached, at: t0 + 18, value: 140, episode: "\(Int64(t0) + 18)-1")]
        )
    }

    @Test func evaluatingTwiceAtTheSameTimeReturnsNothing() {
        let o = objective(
            "e",
            metric: "err",
            sli: .count,
            window: .rolling(seconds: 60),
            direction: .atMost,
            baseline: 1
        )
        var engine = Engine(objectives: [o])
        _ = engine.ingest(counts("err", 3, at: t0), now: t0)
        #expect(engine.evaluate(at: t0).map(\.kind) == [.breach])
        #expect(engine.evaluate(at: t0).isEmpty)
    }
}

@Suite struct NodataTests {
    private func avgObjective(_ policy: NodataPolicy) -> Objective {
        objective(
            "lat-avg",
            metric: "lat",
            sli: .avg,
            window: .rolling(seconds: 10),
            direction: .atLeast,
            baseline: 1,
            nodata: policy
        )
    }

    private func gauge(_ v: Double, _ t: Double) -> [Event] { [Event(metric: "lat", value: v, kind: .gauge, time: t)] }

    @Test func alertPolicy() {
        var engine = Engine(objectives: [avgObjective(.alert)])
        func ev(_ t: Double) -> [Step] { engine.evaluate(at: t).map(Step.init) }
        #expect(ev(t0) == [Step(.nodata, .ok, .nodata, at: t0, value: nil)])
        #expect(ev(t0 + 1) == [])
        _ = engine.ingest(gauge(5, t0 + 2), now: t0 + 2)
        #expect(ev(t0 + 2) == [Step(.dataResumed, .nodata, .ok, at: t0 + 2, value: 5)])
        _ = engine.ingest(gauge(0, t0 + 15), now: t0 + 15)
        let ep = "\(Int64(t0) + 15)-1"
        #expect(ev(t0 + 15) == [Step(.breach, .ok, .breached, at: t0 + 15, value: 0, episode: ep)])
        // Breached, then the window empties: nodata keeps the episode open.
        #expect(ev(t0 + 30) == [Step(.nodata, .breached, .nodata, at: t0 + 30, value: nil, episode: ep)])
        #expect(engine.status().first?.state == .nodata)
        #expect(engine.status().first?.episode == ep)
        _ = engine.ingest(gauge(3, t0 + 31) + gauge(1, t0 + 31), now: t0 + 31)
        #expect(ev(t0 + 31) == [Step(.recovery, .nodata, .ok, at: t0 + 31, value: 2, episode: ep)])
        #expect(engine.status().first?.episode == nil)
    }

    @Test func okPolicy() {
        var engine = Engine(objectives: [avgObjective(.ok)])
        func ev(_ t: Double) -> [Step] { engine.evaluate(at: t).map(Step.init) }
        #expect(ev(t0) == [])
        #expect(engine.status().first?.state == .ok)
        #expect(engine.status().first?.value == nil)
        _ = engine.ingest(gauge(0, t0 + 1), now: t0 + 1)
        let ep = "\(Int64(t0) + 1)-1"
        #expect(ev(t0 + 1) == [Step(.breach, .ok, .breached, at: t0 + 1, value: 0, episode: ep)])
        #expect(ev(t0 + 20) == [Step(.recovery, .breached, .ok, at: t0 + 20, value: nil, episode: ep)])
    }

    @Test func keepStatePolicy() {
        var engine = Engine(objectives: [avgObjective(.keepState)])
        func ev(_ t: Double) -> [Step] { engine.evaluate(at: t).map(Step.init) }
        #expect(ev(t0) == [])
        _ = engine.ingest(gauge(0, t0 + 1), now: t0 + 1)
        let ep = "\(Int64(t0) + 1)-1"
        #expect(ev(t0 + 1) == [Step(.breach, .ok, .breached, at: t0 + 1, value: 0, episode: ep)])
        #expect(ev(t0 + 20) == [])
        #expect(engine.status().first?.state == .breached)
        #expect(engine.status().first?.episode == ep)
        #expect(engine.status().first?.value == nil)
        _ = engine.ingest(gauge(2, t0 + 21), now: t0 + 21)
        #expect(ev(t0 + 21) == [Step(.recovery, .breached, .ok, at: t0 + 21, value: 2, episode: ep)])
    }
}

@Suite struct CumulativeTests {
    let d1 = utc(2026, 3, 10)
    var d2: Double { d1 + 86400 }
    var d3: Double { d1 + 2 * 86400 }
    var d4: Double { d1 + 3 * 86400 }

    private func daily(late: Double = 0) -> Objective {
        objective(
            "leads-daily",
            metric: "lead",
            sli: .count,
            window: .calendar(.day),
            direction: .atLeast,
            baseline: 3,
            late: late
        )
    }

    @Test func judgedAtPeriodCloseOnly() throws {
        let o = daily()
        #expect(o.isCumulative)
        var engine = Engine(objectives: [o], maxFutureSkew: 300)
        #expect(engine.evaluate(at: d1 + 3600).isEmpty)
        _ = engine.ingest(counts("lead", 1, at: d1 + 4000), now: d1 + 4000)
        #expect(engine.evaluate(at: d1 + 5000).isEmpty)  // 1 < 3, but the day is not over
        #expect(engine.status().first?.value == 1)
        #expect(engine.status().first?.state == .ok)
        _ = engine.ingest(counts("lead", 2, at: d1 + 50000), now: d1 + 50000)
        #expect(engine.evaluate(at: d1 + 60000).isEmpty)
        #expect(engine.evaluate(at: d2 - 1).isEmpty)
        #expect(engine.status().first?.value == 3)

        let first = engine.evaluate(at: d2)
        #expect(first.map(Step.init) == [Step(.periodResult, .ok, .ok, at: d2, value: 3)])
        #expect(first.first?.met == true)
        #expect(first.first?.periodStart == d1)
        #expect(first.first?.periodEnd == d2)
        #expect(first.first?.baseline == 3)
        #expect(engine.evaluate(at: d2 + 10).isEmpty)

        // Day 2: one event, plus one that arrives just after midnight (still accepted: not judged yet).
        _ = engine.ingest(counts("lead", 1, at: d2 + 1000), now: d2 + 1000)
        #expect(engine.evaluate(at: d2 + 43200).isEmpty)
        let lateButOpen = engine.ingest(counts("lead", 1, at: d3 - 5), now: d3)
        #expect(lateButOpen.accepted == 1)
        #expect(lateButOpen.rejected.isEmpty)
        let missed = engine.evaluate(at: d3 + 5)
        let ep = "\(Int64(d3) + 5)-1"
        #expect(
            missed.map(Step.init) == [
                Step(.periodResult, .ok, .breached, at: d3 + 5, value: 2, episode: ep),
                Step(.breach, .ok, .breached, at: d3 + 5, value: 2, episode: ep),
            ]
        )
        #expect(missed.map(\.met) == [false, nil])
        #expect(missed.first?.periodStart == d2)

        // After the close, day 2 is too late; day 3 is fine; far future is rejected.
        let r = engine.ingest(
            [
                Event(metric: "lead", value: 1, kind: .counter, time: d3 - 1),
                Event(metric: "lead", value: 1, kind: .counter, time: d3 + 7),
                Event(metric: "lead", value: 1, kind: .counter, time: d3 + 10 + 301),
                Event(metric: "lead", value: 1, kind: .counter, time: d3 + 10 + 300),
                Event(metric: "unrelated", value: 1, kind: .counter, time: d1),
            ],
            now: d3 + 10
        )
        #expect(r.accepted == 3)
        #expect(r.rejected.map(\.index) == [0, 2])
        #expect(r.rejected.map(\.reason) == [.tooLate, .futureEvent])
        _ = engine.ingest(counts("lead", 3, at: d3 + 9000), now: d3 + 9000)
        #expect(engine.evaluate(at: d3 + 9000).isEmpty)
        #expect(engine.status().first?.state == .breached)

        let back = engine.evaluate(at: d4)
        #expect(
            back.map(Step.init) == [
                Step(.periodResult, .breached, .ok, at: d4, value: 5, episode: ep),
                Step(.recovery, .breached, .ok, at: d4, value: 5, episode: ep),
            ]
        )
        #expect(back.map(\.met) == [true, nil])
        #expect(engine.status().first?.episode == nil)
    }

    @Test func lateToleranceDelaysTheJudgement() {
        var engine = Engine(objectives: [daily(late: 3600)])
        #expect(engine.evaluate(at: d1 + 10).isEmpty)
        _ = engine.ingest(counts("lead", 2, at: d1 + 100), now: d1 + 100)
        #expect(engine.evaluate(at: d2 + 1800).isEmpty)
        #expect(engine.ingest(counts("lead", 1, at: d2 - 60), now: d2 + 2000).rejected.isEmpty)
        #expect(engine.evaluate(at: d2 + 3599).isEmpty)
        let r = engine.evaluate(at: d2 + 3600)
        #expect(r.map(Step.init) == [Step(.periodResult, .ok, .ok, at: d2 + 3600, value: 3)])
        #expect(r.first?.met == true)
    }

    /// Regression: after a gap of more than one period, the tracked period used to be evicted
    /// before it was judged, so it was reported as missed with 0.
    @Test func missedPeriodsWhileDownAreSkippedNotJudged() {
        var engine = Engine(objectives: [daily()])
        #expect(engine.evaluate(at: d1 + 10).isEmpty)
        _ = engine.ingest(counts("lead", 4, at: d1 + 100), now: d1 + 100)
        let t5 = d1 + 4 * 86400 + 1
        let r = engine.evaluate(at: t5)
        #expect(r.map(Step.init) == [Step(.periodResult, .ok, .ok, at: t5, value: 4)])
        #expect(r.first?.periodStart == d1)
        let t6 = d1 + 5 * 86400
        let next = engine.evaluate(at: t6)
        #expect(
            next.map(Step.init) == [
                Step(.periodResult, .ok, .breached, at: t6, value: 0, episode: "\(Int64(t6))-1"),
                Step(.breach, .ok, .breached, at: t6, value: 0, episode: "\(Int64(t6))-1"),
            ]
        )
        #expect(next.first?.periodStart == d1 + 4 * 86400)
    }

    @Test func parisDayIsJudgedAtLocalMidnight() {
        // 2026-10-25 in Paris is 25 hours long.
        let o = objective(
            "leads-paris",
            metric: "lead",
            sli: .sum,
            window: .calendar(.day),
            zone: "Europe/Paris",
            direction: .atLeast,
            baseline: 10
        )
        var engine = Engine(objectives: [o])
        let start = local(2026, 10, 25, offset: 2)
        let end = local(2026, 10, 26, offset: 1)
        #expect(engine.evaluate(at: start + 60).isEmpty)
        _ = engine.ingest([Event(metric: "lead", value: 6, kind: .counter, time: end - 30)], now: end - 30)
        _ = engine.ingest(
            [Event(metric: "lead", value: 2, kind: .counter, time: start + 1, sampleRate: 0.5)],
            now: end - 20
        )
        #expect(engine.evaluate(at: start + 24 * 3600).isEmpty)  // 24 h in: not midnight yet
        let r = engine.evaluate(at: end)
        #expect(r.map(Step.init) == [Step(.periodResult, .ok, .ok, at: end, value: 10)])
        #expect(r.first?.periodStart == start)
        #expect(r.first?.periodEnd == end)
    }

    @Test func nonCumulativeKindsAreNotCumulative() {
        #expect(
            !objective("a", metric: "m", sli: .count, window: .calendar(.day), direction: .atMost, baseline: 1)
                .isCumulative
        )
        #expect(
            !objective("a", metric: "m", sli: .avg, window: .calendar(.day), direction: .atLeast, baseline: 1)
                .isCumulative
        )
        #expect(
            !objective("a", metric: "m", sli: .count, window: .rolling(seconds: 60), direction: .atLeast, baseline: 1)
                .isCumulative
        )
        #expect(
            objective("a", metric: "m", sli: .sum, window: .calendar(.quarter), direction: .atLeast, baseline: 1)
                .isCumulative
        )
    }
}

@Suite struct IngestTests {
    @Test func futureSkewAndArrivalTime() {
        let o = objective(
            "e",
            metric: "err",
            sli: .count,
            window: .rolling(seconds: 60),
            direction: .atMost,
            baseline: 100
        )
        var engine = Engine(objectives: [o], maxFutureSkew: 30)
        let r = engine.ingest(
            [
                Event(metric: "err", value: 1, kind: .counter),
                Event(metric: "err", value: 2, kind: .counter, time: t0 + 30),
                Event(metric: "err", value: 4, kind: .counter, time: t0 + 30.5),
                Event(metric: "err", value: 8, kind: .counter, time: t0 - 61),
                Event(metric: "err", value: 16, kind: .counter, time: t0 - 59),
            ],
            now: t0
        )
        #expect(r.accepted == 3)
        #expect(r.rejected.map(\.index) == [2, 3])
        #expect(r.rejected.map(\.reason) == [.futureEvent, .tooLate])
        _ = engine.evaluate(at: t0)
        let expectedAtT0: Double = 1 + 16  // arrival-stamped event + the one 59 s old
        #expect(engine.status().first?.value == expectedAtT0)
        _ = engine.evaluate(at: t0 + 30)
        let expectedLater: Double = 1 + 2  // the t0 + 30 event is now inside, t0 - 59 fell out
        #expect(engine.status().first?.value == expectedLater)
    }

    @Test func labelFilter() {
        let o = objective(
            "api",
            metric: "lat",
            match: ["service": "api"],
            sli: .sum,
            window: .rolling(seconds: 60),
            direction: .atMost,
            baseline: 100
        )
        var engine = Engine(objectives: [o])
        let r = engine.ingest(
            [
                Event(metric: "lat", value: 1, kind: .distribution, labels: ["service": "api", "x": "y"]),
                Event(metric: "lat", value: 10, kind: .distribution, labels: ["service": "web"]),
                Event(metric: "lat", value: 100, kind: .distribution),
                Event(metric: "lat", value: 1000, kind: .distribution, labels: ["service": "api"], time: t0 - 3600),
            ],
            now: t0
        )
        // Events matching no objective are accepted; a matching one too old for its window is not.
        #expect(r.accepted == 3)
        #expect(r.rejected.map(\.reason) == [.tooLate])
        _ = engine.evaluate(at: t0)
        #expect(engine.status().first?.value == 1)
    }

    @Test func sliKinds() {
        let events: [Event] = [
            Event(metric: "m", value: 4, kind: .distribution),
            Event(metric: "m", value: 10, kind: .distribution, sampleRate: 0.5),
            Event(metric: "m", value: -2, kind: .distribution),
        ]
        let expected: [(SLIKind, Double)] = [
            (.count, 1 + 2 + 1), (.sum, 4 + 20 - 2), (.avg, 4), (.min, -2), (.max, 10), (.rate, 4.0 / 60),
        ]
        for (kind, value) in expected {
            let o = objective(
                "o",
                metric: "m",
                sli: kind,
                window: .rolling(seconds: 60),
                direction: .atMost,
                baseline: 1000
            )
            var engine = Engine(objectives: [o])
            // A minute of history first: the rate divides by the whole window.
            _ = engine.evaluate(at: t0 - 60)
            _ = engine.ingest(events, now: t0)
            _ = engine.evaluate(at: t0)
            #expect(engine.status().first?.value == value, "\(kind)")
        }
    }
}

// MARK: - Snapshot / restore equivalence

private enum Op {
    case ingest([Event], now: Double)
    case evaluate(Double)
}

private let equivalenceObjectives: [Objective] = [
    objective(
        "errors-1m",
        metric: "err",
        sli: .count,
        window: .rolling(seconds: 60),
        direction: .atMost,
        baseline: 8,
        forSeconds: 20,
        nodata: .ok
    ),
    objective(
        "api-latency-avg",
        metric: "lat",
        match: ["service": "api"],
        sli: .avg,
        window: .rolling(seconds: 300),
        direction: .atMost,
        baseline: 50,
        nodata: .alert
    ),
    objective(
        "leads-daily",
        metric: "lead",
        sli: .count,
        window: .calendar(.day),
        zone: "Europe/Paris",
        direction: .atLeast,
        baseline: 20,
        late: 600
    ),
    objective(
        "latency-max-week",
        metric: "lat",
        sli: .max,
        window: .calendar(.week),
        zone: "America/New_York",
        direction: .atMost,
        baseline: 95,
        forSeconds: 60,
        nodata: .keepState
    ),
    objective(
        "lead-rate",
        metric: "lead",
        sli: .rate,
        window: .rolling(seconds: 45),
        direction: .atLeast,
        baseline: 0.05,
        forSeconds: 5,
        nodata: .alert
    ),
]

private func randomOps(seed: UInt64, count: Int) -> [Op] {
    var rng = SplitMix64(seed: seed)
    var now = utc(2026, 10, 24, 20) + Double(Int.random(in: 0..<3600, using: &rng))
    var ops: [Op] = []
    for _ in 0..<count {
        if Int.random(in: 0..<25, using: &rng) == 0 {
            now += Double(Int.random(in: 3600...40 * 3600, using: &rng))
        } else {
            now += Double(Int.random(in: 0...40, using: &rng)) + [0, 0.5].randomElement(using: &rng)!
        }
        if Bool.random(using: &rng) {
            ops.append(.evaluate(now))
            continue
        }
        var batch: [Event] = []
        for _ in 0..<Int.random(in: 1...8, using: &rng) {
            let metric = ["err", "err", "lat", "lat", "lead", "lead", "other"].randomElement(using: &rng)!
            let time: Double? =
                switch Int.random(in: 0..<6, using: &rng) {
                case 0: nil
                case 1: now + Double(Int.random(in: 0...400, using: &rng))
                case 2: now - Double(Int.random(in: 0...(2 * 86400), using: &rng))
                default: now - Double(Int.random(in: 0...120, using: &rng))
                }
            let e: Event
            switch metric {
            case "lat":
                e = Event(
                    metric: "lat",
                    value: Double(Int.random(in: 0...1000, using: &rng)) / 10,
                    kind: Bool.random(using: &rng) ? .gauge : .distribution,
                    labels: ["service": ["api", "web"].randomElement(using: &rng)!],
                    time: time,
                    sampleRate: [1, 0.3, 0.5].randomElement(using: &rng)!
                )
            default:
                e = Event(
                    metric: metric,
                    value: Double(Int.random(in: 1...3, using: &rng)),
                    kind: .counter,
                    time: time,
                    sampleRate: [1, 1, 0.1].randomElement(using: &rng)!
                )
            }
            batch.append(e)
        }
        ops.append(.ingest(batch, now: now))
    }
    return ops
}

private struct RunLog: Equatable {
    var transitions: [Transition] = []
    var ingests: [Engine.IngestResult] = []
}

private func apply(_ op: Op, to engine: inout Engine, log: inout RunLog) {
    switch op {
    case .ingest(let events, let now): log.ingests.append(engine.ingest(events, now: now))
    case .evaluate(let now): log.transitions += engine.evaluate(at: now)
    }
}

private func roundTrip(_ snapshots: [Engine.Snapshot]) throws -> [Engine.Snapshot] {
    try JSONDecoder().decode([Engine.Snapshot].self, from: JSONEncoder().encode(snapshots))
}

@Suite struct RestoreEquivalenceTests {
    @Test(arguments: [UInt64(1), 2, 3, 4])
    func restartAtEveryStepMakesTheSameTransitions(seed: UInt64) throws {
        let ops = randomOps(seed: seed, count: 160)
        var reference = Engine(objectives: equivalenceObjectives)
        var expected = RunLog()
        for op in ops { apply(op, to: &reference, log: &expected) }
        let kinds = Set(expected.transitions.map(\.kind))
        // The sequence is rich enough to be meaningful.
        #expect(expected.transitions.count >= 10)
        #expect(kinds.isSuperset(of: [.breach, .recovery, .periodResult, .nodata]))
        #expect(expected.ingests.contains { !$0.rejected.isEmpty })

        for k in 0...ops.count {
            var first = Engine(objectives: equivalenceObjectives)
            var log = RunLog()
            for op in ops[..<k] { apply(op, to: &first, log: &log) }
            let snapshots = try roundTrip(first.allSnapshots())
            var second = Engine(objectives: equivalenceObjectives)
            second.restore(snapshots)
            for op in ops[k...] { apply(op, to: &second, log: &log) }
            #expect(log.ingests == expected.ingests, "seed \(seed) restart at \(k)")
            #expect(log.transitions.count == expected.transitions.count, "seed \(seed) restart at \(k)")
            for (a, b) in zip(log.transitions, expected.transitions) where a != b {
                Issue.record("seed \(seed) restart at \(k): \(a) != \(b)")
                break
            }
            #expect(second.allSnapshots() == reference.allSnapshots(), "seed \(seed) restart at \(k)")
        }
    }

    @Test(arguments: [UInt64(5), 6])
    func restartFromAccumulatedDirtySnapshots(seed: UInt64) throws {
        let ops = randomOps(seed: seed, count: 160)
        var reference = Engine(objectives: equivalenceObjectives)
        var expected = RunLog()
        for op in ops { apply(op, to: &reference, log: &expected) }

        for k in stride(from: 0, through: ops.count, by: 3) {
            var first = Engine(objectives: equivalenceObjectives)
            var log = RunLog()
            var store: [String: Engine.Snapshot] = [:]
            for op in ops[..<k] {
                apply(op, to: &first, log: &log)
                for s in first.takeDirtySnapshots() { store[s.objective] = s }
            }
            var second = Engine(objectives: equivalenceObjectives)
            second.restore(try roundTrip(store.values.sorted { $0.objective < $1.objective }))
            for op in ops[k...] { apply(op, to: &second, log: &log) }
            #expect(log.ingests == expected.ingests, "seed \(seed) restart at \(k)")
            #expect(log.transitions.count == expected.transitions.count, "seed \(seed) restart at \(k)")
            for (a, b) in zip(log.transitions, expected.transitions) where a != b {
                Issue.record("seed \(seed) restart at \(k): \(a) != \(b)")
                break
            }
        }
    }

    @Test func changedFingerprintDropsDataButKeepsState() throws {
        let old = objective(
            "e",
            metric: "err",
            sli: .count,
            window: .rolling(seconds: 60),
            direction: .atMost,
            baseline: 1
        )
        var engine = Engine(objectives: [old])
        _ = engine.ingest(counts("err", 5, at: t0), now: t0)
        #expect(engine.evaluate(at: t0).map(\.kind) == [.breach])
        let snaps = try roundTrip(engine.allSnapshots())

        var same = Engine(objectives: [old])
        same.restore(snaps)
        #expect(same.evaluate(at: t0 + 1).isEmpty)  // still breached, data kept
        #expect(same.status().first?.value == 5)

        var changed = old
        changed.window = .rolling(seconds: 120)
        var other = Engine(objectives: [changed])
        other.restore(snaps)
        #expect(other.takeDirtySnapshots().map(\.objective) == ["e"])
        #expect(other.status().first?.state == .breached)
        let t = other.evaluate(at: t0 + 1)
        #expect(t.map(\.kind) == [.nodata])  // buckets were discarded
        #expect(t.first?.episode == engine.status().first?.episode)

        var unrelated = Engine(objectives: [
            objective("x", metric: "err", sli: .count, window: .rolling(seconds: 60), direction: .atMost, baseline: 1)
        ])
        unrelated.restore(snaps)
        #expect(unrelated.allSnapshots().first?.buckets.isEmpty == true)
        #expect(unrelated.status().first?.state == .ok)
    }
}
