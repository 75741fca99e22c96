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

    /// Creates a selector.
    public init(metric: String, match: [String: String] = [:]) {
        self.metric = metric
        self.match = match
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

/// Where an objective's baseline number came from.
public struct Baseline: Sendable, Hashable, Codable {
    /// How the number was obtained.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// A number written in the config.
        case fixed
        /// An arithmetic expression of numbers, evaluated at load.
        case expression
        /// Learned from the SLI's own history (`adaptive`).
        case adaptive
    }
    /// The learning rule of an adaptive baseline (`nil` for fixed and expression baselines).
    public var adaptive: AdaptiveRule?
    /// Expression baselines: the objectives whose current values it uses (`${name}`); the
    /// baseline is then computed at every evaluation from `source`.
    public var references: [String] = []
    /// The number the SLI is compared with.
    public var value: Double
    /// `fixed` or `expression`.
    public var kind: Kind
    /// The text as written (`100`, `10000 / 500 / 0.20`).
    public var source: String

    /// Creates a baseline.
    public init(value: Double, kind: Kind, source: String, adaptive: AdaptiveRule? = nil) {
        self.value = value
        self.kind = kind
        self.source = source
        self.adaptive = adaptive
    }
}

/// How an adaptive baseline learns (docs/objectives.md, "Adaptive baselines").
///
/// Every `every` seconds the SLI of the window ending at that boundary is recorded in the
/// history of its **season slot** (the hour of the day or week, or the day of the week, of the
/// sampled interval's middle, in the objective's time zone; one slot without a season). The
/// baseline in force at time `t` is `factor × statistic(last periods samples of the slot)`, the
/// slot being that of the boundary nearest to `t`,
/// at least `floor`; it is trusted only once the slot holds `minHistory` samples (until then the
/// objective is not judged). A sample with no data is not recorded.
public struct AdaptiveRule: Sendable, Hashable, Codable {
    /// Season slots.
    public enum Season: String, Sendable, Hashable, Codable {
        /// One slot.
        case none
        /// 24 slots: the hour of the day.
        case hourOfDay = "hour_of_day"
        /// 168 slots: the hour of the ISO week (Monday 00:00 is slot 0).
        case hourOfWeek = "hour_of_week"
        /// 7 slots: the day of the ISO week.
        case dayOfWeek = "day_of_week"
    }
    /// Quantile of the history taken (0.5: the median).
    public var statistic: Double
    /// Samples kept per slot.
    public var periods: Int
    /// Seconds between samples.
    public var every: Double
    /// Season slots.
    public var season: Season
    /// Multiplier applied to the statistic (e.g. 0.6: "at least 60% of the usual").
    public var factor: Double
    /// Lowest baseline (`nil`: none).
    public var floor: Double?
    /// Samples a slot needs before its baseline is trusted.
    public var minHistory: Int

    /// Creates a rule.
    public init(
        statistic: Double = 0.5,
        periods: Int = 4,
        every: Double,
        season: Season = .none,
        factor: Double = 1,
        floor: Double? = nil,
        minHistory: Int = 2
    ) {
        self.statistic = statistic
        self.periods = periods
        self.every = every
        self.season = season
        self.factor = factor
        self.floor = floor
        self.minHistory = minHistory
    }

    /// The season slot of time `t` (unix seconds) in `zone`.
    public func slot(_ t: Double, zone: TimeZone) -> Int {
        if season == .none { return 0 }
        let offset = Double(zone.secondsFromGMT(for: Date(timeIntervalSince1970: t)))
        let local: Double = t + offset
        let days: Int = Int((local / 86400).rounded(.down))
        let hour: Int = Int((local - Double(days) * 86400) / 3600)
        // 1970-01-01 was a Thursday: ISO weekday index (Monday 0) is (days + 3) mod 7.
        let weekday = ((days + 3) % 7 + 7) % 7
        switch season {
        case .none: return 0
        case .hourOfDay: return hour
        case .dayOfWeek: return weekday
        case .hourOfWeek: return weekday * 24 + hour
        }
    }

