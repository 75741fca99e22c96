import Foundation

/// The functional core of slawatch: windows keyed by event time, objective evaluation and the
/// alert state machine. Pure: it takes events and times (unix seconds, injected by the caller)
/// and returns transitions; no I/O, no clock of its own.
public struct Engine: Sendable {
    /// Objectives in config order.
    public private(set) var objectives: [Objective]
    /// Every instance (configured objectives, `group_by` members, burn-rate windows) with its
    /// window and state.
    var table: InstanceTable
    /// `group_by` parents whose `max_instances` cap was hit (reported once per parent).
    var capReported: Set<Int> = []
    /// Instances refused by the cap since the last evaluation: parent → refused keys.
    var refusedInstances: [Int: Set<String>] = [:]
    /// Events further ahead of `now` than this (seconds) are rejected (`future_event`).
    public var maxFutureSkew: Double
    var byMetric: MetricIndex
    var dirty: Set<Int> = []
    /// Instances whose state differs from the stored one only in running figures of their
    /// report periods (`InstanceState.differsOnlyInRunningFigures(from:)`): written at their
    /// next flush boundary (`runningFlushInterval`), not at every commit.
    var runningDirty: Set<Int> = []
    /// Instances in `runningDirty` whose flush boundary passed: their next take writes them.
    var runningDue: Set<Int> = []
    /// When `evaluate(at:)` last ran (unix seconds); `nil` before the first evaluation.
    var lastEvaluatedAt: Double?
    /// Adaptive instances: the nearest sampling boundary their baseline was last computed for
    /// (not saved: recomputed once after a start).
    var adaptiveComputedAt: [Int: Double] = [:]
    var scratchOldest: [Int64] = []
    var scratchCandidates: [Range<Int>?] = []
    var scratchDirty: [Int] = []
    /// Per batch name: its events folded so far (`Fold`; not `isOpen`: the name is not folded).
    var scratchFolds: [Fold] = []
    /// The names with a non-empty fold, in order of their first folded event.
    var scratchFolded: [Int] = []
    /// `lastSeen` of the open drop file's staged events, merged at `commitStaging(now:)`.
    var stagedLastSeen: [Double]?
    /// Instances whose stored buckets must all be replaced (their fingerprint changed).
    var replaceBuckets: Set<Int> = []
    /// Keep the level of every gauge series (needed only for the etsy delta dialect, where
    /// `+N|g` changes the level; the daemon turns it on with `gauge_deltas: true`).
    public var tracksGaugeLevels = false
    /// Gauge levels and cumulative-counter bases of the series objectives use.
    var series = SeriesState()
    /// Windows receiving a drop file's events while it is being read (`beginStaging()`), merged
    /// into the live windows by `commitStaging(now:)`; `nil` when no file is open.
    var staged: [Window]?
    /// Whether any objective inherits from a higher SLA level (inhibition applies).
    let hasLevels: Bool
    /// The objectives some other objective inherits (`Objective.ancestors`).
    let inheritedNames: Set<String>
    /// SLI history points closed and not yet taken (`takeHistory()`).
    var pendingHistory: [HistoryPoint] = []

    /// Every version of every objective as configured (`effective_from`); `objectives` holds
    /// the ones in force.
    public private(set) var versions: [Objective]
    /// When the versions in force change next (`Objective.nextVersionChange`), `nil` for never.
    public private(set) var nextVersionChange: Double?
    /// How many times the versions in force changed while this engine ran (each change rebuilds
    /// the instance table, keeping state and windows as a reload does).
    public private(set) var versionChanges = 0

    /// Creates an engine with fresh state for each objective in force at `now`
    /// (`Objective.inForce(_:at:)`; `nil`: those in force from the start); later versions
    /// take over at their `effective_from`, at the first ingest or evaluation at or after it.
    /// - Precondition: objective names are unique per `effectiveFrom` and calendar time zones
    ///   valid (the config loader checks both).
    public init(objectives all: [Objective], maxFutureSkew: Double = 300, at now: Double? = nil) {
        let dated = all.contains { $0.effectiveFrom != nil }
        let objectives = dated ? Objective.inForce(all, at: now ?? -.infinity) : all
        versions = all
        nextVersionChange = dated ? Objective.nextVersionChange(all, after: now ?? -.infinity) : nil
        self.objectives = objectives
        self.maxFutureSkew = maxFutureSkew
        table = InstanceTable(configured: objectives)
        hasLevels = objectives.contains { !$0.ancestors.isEmpty }
        inheritedNames = Set(objectives.flatMap(\.ancestors))
        var index: [String: [Int]] = [:]
        for i in table.ids {
            let o = table.objectives[i]
            // A time-slice objective's window holds judged slices, not events: its slice
            // source takes the events.
            if o.timeslices != nil { continue }
            index[o.metric, default: []].append(i)
            if let g = table.goodSelectors[i], g.metric != o.metric { index[g.metric, default: []].append(i) }
        }
        byMetric = MetricIndex(index)
    }

    /// A new engine for `objectives` (all versions) at `now`, with this one's state carried
    /// over as a reload does: unchanged objectives keep state and windows, edited ones their
    /// alert state and (same data fingerprint) their windows; gauge levels, run-time
    /// maintenance, settings and SLI history not yet taken are kept.
    public func replacing(objectives: [Objective], at now: Double?) -> Engine {
        var next = Engine(objectives: objectives, maxFutureSkew: maxFutureSkew, at: now)
        next.tracksGaugeLevels = tracksGaugeLevels
        next.maxSeries = maxSeries
        next.restore(allSnapshots())
        next.restoreGaugeLevels(persistedLevels)
        next.setRuntimeMaintenance(table.runtimeMaintenance)
        next.pendingHistory = pendingHistory
        next.lastEvaluatedAt = lastEvaluatedAt
        next.versionChanges = versionChanges
        return next
    }

    /// Puts the versions in force at `now` in place when one took effect (`effective_from`).
    /// Returns whether they changed.
    @discardableResult
    public mutating func applyVersions(at now: Double) -> Bool {
        guard let change = nextVersionChange, now >= change else { return false }
        var next = replacing(objectives: versions, at: now)
        next.versionChanges = versionChanges + 1
        self = next
        return true
    }

    /// The objective named `name`, if any.
    public func objective(named name: String) -> Objective? { table.id(named: name).map { table.objectives[$0] } }
}
