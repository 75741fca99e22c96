import Foundation
import Testing

@testable import SLAWatchCore

/// Time-slice budgeting: availability as good minutes over minutes with traffic (OpenSLO
/// `RatioTimeslices`), and slices judged by a percentile (`Timeslices`).
@Suite struct TimesliceTests {
    static let yaml = """
        slas:
          - name: api
            provider: platform
            customer: web
            report_periods: [day]
            objectives:
              - name: availability
                metric: api.requests
                sli: ratio
                good: {labels: {status: "!~5.."}}
                timeslices: {slice: 1m, good: ">= 99%"}
                window: 1d
                direction: at_least
                baseline: 99%
                nodata: ok
        """

    static let day = RFC3339.parse("2026-11-30T00:00:00Z")!

    /// A day of 100 requests a minute; minute `m` fails `failures[m]` of them. Evaluated 10 s
    /// into each minute, through the first minute of the next day.
    /// With `restartAt`, the engine is replaced by one restored from its snapshots (as the
    /// store keeps them) before that minute.
    static func run(_ text: String = yaml, failures: [Int: Double], restartAt: Int? = nil) throws -> (
        Engine, [Transition]
    ) {
        let o = try #require(try ObjectivesConfig.parse(text, file: "api.yaml").first)
        var e = Engine(objectives: [o])
        var out: [Transition] = []
        for m in 0...1440 {
            let t = day + Double(m) * 60
            if m == restartAt {
                let snapshots = e.allSnapshots()
                #expect(snapshots.map(\.objective).contains("availability/slice:1m"))
                e = Engine(objectives: [o])
                e.restore(snapshots)
            }
            out += e.evaluate(at: t + 10)
            if m == 1440 { break }
            let bad = failures[m] ?? 0
            _ = e.ingest(
                [
                    Event(
                        metric: "api.requests",
                        value: 100 - bad,
                        kind: .counter,
                        labels: ["status": "200"],
                        time: t + 30
                    ),
                    Event(metric: "api.requests", value: bad, kind: .counter, labels: ["status": "500"], time: t + 30),
                ],
                now: t + 30
            )
        }
        return (e, out)
    }

    @Test func availabilityIsGoodMinutesOverMinutes() throws {
        var failures: [Int: Double] = [:]
        for m in 600..<615 { failures[m] = 5 }  // 10:00-10:15 at 95 %: bad minutes
        for m in 900..<910 { failures[m] = 1 }  // 15:00-15:10 at exactly 99 %: good minutes
        let (e, out) = try Self.run(failures: failures)
        // The window holds 1,440 judged minutes, 15 of them bad: 1,425/1,440 = 98.958 %, below
        // the 99 % a request ratio (1,425 + 10·0.99 + 15·0.95 of 1,440 requests…) would pass.
        let report = try #require(out.first { $0.kind == .periodReport })
        #expect(report.counts?.total == 1440)
        #expect(report.counts?.good == 1425)
        #expect(report.value == 1425.0 / 1440.0)
        #expect(report.met == false)
        // The k-th bad minute (10:00 + k) is judged at 10:01:10 + k with 601 + k minutes
        // judged, k + 1 of them bad: below 99 % from the seventh on (600/607 = 98.85 %).
        let breach = try #require(out.first { $0.kind == .breach })
        #expect(breach.at == Self.day + 607 * 60 + 10)
        #expect(breach.value == 600.0 / 607.0)
        // The slices come from the hidden source; the objective itself never counts requests.
        let status = try #require(e.status(at: Self.day + 1440 * 60 + 10).first)
        #expect(status.objective == "availability")
        let budget = try #require(status.errorBudget)
        // 1 % of the minutes the 1d window holds at 00:00:10: its 24-minute buckets from 00:24
        // on, 1,416 minutes.
        #expect(abs(budget - 14.16) < 1e-9)
        // The request ratio of the same traffic, for contrast, is above 99 %.
        let requests: Double = 144_000
        #expect((requests - 15 * 5 - 10) / requests > 0.99)
    }