    /// The baseline a slot's history gives, `nil` until it holds `minHistory` samples.
    public func baseline(_ history: [Double]) -> Double? {
        guard history.count >= max(1, minHistory) else { return nil }
        let sorted = history.sorted()
        let rank = Int((statistic * Double(sorted.count) - 1e-9).rounded(.up))
        let v = factor * sorted[max(0, min(sorted.count - 1, rank - 1))]
        return Swift.max(v, floor ?? -Double.infinity)
    }

    /// `median of the last 4 samples of the same hour of the week × 0.6, at least 100`.
    public var description: String {
        let stat = statistic == 0.5 ? "median" : "p\(AlertEntry.number(statistic * 100))"
        let seasonText: String
        switch season {
        case .none: seasonText = ""
        case .hourOfDay: seasonText = " of the same hour of the day"
        case .hourOfWeek: seasonText = " of the same hour of the week"
        case .dayOfWeek: seasonText = " of the same day of the week"
        }
        var s = "\(stat) of the last \(periods) \(DurationText.format(every)) samples\(seasonText)"
        if factor != 1 { s += " × \(AlertEntry.number(factor))" }
        if let floor { s += ", at least \(AlertEntry.number(floor))" }
        return s
    }
}

/// Pace of a cumulative calendar target ("at least 100 leads a month"): how much of the target
/// should be reached by now, and whether the period is on track (docs/objectives.md, "Pace").
public struct PaceRule: Sendable, Hashable, Codable {
    /// How the target is spread over the period.
    public enum Spread: String, Sendable, Hashable, Codable {
        /// Evenly over time.
        case linear
        /// Evenly over business days (Monday to Friday, except `holidays`), in the objective's
        /// time zone; nothing is expected on other days.
        case businessDays = "business_days"
    }
    /// How the target is spread.
    public var spread: Spread
    /// Local dates (`YYYY-MM-DD`) that are not business days.
    public var holidays: Set<String>
    /// Fraction of the period (0–1) before which pace is not judged (too early to tell).
    public var minElapsed: Double

    /// Creates a rule.
    public init(spread: Spread = .linear, holidays: Set<String> = [], minElapsed: Double = 0.1) {
        self.spread = spread
        self.holidays = holidays
        self.minElapsed = minElapsed
    }

    /// The fraction (0–1) of the period `[start, end)` that counts as elapsed at `now`.
    public func elapsed(start: Double, end: Double, now: Double, periods: CalendarPeriods) -> Double {
        guard end > start else { return 1 }
        if now <= start { return 0 }
        if now >= end { return 1 }
        switch spread {
        case .linear:
            return (now - start) / (end - start)
        case .businessDays:
            var total = 0.0
            var done = 0.0
            var t = start
            while t < end {
                let day = periods.period(.day, containing: t)
                let business = periods.isoWeekday(day.start) <= 5 && !holidays.contains(periods.localDate(day.start))
                if business {
                    let length = day.end - day.start
                    total += 1
                    if now >= day.end { done += 1 } else if now > day.start { done += (now - day.start) / length }
                }
                t = day.end
            }
            return total > 0 ? done / total : (now - start) / (end - start)
        }
    }
}

/// A multi-window burn-rate alert on a ratio objective's error budget (SRE workbook, "Alerting on
/// SLOs", recipe 6): it fires while the burn rate is at least `factor` over both the `long` and
/// the `short` window (the short one makes it stop soon after the problem does).
public struct BurnRateRule: Sendable, Hashable, Codable {
    /// Burn rate that fires (14.4: 2% of a 30-day budget spent in one hour).
    public var factor: Double
    /// Long window, seconds (e.g. 3600).
    public var long: Int
    /// Short window, seconds (e.g. 300).
    public var short: Int
    /// Journal priority of the alert (default: the objective's severity).
    public var severity: Severity?

    /// Creates a rule.
    public init(factor: Double, long: Int, short: Int, severity: Severity? = nil) {
        self.factor = factor
        self.long = long
        self.short = short
        self.severity = severity
    }

