import Foundation

/// One point of an instance's SLI history: what the SLI and its baseline were during one step
/// of evaluation time, for charts (`slawatch report --format html`).
///
/// Points come at two resolutions (`SLIHistory.steps`): 5-minute points, kept
/// `SLIHistory.fineRetention` (35 days), and hourly points, kept as long as period verdicts
/// (`period_retention`, 400 days by default). Stored in the `sli_history` table.
public struct HistoryPoint: Sendable, Equatable {
    /// The instance's stored name (`InstanceKey.storageName`: objective, and a member's labels).
    public var instance: String
    /// The step, seconds: 300 or 3600.
    public var step: Int
    /// Start of the step, unix seconds (a multiple of `step`).
    public var start: Int64
    /// The SLI at the step's last evaluation, in the objective's unit; `nil` when not judged
    /// (no data, an invalid ratio).
    public var value: Double?
    /// The worst SLI of the step's evaluations (the lowest for `at_least`, the highest for
    /// `at_most`), so a short dip between two points still shows.
    public var worst: Double?
    /// The baseline in force at the step's last evaluation; `nil` when untrusted.
    public var baseline: Double?
    /// Whether the objective was breached at any evaluation in the step.
    public var breached: Bool

    /// Creates a point.
    public init(
        instance: String,
        step: Int,
        start: Int64,
        value: Double?,
        worst: Double?,
        baseline: Double?,
        breached: Bool
    ) {
        self.instance = instance
        self.step = step
        self.start = start
        self.value = value
        self.worst = worst
        self.baseline = baseline
        self.breached = breached
    }
}

/// The steps and retention of SLI history, and the open step of each resolution per instance.
public enum SLIHistory {
    /// The two resolutions, seconds: 5-minute and hourly points.
    public static let steps = [300, 3600]
    /// How long 5-minute points are kept, seconds (35 days: a month's report at 5 minutes).
    public static let fineRetention: Double = 35 * 86_400
    /// Points in `status`'s sparkline of an instance (`Engine.Status.trend`).
    public static let trendPoints = 24
}

/// The open (not yet written) step of one resolution of one instance.
struct HistorySlot: Sendable {
    var start: Int64
    var value: Double?
    var worst: Double?
    var baseline: Double?
    var breached: Bool
}

extension Engine {
    /// Records instance `i`'s SLI of this evaluation into its open history steps; a step that
    /// `now` has left is closed into a `HistoryPoint` (taken by `takeHistory()`). Burn-rate
    /// windows and `group_by` parents keep no history.
    mutating func recordHistory(_ i: Int, now: Double) {
        let shared = table.shared[i]
        let value = table.lastValues[i]
        let baseline = shared.objective.isCumulative ? shared.objective.baseline.value : table.lastBaselines[i]
        let breached = table.states[i].state == .breached
        for (k, step) in SLIHistory.steps.enumerated() {
            let start = Int64((now / Double(step)).rounded(.down)) * Int64(step)
            if var open = table.history[i][k], open.start == start {
                open.value = value
                open.baseline = baseline
                open.breached = open.breached || breached
                if let v = value {
                    open.worst =
                        open.worst.map { shared.objective.direction == .atLeast ? min($0, v) : max($0, v) } ?? v
                }
                table.history[i][k] = open
                continue
            }
            if let closed = table.history[i][k] { closeHistory(i, step: step, closed) }
            table.history[i][k] = HistorySlot(
                start: start,
                value: value,
                worst: value,
                baseline: baseline,
                breached: breached
            )
        }
    }

    /// The history step of instance `i`'s sparkline: 5 minutes for a window of a day or less,
    /// hourly beyond.
    func trendStep(_ i: Int) -> Int {
        switch table.objectives[i].window {
        case .rolling(let w): return w <= 86_400 ? 300 : 3600
        case .calendar(let unit): return unit == .day ? 300 : 3600
        }
    }

    private mutating func closeHistory(_ i: Int, step: Int, _ s: HistorySlot) {
        if step == trendStep(i) {
            table.trend[i].append(s.value)
            if table.trend[i].count > SLIHistory.trendPoints { table.trend[i].removeFirst() }
        }
        pendingHistory.append(
            HistoryPoint(
                instance: table.keys[i].storageName,
                step: step,
                start: s.start,
                value: s.value,
                worst: s.worst,
                baseline: s.baseline,
                breached: s.breached
            )
        )
    }

    /// The history points closed since the last call (oldest first per instance), and clears
    /// them.
    public mutating func takeHistory() -> [HistoryPoint] {
        defer { pendingHistory = [] }
        return pendingHistory
    }

    /// The oldest `limit` history points closed since the last take, and removes them (all of
    /// them when `limit` is at least `pendingHistoryCount`).
    public mutating func takeHistory(limit: Int) -> [HistoryPoint] {
        guard limit < pendingHistory.count else { return takeHistory() }
        let taken = Array(pendingHistory.prefix(max(0, limit)))
        pendingHistory.removeFirst(taken.count)
        return taken
    }

    /// History points closed and not yet taken.
    public var pendingHistoryCount: Int { pendingHistory.count }

    /// Queues the open steps as points too (at shutdown, so the minutes before a stop are kept;
    /// a step continued after a restart is written again, replacing it).
    public mutating func closeOpenHistorySteps() {
        // Running figures waiting for their flush boundary go with the final commit too.
        runningDue.formUnion(runningDirty)
        dirty.formUnion(runningDirty)
        runningDirty.removeAll()
        for i in table.ids {
            for (k, step) in SLIHistory.steps.enumerated() {
                if let open = table.history[i][k] { closeHistory(i, step: step, open) }
            }
        }
    }
}
