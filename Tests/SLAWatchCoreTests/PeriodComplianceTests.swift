import Foundation
import Testing

@testable import SLAWatchCore

/// Report periods of objectives judged continuously: every objective gets a verdict per
/// calendar period (compliance, time in breach, episodes, worst moment), not only cumulative
/// targets (docs/reports.md).
@Suite struct PeriodComplianceTests {
    static let day = RFC3339.parse("2026-11-30T00:00:00Z")!

    /// "p-max latency over 1 minute at most 100 ms", judged every minute, reported per day.
    static func latency(target: Double? = nil, zone: String = "UTC") -> Objective {
        var sla = SLA(name: "checkout", provider: "platform", customer: "shop")
        sla.reportPeriods = [.day]
        sla.complianceTarget = target
        return Objective(
            name: "checkout-latency",
            sla: sla,
            metric: "latency",
            sli: .max,
            window: .rolling(seconds: 60),
            timeZone: zone,
            direction: .atMost,
            baseline: Baseline(value: 100, kind: .fixed, source: "100"),
            nodata: .ok,
            unit: "ms"
        )
    }

    /// A day of one sample a minute at 50 ms, except `bad` minutes (offset → value), evaluated
    /// 30 s into each minute, then the first minute of the next day.
    static func run(_ engine: inout Engine, bad: [Int: Double], minutes: Range<Int> = 0..<1442) -> [Transition] {
        var out: [Transition] = []
        for m in minutes {
            let t = day + Double(m) * 60
            _ = engine.ingest(
                [Event(metric: "latency", value: bad[m] ?? 50, kind: .distribution, time: t + 1)],
                now: t + 1
            )
            out += engine.evaluate(at: t + 30)
        }
        return out
    }

