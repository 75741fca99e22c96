/// Alert state of one objective instance (design §1 "state").
public enum AlertState: String, Sendable, Hashable, Codable, CaseIterable {
    /// On the good side of the baseline (or not judged yet).
    case ok
    /// Bad, waiting for `for:` to elapse before a breach is declared.
    case pending
    /// Bad for at least `for:`; an episode is open.
    case breached
    /// The window holds no event (policy `nodata: alert`).
    case nodata
}

/// What is persisted per objective instance so that a restarted engine makes the same
/// transitions as one that never stopped.
public struct InstanceState: Sendable, Equatable, Codable {
    /// Current state.
    public var state: AlertState = .ok
    /// Unix seconds of the last state change (or of the first evaluation).
    public var since: Double = 0
    /// When the SLI first went bad in the current pending spell.
    public var pendingSince: Double?
    /// Id of the open breach episode; its recovery repeats it.
    public var episode: String?
    /// Number of episodes opened so far (makes episode ids unique per objective).
    public var episodeCounter: Int = 0
    /// Cumulative objectives: start (unix seconds) of the calendar period being accumulated.
    public var trackedPeriodStart: Int64?
    /// A breach with `keep_firing_for`/`clear_at`: since when the SLI has been past the
    /// recovery threshold.
    public var clearSince: Double?
    /// `nodata_after`: since when the window has been empty.
    public var emptySince: Double?
    /// Pace: the period (start) whose pace was judged, and whether it is off pace.
    public var pacePeriod: Int64?
    /// Pace: whether the current period is off pace (a "pace at risk" entry was written).
    public var paceAtRisk: Bool?
    /// Burn-rate alerts firing: rule id → the alert's episode id.
    public var burnFiring: [String: String]?
    /// Adaptive baselines: the last sample boundary taken (`⌊t / every⌋`).
    public var lastSample: Int64?
    /// Adaptive baselines: recorded SLI samples per season slot (oldest first).
    public var history: [Int: [Double]]?
    /// Adaptive baselines: the baseline in force, `nil` while untrusted.
    public var baselineValue: Double?
    /// Adaptive baselines: since when `baselineValue` is in force (`effective_from`).
    public var baselineSince: Double?
    /// Adaptive baselines: the season whose history gave `baselineValue` (`hour_of_week`, or a
    /// coarser fallback while its slot lacks history: `hour_of_day`, `none`).
    public var baselineSeason: String?
    /// Event time (unix seconds) of the newest event counted in the instance's window (its
    /// metric "last seen"); `nil` for never. Filled in by the engine when it snapshots.
    public var lastSeen: Double?
    /// Rolling windows: since when the instance has history (unix seconds): its first
    /// evaluation, kept across restarts (saved state counts as history; so do restored buckets
    /// older than this). `nil` until the first evaluation.
    public var historySince: Double?
    /// Ratio SLIs: since when the window holds more good events than events in all (its SLI is
    /// invalid, one `ratio_invalid` entry said so); `nil` while valid.
    public var ratioInvalidSince: Double?
    /// The announced maintenance in progress (its reason), whose "maintenance started" entry
    /// was written; `nil` when none.
    public var maintenance: String?
    /// Time-slice objectives: the last slice judged (slice start ÷ slice length); `nil` before
    /// the first evaluation.
    public var slicedThrough: Int64?
    /// SLA levels, on an objective a lower level inherits: how many entries of the objectives
    /// below it were inhibited during its current breach; `nil` for none.
    public var inhibited: Int?
    /// SLA levels, on an inherited objective: the episodes (breach, burn rate) whose opening
    /// entry was inhibited by a breached ancestor; their closing entries are inhibited too.
    public var inhibitedEpisodes: [String]?
    /// Report periods being accumulated, one per unit of the SLA's `report_periods` (objectives
    /// judged continuously).
    public var tallies: [PeriodTally]?

    /// A fresh instance: `ok`, no episode.
    public init() {}
}

