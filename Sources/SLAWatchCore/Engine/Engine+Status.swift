import Foundation

/// Status: every shown instance's standing, for `slawatch status`.
extension Engine {
    /// One objective's current standing, for `slawatch status`.
    public struct Status: Sendable, Equatable, Codable {
        /// Objective name (an instance's full name, `NAME{customer=acme}`).
        public var objective: String
        /// SLA name, provider and customer.
        public var sla: String
        /// Provider party.
        public var provider: String
        /// Customer party.
        public var customer: String
        /// The metric the SLI is computed from.
        public var metric: String
        /// The SLI (JSON: its name, `count`, `avg`, `p99`, …).
        public var sli: SLIKind
        /// Window text (`5m`, `month`).
        public var window: String
        /// SLI value at the last evaluation, `nil` for no data.
        public var value: Double?
        /// Baseline number in force (adaptive: the learned value; the configured one while it
        /// is still learning).
        public var baseline: Double
        /// `fixed`, `expression` or `adaptive`.
        public var baselineKind: String
        /// Adaptive baselines: since when the baseline in force applies (`effective_from`, unix
        /// seconds); `nil` otherwise or while learning.
        public var baselineSince: Double?
        /// Which side of the baseline is good (JSON: `at_least` or `at_most`).
        public var direction: Direction
        /// Alert state (JSON: its name).
        public var state: AlertState
        /// Unix seconds of the last state change.
        public var since: Double
        /// Open episode id.
        public var episode: String?
        /// Ratio SLIs: the window's error budget in events, allowed bad share × total
        /// (`Transition.errorBudget(total:good:target:direction:)`).
        public var errorBudget: Double?
        /// Ratio SLIs: what is left of the budget (negative when overspent).
        public var budgetRemaining: Double?
        /// Ratio SLIs: the burn rate, `(bad / total) / allowed bad share`; `nil` when unbounded.
        public var burnRate: Double?
        /// Ratio SLIs: why the window has no valid SLI (`"2 good events of 1 in all"`: more
        /// good events than events), `nil` when it has one; `value` and the budget are `nil`
        /// then, and the objective is not judged.
        public var invalid: String? = nil
        /// Why the objective is not judged now: "outside service hours", "in maintenance
        /// (database upgrade)"; `nil` in service.
        public var outOfService: String? = nil
        /// Rolling windows younger than their length: the share of the window history covers
        /// (0–1; a rate is divided by that span, an "at least" count or sum is not judged yet);
        /// `nil` once covered.
        public var coverage: Double? = nil
        /// Adaptive baselines: the season whose history gives the baseline in force
        /// (`hour_of_week`, or a coarser fallback while its slot lacks history: `hour_of_day`,
        /// `none`); `nil` otherwise or while learning.
        public var baselineSeason: String? = nil
        /// Event time (unix seconds) of the newest event of the objective's metric counted in its
        /// window; `nil` when none ever was (a typo in `metric` shows here).
        public var lastSeen: Double?
        /// Cumulative targets (`status(at:)` only): the pace of the period running, `nil` for
        /// other objectives.
        public var pace: Pace? = nil
        /// The SLI's unit (`leads`, `ms`), `nil` when none is configured.
        public var unit: String? = nil
        /// The SLI's last closed history points, oldest first (up to `SLIHistory.trendPoints`,
        /// 5-minute ones for a window of a day or less, hourly beyond; `nil` where not judged),
        /// for a sparkline; empty after a start until the first step closes.
        public var trend: [Double?] = []
        /// The step of `trend`, seconds.
        public var trendStep: Int = 300
        /// A pending objective: when it breaches if it stays bad (`pending` since + `for`).
        public var breachesAt: Double? = nil
        /// Ratio objectives with `burn_rate_alerts` (`status(at:)` only): each rule's burn rates
        /// over its long and short windows now, and whether it fires; empty otherwise.
        public var burnRules: [BurnRuleStatus] = []

