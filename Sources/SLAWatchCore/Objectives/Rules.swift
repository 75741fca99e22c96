import Foundation

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
    /// Deviation form (`deviations: k`): the baseline is the slot's median minus `k` scaled
    /// MADs for `at_least` (plus for `at_most`), `median ∓ k × 1.4826 × median(|x − median|)`
    /// (the scaled MAD estimates a normal distribution's standard deviation): scale-free, and
    /// right for negative values, where a `factor` below 1 would move the bar the wrong way.
    /// `nil`: the `statistic × factor` form.
    public var deviations: Double?
    /// Whether a slot lacking history falls back to a coarser season (`fallback: true`; on in
    /// `standard`, off in an explicit mapping unless given).
    public var fallback = false
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

    /// The documented default setting, `baseline: adaptive` (docs/objectives.md, "Adaptive"):
    /// hourly samples of the SLI, the last 8 of each hour of the week, the baseline 6 scaled
    /// deviations from the slot's median, falling back to the hour of the day and then the whole
    /// history while a slot holds fewer than 3 samples. Chosen by `scripts/nab-score.py` over
    /// every NAB series with one setting for all (issue 13 B).
    public static let standard: AdaptiveRule = {
        var r = AdaptiveRule(periods: 8, every: 3600, season: .hourOfWeek, minHistory: 3)
        r.deviations = 6
        r.fallback = true
        return r
    }()

    /// Smallest spread of the deviation form, as a share of the median's magnitude: a series
    /// without noise does not breach on rounding.
    public static let minimumRelativeSpread = 0.01

    /// The baseline a slot's history gives, `nil` until it holds `minHistory` samples:
    /// `factor × statistic`, or in the deviation form `median ∓ deviations × spread` (minus
    /// for `at_least`, plus for `at_most`), the spread being the largest of the slot's scaled
    /// MAD (`1.4826 × median(|x − median|)`), `pooledSpread` and 1 % of |median|; at least
    /// `floor`.
    public func baseline(_ history: [Double], direction: Direction = .atLeast, pooledSpread: Double = 0) -> Double? {
        guard history.count >= max(1, minHistory) else { return nil }
        let sorted = history.sorted()
        let v: Double
        if let k = deviations {
            let median = Self.quantile(sorted, 0.5)
            let spread = Swift.max(
                Self.scaledMAD(sorted, median: median),
                pooledSpread,
                Self.minimumRelativeSpread * abs(median)
            )
            v = direction == .atLeast ? median - k * spread : median + k * spread
        } else {
            v = factor * Self.quantile(sorted, statistic)
        }
        return Swift.max(v, floor ?? -Double.infinity)
    }

    /// `1.4826 × median(|x − median|)` of sorted values: a normal distribution's standard deviation.
    static func scaledMAD(_ values: [Double], median: Double) -> Double {
        1.4826 * quantile(values.map { abs($0 - median) }.sorted(), 0.5)
    }

    /// The `q` quantile of sorted values (nearest rank, as `statistic` has always been read).
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        let rank = Int((q * Double(sorted.count) - 1e-9).rounded(.up))
        return sorted[max(0, min(sorted.count - 1, rank - 1))]
    }

    /// The seasons tried in turn while a slot lacks history: the configured one, then, with
    /// `fallback`, each coarser one (hour of week → hour of day → the whole history; day of week
    /// or hour of day → the whole history).
    public var fallbacks: [Season] {
        guard fallback else { return [season] }
        switch season {
        case .hourOfWeek: return [.hourOfWeek, .hourOfDay, .none]
        case .hourOfDay, .dayOfWeek: return [season, .none]
        case .none: return [.none]
        }
    }

    /// The slot of coarser season `level` that holds slot `slot` of the configured season.
    func slot(_ slot: Int, at level: Season) -> Int {
        switch (season, level) {
        case (_, .none): return 0
        case (.hourOfWeek, .hourOfDay): return slot % 24
        default: return slot
        }
    }

    /// The scaled MAD of every sample's distance from its own slot's median, over the slots of
    /// `groups` that hold `minHistory` samples (0 when none does): how far a sample usually
    /// strays from what is normal for its slot, estimated from the whole history rather than
    /// from one slot's few samples.
    func pooledSpread(_ groups: [Int: [Double]]) -> Double {
        var residuals: [Double] = []
        for (_, h) in groups where h.count >= max(1, minHistory) {
            let sorted = h.sorted()
            let median = Self.quantile(sorted, 0.5)
            for x in h { residuals.append(abs(x - median)) }
        }
        return residuals.isEmpty ? 0 : 1.4826 * Self.quantile(residuals.sorted(), 0.5)
    }

    /// The baseline in force for season slot `slot` of `history` (slot → samples, oldest
    /// first), falling back to a coarser season while a slot holds fewer than `minHistory`
    /// samples (`fallbacks`), and the season it came from; `(nil, nil)` while even the whole
    /// history is too short. In the deviation form the spread is at least the pooled spread of
    /// the season in force (`pooledSpread`). The whole history stands in for a season only once
    /// it covers a full cycle (a day of samples for hour seasons, a week for `day_of_week`) and
    /// then never judges a value inside the range it has seen: it mixes every hour of the cycle,
    /// and what is normal at one hour must not breach at another.
    public func baseline(
        _ history: [Int: [Double]],
        slot: Int,
        direction: Direction
    ) -> (value: Double?, season: Season?) {
        for level in fallbacks {
            var groups: [Int: [Double]] = [:]
            if level == season {
                groups = history
            } else {
                for (k, h) in history { groups[self.slot(k, at: level), default: []] += h }
            }
            let pool = groups[self.slot(slot, at: level)] ?? []
            let borrowsWholeHistory = level == .none && season != .none
            if borrowsWholeHistory {
                let cycle = season == .dayOfWeek ? 7 * 86400.0 : 86400.0
                if Double(pool.count) < Swift.max(Double(minHistory), (cycle / every).rounded(.up)) { continue }
            }
            let spread = deviations == nil ? 0 : pooledSpread(groups)
            guard var v = baseline(pool, direction: direction, pooledSpread: spread) else { continue }
            if borrowsWholeHistory, let lo = pool.min(), let hi = pool.max() {
                v = direction == .atLeast ? Swift.min(v, lo) : Swift.max(v, hi)
                v = Swift.max(v, floor ?? -Double.infinity)
            }
            return (v, level)
        }
        return (nil, nil)
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
        if let k = deviations {
            s =
                "median of the last \(periods) \(DurationText.format(every)) samples\(seasonText) ∓ \(AlertEntry.number(k)) scaled MADs"
        }
        if factor != 1 { s += " × \(AlertEntry.number(factor))" }
        if let floor { s += ", at least \(AlertEntry.number(floor))" }
        if fallback, season != .none { s += ", a coarser season while a slot holds fewer than \(minHistory)" }
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
