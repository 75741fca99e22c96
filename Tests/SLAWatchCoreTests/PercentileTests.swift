import Foundation
import Testing

@testable import SLAWatchCore

/// The exact nearest-rank quantile of `values`: the smallest `v` with at least `q · n` values
/// `≤ v`.
func exactQuantile(_ values: [Double], _ q: Double) -> Double {
    let sorted = values.sorted()
    let rank = Int((q * Double(sorted.count) - 1e-9).rounded(.up))
    return sorted[max(0, min(sorted.count - 1, rank - 1))]
}

/// Percentiles from the mergeable sketch, checked against exact sorted arrays.
@Suite struct PercentileTests {
    static let quantiles = [0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0]

    private static func sample(_ kind: Int, _ rng: inout SplitMix64) -> Double {
        switch kind {
        case 0: return Double.random(in: 0.001...1000, using: &rng)  // uniform
        case 1: return exp(Double.random(in: -3...9, using: &rng))  // log-uniform over 5 decades
        case 2: return Double(Int.random(in: 1...5, using: &rng)) * 100  // a few distinct values
        case 3: return Double.random(in: -500...500, using: &rng)  // both signs
        default:
            // Latency-like: mostly fast, a slow tail.
            return Double.random(in: 0...1, using: &rng) < 0.97
                ? Double.random(in: 20...80, using: &rng) : Double.random(in: 300...5000, using: &rng)
        }
    }