        /// One multi-window burn-rate rule of an instance (`BurnRateRule`, SRE workbook ch. 5):
        /// the burn rate over each of its windows, `(bad / total) / allowed bad share`, 0 for a
        /// window without events, and whether it fires (as of the last evaluation).
        public struct BurnRuleStatus: Sendable, Equatable, Codable {
            /// The rule's identity (`14.4x 1h/5m`, as `SLAWATCH_BURN_RULE`).
            public var rule: String
            /// The burn rate that fires.
            public var factor: Double
            /// Long and short window, seconds.
            public var long: Int
            /// See `long`.
            public var short: Int
            /// The burn rate over the long window; `nil` when the window has no valid SLI (more
            /// good events than events).
            public var longRate: Double?
            /// The burn rate over the short window; `nil` as for `longRate`.
            public var shortRate: Double?
            /// Whether the rule fires (an open burn-rate episode).
            public var firing: Bool

            /// Creates a rule's standing.
            public init(
                rule: String,
                factor: Double,
                long: Int,
                short: Int,
                longRate: Double?,
                shortRate: Double?,
                firing: Bool
            ) {
                self.rule = rule
                self.factor = factor
                self.long = long
                self.short = short
                self.longRate = longRate
                self.shortRate = shortRate
                self.firing = firing
            }
        }

        /// Where a cumulative target stands in its period: what pace expects by now, the
        /// projection to the period's end, and the outlook.
        public struct Pace: Sendable, Equatable, Codable {
            /// The period running, unix seconds `[start, end)`.
            public var periodStart: Double
            /// See `periodStart`.
            public var periodEnd: Double
            /// The share of the period elapsed (0…1), by the objective's `pace` spread (linear
            /// without one).
            public var elapsed: Double
            /// What the target expects by now: baseline × elapsed.
            public var expected: Double
            /// The total so far projected to the period's end (value ÷ elapsed); `nil` before
            /// any of the period elapsed.
            public var projection: Double?
            /// `met` (the target is reached already), `on track` (the projection reaches it),
            /// `at risk` (it does not), or `too early` (less than the pace's `min_elapsed`).
            public var outlook: String

            /// Creates a pace record.
            public init(
                periodStart: Double,
                periodEnd: Double,
                elapsed: Double,
                expected: Double,
                projection: Double?,
                outlook: String
            ) {
                self.periodStart = periodStart
                self.periodEnd = periodEnd
                self.elapsed = elapsed
                self.expected = expected
                self.projection = projection
                self.outlook = outlook
            }
        }

        private enum CodingKeys: String, CodingKey {
            case objective, sla, provider, customer, metric, sli, window, value, baseline, baselineKind,
                baselineSince, direction, state, since, episode, errorBudget, budgetRemaining, burnRate, lastSeen,
                invalid, coverage, baselineSeason, pace, unit, trend, trendStep, breachesAt, outOfService, burnRules
        }