/// The kind of journal entry a transition produces; each has its own `MESSAGE_ID`.
public enum TransitionKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Entered `breached`: an episode opens.
    case breach
    /// Left an episode for `ok`.
    case recovery
    /// Entered `nodata`.
    case nodata
    /// Entered `pending`.
    case pending
    /// `pending` back to `ok` without a breach.
    case pendingCleared = "pending_cleared"
    /// `nodata` back to `ok` with no open episode.
    case dataResumed = "data_resumed"
    /// A cumulative objective's calendar period closed (met or missed); not a state change by itself.
    case periodResult = "period_result"
    /// A cumulative target is off pace: its projection to the period end is below the baseline.
    case paceAtRisk = "pace_at_risk"
    /// A cumulative target that was off pace is on track again.
    case paceOnTrack = "pace_on_track"
    /// A burn-rate alert fired: the error budget burns at least `factor` times too fast over
    /// both of its windows.
    case burnRate = "burn_rate"
    /// A firing burn-rate alert stopped.
    case burnRateResolved = "burn_rate_resolved"
    /// A `group_by` objective reached `max_instances`: events of a new label value are refused.
    case instanceLimit = "instance_limit"
    /// A ratio window holds more good events than events in all (a good counter fed by another
    /// producer than the total, or late): its SLI is invalid and is not judged until it is
    /// valid again; not a state change by itself.
    case ratioInvalid = "ratio_invalid"
    /// An objective judged continuously closed one of its SLA's report periods (`week`,
    /// `month`…): compliance, time in breach, episodes and the worst moment (`PeriodTally`);
    /// not a state change by itself.
    case periodReport = "period_report"
    /// Announced maintenance of the objective began: it is not judged, and its time and
    /// events are excluded, until it ends; not a state change by itself.
    case maintenanceStarted = "maintenance_started"
    /// The objective's maintenance ended: it is judged again.
    case maintenanceEnded = "maintenance_ended"
    /// An objective that lower SLA levels inherit recovered after inhibiting their breach
    /// entries: how many were inhibited; not a state change by itself.
    case inhibitionEnded = "inhibition_ended"
}

extension InstanceState {
    /// Whether this state differs from `other` only in running figures of its report periods:
    /// a period's worst moment, and a calendar ratio window's sums within the same window
    /// period. Such a change is written at the instance's next flush boundary, not at every
    /// commit (a busy instance's worst moment moves at nearly every evaluation); a crash loses
    /// at most one flush interval of them, and the sums are taken again from the stored window
    /// (`Engine.sumRatioBuckets`). Everything else (a state change, a period closed, time
    /// accounted, a rolling window's bucket summed) is written with the next commit.
    func differsOnlyInRunningFigures(from other: InstanceState) -> Bool {
        guard let mine = tallies, let theirs = other.tallies, mine.count == theirs.count else { return false }
        var a = self
        a.tallies = other.tallies
        guard a == other else { return false }
        return zip(mine, theirs).allSatisfy { $0.sameExceptRunningFigures($1) }
    }
}

extension PeriodTally {
    /// `self` with `other`'s running figures (`InstanceState.differsOnlyInRunningFigures(from:)`)
    /// equals `other`.
    func sameExceptRunningFigures(_ other: PeriodTally) -> Bool {
        var a = self
        a.worstValue = other.worstValue
        a.worstBaseline = other.worstBaseline
        a.worstAt = other.worstAt
        a.total = other.total
        a.good = other.good
        a.windowTotal = other.windowTotal
        a.windowGood = other.windowGood
        return a == other
    }
}

