import Foundation

/// The aggregation an objective judges (design §1 "SLI"). Written in config and journal fields
/// by `name`: `count`, `sum`, `avg`, `min`, `max`, `rate`, or `pNN[.N]` for a percentile.
public enum SLIKind: Sendable, Hashable, Codable {
    /// Occurrences in the window (counters: the sum of increments), scaled by sample rate; for
    /// sets, the number of distinct members.
    case count
    /// Sum of values, scaled by sample rate.
    case sum
    /// Mean of the raw values.
    case avg
    /// Smallest value.
    case min
    /// Largest value.
    case max
    /// Occurrences per second: `count` divided by the window length (rolling) or by the seconds
    /// elapsed in the current period (calendar).
    case rate
    /// `good / total`: the weighted count of events matching the `good` selector divided by the
    /// count matching the objective's own selector, both summed over the whole window (never an
    /// average of per-bucket ratios). Undefined (no data) when the window holds no total.
    case ratio
    /// The nearest-rank percentile `p` (0 < p < 100) of the values in the window, from the
    /// merged `QuantileSketch` of its buckets: within 1% of the exact value (`p95`, `p99.9`).
    case percentile(Double)

    /// The kinds without a parameter.
    public static let simple: [SLIKind] = [.count, .sum, .avg, .min, .max, .rate, .ratio]

    /// The config spelling: `count`, …, `p95`, `p99.9`.
    public var name: String {
        switch self {
        case .count: return "count"
        case .sum: return "sum"
        case .avg: return "avg"
        case .min: return "min"
        case .max: return "max"
        case .rate: return "rate"
        case .ratio: return "ratio"
        case .percentile(let p):
            return "p" + (p == p.rounded() ? String(Int(p)) : String(p))
        }
    }

    /// Same as `name` (kept for callers that used the former raw value).
    public var rawValue: String { name }

    /// Parses a config spelling; `nil` for anything else (`p0`, `p100`, `p99.9x`).
    public init?(name: String) {
        if let k = Self.simple.first(where: { $0.name == name }) {
            self = k
            return
        }
        guard name.hasPrefix("p"), name.count >= 2 else { return nil }
        let digits = name.dropFirst()
        guard digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), !digits.hasPrefix("."),
            !digits.hasSuffix("."), let p = Double(digits), p > 0, p < 100
        else { return nil }
        self = .percentile(p)
    }

    /// Same as `init?(name:)`.
    public init?(rawValue: String) { self.init(name: rawValue) }

    /// Whether the SLI needs a quantile sketch in its window buckets.
    public var isPercentile: Bool {
        if case .percentile = self { return true }
        return false
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let k = SLIKind(name: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "SLI \(text)"))
        }
        self = k
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(name)
    }
}

/// The `good` events of a ratio objective: a metric (default: the objective's own) and label
/// matchers (`LabelMatcher` syntax).
public struct GoodSelector: Sendable, Hashable, Codable {
    /// The metric of good events.
    public var metric: String
    /// Label conditions (`"!~5.."`, `"200"`, …), by label name.
    public var match: [String: String]
    /// A threshold SLI: an event is good when its value passes this (`<= 300`), so "99 % of
    /// checkouts under 300 ms" is a ratio of samples, judged exactly from each raw value (no
    /// histogram bucket boundary to pick; OpenSLO `thresholdMetric`). `nil`: every selected
    /// event is good.
    public var value: ValueThreshold?

    /// Creates a selector.
    public init(metric: String, match: [String: String] = [:], value: ValueThreshold? = nil) {
        self.metric = metric
        self.match = match
        self.value = value
    }
}

/// A comparison of one event's value with a constant: `<= 300`, `< 0.5`, `>= 200`, `> 0`.
public struct ValueThreshold: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The comparison operators.
    public enum Comparison: String, Sendable, Hashable, Codable, CaseIterable {
        /// At most the bound.
        case atMost = "<="
        /// Below the bound.
        case below = "<"
        /// At least the bound.
        case atLeast = ">="
        /// Above the bound.
        case above = ">"
    }

    /// How the value is compared.
    public var comparison: Comparison
    /// The bound, in the metric's unit (the unit its events are sent in: `|ms` values in ms).
    public var bound: Double

    /// A threshold from its parts.
    public init(_ comparison: Comparison, _ bound: Double) {
        self.comparison = comparison
        self.bound = bound
    }

    /// Parses `"<= 300"` (an operator of `<=`, `<`, `>=`, `>`, then a finite number; spaces
    /// optional).
    /// - Throws: `ValueThreshold.Invalid` naming what is wrong (no operator, no finite number).
    public init(parsing text: String) throws {
        let t = text.trimmingCharacters(in: .whitespaces)
        // Two-character operators first, so "<=" is not read as "<" and "=300".
        let ops: [Comparison] = [.atMost, .atLeast, .below, .above]
        guard let op = ops.first(where: { t.hasPrefix($0.rawValue) }) else {
            throw Invalid(
                description:
                    "'\(text)' is no value threshold: write an operator (<=, <, >=, >) and a number, as \"<= 300\""
            )
        }
        let rest = t.dropFirst(op.rawValue.count).trimmingCharacters(in: .whitespaces)
        guard let v = Double(rest), v.isFinite else {
            throw Invalid(description: "'\(text)' is no value threshold: '\(rest)' is not a finite number")
        }
        self.init(op, v)
    }

    /// Whether `value` passes (is good). NaN never does.
    @inline(__always)
    public func admits(_ value: Double) -> Bool {
        switch comparison {
        case .atMost: return value <= bound
        case .below: return value < bound
        case .atLeast: return value >= bound
        case .above: return value > bound
        }
    }

    /// `<= 300`.
    public var description: String { "\(comparison.rawValue) \(NumberText.format(bound))" }

    /// A threshold text that does not parse.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        /// What is wrong, quoting the text.
        public var description: String
    }
}

/// Which side of the baseline is good.
public enum Direction: String, Sendable, Hashable, Codable {
    /// Good when the SLI is at least the baseline (breach: SLI < baseline).
    case atLeast = "at_least"
    /// Good when the SLI is at most the baseline (breach: SLI > baseline).
    case atMost = "at_most"

    /// "at least" / "at most", for messages.
    public var phrase: String { self == .atLeast ? "at least" : "at most" }
}

/// What an objective does when its window holds no event (alerting notes R6).
public enum NodataPolicy: String, Sendable, Hashable, Codable {
    /// Enter the `nodata` state and write a journal entry.
    case alert
    /// Treat an empty window as healthy.
    case ok
    /// Keep whatever state the objective was in.
    case keepState = "keep_state"
}

/// Journal priority (syslog levels, systemd.journal-fields(7) `PRIORITY=`).
public enum Severity: Int, Sendable, Hashable, Codable, CaseIterable {
    case emerg = 0, alert, crit, err, warning, notice, info, debug

    /// Accepts the syslog names and the usual aliases (`critical`, `error`, `warn`).
    public init?(name: String) {
        switch name.lowercased() {
        case "emerg", "emergency", "panic": self = .emerg
        case "alert": self = .alert
        case "crit", "critical": self = .crit
        case "err", "error": self = .err
        case "warning", "warn": self = .warning
        case "notice": self = .notice
        case "info": self = .info
        case "debug": self = .debug
        default: return nil
        }
    }

    /// The syslog name, e.g. `warning`.
    public var name: String { String(describing: self) }
}