        /// The control protocol's JSON (`slawatch status --json`): times as RFC 3339 strings,
        /// "never" and "no data" as `null` (every key is present), numbers rounded to the 12
        /// significant digits they carry (`JSONNumber.rounded`).
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(objective, forKey: .objective)
            try c.encode(sla, forKey: .sla)
            try c.encode(provider, forKey: .provider)
            try c.encode(customer, forKey: .customer)
            try c.encode(metric, forKey: .metric)
            try c.encode(sli.rawValue, forKey: .sli)
            try c.encode(window, forKey: .window)
            try c.encode(value.map(JSONNumber.rounded), forKey: .value)
            try c.encode(JSONNumber.rounded(baseline), forKey: .baseline)
            try c.encode(baselineKind, forKey: .baselineKind)
            try c.encode(baselineSince.map(RFC3339.formatMilliseconds), forKey: .baselineSince)
            try c.encode(direction, forKey: .direction)
            try c.encode(state, forKey: .state)
            try c.encode(since > 0 ? RFC3339.formatMilliseconds(since) : nil, forKey: .since)
            try c.encode(episode, forKey: .episode)
            try c.encode(errorBudget.map(JSONNumber.rounded), forKey: .errorBudget)
            try c.encode(budgetRemaining.map(JSONNumber.rounded), forKey: .budgetRemaining)
            try c.encode(burnRate.map(JSONNumber.rounded), forKey: .burnRate)
            try c.encode(lastSeen.map(RFC3339.formatMilliseconds), forKey: .lastSeen)
            try c.encode(invalid, forKey: .invalid)
            try c.encode(outOfService, forKey: .outOfService)
            try c.encode(coverage.map(JSONNumber.rounded), forKey: .coverage)
            try c.encode(baselineSeason, forKey: .baselineSeason)
            try c.encode(pace, forKey: .pace)
            try c.encode(unit, forKey: .unit)
            try c.encode(trend.map { $0.map(JSONNumber.rounded) }, forKey: .trend)
            try c.encode(trendStep, forKey: .trendStep)
            try c.encode(breachesAt.map(RFC3339.formatMilliseconds), forKey: .breachesAt)
            try c.encode(burnRules, forKey: .burnRules)
        }