    /// `14.4x 1h/5m`: the rule's identity in the state and in `SLAWATCH_BURN_RULE`.
    public var id: String {
        "\(AlertEntry.number(factor))x \(DurationText.format(Double(long)))/\(DurationText.format(Double(short)))"
    }
}

/// An SLA: an agreement between a provider and a customer holding objectives.
public struct SLA: Sendable, Hashable, Codable {
    /// SLA name, e.g. `leads-to-sales`.
    public var name: String
    /// The party that promises (e.g. `marketing`).
    public var provider: String
    /// The party promised to (e.g. `sales`).
    public var customer: String

    /// Creates an SLA header.
    public init(name: String, provider: String, customer: String) {
        self.name = name
        self.provider = provider
        self.customer = customer
    }
}

/// One objective: SLI over a window compared with a baseline (design §1 and §3).
public struct Objective: Sendable, Hashable {
    /// Unique name across all SLAs, e.g. `qualified-leads-monthly`.
    public var name: String
    /// The SLA it belongs to.
    public var sla: SLA
    /// The metric whose events feed the SLI.
    public var metric: String
    /// Label filter: only events whose labels satisfy all of these count (label name →
    /// `LabelMatcher` text: `value`, `!=value`, `=~regex`, `!~regex`).
    public var match: [String: String]
    /// Ratio SLIs: the good events (the objective's `metric` and `match` select the total).
    public var good: GoodSelector?
    /// The aggregation judged.
    public var sli: SLIKind
    /// Rolling or calendar window.
    public var window: WindowSpec
    /// IANA time zone for calendar windows (default `UTC`).
    public var timeZone: String
    /// Which side of the baseline is good.
    public var direction: Direction
    /// The number to reach (or stay under).
    public var baseline: Baseline
    /// Seconds the SLI must stay bad before a breach is declared (`for:`); 0 breaches at once.
    public var forSeconds: Double
    /// Calendar cumulative objectives: seconds after period end during which late events are
    /// still accepted before the period is judged (default 0).
    public var lateTolerance: Double
    /// Journal priority of breach entries.
    public var severity: Severity
    /// What an empty window means.
    public var nodata: NodataPolicy
    /// Word for the counted thing in messages (`leads`); defaults to the SLI name.
    public var unit: String?
    /// Seconds a breach keeps firing after the SLI is good again (`keep_firing_for`, as in
    /// Prometheus alerting rules); 0 recovers at the first good evaluation.
    public var keepFiringFor: Double = 0
    /// Recovery threshold (`clear_at`): a breach recovers only once the SLI is back past this
    /// value (at least it for `at_least`, at most it for `at_most`), so a value hovering at the
    /// baseline does not flap. `nil`: the baseline itself.
    public var clearAt: Double?
    /// Label names that split the objective into one instance per combination of their values
    /// (`group_by:`, e.g. `[customer]`): each instance has its own window, state and journal
    /// entries (`SLAWATCH_INSTANCE=customer=acme`).
    public var groupBy: [String] = []
    /// Most instances a `group_by` objective creates (`max_instances`, default 100); events of
    /// further label values are refused, with one journal entry.
    public var maxInstances: Int = 100
    /// For an instance: the `group_by` objective it belongs to and its key (`customer=acme`).
    public var instanceOf: (objective: String, key: String)? {
        get { instanceParent.map { ($0, instanceKey ?? "") } }
        set {
            instanceParent = newValue?.objective
            instanceKey = newValue?.key
        }
    }
    private var instanceParent: String?
    private var instanceKey: String?
    /// Ratio SLIs: multi-window burn-rate alerts (`burn_rate_alerts:`).
    public var burnRateAlerts: [BurnRateRule] = []
    /// Cumulative calendar targets: the pace rule (`pace:`), `nil` for no pace entries.
    public var pace: PaceRule?
    /// Fewest events the window must hold to be judged (`min_events`; ratio SLIs: total events);
    /// with fewer the state stays as it is. 0: any non-empty window is judged.
    public var minEvents: Int = 0
    /// Seconds the window must stay empty before no data is declared (`nodata_after`); 0
    /// declares it at the first empty evaluation.
    public var nodataAfter: Double = 0

