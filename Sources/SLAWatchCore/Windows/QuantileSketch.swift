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
/// `q · n` of the (weighted) values are `≤ v`, to within 1% of `v`.
///
/// Bins are stored densely, as DDSketch's "dense store": one `Double` per bin index between the
/// smallest and the largest index seen (8 bytes a bin; values from 1 ms to 60 s span about 550
/// bins), so adding and merging are array arithmetic without hashing. Equality compares the
/// weights per bin index, whatever the arrays' extent.
public struct QuantileSketch: Sendable, Codable {
    /// Relative accuracy α.
    public static let relativeAccuracy = 0.01
    static let gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy)
    static let logGamma = log(gamma)
    static let minIndexable = 1e-9
    /// Every bin index a finite value can have: from `minIndexable`'s to the largest double's
    /// (about −1,036 to 35,500). A stored sketch with an index outside is damaged.
    public static let indexRange: ClosedRange<Int32> = index(minIndexable)...index(.greatestFiniteMagnitude)

    /// Bin weights of positive values; `positive.bins[i]` is bin `positive.offset + i`.
    private(set) var positive = Bins()
    /// Bin weights of negative values (indexed by `|x|`).
    private(set) var negative = Bins()
    /// Weight of values with `|x| < 1e-9`.
    public private(set) var zero: Double = 0
    /// Total weight.
    public private(set) var total: Double = 0

    /// A contiguous run of bins.
    struct Bins: Sendable, Hashable {
        /// Index of `bins[0]`.
        var offset: Int32 = 0
        /// Weights.
        var bins: [Double] = []

        @inline(__always)
        mutating func add(_ k: Int32, _ w: Double) {
            if bins.isEmpty {
                offset = k
                bins.append(w)
                return
            }
            if k < offset {
                // Room for a few more on that side, so growing bin by bin does not shift the
                // array each time (empty bins cost 8 bytes and are skipped everywhere).
                let extra = Int(offset - k) + min(32, bins.count / 4)
                bins.insert(contentsOf: repeatElement(0, count: extra), at: 0)
                offset -= Int32(extra)
            } else if Int(k - offset) >= bins.count {
                let extra = Int(k - offset) - bins.count + 1 + min(32, bins.count / 4)
                bins.append(contentsOf: repeatElement(0, count: extra))
            }
            bins[Int(k - offset)] += w
        }

        mutating func merge(_ o: Bins) {
            if o.bins.isEmpty { return }
            if bins.isEmpty {
                self = o
                return
            }
            let lo = min(offset, o.offset)
            let hi = max(offset + Int32(bins.count), o.offset + Int32(o.bins.count))
            if lo < offset { bins.insert(contentsOf: repeatElement(0, count: Int(offset - lo)), at: 0) }
            offset = lo
            if Int(hi - offset) > bins.count {
                bins.append(contentsOf: repeatElement(0, count: Int(hi - offset) - bins.count))
            }
            let shift = Int(o.offset - offset)
            bins.withUnsafeMutableBufferPointer { dst in
                o.bins.withUnsafeBufferPointer { src in
                    for i in 0..<src.count { dst[shift + i] += src[i] }
                }
            }
        }

        /// `(index, weight)` of the non-empty bins, ascending.
        var nonEmpty: [(Int32, Double)] {
            var out: [(Int32, Double)] = []
            for (i, w) in bins.enumerated() where w != 0 { out.append((offset + Int32(i), w)) }
            return out
        }
    }

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
            positive.add(Self.index(x), weight)
        } else if x < -Self.minIndexable {
            negative.add(Self.index(-x), weight)
        } else {
            zero += weight
        }
    }

    /// Adds `w` (negative: takes it out) to one bin: `BucketCodec` merges packed sketches bin by
    /// bin. A bin that reaches 0 stays in the arrays (equality ignores it).
    @inline(__always)
    public mutating func addWeight(bin k: Int32, negative: Bool, _ w: Double) {
        total += w
        if negative { self.negative.add(k, w) } else { positive.add(k, w) }
    }

    /// Adds `w` to the weight of values near zero (negative: takes it out).
    @inline(__always)
    public mutating func addWeight(zero w: Double) {
        total += w
        zero += w
    }

    /// Adds another sketch's bins (associative and commutative).
    public mutating func merge(_ o: QuantileSketch) {
        total += o.total
        zero += o.zero
        positive.merge(o.positive)
        negative.merge(o.negative)
    }

    /// Whether nothing was added.
    public var isEmpty: Bool { total <= 0 }

    /// Number of non-empty bins (memory and encoding size grow with it).
    public var binCount: Int { positive.bins.count(where: { $0 != 0 }) + negative.bins.count(where: { $0 != 0 }) }

    /// `(bin index, weight)` of the non-empty positive bins, ascending (for encoders).
    public var positiveBins: [(index: Int32, weight: Double)] { positive.nonEmpty.map { ($0.0, $0.1) } }

    /// `(bin index, weight)` of the non-empty negative bins (index of `|x|`), ascending.
    public var negativeBins: [(index: Int32, weight: Double)] { negative.nonEmpty.map { ($0.0, $0.1) } }

    /// A sketch from its bins (decoders): `total` is the sum of every weight.
    public init(
        positive p: [(index: Int32, weight: Double)],
        negative n: [(index: Int32, weight: Double)],
        zero: Double
    ) {
        // One allocation per side: the extent is known from the ascending indexes.
        if let lo = p.first?.index, let hi = p.last?.index, hi >= lo {
            positive.offset = lo
            positive.bins = Array(repeating: 0, count: Int(hi - lo) + 1)
        }
        if let lo = n.first?.index, let hi = n.last?.index, hi >= lo {
            negative.offset = lo
            negative.bins = Array(repeating: 0, count: Int(hi - lo) + 1)
        }
        for (k, w) in p { positive.add(k, w) }
        for (k, w) in n { negative.add(k, w) }
        self.zero = zero
        total = zero + p.reduce(0) { $0 + $1.weight } + n.reduce(0) { $0 + $1.weight }
    }

    /// The nearest-rank `q`-quantile (`q` in [0, 1]), `nil` when empty.
    public func quantile(_ q: Double) -> Double? {
        guard total > 0 else { return nil }
        let rank = max(0, min(1, q)) * total
        // Walk from the most negative value up; a tiny slack absorbs rounding of weights.
        var seen = 0.0
        let slack = total * 1e-12
        for i in stride(from: negative.bins.count - 1, through: 0, by: -1) where negative.bins[i] != 0 {
            seen += negative.bins[i]
            if seen + slack >= rank && seen > 0 { return -Self.value(negative.offset + Int32(i)) }
        }
        seen += zero
        if zero > 0 && seen + slack >= rank { return 0 }
        var last: Int32?
        for i in 0..<positive.bins.count where positive.bins[i] != 0 {
            seen += positive.bins[i]
            last = positive.offset + Int32(i)
            if seen + slack >= rank { return Self.value(last!) }
        }
        return last.map(Self.value) ?? 0
    }

    // Codable as parallel arrays of the non-empty bins (the v7 store's JSON form).
    private enum CodingKeys: String, CodingKey { case p, pw, n, nw, z }

    /// Reads `{"p": [bin…], "pw": [weight…], "n": […], "nw": […], "z": zero}`.
    /// - Throws: `DecodingError` when a key is missing or the arrays differ in length.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let p = try c.decode([Int32].self, forKey: .p)
        let pw = try c.decode([Double].self, forKey: .pw)
        let n = try c.decode([Int32].self, forKey: .n)
        let nw = try c.decode([Double].self, forKey: .nw)
        guard p.count == pw.count, n.count == nw.count else {
            throw DecodingError.dataCorruptedError(
                forKey: .pw,
                in: c,
                debugDescription: "bins and weights differ in length"
            )
        }
        self.init(
            positive: zip(p, pw).map { ($0, $1) },
            negative: zip(n, nw).map { ($0, $1) },
            zero: try c.decode(Double.self, forKey: .z)
        )
    }

    /// Writes the non-empty bins as parallel arrays, ascending.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        let p = positive.nonEmpty
        let n = negative.nonEmpty
        try c.encode(p.map(\.0), forKey: .p)
        try c.encode(p.map(\.1), forKey: .pw)
        try c.encode(n.map(\.0), forKey: .n)
        try c.encode(n.map(\.1), forKey: .nw)
        try c.encode(zero, forKey: .z)
    }
}

extension QuantileSketch: Equatable {
    /// Same weight in every bin (whatever the arrays' extent), same zero weight and total.
    public static func == (a: QuantileSketch, b: QuantileSketch) -> Bool {
        a.zero == b.zero && a.total == b.total
            && a.positive.nonEmpty.elementsEqual(b.positive.nonEmpty) { $0.0 == $1.0 && $0.1 == $1.1 }
            && a.negative.nonEmpty.elementsEqual(b.negative.nonEmpty) { $0.0 == $1.0 && $0.1 == $1.1 }
    }
}