/// What one instance did over one calendar report period, accumulated as it is judged: seconds
/// in each state (accounted at state changes and at the period's end), breach episodes opened,
/// and the worst moment. Saved with the instance's state.
public struct PeriodTally: Sendable, Equatable, Codable {
    /// The kind of period.
    public var unit: CalendarUnit
    /// The period `[start, end)`, unix seconds, in the objective's time zone.
    public var start: Double
    /// End of the period (exclusive).
    public var end: Double
    /// Seconds met (`ok` or `pending`) accounted so far.
    public var met: Double = 0
    /// Seconds `breached` accounted so far.
    public var breached: Double = 0
    /// Seconds without a judgement (`nodata`, before the first evaluation, a ratio that was
    /// invalid) accounted so far.
    public var unjudged: Double = 0
    /// Up to when time has been accounted (unix seconds).
    public var accountedTo: Double
    /// Breach episodes opened in the period.
    public var episodes: Int = 0
    /// The worst moment: the value furthest on the bad side of its baseline, that baseline,
    /// and when (`nil` until a value was judged).
    public var worstValue: Double?
    /// The baseline in force at the worst moment.
    public var worstBaseline: Double?
    /// When the worst moment was (unix seconds).
    public var worstAt: Double?
    /// Ratio objectives with a rolling window: events in all and good events of the period,
    /// summed from the window's buckets as each completes (a bucket belongs to the period its
    /// start falls in).
    public var total: Double = 0
    /// Good events of the period (ratio objectives).
    public var good: Double = 0
    /// Ratio objectives: the last bucket id summed into `total` and `good` (a rolling window),
    /// or the start of the calendar window's period last seen (a calendar window); `nil` for
    /// other objectives.
    public var summedThrough: Int64?
    /// Ratio objectives with a calendar window: the window's events in all and good events when
    /// last seen, so each evaluation adds what came since (`Engine.sumRatioBuckets`).
    public var windowTotal: Double = 0
    /// See `windowTotal`.
    public var windowGood: Double = 0
    /// Whether the objective is being judged now (`false` while its baseline is untrusted, an
    /// adaptive one still learning or a young window's): such time counts as not judged.
    public var judging = true
    /// Seconds excluded: outside service hours or in announced maintenance (neither met nor
    /// breached, and not counted as unjudged).
    public var excluded: Double = 0
    /// Whether the objective is in service now (`false` outside service hours and in
    /// maintenance): such time is accounted as `excluded`.
    public var inService = true

    /// Short keys, zeros and `nil`s left out: a tally is saved with every instance's state.
    enum CodingKeys: String, CodingKey {
        case unit = "u", start = "s", end = "e", met = "m", breached = "b", unjudged = "n"
        case accountedTo = "a", episodes = "k", worstValue = "wv", worstBaseline = "wb", worstAt = "wa"
        case judging = "j", total = "t", good = "g", summedThrough = "h", windowTotal = "wt", windowGood = "wg"
        case excluded = "x", inService = "o"
    }