    /// Creates an objective. Defaults follow design §3.
    public init(
        name: String,
        sla: SLA,
        metric: String,
        match: [String: String] = [:],
        sli: SLIKind,
        window: WindowSpec,
        timeZone: String = "UTC",
        direction: Direction,
        baseline: Baseline,
        forSeconds: Double = 0,
        lateTolerance: Double = 0,
        severity: Severity = .warning,
        nodata: NodataPolicy = .alert,
        unit: String? = nil,
        good: GoodSelector? = nil
    ) {
        self.good = good
        self.name = name
        self.sla = sla
        self.metric = metric
        self.match = match
        self.sli = sli
        self.window = window
        self.timeZone = timeZone
        self.direction = direction
        self.baseline = baseline
        self.forSeconds = forSeconds
        self.lateTolerance = lateTolerance
        self.severity = severity
        self.nodata = nodata
        self.unit = unit
    }

    /// A cumulative target (`count`/`sum` at least N per calendar period) is judged when its
    /// period closes, as met or missed (design §3); everything else at every evaluation.
    public var isCumulative: Bool {
        guard case .calendar = window else { return false }
        return (sli == .count || sli == .sum) && direction == .atLeast
    }

    /// Identity of the stored window data: restored buckets are used only when this matches
    /// (same metric, filter, window and zone). Stable across runs (no hashing seed).
    public var dataFingerprint: String {
        let filter = match.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        var goodPart = ""
        if let good {
            goodPart =
                "|good:\(good.metric)|"
                + good.match.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        }
        return "\(metric)|\(filter)|\(window)|\(timeZone)" + (sli.isPercentile ? "|sketch" : "") + goodPart
    }

    /// The instance of a `group_by` objective for one combination of label values: the same
    /// objective with those labels added to its selector, named `NAME{customer=acme}`.
    public func instance(_ values: [String: String]) -> Objective {
        var o = self
        let key = groupBy.map { "\($0)=\(values[$0] ?? "")" }.joined(separator: ",")
        o.name = name + "{" + key + "}"
        for l in groupBy { o.match[l] = values[l] ?? "" }
        if o.sli == .ratio, var g = o.good {
            for l in groupBy { g.match[l] = values[l] ?? "" }
            o.good = g
        }
        o.groupBy = []
        o.instanceOf = (name, key)
        return o
    }

    /// The hidden objective that keeps the `seconds`-long window of a burn-rate rule: the same
    /// selectors and SLI over another rolling window (its buckets are stored like any other).
    public func burnWindow(_ seconds: Int) -> Objective {
        var o = self
        o.name = name + "/burn:" + DurationText.format(Double(seconds))
        o.window = .rolling(seconds: seconds)
        o.burnRateAlerts = []
        o.pace = nil
        return o
    }

    /// Whether `value` is on the bad side of the baseline.
    public func isBad(_ value: Double) -> Bool { isBad(value, baseline: baseline.value) }

    /// Whether `value` is on the bad side of `baseline` (an adaptive baseline's current value).
    public func isBad(_ value: Double, baseline b: Double) -> Bool {
        direction == .atLeast ? value < b : value > b
    }

    /// The SLI of an aggregate; `nil` when the aggregate is empty (no data).
    /// - Parameter seconds: the time span `rate` divides by.
    public func sliValue(_ agg: Aggregate, seconds: Double) -> Double? {
        if agg.isEmpty { return nil }
        switch sli {
        case .count: return agg.distinctMembers.map(Double.init) ?? agg.count
        case .sum: return agg.sum
        case .avg: return agg.valueSum / Double(agg.samples)
        case .min: return agg.min
        case .max: return agg.max
        case .rate: return agg.count / max(seconds, 1)
        case .ratio: return agg.count > 0 ? agg.good / agg.count : nil
        case .percentile(let p):
            guard let v = agg.sketch?.quantile(p / 100) else { return nil }
            // The sketch is within 1%; the exact extremes are known.
            return Swift.min(Swift.max(v, agg.min ?? v), agg.max ?? v)
        }
    }
}
