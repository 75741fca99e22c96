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
    /// Event time (unix seconds) of the newest event counted in the instance's window (its
    /// metric "last seen"); `nil` for never. Filled in by the engine when it snapshots.
    public var lastSeen: Double?

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
}

/// One thing the engine decided at an evaluation: a state change, or a period result.
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
    /// Ratio SLIs: the total and good event counts of the judged window (error budget).
    public var counts: (total: Double, good: Double)?
    /// Pace entries: what the target expects by now and the projection to the period end.
    public var pace: (expected: Double, projection: Double, elapsed: Double)?
    /// Since when the baseline in force applies (`effective_from`), when known.
    public var baselineSince: Double?
    /// Instance-limit entries: the first label value refused.
    public var refusedInstance: String?
    /// Burn-rate entries: the rule and the burn rates over its long and short windows.
    public var burn: (rule: BurnRateRule, long: Double, short: Double)?

    public static func == (a: Transition, b: Transition) -> Bool {
        a.objective == b.objective && a.kind == b.kind && a.from == b.from && a.to == b.to && a.at == b.at
            && a.value == b.value && a.baseline == b.baseline && a.episode == b.episode
            && a.periodStart == b.periodStart && a.periodEnd == b.periodEnd && a.met == b.met
            && a.counts?.total == b.counts?.total && a.counts?.good == b.counts?.good
            && a.pace?.expected == b.pace?.expected && a.pace?.projection == b.pace?.projection
            && a.burn?.rule == b.burn?.rule && a.burn?.long == b.burn?.long && a.burn?.short == b.burn?.short
    }

    /// Ratio SLIs with target `baseline` (e.g. 0.999): the error budget `(1 − target) × total`
    /// in events, what is left of it (`budget − bad`, negative when overspent), and the burn
    /// rate `(bad / total) / (1 − target)` (1: spending exactly the budget over the window; SRE
    /// workbook, "Alerting on SLOs"). `nil` for other SLIs or an empty window.
    public var errorBudget: (budget: Double, remaining: Double, burnRate: Double)? {
        counts.flatMap { Self.errorBudget(total: $0.total, good: $0.good, target: baseline) }
    }

    /// The error budget of `total` events of which `good` were good, against `target`; `nil`
    /// for an empty window or a target of 1 (no budget).
    public static func errorBudget(total: Double, good: Double, target: Double) -> (
        budget: Double, remaining: Double, burnRate: Double
    )? {
        guard total > 0, target < 1 else { return nil }
        let budget = (1 - target) * total
        let bad = max(0, total - good)
        // 1 − 0.999 is 0.0010000000000000009 in binary: a budget of 1 spent by 1 bad event would
        // leave 8.9e-16. What is below the precision of the totals is nothing.
        var remaining = budget - bad
        if abs(remaining) < total * 1e-12 { remaining = 0 }
        var rate = (bad / total) / (1 - target)
        if abs(rate - rate.rounded()) < 1e-9 { rate = rate.rounded() }
        return (budget, remaining, rate)
    }
}