    /// Decodes the compact form (`encode(to:)`).
    /// - Throws: `DecodingError` when a required key is missing or of the wrong type.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        unit = try c.decode(CalendarUnit.self, forKey: .unit)
        start = try c.decode(Double.self, forKey: .start)
        end = try c.decode(Double.self, forKey: .end)
        accountedTo = try c.decode(Double.self, forKey: .accountedTo)
        met = try c.decodeIfPresent(Double.self, forKey: .met) ?? 0
        breached = try c.decodeIfPresent(Double.self, forKey: .breached) ?? 0
        unjudged = try c.decodeIfPresent(Double.self, forKey: .unjudged) ?? 0
        episodes = try c.decodeIfPresent(Int.self, forKey: .episodes) ?? 0
        worstValue = try c.decodeIfPresent(Double.self, forKey: .worstValue)
        worstBaseline = try c.decodeIfPresent(Double.self, forKey: .worstBaseline)
        worstAt = try c.decodeIfPresent(Double.self, forKey: .worstAt)
        judging = try c.decodeIfPresent(Bool.self, forKey: .judging) ?? true
        total = try c.decodeIfPresent(Double.self, forKey: .total) ?? 0
        good = try c.decodeIfPresent(Double.self, forKey: .good) ?? 0
        summedThrough = try c.decodeIfPresent(Int64.self, forKey: .summedThrough)
        windowTotal = try c.decodeIfPresent(Double.self, forKey: .windowTotal) ?? 0
        windowGood = try c.decodeIfPresent(Double.self, forKey: .windowGood) ?? 0
        excluded = try c.decodeIfPresent(Double.self, forKey: .excluded) ?? 0
        inService = try c.decodeIfPresent(Bool.self, forKey: .inService) ?? true
    }

    /// Encodes with short keys, leaving out zeros and `nil`s.
    /// - Throws: `EncodingError` for a non-finite number.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(unit, forKey: .unit)
        try c.encode(start, forKey: .start)
        try c.encode(end, forKey: .end)
        try c.encode(accountedTo, forKey: .accountedTo)
        if met != 0 { try c.encode(met, forKey: .met) }
        if breached != 0 { try c.encode(breached, forKey: .breached) }
        if unjudged != 0 { try c.encode(unjudged, forKey: .unjudged) }
        if episodes != 0 { try c.encode(episodes, forKey: .episodes) }
        try c.encodeIfPresent(worstValue, forKey: .worstValue)
        try c.encodeIfPresent(worstBaseline, forKey: .worstBaseline)
        try c.encodeIfPresent(worstAt, forKey: .worstAt)
        if !judging { try c.encode(judging, forKey: .judging) }
        if total != 0 { try c.encode(total, forKey: .total) }
        if good != 0 { try c.encode(good, forKey: .good) }
        try c.encodeIfPresent(summedThrough, forKey: .summedThrough)
        if windowTotal != 0 { try c.encode(windowTotal, forKey: .windowTotal) }
        if windowGood != 0 { try c.encode(windowGood, forKey: .windowGood) }
        if excluded != 0 { try c.encode(excluded, forKey: .excluded) }
        if !inService { try c.encode(inService, forKey: .inService) }
    }

    /// A tally of period `[start, end)` accounting from `from`.
    public init(unit: CalendarUnit, start: Double, end: Double, from: Double) {
        self.unit = unit
        self.start = start
        self.end = end
        self.accountedTo = from
    }

    /// Adds the seconds from `accountedTo` up to `t` to `state`'s total.
    mutating func account(_ state: AlertState, until t: Double) {
        let d = min(t, end) - accountedTo
        guard d > 0 else { return }
        if !inService {
            excluded += d
            accountedTo = min(t, end)
            return
        }
        if !judging {
            unjudged += d
            accountedTo = min(t, end)
            return
        }
        switch state {
        case .ok, .pending: met += d
        case .breached: breached += d
        case .nodata: unjudged += d
        }
        accountedTo = min(t, end)
    }

    /// The share of judged time that was met, `nil` when nothing was judged.
    public var compliance: Double? { met + breached > 0 ? met / (met + breached) : nil }

    /// Whether the period was met: compliance at least `target`, or without a target, never
    /// breached; `nil` when nothing was judged.
    public func isMet(target: Double?) -> Bool? {
        guard let c = compliance else { return nil }
        if let target { return c >= target - 1e-12 }
        return breached == 0 && episodes == 0
    }
}

/// One thing the engine decided at an evaluation: a state change, or a period result. Made by
/// `Transition.init(objective:kind:from:to:at:value:baseline:episode:periodStart:periodEnd:met:)`
/// (tests, stores) or, in the engine, by `Transition.of(_:objective:at:…)` from a state machine
/// action; what only some kinds carry is in `detail`. Equality compares every field.
public struct Transition: Sendable, Equatable {
    /// The objective's name.
    public var objective: String
    /// What kind of entry this is.
    public var kind: TransitionKind
    /// State before.
    public var from: AlertState
    /// State after (equal to `from` for a period result that changed nothing).
    public var to: AlertState
    /// Evaluation time, unix seconds.
    public var at: Double
    /// The SLI value judged, `nil` for no data.
    public var value: Double?
    /// The baseline in force.
    public var baseline: Double
    /// The breach episode this belongs to, if any.
    public var episode: String?
    /// The window judged: `[start, end)` unix seconds (rolling: `(at − W, at]`).
    public var periodStart: Double
    /// End of the judged window.
    public var periodEnd: Double
    /// Period results: whether the target was met.
    public var met: Bool?
    /// Since when the baseline in force applies (`effective_from`), when known.
    public var baselineSince: Double?
    /// Adaptive baselines: the season whose history gave the baseline (`hour_of_week`, or a
    /// coarser fallback: `hour_of_day`, `none`), when known.
    public var baselineSeason: String? = nil
    /// What only some kinds of transition carry.
    public var detail: Detail = .none

    /// The event counts of a ratio SLI's window (`total` events, of which `good`).
    public struct RatioCounts: Sendable, Equatable {
        /// All events.
        public var total: Double
        /// Good events.
        public var good: Double
        /// Counts.
        public init(total: Double, good: Double) {
            self.total = total
            self.good = good
        }
    }