        /// Reads what `encode(to:)` wrote.
        /// - Throws: `DecodingError` when a key is missing or a time is not RFC 3339.
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            func time(_ key: CodingKeys) throws -> Double? {
                guard let text = try c.decodeIfPresent(String.self, forKey: key) else { return nil }
                guard let t = RFC3339.parse(text) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: key,
                        in: c,
                        debugDescription: "not RFC 3339: \(text)"
                    )
                }
                return t
            }
            objective = try c.decode(String.self, forKey: .objective)
            sla = try c.decode(String.self, forKey: .sla)
            provider = try c.decode(String.self, forKey: .provider)
            customer = try c.decode(String.self, forKey: .customer)
            metric = try c.decode(String.self, forKey: .metric)
            let sliName = try c.decode(String.self, forKey: .sli)
            guard let sli = SLIKind(name: sliName) else {
                throw DecodingError.dataCorruptedError(forKey: .sli, in: c, debugDescription: "not an SLI: \(sliName)")
            }
            self.sli = sli
            window = try c.decode(String.self, forKey: .window)
            value = try c.decodeIfPresent(Double.self, forKey: .value)
            baseline = try c.decode(Double.self, forKey: .baseline)
            baselineKind = try c.decode(String.self, forKey: .baselineKind)
            baselineSince = try time(.baselineSince)
            direction = try c.decode(Direction.self, forKey: .direction)
            state = try c.decode(AlertState.self, forKey: .state)
            since = try time(.since) ?? 0
            episode = try c.decodeIfPresent(String.self, forKey: .episode)
            errorBudget = try c.decodeIfPresent(Double.self, forKey: .errorBudget)
            budgetRemaining = try c.decodeIfPresent(Double.self, forKey: .budgetRemaining)
            burnRate = try c.decodeIfPresent(Double.self, forKey: .burnRate)
            lastSeen = try time(.lastSeen)
            invalid = try c.decodeIfPresent(String.self, forKey: .invalid)
            outOfService = try c.decodeIfPresent(String.self, forKey: .outOfService)
            coverage = try c.decodeIfPresent(Double.self, forKey: .coverage)
            baselineSeason = try c.decodeIfPresent(String.self, forKey: .baselineSeason)
            pace = try c.decodeIfPresent(Pace.self, forKey: .pace)
            unit = try c.decodeIfPresent(String.self, forKey: .unit)
            trend = try c.decodeIfPresent([Double?].self, forKey: .trend) ?? []
            trendStep = try c.decodeIfPresent(Int.self, forKey: .trendStep) ?? 300
            breachesAt = try time(.breachesAt)
            burnRules = try c.decodeIfPresent([BurnRuleStatus].self, forKey: .burnRules) ?? []
        }

        /// Creates a status record.
        public init(
            objective: String,
            sla: String,
            provider: String,
            customer: String,
            metric: String,
            sli: SLIKind,
            window: String,
            value: Double?,
            baseline: Double,
            baselineKind: String,
            baselineSince: Double?,
            direction: Direction,
            state: AlertState,
            since: Double,
            episode: String?,
            errorBudget: Double?,
            budgetRemaining: Double?,
            burnRate: Double?,
            lastSeen: Double?,
            invalid: String? = nil,
            baselineSeason: String? = nil,
            coverage: Double? = nil
        ) {
            self.objective = objective
            self.sla = sla
            self.provider = provider
            self.customer = customer
            self.metric = metric
            self.sli = sli
            self.window = window
            self.value = value
            self.baseline = baseline
            self.baselineKind = baselineKind
            self.baselineSince = baselineSince
            self.direction = direction
            self.state = state
            self.since = since
            self.episode = episode
            self.errorBudget = errorBudget
            self.budgetRemaining = budgetRemaining
            self.burnRate = burnRate
            self.lastSeen = lastSeen
            self.invalid = invalid
            self.coverage = coverage
            self.baselineSeason = baselineSeason
        }
    }

    /// The standing of every objective as of the last evaluation.
    public func status() -> [Status] { status(values: table.lastValues, counts: nil, now: nil) }

    /// The alert state of every shown instance, in `status()` order (cheap: no strings built).
    public var alertStates: [AlertState] { table.judged.map { table.states[$0].state } }

    /// The standing of every objective with SLI values computed at `now` from the windows as
    /// they are (states stay those of the last evaluation: only evaluation changes them). This
    /// is what `slawatch status` shows, so an acknowledged push is visible at once.
    public func status(at now: Double) -> [Status] {
        var copy = self
        var counts = [(total: Double, good: Double)?](repeating: nil, count: table.objectives.count)
        var values = [Double?](repeating: nil, count: table.objectives.count)
        for i in table.judged {
            let o = table.objectives[i]
            let agg = copy.table.windows[i].aggregate(at: now)
            if o.sli == .ratio { counts[i] = (agg.count, agg.good) }
            let span = copy.table.windows[i].period(containing: now)
            if o.isCumulative {
                values[i] = o.sliValue(agg, seconds: now - span.start) ?? 0
            } else if case .calendar = o.window {
                values[i] = o.sliValue(agg, seconds: now - span.start)
            } else {
                values[i] = o.sliValue(agg, seconds: coverage(i, now: now).seconds)
            }
        }
        var out = status(values: values, counts: counts, now: now)
        for (k, i) in table.judged.enumerated() {
            if table.objectives[i].isCumulative { out[k].pace = copy.pace(i, value: values[i] ?? 0, now: now) }
            if table.burnWindows[i] != nil { out[k].burnRules = copy.burnRules(i, now: now) }
        }
        return out
    }

    /// Each burn-rate rule of ratio instance `i` at `now`: its windows' burn rates as
    /// `evaluateBurn` computes them, and whether it fires as of the last evaluation.
    mutating func burnRules(_ i: Int, now: Double) -> [Status.BurnRuleStatus] {
        let o = table.objectives[i]
        let allowed = Transition.allowedBadShare(target: o.baseline.value, direction: o.direction)
        guard let windowsOf = table.burnWindows[i], allowed > 0 else { return [] }
        let firing = table.states[i].burnFiring ?? [:]
        return o.burnRateAlerts.compactMap { rule in
            guard let l = windowsOf[rule.long], let s = windowsOf[rule.short] else { return nil }
            func rate(_ w: Int) -> Double? {
                let a = table.windows[w].aggregate(at: now)
                return Self.ratioIsInvalid(a) ? nil : Self.burnRate(a, direction: o.direction, allowed: allowed)
            }
            return Status.BurnRuleStatus(
                rule: rule.id,
                factor: rule.factor,
                long: rule.long,
                short: rule.short,
                longRate: rate(l),
                shortRate: rate(s),
                firing: firing[rule.id] != nil
            )
        }
    }

    /// The pace of cumulative target `i` at `now` with `value` so far.
    mutating func pace(_ i: Int, value: Double, now: Double) -> Status.Pace? {
        let o = table.objectives[i]
        guard let periods = table.windows[i].periods else { return nil }
        let p = table.windows[i].period(containing: now)
        let rule = o.pace ?? PaceRule()
        let f = rule.elapsed(start: p.start, end: p.end, now: now, periods: periods)
        let baseline = o.baseline.value
        let projection = f > 0 ? value / f : nil
        let outlook: String
        if !o.isBad(value, baseline: baseline) {
            outlook = "met"
        } else if f < rule.minElapsed {
            outlook = "too early"
        } else if let projection, !o.isBad(projection, baseline: baseline) {
            outlook = "on track"
        } else {
            outlook = "at risk"
        }
        return Status.Pace(
            periodStart: p.start,
            periodEnd: p.end,
            elapsed: f,
            expected: baseline * f,
            projection: projection,
            outlook: outlook
        )
    }

    /// The newest event counted for instance `i` (a time-slice objective's: its slice
    /// source's, which takes the events), `nil` for never.
    func lastEventSeen(_ i: Int) -> Double? {
        var seen = table.lastSeen[i]
        if let s = table.sliceWindows[i] { seen = max(seen, table.lastSeen[s]) }
        return seen.isFinite ? seen : nil
    }

    func status(values: [Double?], counts: [(total: Double, good: Double)?]?, now: Double?) -> [Status] {
        table.judged.map { i in
            let o = table.objectives[i]
            // A ratio window with more good events than events: no value, no budget.
            var invalid: String?
            if let c = counts?[i], Self.ratioIsInvalid(total: c.total, good: c.good) {
                invalid = "\(AlertEntry.number(c.good)) good events of \(AlertEntry.number(c.total)) in all"
            } else if counts == nil, table.states[i].ratioInvalidSince != nil {
                invalid = "more good events than events in all"
            }
            let e =
                invalid != nil
                ? nil
                : counts?[i].flatMap {
                    Transition.errorBudget(
                        total: $0.total,
                        good: $0.good,
                        target: baselineInForce(i) ?? o.baseline.value,
                        direction: o.direction
                    )
                }
            var s = Status(
                objective: o.name,
                sla: o.sla.name,
                provider: o.sla.provider,
                customer: o.sla.customer,
                metric: o.metric,
                sli: o.sli,
                window: o.window.description,
                value: invalid != nil ? nil : values[i],
                baseline: baselineInForce(i) ?? o.baseline.value,
                baselineKind: o.baseline.kind.rawValue,
                baselineSince: table.states[i].baselineSince,
                direction: o.direction,
                state: table.states[i].state,
                since: table.states[i].since,
                episode: table.states[i].episode,
                errorBudget: e?.budget,
                budgetRemaining: e?.remaining,
                burnRate: e?.burnRate,
                lastSeen: lastEventSeen(i),
                invalid: invalid,
                baselineSeason: table.states[i].baselineSeason,
                coverage: now.flatMap { now in
                    let c = coverage(i, now: now)
                    guard !c.covered, case .rolling(let w) = o.window else { return nil }
                    return c.seconds / Double(w)
                }
            )
            s.unit = o.unit
            s.trend = table.trend[i]
            s.trendStep = trendStep(i)
            if let now { s.outOfService = table.exclusions[i]?.exclusion(at: now)?.phrase }
            if table.states[i].state == .pending, let p = table.states[i].pendingSince {
                s.breachesAt = p + o.forSeconds
            }
            return s
        }
    }
}
