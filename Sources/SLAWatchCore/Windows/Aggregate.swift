/// Running totals of the events in one bucket (or a merge of buckets).
///
/// `count` and `sum` are scaled by `1 / sampleRate` (statsd sampling); `samples` and `valueSum`
/// are raw. For counters `count == sum` (the increments, i.e. how many things happened); for gauges
/// and distributions `count` is the number of samples and `sum` their total.
public struct Aggregate: Sendable, Equatable, Codable {
    /// Raw number of events merged in.
    public var samples: Int = 0
    /// Occurrences, scaled by sample rate (counters: sum of increments).
    public var count: Double = 0
    /// Sum of values, scaled by sample rate.
    public var sum: Double = 0
    /// Sum of raw values, for the unweighted mean.
    public var valueSum: Double = 0
    /// Smallest raw value, `nil` when empty.
    public var min: Double?
    /// Largest raw value, `nil` when empty.
    public var max: Double?
    /// Distinct members of set events (`|s`), `nil` when no set event was merged in.
    public var members: Set<String>?
    /// Ratio SLIs: occurrences of good events, scaled by sample rate (counters: the sum of
    /// their increments), counted whether or not they also count in the total.
    public var good: Double = 0
    /// The values' quantile sketch (weighted by `1 / sampleRate`), kept only for objectives
    /// with a percentile SLI; `nil` otherwise.
    public var sketch: QuantileSketch?

    /// An empty aggregate.
    public init() {}

    /// Adds one event.
    public mutating func add(_ e: Event) {
        add(value: e.value, kind: e.kind, sampleRate: e.sampleRate, member: e.member)
    }

    /// Adds one event given its fields (the ingest path passes fields, not whole events, to
    /// avoid copying names and labels).
    @inline(__always)
    public mutating func add(
        value: Double,
        kind: MetricKind,
        sampleRate: Double,
        member: String?,
        quantiles: Bool = false
    ) {
        let weight = sampleRate == 1 ? 1 : 1 / sampleRate
        if quantiles {
            if sketch == nil { sketch = QuantileSketch() }
            sketch!.add(value, weight: weight)
        }
        if samples != .max { samples += 1 }
        switch kind {
        case .counter, .cumulative:
            count += value * weight
            sum += value * weight
        case .gauge, .distribution:
            count += weight
            sum += value * weight
        case .set:
            count += weight
            sum += value * weight
            if members == nil { members = [] }
            members!.insert(member ?? "")
        }
        valueSum += value
        min = Swift.min(min ?? value, value)
        max = Swift.max(max ?? value, value)
    }

    /// Adds the events summed in `f` (as many `add` calls, in one step).
    @inline(__always)
    mutating func add(_ f: Fold) {
        let (total, overflow) = samples.addingReportingOverflow(Int(f.samples))
        samples = overflow ? .max : total
        switch f.kind {
        case .counter, .cumulative: count += f.valueSum
        default: count += Double(f.samples)
        }
        sum += f.valueSum
        valueSum += f.valueSum
        let (low, high) = (Double(f.min), Double(f.max))
        min = Swift.min(min ?? low, low)
        max = Swift.max(max ?? high, high)
    }

    /// Merges another aggregate into this one (associative and commutative).
    public mutating func merge(_ o: Aggregate) {
        // Saturating: a sample count restored from a damaged state row may be anything, and a
        // merge must not trap (found by the `state` fuzz target).
        let (total, overflow) = samples.addingReportingOverflow(o.samples)
        samples = overflow ? (o.samples > 0 ? .max : .min) : total
        count += o.count
        sum += o.sum
        valueSum += o.valueSum
        if let m = o.min { min = Swift.min(min ?? m, m) }
        if let m = o.max { max = Swift.max(max ?? m, m) }
        if let m = o.members { members = (members ?? []).union(m) }
        good += o.good
        if let k = o.sketch {
            if sketch == nil { sketch = k } else { sketch!.merge(k) }
        }
    }

    /// Counts a good event of a ratio SLI.
    @inline(__always)
    public mutating func addGood(value: Double, kind: MetricKind, sampleRate: Double) {
        good += (kind == .counter ? value : 1) / sampleRate
    }

    /// Number of distinct set members, `nil` when no set event was merged in.
    public var distinctMembers: Int? { members?.count }

    /// True when no event was merged in (good events included).
    public var isEmpty: Bool { samples == 0 && good == 0 }

    /// The `q` quantile (0…1) of the samples from the sketch, clamped to the exact minimum and
    /// maximum (the sketch is within 1 %; the extremes are known exactly); `nil` without a
    /// sketch or samples.
    public func quantile(_ q: Double) -> Double? {
        guard let v = sketch?.quantile(q) else { return nil }
        return Swift.min(Swift.max(v, min ?? v), max ?? v)
    }
}

/// Events of one metric name and kind summed on their way to the windows (`Engine.ingest`): a
/// window then takes a batch's events of a name in one step, not one by one. Only events whose
/// sum stays exact are folded (sample rate 1, whole values of less than 2³¹ in magnitude, not
/// -0, no set member): a fold's `count`, `sum` and `valueSum` are then what adding its events one
/// by one gives, for any order. 24 bytes: a fold per name of a batch stays in the first-level
/// cache.
struct Fold {
    /// The sum of the values.
    var valueSum = 0.0
    /// Events folded.
    var samples: Int32 = 0
    /// The smallest and largest value (meaningless while `samples` is 0).
    var min = Int32.max
    var max = Int32.min
    /// The kind of every event folded (the first one's).
    var kind = MetricKind.counter
    /// Whether the name's events may be folded at all (every objective of it takes events
    /// plainly); set per batch by `Engine.ingest`. Fits the padding: the fold stays 24 bytes.
    var isOpen = true

    /// Whether `value` of `kind` at sample rate `rate` can be folded (see the type).
    @inline(__always)
    static func admits(_ value: Double, kind: MetricKind, rate: Double) -> Bool {
        // (The magnitude test first: it is false for NaN, and makes the conversion safe; the
        // bit patterns differ for -0.)
        rate == 1 && kind != .set && value.magnitude < 2_147_483_648
            && Double(Int32(value)).bitPattern == value.bitPattern
    }

    /// Folds one event of `kind` in (`admits` said so); `false` (nothing changed) when the fold
    /// holds another kind.
    @inline(__always)
    mutating func take(_ value: Double, kind: MetricKind) -> Bool {
        if samples == 0 {
            self.kind = kind
        } else if kind != self.kind {
            return false
        }
        let v = Int32(value)
        samples += 1
        valueSum += value
        min = Swift.min(min, v)
        max = Swift.max(max, v)
        return true
    }
}
