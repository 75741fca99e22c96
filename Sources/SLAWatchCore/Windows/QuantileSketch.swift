import Foundation

/// A mergeable quantile sketch with a relative-error guarantee: DDSketch (Masson, Rim and Lee,
/// "DDSketch: A Fast and Fully-Mergeable Quantile Sketch with Relative-Error Guarantees", VLDB
/// 2019), with logarithmic bins of ratio `γ = (1 + α) / (1 − α)` and `α = 0.01`.
///
/// Every value `x > 0` is counted in bin `k = ⌈log_γ x⌉` and read back as `2γ^k / (γ + 1)`, which
/// is within `α` (1%) of every value of the bin; negative values are mirrored, values with
/// `|x| < 1e-9` count as zero. Merging two sketches adds their bins, so a window's percentile is
/// computed from the merged bins of its buckets (never by averaging per-bucket percentiles).
///
/// `quantile(q)` answers the nearest-rank quantile: the smallest value `v` such that at least
/// `q · n` of the (weighted) values are `≤ v`, to within 1% of `v`. Memory: one bin per distinct
/// `k`, about 1,100 bins for values spanning 1 µs to 1 hour.
public struct QuantileSketch: Sendable, Equatable, Codable {
    /// Relative accuracy α.
    public static let relativeAccuracy = 0.01
    static let gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy)
    static let logGamma = log(gamma)
    static let minIndexable = 1e-9

    /// Bin index → weight, for positive values.
    public private(set) var positive: [Int32: Double] = [:]
    /// Bin index → weight, for negative values (index of `|x|`).
    public private(set) var negative: [Int32: Double] = [:]
    /// Weight of values with `|x| < 1e-9`.
    public private(set) var zero: Double = 0
    /// Total weight.
    public private(set) var total: Double = 0

    /// An empty sketch.
    public init() {}

    /// The bin of a positive value.
    @inline(__always)
    static func index(_ x: Double) -> Int32 { Int32((log(x) / logGamma).rounded(.up)) }

    /// The value a bin stands for (within α of every value in it).
    @inline(__always)
    static func value(_ k: Int32) -> Double { 2 * pow(gamma, Double(k)) / (gamma + 1) }

    /// Adds a value with a weight (statsd: `1 / sampleRate`).
    public mutating func add(_ x: Double, weight: Double = 1) {
        guard x.isFinite, weight > 0 else { return }
        total += weight
        if x > Self.minIndexable {
            positive[Self.index(x), default: 0] += weight
        } else if x < -Self.minIndexable {
            negative[Self.index(-x), default: 0] += weight
        } else {
            zero += weight
        }
    }

    /// Adds another sketch's bins (associative and commutative).
    public mutating func merge(_ o: QuantileSketch) {
        total += o.total
        zero += o.zero
        for (k, w) in o.positive { positive[k, default: 0] += w }
        for (k, w) in o.negative { negative[k, default: 0] += w }
    }

    /// Whether nothing was added.
    public var isEmpty: Bool { total <= 0 }

    /// The nearest-rank `q`-quantile (`q` in [0, 1]), `nil` when empty.
    public func quantile(_ q: Double) -> Double? {
        guard total > 0 else { return nil }
        let rank = max(0, min(1, q)) * total
        // Walk from the most negative value up; a tiny slack absorbs rounding of weights.
        var seen = 0.0
        let slack = total * 1e-12
        for k in negative.keys.sorted(by: >) {
            seen += negative[k]!
            if seen + slack >= rank && seen > 0 { return -Self.value(k) }
        }
        seen += zero
        if zero > 0 && seen + slack >= rank { return 0 }
        for k in positive.keys.sorted() {
            seen += positive[k]!
            if seen + slack >= rank { return Self.value(k) }
        }
        return positive.keys.max().map(Self.value) ?? 0
    }

    // Codable as parallel arrays (compact in the store).
    private enum CodingKeys: String, CodingKey { case p, pw, n, nw, z }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let p = try c.decode([Int32].self, forKey: .p)
        let pw = try c.decode([Double].self, forKey: .pw)
        let n = try c.decode([Int32].self, forKey: .n)
        let nw = try c.decode([Double].self, forKey: .nw)
        zero = try c.decode(Double.self, forKey: .z)
        positive = Dictionary(zip(p, pw), uniquingKeysWith: +)
        negative = Dictionary(zip(n, nw), uniquingKeysWith: +)
        total = zero + pw.reduce(0, +) + nw.reduce(0, +)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        let p = positive.sorted { $0.key < $1.key }
        let n = negative.sorted { $0.key < $1.key }
        try c.encode(p.map(\.key), forKey: .p)
        try c.encode(p.map(\.value), forKey: .pw)
        try c.encode(n.map(\.key), forKey: .n)
        try c.encode(n.map(\.value), forKey: .nw)
        try c.encode(zero, forKey: .z)
    }
}