    @Test(arguments: 0..<5)
    func withinOnePercentOfTheExactValue(distribution: Int) {
        var rng = SplitMix64(seed: 42 + UInt64(distribution))
        for trial in 0..<40 {
            let n = Int.random(in: 1...3000, using: &rng)
            let values = (0..<n).map { _ in Self.sample(distribution, &rng) }
            var sketch = QuantileSketch()
            for v in values { sketch.add(v) }
            for q in Self.quantiles {
                let exact = exactQuantile(values, q)
                let got = sketch.quantile(q)!
                #expect(
                    abs(got - exact) <= 0.01 * abs(exact) + 1e-9,
                    "distribution \(distribution) trial \(trial) n \(n) q \(q): \(got) vs \(exact)"
                )
            }
        }
    }

    @Test func mergingPartsEqualsSketchingTheWhole() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<50 {
            let values = (0..<Int.random(in: 1...2000, using: &rng)).map { _ in Self.sample(4, &rng) }
            var whole = QuantileSketch()
            for v in values { whole.add(v) }
            // Split into up to 60 buckets, merged in a shuffled order.
            var parts = Array(repeating: QuantileSketch(), count: Int.random(in: 1...60, using: &rng))
            for v in values { parts[Int.random(in: 0..<parts.count, using: &rng)].add(v) }
            parts.shuffle(using: &rng)
            var merged = QuantileSketch()
            for p in parts { merged.merge(p) }
            #expect(merged == whole)
            for q in Self.quantiles { #expect(merged.quantile(q) == whole.quantile(q)) }
        }
    }

    @Test func weightsCountLikeRepeatedValues() {
        var weighted = QuantileSketch()
        weighted.add(10, weight: 9)  // a statsd timer sampled at @0.111…
        weighted.add(1000, weight: 1)
        var repeated = QuantileSketch()
        for _ in 0..<9 { repeated.add(10) }
        repeated.add(1000)
        for q in Self.quantiles { #expect(weighted.quantile(q) == repeated.quantile(q)) }
        #expect(abs(weighted.quantile(0.9)! - 10) <= 0.1)
        #expect(abs(weighted.quantile(0.95)! - 1000) <= 10)
    }

    @Test func codableRoundTrip() throws {
        var s = QuantileSketch()
        for v in [-3.0, 0, 0.5, 2, 2, 1e6] { s.add(v) }
        let back = try JSONDecoder().decode(QuantileSketch.self, from: JSONEncoder().encode(s))
        #expect(back == s)
        #expect(back.quantile(0.5) == s.quantile(0.5))
        #expect(QuantileSketch().quantile(0.5) == nil)
    }

    @Test(arguments: [
        ("p95", SLIKind.percentile(95)), ("p50", .percentile(50)), ("p99.9", .percentile(99.9)),
        ("count", .count), ("rate", .rate),
    ])
    func sliNames(_ c: (String, SLIKind)) {
        #expect(SLIKind(name: c.0) == c.1)
        #expect(c.1.name == c.0)
    }

    @Test(arguments: ["p0", "p100", "p", "p99.9x", "p.5", "p9.", "P95", "p-5", "median"])
    func notSLINames(_ s: String) {
        #expect(SLIKind(name: s) == nil)
    }

    /// The engine merges the window's buckets at query time: p95 of a 5-minute window spread
    /// over many buckets equals p95 of all its values (within 1%), not an average of per-bucket
    /// percentiles.
    @Test func windowPercentileIsOverAllValuesOfTheWindow() {
        let o = Objective(
            name: "lat",
            sla: SLA(name: "s", provider: "p", customer: "c"),
            metric: "checkout.latency",
            match: [:],
            sli: .percentile(95),
            window: .rolling(seconds: 300),
            timeZone: "UTC",
            direction: .atMost,
            baseline: Baseline(value: 300, kind: .fixed, source: "300"),
            forSeconds: 0,
            lateTolerance: 0,
            nodata: .alert
        )
        var engine = Engine(objectives: [o])
        var rng = SplitMix64(seed: 99)
        var values: [Double] = []
        let now = 10_000.0
        for k in 0..<3000 {
            // 10% slow requests, all in one 5-second bucket: an average of per-bucket p95s would
            // be about 70 ms; the window's p95 is a slow request.
            let slow = k < 300
            let t = slow ? now - 100 : now - 290 + Double(k % 290)
            let v = slow ? Double.random(in: 900...1100, using: &rng) : Double.random(in: 40...60, using: &rng)
            values.append(v)
            _ = engine.ingest([Event(metric: "checkout.latency", value: v, kind: .distribution, time: t)], now: now)
        }
        let exact = exactQuantile(values, 0.95)
        let got = engine.status(at: now).first!.value!
        #expect(exact >= 900)
        #expect(abs(got - exact) <= 0.01 * exact)
        // Events older than the window do not count.
        let later = engine.status(at: now + 400).first!.value
        #expect(later == nil)
    }

    /// Found by the state fuzz target: a stored sketch whose bins lie far apart made decoding
    /// allocate every bin in between (6 GB for one damaged bucket). Indexes no finite value can
    /// have are a decoding error; the extreme ones real values have still decode.
    @Test func aStoredSketchWithImpossibleBinIndexesIsRefused() throws {
        // whole weights; zero weight 0; two positive bins: index -1000 (weight 1), then
        // +2,000,000 further (weight 1); no negative bins.
        let forged: [UInt8] = [3, 0, 2, 0xCF, 0x0F, 0, 2, 0x80, 0x89, 0x7A, 2, 0]
        #expect(throws: BucketCodec.DecodeError.self) { try BucketCodec.unpackSketch(forged) }
        // A bin gap of 2⁶⁴ − 1 trapped converting to Int64 (the daemon crashed at start).
        let gap: [UInt8] = [3, 0, 1, 0] + Array(repeating: 0xFF, count: 9) + [0x01, 2, 0]
        #expect(throws: BucketCodec.DecodeError.self) { try BucketCodec.unpackSketch(gap) }
        // So did a sample count above Int.max.
        let samples: [UInt8] = [1, 0, 0xFF] + Array(repeating: 0xFF, count: 9) + [0x01]
        #expect(throws: BucketCodec.DecodeError.self) { try BucketCodec.decode(samples) }
        #expect(QuantileSketch.indexRange.lowerBound == QuantileSketch.index(1e-9))
        #expect(QuantileSketch.indexRange.upperBound > 35_000 && QuantileSketch.indexRange.upperBound < 36_000)
        var extreme = QuantileSketch()
        for x in [Double.greatestFiniteMagnitude, 1.000001e-9, -1e300, 0] { extreme.add(x) }
        let back = try BucketCodec.unpackSketch(BucketCodec.packSketch(extreme))
        #expect(back == extreme)
    }
}