    /// A pace judgement of a cumulative target.
    public struct Pace: Sendable, Equatable {
        /// What the target expects by now (baseline × elapsed share).
        public var expected: Double
        /// The count so far projected to the period end.
        public var projection: Double
        /// The share of the period elapsed (working days for `business_days`), 0…1.
        public var elapsed: Double
        /// A pace judgement.
        public init(expected: Double, projection: Double, elapsed: Double) {
            self.expected = expected
            self.projection = projection
            self.elapsed = elapsed
        }
    }

    /// A burn-rate judgement: the rule, the burn rates over its long and short windows, and
    /// the long window's counts.
    public struct Burn: Sendable, Equatable {
        /// The rule.
        public var rule: BurnRateRule
        /// Burn rate over the long window.
        public var long: Double
        /// Burn rate over the short window.
        public var short: Double
        /// The long window's counts.
        public var counts: RatioCounts
        /// A burn-rate judgement.
        public init(rule: BurnRateRule, long: Double, short: Double, counts: RatioCounts) {
            self.rule = rule
            self.long = long
            self.short = short
            self.counts = counts
        }
    }

    /// What only some kinds of transition carry.
    public enum Detail: Sendable, Equatable {
        /// Nothing more.
        case none
        /// A ratio SLI's state change: the judged window's counts (error budget).
        case ratio(RatioCounts)
        /// `pace_at_risk` / `pace_on_track`.
        case pace(Pace)
        /// `burn_rate` / `burn_rate_resolved`.
        case burn(Burn)
        /// `instance_limit`: the first label value refused (`label=value,…`), if known.
        case instanceLimit(refused: String?)
        /// `period_report`: the closed period's tally.
        case periodReport(PeriodTally)
        /// `maintenance_started` / `maintenance_ended`: the maintenance's reason.
        case maintenance(reason: String)
        /// `inhibition_ended`: how many entries were inhibited, and the inherited instances
        /// still breached (their breach entries follow).
        case inhibition(count: Int, stillBreached: [String])
        /// A breach entry inhibited while ancestor `by` was breached, written when it recovered
        /// (the instance is still breached).
        case released(by: String, since: Double)
    }

    /// A transition with every field given (`detail` and `baselineSince` optional).
    public init(
        objective: String,
        kind: TransitionKind,
        from: AlertState,
        to: AlertState,
        at: Double,
        value: Double?,
        baseline: Double,
        episode: String?,
        periodStart: Double,
        periodEnd: Double,
        met: Bool?,
        baselineSince: Double? = nil,
        detail: Detail = .none
    ) {
        self.objective = objective
        self.kind = kind
        self.from = from
        self.to = to
        self.at = at
        self.value = value
        self.baseline = baseline
        self.episode = episode
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.met = met
        self.baselineSince = baselineSince
        self.detail = detail
    }

    /// The engine's one factory: the transition of a state machine `action` of `objective`,
    /// judged at `at` over the window `period` (unix seconds).
    public static func of(
        _ action: AlertStateMachine.Action,
        objective: String,
        at: Double,
        value: Double?,
        baseline: Double,
        period: (start: Double, end: Double),
        met: Bool? = nil,
        baselineSince: Double? = nil,
        baselineSeason: String? = nil,
        detail: Detail = .none
    ) -> Transition {
        var t = Transition(
            objective: objective,
            kind: action.kind,
            from: action.from,
            to: action.to,
            at: at,
            value: value,
            baseline: baseline,
            episode: action.episode,
            periodStart: period.start,
            periodEnd: period.end,
            met: met,
            baselineSince: baselineSince,
            detail: detail
        )
        t.baselineSeason = baselineSeason
        return t
    }

    /// Ratio SLIs and burn-rate entries: the total and good event counts of the judged window.
    public var counts: (total: Double, good: Double)? {
        switch detail {
        case .ratio(let c): (c.total, c.good)
        case .burn(let b): (b.counts.total, b.counts.good)
        case .periodReport(let t): t.summedThrough == nil ? nil : (t.total, t.good)
        default: nil
        }
    }

    /// Pace entries: what the target expects by now, the projection, the elapsed share.
    public var pace: (expected: Double, projection: Double, elapsed: Double)? {
        if case .pace(let p) = detail { return (p.expected, p.projection, p.elapsed) }
        return nil
    }

