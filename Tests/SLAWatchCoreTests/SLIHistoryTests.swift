import Foundation
import Testing

@testable import SLAWatchCore

/// SLI history: each judged instance closes a 5-minute and an hourly point as evaluation time
/// leaves a step, with the step's last value, its worst value and whether it breached.
@Suite struct SLIHistoryTests {
    /// A day of the latency objective of `PeriodComplianceTests` (1-minute max ≤ 100 ms), bad
    /// from 06:00 to 06:09 with 230 ms at 06:07.
    @Test func stepsCloseWithLastWorstAndBreach() throws {
        var bad: [Int: Double] = [:]
        for m in 360..<370 { bad[m] = 150 }
        bad[367] = 230
        var engine = Engine(objectives: [PeriodComplianceTests.latency()])
        _ = PeriodComplianceTests.run(&engine, bad: bad, minutes: 0..<421)
        // Taken in parts (the daemon spreads a boundary's points over several commits): the
        // oldest first, nothing lost or repeated.
        #expect(engine.pendingHistoryCount == 91)
        let head = engine.takeHistory(limit: 40)
        #expect(head.count == 40)
        #expect(engine.pendingHistoryCount == 51)
        let points = head + engine.takeHistory(limit: 1000)
        #expect(engine.takeHistory().isEmpty)
        let fine = points.filter { $0.step == 300 }
        let hourly = points.filter { $0.step == 3600 }
        // The last evaluation, 07:00:30, closed 06:55 and the hour of 06:00: 84 five-minute
        // steps and 7 hours.
        #expect(fine.count == 84)
        #expect(hourly.count == 7)
        let day = Int64(PeriodComplianceTests.day)
        #expect(fine.map(\.start) == (0..<84).map { day + Int64($0) * 300 })
        #expect(Set(points.map(\.instance)) == ["checkout-latency"])
        // 06:05-06:10: minutes 365…369 at 150, 230 at 06:07; last evaluation 06:09:30 sees 150.
        let six05 = try #require(fine.first { $0.start == day + 6 * 3600 + 300 })
        #expect(six05.value == 150)
        #expect(six05.worst == 230)
        #expect(six05.baseline == 100)
        #expect(six05.breached)
        // 06:10-06:15: a one-minute window at 06:10:30 holds only 06:10's 50 ms.
        let six10 = try #require(fine.first { $0.start == day + 6 * 3600 + 600 })
        #expect(six10.value == 50)
        #expect(six10.worst == 50)
        let five55 = try #require(fine.first { $0.start == day + 5 * 3600 + 55 * 60 })
        #expect(five55.value == 50 && !five55.breached)
        let hour6 = try #require(hourly.last)
        #expect(hour6.start == day + 6 * 3600)
        #expect(hour6.worst == 230)
        #expect(hour6.value == 50)
        #expect(hour6.breached)
        #expect(hourly.filter(\.breached).count == 1)
        // At shutdown the open steps are queued too.
        engine.closeOpenHistorySteps()
        let open = engine.takeHistory()
        #expect(open.map(\.step).sorted() == [300, 3600])
        #expect(open.allSatisfy { $0.start == day + 7 * 3600 && $0.value == 50 })
    }

    /// `at_least` objectives keep the lowest value as the worst.
    @Test func theWorstFollowsTheDirection() throws {
        let sla = SLA(name: "s", provider: "p", customer: "c")
        let o = Objective(
            name: "throughput",
            sla: sla,
            metric: "jobs",
            sli: .min,
            window: .rolling(seconds: 60),
            direction: .atLeast,
            baseline: Baseline(value: 10, kind: .fixed, source: "10"),
            nodata: .ok
        )
        var engine = Engine(objectives: [o])
        let t0 = 1_764_460_800.0  // a multiple of 3600
        for (m, v) in [20.0, 5, 30, 40, 25, 12].enumerated() {
            let t = t0 + Double(m) * 60
            _ = engine.ingest([Event(metric: "jobs", value: v, kind: .gauge, time: t + 1)], now: t + 1)
            _ = engine.evaluate(at: t + 30)
        }
        let p = try #require(engine.takeHistory().first { $0.step == 300 })
        #expect(p.start == Int64(t0))
        #expect(p.worst == 5)
        #expect(p.value == 25)
    }
}
