import Foundation
import Testing

@testable import SLAWatchCore

/// Threshold SLIs: `good: {value: "<= 300"}` judges each raw sample by its value, so "99 % of
/// checkouts under 300 ms" is a ratio with an error budget (docs/objectives.md).
@Suite struct ThresholdSLITests {
    static let yaml = """
        slas:
          - name: shop
            provider: platform
            customer: sales
            objectives:
              - name: checkout-fast
                metric: checkout.latency
                labels: {region: eu}
                sli: ratio
                good: {value: "<= 300"}
                window: 1h
                direction: at_least
                baseline: 99%
                unit: ms
        """

    static func objective(_ text: String = yaml) throws -> Objective {
        try #require(try ObjectivesConfig.parse(text, file: "shop.yaml").first)
    }

    /// `n` timings of `checkout.latency` in the eu region, values from `values(k)`.
    static func timings(_ n: Int, at t: Double, rate: Double = 1, region: String = "eu", _ values: (Int) -> Double)
        -> [Event]
    {
        (0..<n).map { k in
            Event(
                metric: "checkout.latency",
                value: values(k),
                kind: .distribution,
                labels: ["region": region],
                time: t,
                sampleRate: rate
            )
        }
    }

    @Test func theSelectorKeepsTheObjectivesMetricAndLabels() throws {
        let o = try Self.objective()
        #expect(o.good == GoodSelector(metric: "checkout.latency", match: ["region": "eu"], value: .init(.atMost, 300)))
        #expect(o.good?.value?.description == "<= 300")
        #expect(o.baseline.value == 0.99)
    }

    /// 9,900 checkouts from 1 to 300 ms (300 itself good: "at most") and 100 from 301 to 400:
    /// exactly 99 %, met, budget 100 spent to the last one; one more at 300.5 ms breaches.
    @Test func ninetyNinePercentUnder300msFromRawSamples() throws {
        var e = Engine(objectives: [try Self.objective()])
        let t0 = 1_800_000_000.0
        _ = e.ingest(Self.timings(9900, at: t0) { Double($0 % 300 + 1) }, now: t0)
        _ = e.ingest(Self.timings(100, at: t0 + 1) { Double(301 + $0) }, now: t0 + 1)
        // Another region's slow samples are neither good nor in the total.
        _ = e.ingest(Self.timings(50, at: t0 + 1, region: "us") { _ in 900 }, now: t0 + 1)
        let s = try #require(e.status(at: t0 + 2).first)
        #expect(s.value == 0.99)
        #expect(s.errorBudget == 100)
        #expect(s.budgetRemaining == 0)
        #expect(e.evaluate(at: t0 + 2).filter { $0.kind == .breach }.isEmpty)
        _ = e.ingest(Self.timings(1, at: t0 + 3) { _ in 300.5 }, now: t0 + 3)
        let breach = try #require(e.evaluate(at: t0 + 4).first { $0.kind == .breach })
        #expect(breach.value == 9900.0 / 10001.0)
        if case .ratio(let r) = breach.detail {
            #expect(r.total == 10001)
            #expect(r.good == 9900)
        } else {
            Issue.record("a ratio breach carries its counts")
        }
    }

    /// A sampled timing counts 1/rate times, good or bad, and every operator cuts where it says.
    @Test func sampleRatesAndOperators() throws {
        var e = Engine(objectives: [try Self.objective()])
        let t0 = 1_800_000_000.0
        // 10 samples at @0.1 stand for 100 checkouts: 90 at 200 ms, 10 at 500 ms.
        _ = e.ingest(
            Self.timings(9, at: t0, rate: 0.1) { _ in 200 } + Self.timings(1, at: t0, rate: 0.1) { _ in 500 },
            now: t0
        )
        #expect(e.status(at: t0 + 1).first?.value == 0.9)
        let cases: [(String, Double, Bool)] = [
            ("<= 300", 300, true), ("< 300", 300, false), ("<300", 299.99, true), (">= 200", 200, true),
            ("> 200", 200, false), (">200", 200.5, true), ("<= -1.5e3", -1500, true),
        ]
        for (text, value, good) in cases {
            #expect(try ValueThreshold(parsing: text).admits(value) == good, "\(text) on \(value)")
        }
        #expect(!ValueThreshold(.atMost, 300).admits(.nan))
    }

    @Test func aBadThresholdIsAnErrorNamingFileLineAndKey() throws {
        // `value: null` is no threshold (it would make every event good).
        let null = Self.yaml.replacingOccurrences(of: "{value: \"<= 300\"}", with: "{value: null}")
        #expect(throws: ConfigErrors.self) { try ObjectivesConfig.parse(null, file: "shop.yaml") }
        for (value, says) in [
            ("=< 300", "write an operator"), ("<= fast", "'fast' is not a finite number"), ("<= inf", "not a finite"),
        ] {
            let text = Self.yaml.replacingOccurrences(of: "\"<= 300\"", with: "\"\(value)\"")
            do {
                _ = try ObjectivesConfig.parse(text, file: "shop.yaml")
                Issue.record("\(value) was accepted")
            } catch {
                let err = try #require(error.errors.first)
                #expect(err.file == "shop.yaml")
                #expect(err.line == 10)
                #expect(err.key == "slas[0].objectives[0].good.value")
                #expect(err.message.contains(says), "\(err.message)")
            }
        }
        // Only ratios take a good selector, a threshold included.
        let count = Self.yaml.replacingOccurrences(of: "sli: ratio", with: "sli: count")
            .replacingOccurrences(of: "baseline: 99%", with: "baseline: 10")
        #expect(throws: ConfigErrors.self) { try ObjectivesConfig.parse(count, file: "shop.yaml") }
    }

    /// Stored buckets counted good events by the threshold in force: another threshold is
    /// another window (its fingerprint differs), the same one restores.
    @Test func changingTheThresholdStartsTheWindowAfresh() throws {
        let a = try Self.objective()
        let b = try Self.objective(Self.yaml.replacingOccurrences(of: "<= 300", with: "<= 250"))
        let c = try Self.objective(Self.yaml.replacingOccurrences(of: "<= 300", with: "<=300.0"))
        #expect(a.dataFingerprint != b.dataFingerprint)
        #expect(a.dataFingerprint == c.dataFingerprint)
        var plain = a
        plain.good?.value = nil
        #expect(plain.dataFingerprint == a.dataFingerprint.replacingOccurrences(of: "|value:<=300.0", with: ""))
    }
}