    /// Burn-rate entries: the rule and the burn rates over its long and short windows.
    public var burn: (rule: BurnRateRule, long: Double, short: Double)? {
        if case .burn(let b) = detail { return (b.rule, b.long, b.short) }
        return nil
    }

    /// Instance-limit entries: the first label value refused.
    public var refusedInstance: String? {
        if case .instanceLimit(let r) = detail { return r }
        return nil
    }

    /// `period_report`: the closed period's tally.
    public var report: PeriodTally? {
        if case .periodReport(let r) = detail { return r }
        return nil
    }

    /// `maintenance_started` / `maintenance_ended`: the maintenance's reason.
    public var maintenanceReason: String? {
        if case .maintenance(let r) = detail { return r }
        return nil
    }

    /// `inhibition_ended`: entries inhibited, and inherited instances still breached.
    public var inhibition: (count: Int, stillBreached: [String])? {
        if case .inhibition(let n, let still) = detail { return (n, still) }
        return nil
    }

    /// A breach written late: the ancestor that inhibited it, and since when it was breached.
    public var released: (by: String, since: Double)? {
        if case .released(let by, let since) = detail { return (by, since) }
        return nil
    }

    /// Ratio SLIs: the error budget of the judged window against `baseline`, read the way
    /// `direction` states the promise (`errorBudget(total:good:target:direction:)`); `nil` for
    /// other SLIs or an empty window.
    public func errorBudget(_ direction: Direction) -> (budget: Double, remaining: Double, burnRate: Double?)? {
        counts.flatMap { Self.errorBudget(total: $0.total, good: $0.good, target: baseline, direction: direction) }
    }

    /// The share of events a ratio objective's target allows to be bad: `1 − target` for
    /// `at_least` (99.9 % good allows 0.1 % bad), `target` for `at_most` (the selected events,
    /// e.g. 5xx, are the bad ones: "at most 0.1 %" allows 0.1 %).
    /// (`1 − 0.999` is 0.0010000000000000009 in binary: the share is rounded to 12 decimals, so
    /// both statements of one promise give the very same budget.)
    public static func allowedBadShare(target: Double, direction: Direction) -> Double {
        let share = direction == .atMost ? target : 1 - target
        return (share * 1e12).rounded() / 1e12
    }

    /// The bad events of a ratio window of `total` events of which `good` were selected by the
    /// objective's `good` selector: `total − good` for `at_least`, `good` for `at_most`.
    public static func badEvents(total: Double, good: Double, direction: Direction) -> Double {
        direction == .atMost ? max(0, good) : max(0, total - good)
    }

    /// The error budget of `total` events of which `good` were selected, against `target`, one
    /// definition for entries, status and burn-rate rules (SRE workbook, "Alerting on SLOs";
    /// docs/objectives.md "Error budget"): the budget is the allowed share
    /// (`allowedBadShare(target:direction:)`) of `total`, in events; `remaining` is the budget
    /// minus the bad events (`badEvents(total:good:direction:)`), negative when overspent; the
    /// burn rate is `(bad / total) / allowed share` (1: spending exactly the budget over the
    /// window). A target that allows no bad event (100 % at least, 0 % at most) has a budget of 0,
    /// `remaining` −bad and a burn rate of 0 without a bad event and `nil` (unbounded) with one.
    /// `nil` for an empty window.
    public static func errorBudget(total: Double, good: Double, target: Double, direction: Direction = .atLeast) -> (
        budget: Double, remaining: Double, burnRate: Double?
    )? {
        guard total > 0 else { return nil }
        let allowed = max(0, allowedBadShare(target: target, direction: direction))
        let budget = allowed * total
        let bad = badEvents(total: total, good: good, direction: direction)
        // 1 − 0.999 is 0.0010000000000000009 in binary: a budget of 1 spent by 1 bad event would
        // leave 8.9e-16. What is below the precision of the totals is nothing.
        var remaining = budget - bad
        if abs(remaining) < total * 1e-12 { remaining = 0 }
        guard allowed > 0 else { return (0, remaining, bad > 0 ? nil : 0) }
        var rate = (bad / total) / allowed
        if abs(rate - rate.rounded()) < 1e-9 { rate = rate.rounded() }
        return (budget, remaining, rate)
    }
}