    /// 2 h 24 min of breach in one episode: compliance 90 %, met against a 90 % target, with the
    /// worst moment's value, baseline and time.
    @Test func aDayWithOneEpisodeReportsItsComplianceAndWorstMoment() throws {
        var bad: [Int: Double] = [:]
        for m in 360..<504 { bad[m] = 150 }  // 06:00 … 08:23
        bad[420] = 230  // 07:00, the worst
        var engine = Engine(objectives: [Self.latency(target: 0.9)])
        let t = Self.run(&engine, bad: bad)
        let breach = try #require(t.first { $0.kind == .breach })
        let recovery = try #require(t.first { $0.kind == .recovery })
        #expect(breach.at == Self.day + 360 * 60 + 30)
        #expect(recovery.at == Self.day + 504 * 60 + 30)
        let reports = t.filter { $0.kind == .periodReport }
        #expect(reports.count == 1)
        let report = try #require(reports.first)
        let r = try #require(report.report)
        #expect(report.at == Self.day + 86400 + 30)
        #expect(r.start == Self.day && r.end == Self.day + 86400 && r.unit == .day)
        #expect(r.breached == 144 * 60)
        // The first evaluation was 30 s into the day: those seconds were not judged.
        #expect(r.unjudged == 30)
        #expect(r.met == 86400 - 30 - 144 * 60)
        #expect(r.episodes == 1)
        #expect(r.worstValue == 230 && r.worstBaseline == 100 && r.worstAt == Self.day + 420 * 60 + 30)
        #expect(abs((r.compliance ?? 0) - (86370 - 8640) / 86370.0) < 1e-12)
        #expect(report.met == false)  // 89.998 % < 90 %
        let f = Dictionary(AlertEntry.fields(report, engine.objectives[0]), uniquingKeysWith: { a, _ in a })
        #expect(f["MESSAGE_ID"] == MessageID.periodReport)
        #expect(f["SLAWATCH_TRANSITION"] == "period_report")
        #expect(f["SLAWATCH_PERIOD"] == "day")
        #expect(f["SLAWATCH_RESULT"] == "missed")
        #expect(f["SLAWATCH_TIME_IN_BREACH"] == "8640")
        #expect(f["SLAWATCH_EPISODES"] == "1")
        #expect(f["SLAWATCH_WORST_VALUE"] == "230")
        #expect(f["SLAWATCH_WORST_AT"] == "2026-11-30T07:00:30Z")
        #expect(f["SLAWATCH_COMPLIANCE_TARGET"] == "0.9")
        #expect(f["SLAWATCH_WINDOW_START"] == "2026-11-30T00:00:00Z")
        #expect(
            f["MESSAGE"]
                == "checkout-latency day 2026-11-30 missed: met 89.997% of the time (target 90%), 2h24m in breach over 1 episode(s); worst 230 ms against at most 100 at 2026-11-30T07:00:30Z (platform → shop)"
        )
    }

    /// Without a compliance target a period is met only if never breached; a day without a
    /// breach is met, and its worst moment is the value closest to the line.
    @Test func withoutATargetMetMeansNeverBreached() throws {
        var engine = Engine(objectives: [Self.latency()])
        let t = Self.run(&engine, bad: [100: 99, 200: 101])
        let r = try #require(t.first { $0.kind == .periodReport })
        #expect(r.met == false)
        #expect(r.report?.episodes == 1)
        #expect(r.report?.breached == 60)
        var clean = Engine(objectives: [Self.latency()])
        let c = try #require(Self.run(&clean, bad: [100: 99]).first { $0.kind == .periodReport })
        #expect(c.met == true)
        #expect(c.report?.compliance == 1)
        #expect(c.report?.worstValue == 99)
    }

    /// The tallies are saved with the state: a restart at any minute gives the same report.
    @Test func aRestartKeepsTheTally() throws {
        var bad: [Int: Double] = [:]
        for m in 600..<660 { bad[m] = 180 }
        var straight = Engine(objectives: [Self.latency()])
        let expected = Self.run(&straight, bad: bad).filter { $0.kind == .periodReport }
        #expect(expected.count == 1)
        for cut in [1, 300, 630, 1000, 1440] {
            var first = Engine(objectives: [Self.latency()])
            _ = Self.run(&first, bad: bad, minutes: 0..<cut)
            var second = Engine(objectives: [Self.latency()])
            second.restore(first.allSnapshots())
            let got = Self.run(&second, bad: bad, minutes: cut..<1442).filter { $0.kind == .periodReport }
            #expect(got == expected, "restart after minute \(cut)")
        }
    }

    /// Tallies are saved with every instance's state: short keys, zeros left out, and they read
    /// back equal.
    @Test func aTallyIsSavedCompactly() throws {
        var engine = Engine(objectives: [Self.latency()])
        _ = Self.run(&engine, bad: [100: 180], minutes: 0..<300)
        let tally = try #require(engine.allSnapshots().first?.state.tallies?.first)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(tally)
        #expect(
            String(decoding: data, as: UTF8.self)
                == #"{"a":1796002890,"b":60,"e":1796083200,"k":1,"m":6000,"n":30,"s":1795996800,"u":"day","wa":1796002830,"wb":100,"wv":180}"#
        )
        #expect(try JSONDecoder().decode(PeriodTally.self, from: data) == tally)
        let fresh = PeriodTally(unit: .week, start: 0, end: 604_800, from: 0)
        #expect(String(decoding: try encoder.encode(fresh), as: UTF8.self) == #"{"a":0,"e":604800,"s":0,"u":"week"}"#)
    }

    /// `report_periods` and `compliance_target` as written in an SLA, and their errors.
    @Test func theSLAKeys() throws {
        func sla(_ extra: String) -> String {
            """
            slas:
              - name: s
                provider: p
                customer: c
            \(extra)
                objectives:
                  - {name: o, metric: m, sli: max, window: 1m, direction: at_most, baseline: 1}
            """
        }
        let plain = try #require(try ObjectivesConfig.parse(sla(""), file: "s.yaml").first)
        #expect(plain.sla.reportPeriods == [.week, .month] && plain.sla.complianceTarget == nil)
        let set = try #require(
            try ObjectivesConfig.parse(
                sla("    report_periods: [day, quarter, day]\n    compliance_target: 99.5%"),
                file: "s.yaml"
            )
            .first
        )
        #expect(set.sla.reportPeriods == [.day, .quarter])
        #expect(abs((set.sla.complianceTarget ?? 0) - 0.995) < 1e-12)
        #expect(
            try ObjectivesConfig.parse(sla("    report_periods: []"), file: "s.yaml").first?.sla.reportPeriods == []
        )
        #expect(objectiveErrors(sla("    report_periods: [fortnight]")).map(\.key) == ["slas[0].report_periods[0]"])
        #expect(objectiveErrors(sla("    compliance_target: 101%")).map(\.key) == ["slas[0].compliance_target"])
        #expect(objectiveErrors(sla("    compliance_target: 0")).map(\.key) == ["slas[0].compliance_target"])
        #expect(objectiveErrors(sla("    compliance_target: 0.999")).isEmpty)
    }

    /// Time while the objective is not judged (a young window's "at least" count, an adaptive
    /// baseline still learning) is not judged in the report either, not met.
    @Test func timeWithoutATrustedBaselineIsNotJudged() throws {
        var o = Self.latency()
        o.sli = .count
        o.window = .rolling(seconds: 3600)
        o.direction = .atLeast
        o.baseline = Baseline(value: 30, kind: .fixed, source: "30")
        var engine = Engine(objectives: [o])
        let t = Self.run(&engine, bad: [:])
        #expect(t.filter { $0.kind == .breach }.isEmpty)
        let r = try #require(t.first { $0.kind == .periodReport }?.report)
        // 30 s before the first evaluation, then 59 min until the window is covered (its length
        // less one 60 s bucket).
        #expect(r.unjudged == 30 + 3540)
        #expect(r.met == 86400 - 3570)
        #expect(r.compliance == 1)
    }

    /// A ratio objective's period sums its good and total events (every event of the day counted
    /// once, whatever its window), and the entry says how much of the period's error budget was
    /// used; the `at_most` statement of the same promise gives the same numbers.
    @Test func aRatioPeriodCountsEveryEventOnceAndItsBudget() throws {
        for errorsAtMost in [false, true] {
            var sla = SLA(name: "api", provider: "platform", customer: "web")
            sla.reportPeriods = [.day]
            var o = Objective(
                name: "availability",
                sla: sla,
                metric: "req",
                sli: .ratio,
                window: .rolling(seconds: 300),
                direction: .atLeast,
                baseline: Baseline(value: 0.99, kind: .fixed, source: "0.99"),
                nodata: .ok,
                good: GoodSelector(metric: "req", match: ["status": "!~5.."])
            )
            if errorsAtMost {
                o.direction = .atMost
                o.baseline = Baseline(value: 0.01, kind: .fixed, source: "0.01")
                o.good = GoodSelector(metric: "req", match: ["status": "=~5.."])
            }
            var engine = Engine(objectives: [o])
            var out: [Transition] = []
            for m in 0..<1442 {
                let t = Self.day + Double(m) * 60
                // 20 requests a minute; 1 of them a 500 in the first 12 hours (5 %), none after.
                var events = (0..<19).map { _ in
                    Event(metric: "req", value: 1, kind: .counter, labels: ["status": "200"], time: t + 1)
                }
                events.append(
                    Event(
                        metric: "req",
                        value: 1,
                        kind: .counter,
                        labels: ["status": m < 720 ? "500" : "200"],
                        time: t + 2
                    )
                )
                _ = engine.ingest(events, now: t + 2)
                out += engine.evaluate(at: t + 30)
            }
            let report = try #require(out.first { $0.kind == .periodReport })
            let r = try #require(report.report)
            // The day's 1,440 minutes of 20 requests; the two minutes of the next day are not in it.
            #expect(r.total == 28_800)
            let bad = 720.0
            #expect(r.good == (errorsAtMost ? bad : 28_800 - bad))
            #expect(report.value == (errorsAtMost ? bad / 28_800 : 1 - bad / 28_800))
            let f = Dictionary(AlertEntry.fields(report, o), uniquingKeysWith: { a, _ in a })
            #expect(f["SLAWATCH_TOTAL_EVENTS"] == "28800")
            #expect(f["SLAWATCH_ERROR_BUDGET"] == "288")
            #expect(f["SLAWATCH_BUDGET_REMAINING"] == "-432")
            #expect(f["MESSAGE"]?.contains("720 of 28800 events bad, 250% of the error budget used") == true)
            // A report reads the same.
            let row = try #require(
                PeriodReport.rows(
                    [(o.name, r.start, r.end, report.value ?? .nan, report.baseline, report.met)],
                    reports: [r],
                    objectives: [o]
                ).first
            )
            #expect(row.budgetUsed == 2.5)
            #expect(row.totalEvents == 28_800)
        }
    }

    /// A day in Berlin runs from 23:00 UTC; `report_periods: []` reports nothing.
    @Test func periodsFollowTheTimeZoneAndCanBeTurnedOff() throws {
        var engine = Engine(objectives: [Self.latency(zone: "Europe/Berlin")])
        let t = Self.run(&engine, bad: [:], minutes: 0..<1442)
        let r = try #require(t.first { $0.kind == .periodReport }?.report)
        #expect(r.start == Self.day - 3600 && r.end == Self.day + 23 * 3600)
        var o = Self.latency()
        o.sla.reportPeriods = []
        var off = Engine(objectives: [o])
        #expect(Self.run(&off, bad: [:]).filter { $0.kind == .periodReport }.isEmpty)
    }

    /// A worst moment that moves at every evaluation is not written at every commit: the
    /// state goes out with the instance's flush boundary (every 5 minutes) or at once with
    /// anything else that changed (a breach), and every pending figure at shutdown.
    @Test func runningFiguresWaitForTheFlushBoundary() throws {
        var engine = Engine(objectives: [Self.latency()])
        func minute(_ m: Int, _ value: Double) -> Engine.InstanceChange? {
            let t = Self.day + Double(m) * 60
            _ = engine.ingest([Event(metric: "latency", value: value, kind: .distribution, time: t + 1)], now: t + 1)
            _ = engine.evaluate(at: t + 30)
            return engine.takeChanges().first
        }
        // The first evaluation starts the tallies: written.
        let first = try #require(minute(0, 50))
        #expect(first.state?.tallies?.first?.worstValue == 50)
        // 51 … 54 ms at 00:01:30 … 00:04:30: a new worst each minute, buckets written, state not.
        for m in 1...4 {
            let c = try #require(minute(m, 50 + Double(m)))
            #expect(c.state == nil)
            #expect(!c.buckets.isEmpty)
        }
        // 00:05:30 is past the 00:05 boundary: the state goes out with the worst moment now.
        let flushed = try #require(minute(5, 55))
        #expect(flushed.state?.tallies?.first?.worstValue == 55)
        #expect(flushed.state?.tallies?.first?.worstAt == Self.day + 5 * 60 + 30)
        #expect(try #require(minute(6, 56)).state == nil)
        // A breach is written with the commit after it, running figures included.
        let breach = try #require(minute(7, 150))
        #expect(breach.state?.state == .breached)
        #expect(breach.state?.tallies?.first?.worstValue == 150)
        #expect(breach.state?.tallies?.first?.episodes == 1)
        #expect(try #require(minute(8, 160)).state == nil)
        // Shutdown: what waits is in the final take.
        engine.closeOpenHistorySteps()
        let last = try #require(engine.takeChanges().first)
        #expect(last.state?.tallies?.first?.worstValue == 160)
    }

    /// Running figures: a period's worst moment and a calendar ratio window's sums in the same
    /// window period; a closed period, time accounted or a new rolling bucket summed are not.
    @Test func whichTallyChangesAreRunningFigures() {
        var a = InstanceState()
        a.tallies = [PeriodTally(unit: .day, start: 0, end: 86_400, from: 0)]
        var b = a
        b.tallies![0].worstValue = 3
        b.tallies![0].worstAt = 10
        b.tallies![0].total = 5
        #expect(b.differsOnlyInRunningFigures(from: a))
        var c = b
        c.tallies![0].summedThrough = 7
        #expect(!c.differsOnlyInRunningFigures(from: a))
        var d = b
        d.tallies![0].met = 60
        #expect(!d.differsOnlyInRunningFigures(from: a))
        var e = b
        e.state = .breached
        #expect(!e.differsOnlyInRunningFigures(from: a))
        #expect(!a.differsOnlyInRunningFigures(from: InstanceState()))
    }
}
