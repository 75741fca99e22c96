import Foundation
import SLAWatchCore
import SLAWatchStore
import Testing

/// The fixed scenario of the report tests (issue 14's proof): November 2026 of three SLAs, run
/// through the engine at 5-minute evaluations and written to a state file as the daemon writes
/// it (period verdicts, report periods, SLI history).
///
/// - `leads-to-sales`: a monthly target of at least 100 qualified leads, a slow start (1 lead a
///   day until the 10th) and a recovery (5 a day after): 110, met.
/// - `api`: availability, 99.9 % of requests good over the calendar month, 1,000 requests every
///   5 minutes; one bad request every third step and a bad hour on the 17th (14:00, 120 bad a
///   step): 4,320 bad of 8,640,000, half the error budget.
/// - `checkout`: p95 latency over 5 minutes at most 300 ms, one breach on the 17th from 14:00 to
///   14:20 (samples at 450 ms); weekly and monthly compliance against a 99 % target.
///
/// Reports are weekly and monthly in UTC, so W45 (Nov 2–8) … W48 (Nov 23–29) close inside the
/// month and W49 (from Nov 30) does not: the week-boundary case.
enum ReportScenario {
    static let objectivesYAML = """
        slas:
          - name: leads-to-sales
            provider: marketing
            customer: sales
            objectives:
              - name: qualified-leads
                metric: leads.qualified
                sli: count
                window: month
                direction: at_least
                baseline: 100
                unit: leads
                nodata: ok
          - name: api
            provider: platform
            customer: web
            report_periods: [week, month]
            objectives:
              - name: availability
                metric: api.requests
                sli: ratio
                good: {metric: api.requests.good}
                window: month
                direction: at_least
                baseline: 99.9%
                nodata: ok
          - name: checkout
            provider: platform
            customer: shop
            report_periods: [week, month]
            compliance_target: 99%
            objectives:
              - name: latency
                metric: checkout.latency
                sli: p95
                window: 5m
                direction: at_most
                baseline: 300
                unit: ms
                nodata: ok

        """

    /// 2026-11-01T00:00:00Z.
    static let start = 1_793_491_200.0
    /// The evaluations run to 2026-12-01T00:10:00Z, closing the month.
    static let end = start + 30 * 86400 + 600

    /// Writes `dir/slawatch.yaml`, `dir/objectives.d/scenario.yaml` and the state file
    /// `dir/state/state.sqlite` of the scenario. Returns the config file's path.
    static func write(into dir: String) throws -> String {
        try FileManager.default.createDirectory(atPath: dir + "/objectives.d", withIntermediateDirectories: true)
        try objectivesYAML.write(toFile: dir + "/objectives.d/scenario.yaml", atomically: true, encoding: .utf8)
        let config = dir + "/slawatch.yaml"
        try """
        state_directory: \(dir)/state
        runtime_directory: \(dir)/run
        drop_directory: \(dir)/drop
        objectives_directory: \(dir)/objectives.d

        """.write(toFile: config, atomically: true, encoding: .utf8)
        let objectives = try ObjectivesConfig.parse(objectivesYAML, file: dir + "/objectives.d/scenario.yaml")
        var engine = Engine(objectives: objectives)
        var periods: [Transition] = []
        var history: [HistoryPoint] = []
        var t = start
        var step = 0
        let badHour = start + 16 * 86400 + 14 * 3600  // 2026-11-17T14:00:00Z
        while t < end {
            var events: [Event] = []
            let day = Int((t - start) / 86400)
            if (t - start).truncatingRemainder(dividingBy: 86400) == 9 * 3600 {
                for _ in 0..<(day < 10 ? 1 : 5) {
                    events.append(Event(metric: "leads.qualified", value: 1, kind: .counter, time: t + 1))
                }
            }
            let inBadHour = t >= badHour && t < badHour + 3600
            let bad = inBadHour ? 120.0 : (step % 3 == 0 ? 1 : 0)
            events.append(Event(metric: "api.requests", value: 1000, kind: .counter, time: t + 1))
            events.append(Event(metric: "api.requests.good", value: 1000 - bad, kind: .counter, time: t + 1))
            let slow = t >= badHour && t < badHour + 1200
            for k in 0..<20 {
                let v = slow ? 450.0 : 120 + Double((k * 37 + step * 11) % 80)
                events.append(Event(metric: "checkout.latency", value: v, kind: .distribution, time: t + 2))
            }
            _ = engine.ingest(events, now: t + 2)
            periods += engine.evaluate(at: t + 60).filter { $0.kind == .periodResult || $0.kind == .periodReport }
            history += engine.takeHistory()
            t += 300
            step += 1
        }
        let store = try StateStore(path: dir + "/state/state.sqlite")
        var batch = StoreBatch(instances: engine.takeChanges(full: true), full: true, periodResults: periods)
        batch.history = history
        try store.write(batch, at: end)
        return config
    }
}

/// The scenario is what its description says, read back from the state file it writes: the
/// golden files rest on these facts.
@Suite struct ReportScenarioTests {
    @Test func theStateFileHoldsTheDescribedNovember() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "slawatch-scenario-\(UUID().uuidString)"
        )
        .path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try ReportScenario.write(into: dir)
        let results = try StateStore.periodResults(atPath: dir + "/state/state.sqlite")
        // Leads: a slow start (10) and a recovery (100): 110 of 100, met.
        let leads = try #require(results.first { $0.objective == "qualified-leads" })
        #expect(leads.value == 110)
        #expect(leads.met == true)
        #expect(leads.start == ReportScenario.start)
        // Availability: half the month's budget, 4,316 bad of 8,640,000; the week of the bad
        // hour (W47, from 16 November) missed, the others met.
        let availability = results.filter { $0.objective == "availability" }
        let month = try #require(availability.first { $0.report?.unit == .month })
        #expect(month.report?.total == 8_640_000)
        #expect(month.report?.good == 8_635_684)
        let weeks = availability.filter { $0.report?.unit == .week }.sorted { $0.start < $1.start }
        #expect(weeks.count == 5)
        #expect(weeks.map(\.met) == [true, true, true, false, true])
        #expect(weeks[3].start == ReportScenario.start + 15 * 86400)
        // Latency: one 20-minute breach, in W47.
        let latency = try #require(
            results.first { $0.objective == "latency" && $0.report?.unit == .month }?.report
        )
        #expect(latency.episodes == 1)
        #expect(latency.breached == 1200)
        #expect(latency.worstValue == 450)
        // Five-minute history for every objective over the whole month.
        let history = try StateStore.history(
            atPath: dir + "/state/state.sqlite",
            step: 300,
            from: ReportScenario.start,
            to: ReportScenario.start + 30 * 86400
        )
        #expect(Set(history.keys) == ["qualified-leads", "availability", "latency"])
        #expect(history["latency"]?.count == 8640)
        #expect(history["latency"]?.filter(\.breached).count == 4)
    }
}
