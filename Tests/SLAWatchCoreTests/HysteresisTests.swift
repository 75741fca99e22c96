import Foundation
import Testing

@testable import SLAWatchCore

/// `clear_at`, `keep_firing_for` and `nodata_after`: a value hovering at the baseline does not
/// flap, and a short gap is not "no data".
@Suite struct HysteresisTests {
    private func objective(clearAt: Double? = nil, keepFiringFor: Double = 0, nodataAfter: Double = 0) -> Objective {
        var o = Objective(
            name: "throughput",
            sla: SLA(name: "s", provider: "p", customer: "c"),
            metric: "jobs",
            sli: .avg,
            window: .rolling(seconds: 60),
            direction: .atLeast,
            baseline: Baseline(value: 100, kind: .fixed, source: "100"),
            nodata: .alert
        )
        o.clearAt = clearAt
        o.keepFiringFor = keepFiringFor
        o.nodataAfter = nodataAfter
        return o
    }

    /// One gauge value per minute (`nil`: none), evaluated 61 s after each so the window holds
    /// only that value; returns the transitions with the minute they happened in.
    private func run(_ engine: inout Engine, _ values: [Double?], from start: Int = 0) -> [(Int, TransitionKind)] {
        var out: [(Int, TransitionKind)] = []
        for (k, v) in values.enumerated() {
            let minute = start + k
            let t = 1000 + Double(minute) * 60
            if let v { _ = engine.ingest([Event(metric: "jobs", value: v, kind: .gauge, time: t)], now: t) }
            for e in engine.evaluate(at: t + 30) { out.append((minute, e.kind)) }
        }
        return out
    }

    private let hovering: [Double?] = [120, 99, 101, 99, 101, 99, 101, 105, 112, 120]

    @Test func withoutHysteresisAHoveringValueFlaps() {
        var e = Engine(objectives: [objective()])
        let t = run(&e, hovering)
        #expect(t.filter { $0.1 == .breach }.count == 3)
        #expect(t.filter { $0.1 == .recovery }.count == 3)
    }

    @Test func clearAtRecoversOnlyPastTheSecondThreshold() {
        var e = Engine(objectives: [objective(clearAt: 110)])
        let t = run(&e, hovering)
        #expect(t.map(\.1) == [.breach, .recovery])
        #expect(t.map(\.0) == [1, 8])  // 112 is the first value at least 110
        #expect(t.first.map { _ in e.status().first?.state } == .ok)
    }

    @Test func keepFiringForNeedsTheValueGoodThatLong() {
        var e = Engine(objectives: [objective(keepFiringFor: 180)])
        // Bad, then good for 2 minutes, bad again (the clock restarts), then good for 3+.
        let t = run(&e, [120, 90, 120, 120, 90, 120, 120, 120, 120, 120])
        #expect(t.map(\.1) == [.breach, .recovery])
        #expect(t.map(\.0) == [1, 8])  // good from minute 5: 3 minutes later
    }

    @Test func nodataAfterIgnoresAShortGap() {
        var e = Engine(objectives: [objective(nodataAfter: 300)])
        // A 3-minute gap: nothing. Then a 7-minute gap: no data 5 minutes after it began.
        let t = run(&e, [120, nil, nil, nil, 120, nil, nil, nil, nil, nil, nil, nil, 120])
        #expect(t.map(\.1) == [.nodata, .dataResumed])
        #expect(t.map(\.0) == [10, 12])
        var plain = Engine(objectives: [objective()])
        #expect(run(&plain, [120, nil, 120]).map(\.1) == [.nodata, .dataResumed])
    }

    @Test func aRestartAtAnyMinuteGivesTheSameJournal() {
        let values: [Double?] = [120, 90, 101, 99, 115, 120, nil, nil, 120, 90, 130, 130, 130, 130]
        let o = objective(clearAt: 110, keepFiringFor: 120, nodataAfter: 90)
        var straight = Engine(objectives: [o])
        let expected = run(&straight, values).map { "\($0.0) \($0.1)" }
        #expect(!expected.isEmpty)
        for cut in 1..<values.count {
            var a = Engine(objectives: [o])
            var got = run(&a, Array(values[..<cut]))
            var b = Engine(objectives: [o])
            b.restore(a.allSnapshots())
            got += run(&b, Array(values[cut...]), from: cut)
            #expect(got.map { "\($0.0) \($0.1)" } == expected, "restart after minute \(cut)")
        }
    }

    @Test func clearAtOnTheBadSideIsAConfigError() {
        let text = """
            slas:
              - name: s
                provider: p
                customer: c
                objectives:
                  - {name: o, metric: m, sli: avg, window: 5m, direction: at_most, baseline: 300, clear_at: 350}
            """
        let errors = objectiveErrors(text, file: "o.yaml")
        #expect(errors.map(\.key) == ["slas[0].objectives[0].clear_at"])
        #expect(errors.first?.line == 6)
        let ok = try? ObjectivesConfig.parse(
            text.replacingOccurrences(
                of: "clear_at: 350",
                with: "clear_at: 250, keep_firing_for: 10m, nodata_after: 15m"
            ),
            file: "o.yaml"
        )
        #expect(ok?.first?.clearAt == 250)
        #expect(ok?.first?.keepFiringFor == 600)
        #expect(ok?.first?.nodataAfter == 900)
    }
}
