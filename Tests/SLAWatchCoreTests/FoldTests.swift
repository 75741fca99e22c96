import Foundation
import Testing

@testable import SLAWatchCore

/// `Engine.ingest` folds a batch's arrival-time events of a name (`Fold`) before its windows take
/// them: the windows and the result must be what event-by-event ingest gives.
@Suite struct FoldTests {
    let now = 1_800_000_000.0

    private func objective(
        _ name: String,
        metric: String,
        sli: SLIKind,
        window: WindowSpec,
        direction: Direction = .atMost
    ) -> Objective {
        Objective(
            name: name,
            sla: SLA(name: "s", provider: "p", customer: "c"),
            metric: metric,
            sli: sli,
            window: window,
            direction: direction,
            baseline: Baseline(value: 1e12, kind: .fixed, source: "1e12"),
            nodata: .ok
        )
    }

    /// Objectives over `a` (integer values only) and `b` (any values): count, sum, avg, min and
    /// max, rolling and calendar.
    private var objectives: [Objective] {
        var out: [Objective] = []
        for metric in ["a", "b"] {
            for (k, sli) in [SLIKind.count, .sum, .avg, .min, .max].enumerated() {
                out.append(objective("\(metric)-\(k)", metric: metric, sli: sli, window: .rolling(seconds: 300)))
            }
            out.append(objective("\(metric)-day", metric: metric, sli: .sum, window: .calendar(.day)))
        }
        return out
    }

    /// Every window's buckets, per instance.
    private func buckets(_ e: Engine) -> [[Int64: Aggregate]] { e.table.windows.map(\.buckets) }