    /// `Timeslices`: a minute is good when its p99 latency is at most 300 ms.
    @Test func percentileSlices() throws {
        let text = """
            slas:
              - name: shop
                provider: platform
                customer: sales
                objectives:
                  - {name: fast-minutes, metric: latency, sli: p99, timeslices: {slice: 1m, good: "<= 300"},
                     window: 1h, direction: at_least, baseline: 90%, unit: ms}
            """
        let o = try #require(try ObjectivesConfig.parse(text, file: "shop.yaml").first)
        #expect(o.sli == .ratio)
        #expect(
            o.timeslices == TimesliceRule(slice: 60, sli: .percentile(99), goodSelector: nil, good: .init(.atMost, 300))
        )
        var e = Engine(objectives: [o])
        var out: [Transition] = []
        for m in 0..<10 {
            let t = Self.day + Double(m) * 60
            if m == 1 {
                // Events came, no slice is judged yet: status knows the metric was seen.
                #expect(e.status(at: t + 10).first?.value == nil)
                #expect(e.status(at: t + 10).first?.lastSeen == Self.day + 20)
            }
            out += e.evaluate(at: t + 10)
            // Minutes 3 and 7: one in ten requests takes 900 ms, so the p99 is 900.
            let events = (0..<10).map { k in
                Event(
                    metric: "latency",
                    value: (m == 3 || m == 7) && k == 0 ? 900 : 120,
                    kind: .distribution,
                    time: t + 20
                )
            }
            _ = e.ingest(events, now: t + 20)
        }
        out += e.evaluate(at: Self.day + 600 + 10)
        // Minute 3 is judged at 00:04:10: 3 good of 4 (75 %) breaches 90 %; at 00:10:10 the
        // ten minutes are 8 good of 10.
        let breach = try #require(out.first { $0.kind == .breach })
        #expect(breach.at == Self.day + 240 + 10)
        #expect(breach.value == 0.75)
        #expect(e.status(at: Self.day + 600 + 10).first?.value == 0.8)
    }

    @Test func badTimeslicesAreErrors() throws {
        let cases: [(String, String)] = [
            ("{slice: 1m, good: \">= 99%\"}", "{slice: 1m}"),
            ("{slice: 1m, good: \">= 99%\"}", "{slice: 100s, good: \">= 99%\"}"),
            ("{slice: 1m, good: \">= 99%\"}", "{slice: 1m, good: \"99%\"}"),
            ("baseline: 99%", "baseline: 5"),
        ]
        let more: [(String, String, String)] = [
            (
                "{slice: 1m, good: \">= 99%\"}", "{slice: 1m, good: \">= 150%\"}",
                "no slice or every slice would be good"
            ),
            ("{slice: 1m, good: \">= 99%\"}", "{slice: 2d, good: \">= 99%\"}", "not a slice length"),
            ("window: 1d", "window: 30s", "longer than the window"),
            ("direction: at_least", "direction: at_most", "direction: at_least"),
        ]
        for (from, to, message) in more {
            do {
                _ = try ObjectivesConfig.parse(Self.yaml.replacingOccurrences(of: from, with: to), file: "api.yaml")
                Issue.record("\(to) was accepted")
            } catch {
                #expect(error.errors.contains { $0.message.contains(message) }, "\(error)")
            }
        }
        let says = ["missing required key", "whole buckets", "no slice threshold", "between 0 and 1"]
        for ((from, to), message) in zip(cases, says) {
            do {
                _ = try ObjectivesConfig.parse(Self.yaml.replacingOccurrences(of: from, with: to), file: "api.yaml")
                Issue.record("\(to) was accepted")
            } catch {
                #expect(
                    error.errors.contains { $0.message.contains(message) && $0.file == "api.yaml" && $0.line > 0 },
                    "\(error)"
                )
            }
        }
    }

    /// A restart in the middle of the day keeps the judged slices, the slice source's events
    /// and the last slice judged: the day's report is the same.
    @Test func aRestartKeepsTheSlices() throws {
        var failures: [Int: Double] = [:]
        for m in 600..<615 { failures[m] = 5 }
        let (_, out) = try Self.run(failures: failures, restartAt: 700)
        let report = try #require(out.first { $0.kind == .periodReport })
        #expect(report.counts?.total == 1440)
        #expect(report.counts?.good == 1425)
    }

    /// `average: true` (OpenSLO `RatioTimeslices`): the mean of the minutes' ratios. A day of
    /// 100 requests a minute with 15 minutes at 95 % and 10 at 99 %: (1,415 + 15·0.95 +
    /// 10·0.99) / 1,440 = 99.9583 %, every minute weighing the same.
    @Test func averageOfTheSlicesRatios() throws {
        let text = Self.yaml.replacingOccurrences(
            of: "timeslices: {slice: 1m, good: \">= 99%\"}",
            with: "timeslices: {slice: 1m, average: true}"
        )
        var failures: [Int: Double] = [:]
        for m in 600..<615 { failures[m] = 5 }
        for m in 900..<910 { failures[m] = 1 }
        let (_, out) = try Self.run(text, failures: failures)
        let report = try #require(out.first { $0.kind == .periodReport })
        #expect(report.counts?.total == 1440)
        #expect(abs((report.counts?.good ?? 0) - (1415 + 15 * 0.95 + 10 * 0.99)) < 1e-9)
        #expect(abs((report.value ?? 0) - (1415 + 15 * 0.95 + 10 * 0.99) / 1440) < 1e-12)
        #expect(report.met == true)
        #expect(!out.contains { $0.kind == .breach })
        // Average with a per-slice threshold, or on another SLI, is refused.
        #expect(
            objectiveErrors(text.replacingOccurrences(of: "average: true", with: "average: true, good: \">= 99%\""))
                .map(
                    \.key
                ) == ["slas[0].objectives[0].timeslices.good"]
        )
    }
}
