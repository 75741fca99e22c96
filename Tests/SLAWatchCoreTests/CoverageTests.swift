import Foundation
import Testing

@testable import SLAWatchCore

/// Rolling windows younger than their length (the daemon or the objective is): a rate divides
/// by the span history covers, an "at least" count or sum is not judged until covered, status
/// says how much is covered, and saved state carries the history across a restart.
@Suite struct CoverageTests {
    private func objective(_ sli: SLIKind, baseline: Double, direction: Direction = .atLeast) -> Objective {
        Objective(
            name: "o",
            sla: SLA(name: "s", provider: "p", customer: "c"),
            metric: "jobs",
            sli: sli,
            window: .rolling(seconds: 3600),
            direction: direction,
            baseline: Baseline(value: baseline, kind: .fixed, source: "\(baseline)"),
            nodata: .ok
        )
    }

    /// One event a second for a minute after start-up.
    private func minuteAtOnePerSecond(_ e: inout Engine, from t0: Double) -> [Transition] {
        var out: [Transition] = []
        for k in 0..<60 {
            let t = t0 + Double(k)
            _ = e.ingest([Event(metric: "jobs", value: 1, kind: .counter, time: t)], now: t)
            out += e.evaluate(at: t + 0.5)
        }
        return out
    }

    @Test func aRateDividesByTheCoveredSpan() throws {
        var e = Engine(objectives: [objective(.rate, baseline: 0.5)])
        let t0 = 1_700_000_000.0
        // The reported case: 1/s read as 0.017/s against "at least 0.5/s" breached at once.
        #expect(minuteAtOnePerSecond(&e, from: t0).isEmpty)
        let s = try #require(e.status(at: t0 + 60).first)
        #expect(abs((s.value ?? 0) - 1) < 0.02)
        #expect(abs((s.coverage ?? 0) - 60.0 / 3600) < 0.001)
        // An hour on, the window is covered: the full hour divides the events still in it.
        let later = e.evaluate(at: t0 + 3630)
        #expect(later.map(\.kind) == [.breach])
        #expect(e.status(at: t0 + 3630).first?.coverage == nil)
        let perHour = (e.status(at: t0 + 3630).first?.value ?? 0) * 3600
        #expect(perHour >= 1 && perHour <= 60 && perHour == perHour.rounded())
    }

    @Test func anAtLeastCountIsNotJudgedUntilCovered() throws {
        var e = Engine(objectives: [objective(.count, baseline: 100)])
        let t0 = 1_700_000_000.0
        #expect(minuteAtOnePerSecond(&e, from: t0).isEmpty)
        #expect(e.status(at: t0 + 60).first?.state == .ok)
        #expect(e.status(at: t0 + 60).first?.value == 60)
        // Covered, and short of 100: a breach.
        #expect(e.evaluate(at: t0 + 3601).map(\.kind) == [.breach])
        // "At most" counts are judged at once: a partial window can only grow.
        var m = Engine(objectives: [objective(.count, baseline: 10, direction: .atMost)])
        #expect(minuteAtOnePerSecond(&m, from: t0).map(\.kind) == [.breach])
    }

    @Test func savedStateCarriesTheHistoryAcrossARestart() {
        var a = Engine(objectives: [objective(.count, baseline: 100)])
        let t0 = 1_700_000_000.0
        _ = a.evaluate(at: t0)
        _ = a.ingest([Event(metric: "jobs", value: 5, kind: .counter, time: t0 + 3000)], now: t0 + 3000)
        _ = a.evaluate(at: t0 + 3000)
        var b = Engine(objectives: [objective(.count, baseline: 100)])
        b.restore(a.allSnapshots())
        // Restarted at t0 + 3650: the history began at t0, so the window is covered.
        #expect(b.evaluate(at: t0 + 3650).map(\.kind) == [.breach])
        // A fresh engine with the same data restored but no history would not judge yet; one
        // whose buckets alone span the window would.
        var c = Engine(objectives: [objective(.count, baseline: 100)])
        _ = c.ingest(
            [
                Event(metric: "jobs", value: 1, kind: .counter, time: t0 - 60),
                Event(metric: "jobs", value: 1, kind: .counter, time: t0 + 3500),
            ],
            now: t0 + 3500
        )
        #expect(c.evaluate(at: t0 + 3500).map(\.kind) == [.breach])
    }
}