    /// Random batches: each event is folded in `folded` (arrival time) and given the time
    /// `now` explicitly in `reference` (which takes every event one by one); both engines must
    /// hold the same buckets and give the same results.
    @Test func foldedBatchesEqualEventByEventIngest() throws {
        var rng = SplitMix64(seed: 42)
        var folded = Engine(objectives: objectives, maxFutureSkew: 60)
        var reference = Engine(objectives: objectives, maxFutureSkew: 60)
        for round in 0..<40 {
            let t = now + Double(round) * 7
            var arrival: [Event] = []
            var stamped: [Event] = []
            for _ in 0..<Int.random(in: 1...300, using: &rng) {
                let metric = ["a", "b", "unused"][Int.random(in: 0..<3, using: &rng)]
                let kind: MetricKind = [.counter, .counter, .gauge, .distribution][Int.random(in: 0..<4, using: &rng)]
                var value = Double(Int.random(in: -5...1000, using: &rng))
                if metric == "b" && Bool.random(using: &rng) {
                    value += 0.1 * Double(Int.random(in: 1...9, using: &rng))
                }
                let rate = Int.random(in: 0..<8, using: &rng) == 0 ? 0.5 : 1
                // Some events carry a time of their own (not folded), some too far ahead.
                let own: Double? =
                    switch Int.random(in: 0..<10, using: &rng) {
                    case 0: t - Double(Int.random(in: 1...400, using: &rng))
                    case 1: t + 120
                    default: nil
                    }
                arrival.append(Event(metric: metric, value: value, kind: kind, time: own, sampleRate: rate))
                stamped.append(Event(metric: metric, value: value, kind: kind, time: own ?? t, sampleRate: rate))
            }
            let r1 = folded.ingest(arrival, now: t)
            let r2 = reference.ingest(stamped, now: t)
            #expect(r1 == r2, "round \(round)")
        }
        let a = buckets(folded)
        let b = buckets(reference)
        #expect(a.count == b.count)
        for (j, o) in folded.table.objectives.enumerated() {
            if o.metric == "a" {
                // Whole values: the same sums to the bit.
                #expect(a[j] == b[j], "\(o.name)")
                continue
            }
            #expect(a[j].keys.sorted() == b[j].keys.sorted(), "\(o.name)")
            for (id, x) in a[j] {
                let y = try #require(b[j][id])
                #expect(x.samples == y.samples && x.min == y.min && x.max == y.max, "\(o.name)")
                #expect(abs(x.count - y.count) <= 1e-9 * max(1, abs(y.count)), "\(o.name) \(x.count) vs \(y.count)")
                #expect(abs(x.sum - y.sum) <= 1e-9 * max(1, abs(y.sum)), "\(o.name) \(x.sum) vs \(y.sum)")
            }
        }
        #expect(a.contains { !$0.isEmpty })
        // The SLIs agree too.
        _ = folded.evaluate(at: now + 300)
        _ = reference.evaluate(at: now + 300)
        for (x, y) in zip(folded.status(), reference.status()) {
            let (u, v) = (try #require(x.value), try #require(y.value))
            #expect(abs(u - v) <= 1e-9 * max(1, abs(v)), "\(x.objective)")
        }
    }

    /// A name's events of two kinds in one batch: the first kind is folded, the other taken one
    /// by one; a counter counts its values, a gauge its samples.
    @Test func twoKindsOfOneNameInOneBatch() {
        var engine = Engine(objectives: [objective("n", metric: "m", sli: .count, window: .rolling(seconds: 60))])
        let r = engine.ingest(
            [
                Event(metric: "m", value: 5, kind: .counter),
                Event(metric: "m", value: 7, kind: .gauge),
                Event(metric: "m", value: 3, kind: .counter),
                Event(metric: "m", value: 9, kind: .gauge),
            ],
            now: now
        )
        #expect(r.accepted == 4)
        let bucket = engine.table.windows[0].buckets.values.first
        #expect(bucket?.samples == 4)
        #expect(bucket?.count == Double(5 + 3 + 1 + 1))
        #expect(bucket?.sum == 24)
        #expect(bucket?.min == 3)
        #expect(bucket?.max == 9)
    }

    /// Arrival-time events whose period was already judged (the clock stepped back past a
    /// period close): each folded event is too late at its own index, in order with the
    /// batch's other rejections.
    @Test func foldedEventsInAJudgedPeriodAreEachTooLate() {
        let day = 86_400.0
        let d1 = (now / day).rounded(.down) * day
        var engine = Engine(
            objectives: [objective("daily", metric: "lead", sli: .count, window: .calendar(.day), direction: .atLeast)],
            maxFutureSkew: 300
        )
        _ = engine.ingest([Event(metric: "lead", value: 1, kind: .counter)], now: d1 + 100)
        _ = engine.evaluate(at: d1 + 200)
        let verdict = engine.evaluate(at: d1 + day + 10)  // day 1 is judged and closed
        #expect(verdict.first?.kind == .periodResult)
        let r = engine.ingest(
            [
                Event(metric: "lead", value: 1, kind: .counter),
                Event(metric: "lead", value: 1, kind: .counter, time: d1 + day + 900),  // future
                Event(metric: "other", value: 1, kind: .counter),
                Event(metric: "lead", value: 2, kind: .counter),
                Event(metric: "lead", value: 1.5, kind: .counter),  // not folded: too late alone
            ],
            now: d1 + day - 5
        )
        #expect(r.accepted == 1)
        #expect(r.rejected.map(\.index) == [0, 1, 3, 4])
        #expect(r.rejected.map(\.reason) == [.tooLate, .futureEvent, .tooLate, .tooLate])
    }

    /// What may be folded: sample rate 1, whole values of less than 2³¹ in magnitude (not -0),
    /// no set member.
    @Test func admits() {
        #expect(Fold.admits(1, kind: .counter, rate: 1))
        #expect(Fold.admits(0, kind: .counter, rate: 1))
        #expect(!Fold.admits(-0.0, kind: .gauge, rate: 1))
        #expect(Fold.admits(-2_147_483_647, kind: .gauge, rate: 1))
        #expect(Fold.admits(2_147_483_647, kind: .distribution, rate: 1))
        #expect(!Fold.admits(2_147_483_648, kind: .counter, rate: 1))
        #expect(!Fold.admits(-2_147_483_648, kind: .counter, rate: 1))
        #expect(!Fold.admits(0.5, kind: .counter, rate: 1))
        #expect(!Fold.admits(1, kind: .counter, rate: 0.5))
        #expect(!Fold.admits(1, kind: .set, rate: 1))
        #expect(!Fold.admits(.nan, kind: .counter, rate: 1))
        #expect(!Fold.admits(.infinity, kind: .counter, rate: 1))
    }
}
