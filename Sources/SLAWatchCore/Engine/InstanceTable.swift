/// The identity of an objective instance: which objective, which `group_by` label values, which
/// burn-rate window. `storageName` is the name the store and the journal know it by (exactly
/// the names earlier versions wrote: `NAME`, `NAME{customer=acme}`, `NAME/burn:1h`), and
/// `init?(storageName:)` reads one back at restore.
public struct InstanceKey: Hashable, Sendable, CustomStringConvertible {
    /// The configured objective's name.
    public var objective: String
    /// `group_by` label values in the objective's `group_by` order (`nil`: not a group
    /// instance). A missing label is the empty string.
    public var group: [LabelValue]?
    /// The burn-rate window (seconds) this hidden instance holds for a ratio objective.
    public var burnWindow: Int?
    /// The slice length (seconds) of the time-slice objective whose slices this hidden
    /// instance keeps.
    public var slice: Int?

    /// One `group_by` label and its value.
    public struct LabelValue: Hashable, Sendable {
        /// The label name.
        public var name: String
        /// Its value.
        public var value: String
        /// A label value.
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// A key.
    public init(objective: String, group: [LabelValue]? = nil, burnWindow: Int? = nil, slice: Int? = nil) {
        self.objective = objective
        self.group = group
        self.burnWindow = burnWindow
        self.slice = slice
    }

    /// The group part of the name, `customer=acme,region=eu` (`Objective.instanceOf.key`).
    public var groupText: String? { group.map { $0.map { "\($0.name)=\($0.value)" }.joined(separator: ",") } }

    /// The stored name: `NAME`, `NAME{k=v,…}`, `NAME/burn:<duration>` or, for a burn window of
    /// a `group_by` instance, `NAME{k=v,…}/burn:<duration>`.
    public var storageName: String {
        var s = objective
        if let groupText { s += "{" + groupText + "}" }
        if let burnWindow { s += "/burn:" + DurationText.format(Double(burnWindow)) }
        if let slice { s += "/slice:" + DurationText.format(Double(slice)) }
        return s
    }

    /// `storageName`.
    public var description: String { storageName }

    /// Reads a stored name back. A `/burn:<duration>` suffix is a burn window (of what the rest
    /// names); `NAME{…}` is a group instance whose pairs are split at `,` and the first `=`;
    /// `NAME/slice:<duration>` a slice source; anything else a plain name. Returns `nil` for a
    /// name that is empty, or a group part that is not `k=v` pairs.
    public init?(storageName s: String) {
        guard !s.isEmpty else { return nil }
        if let r = s.range(of: "/burn:", options: .backwards), r.lowerBound > s.startIndex,
            let seconds = DurationText.seconds(String(s[r.upperBound...])), seconds > 0
        {
            guard var base = InstanceKey(storageName: String(s[..<r.lowerBound])) else { return nil }
            guard base.burnWindow == nil, base.slice == nil else { return nil }
            base.burnWindow = Int(seconds)
            self = base
            return
        }
        if s.hasSuffix("}"), let open = s.firstIndex(of: "{"), open > s.startIndex {
            var pairs: [LabelValue] = []
            for pair in s[s.index(after: open)..<s.index(before: s.endIndex)]
                .split(separator: ",", omittingEmptySubsequences: false)
            {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard kv.count == 2, !kv[0].isEmpty else { return nil }
                pairs.append(LabelValue(String(kv[0]), String(kv[1])))
            }
            self.init(objective: String(s[..<open]), group: pairs)
            return
        }
        if let r = s.range(of: "/slice:", options: .backwards), r.lowerBound > s.startIndex,
            let seconds = DurationText.seconds(String(s[r.upperBound...])), seconds > 0
        {
            self.init(objective: String(s[..<r.lowerBound]), slice: Int(seconds))
            return
        }
        self.init(objective: s)
    }
}

/// Every objective instance the engine keeps, and the one place that adds one (`append`).
///
/// An instance is one window and one alert state: a configured objective (judged), a
/// `group_by` parent (routes its events, judged only through its members), a member of a
/// parent (one per label values, created at the first matching event), or a burn-rate window
/// of a ratio objective (hidden: evaluated only for its objective's burn rules). Instances are
/// numbered in order of creation (`InstanceID`), and every per-instance array is indexed by that
/// number: the ingest loop reads them without hashing anything (structure of arrays, so the hot
/// path touches only the arrays it needs).
struct InstanceTable: Sendable {
    /// An instance's number (its index in every per-instance array).
    typealias InstanceID = Int

    /// What an instance is for.
    enum Role: Sendable, Equatable {
        /// A configured objective without `group_by`: judged and shown.
        case judged
        /// A configured objective with `group_by`: its events go to its members.
        case groupParent
        /// The instance of `parent` for one set of label values: judged and shown.
        case member(of: InstanceID)
        /// A burn-rate window (seconds) of ratio objective `of` (a configured objective or a
        /// `group_by` member): evaluated for its rules only.
        case burnWindow(of: InstanceID, seconds: Int)
        /// The burn-rate window (seconds) of `group_by` parent `of`: routes each event to the
        /// burn window of the event's member, like the parent routes it to the member.
        case burnParent(of: InstanceID, seconds: Int)
        /// The slices of time-slice objective `of`: judged into its window slice by slice.
        case sliceSource(of: InstanceID)
    }

    /// What the ingest loop does with a matching event (plain numbers, so the loop does not
    /// touch the arrays of strings and matchers for the common case).
    enum Routing: UInt8 {
        /// Into the window (no label filter).
        case plain
        /// Into the window when the labels pass `filters`.
        case filtered
        /// A ratio objective: total and/or good.
        case ratio
        /// A `group_by` parent: to the instance of the labels.
        case parent
    }

    // The registry (changes only in `append`).
    /// Each instance's objective (an instance's own copy: name, window and matchers of its key).
    private(set) var objectives: [Objective] = []
    /// The same objectives behind one reference each, for the evaluation loop: reading a field
    /// through it costs one retain, where copying an `Objective` out of `objectives` retains
    /// each of its strings and arrays (a tenth of an idle daemon's CPU with 10,000 instances).
    private(set) var shared: [SharedObjective] = []
    /// Each instance's excluded time (service hours, maintenance), `nil` for none; and the fast
    /// test of the ingest loop.
    private(set) var exclusions: [ExcludedTime?] = []
    private(set) var hasExclusion: [Bool] = []
    /// Maintenance announced at run time, applied to every instance it names (also those
    /// created later).
    private(set) var runtimeMaintenance: [RuntimeMaintenance] = []
    private(set) var keys: [InstanceKey] = []
    /// Each instance's `Objective.dataFingerprint`, built once (a commit names it per changed
    /// instance; building it was a third of a commit's instructions).
    private(set) var fingerprints: [String] = []
    private(set) var roles: [Role] = []
    /// The label matchers of each instance's `labels:`, parsed once.
    private(set) var filters: [[LabelMatcher]] = []
    /// Ratio objectives: the good selector's metric and matchers (`nil` for other objectives).
    private(set) var goodSelectors: [(metric: String, matchers: [LabelMatcher], value: ValueThreshold?)?] = []
    private(set) var routing: [Routing] = []
    /// Judged and shown, in order: configured objectives (but `group_by` parents), then members
    /// in order of creation.
    private(set) var judged: [InstanceID] = []
    /// The `group_by` parents.
    private(set) var groupParents: [InstanceID] = []
    /// `group_by` parent → group text (`customer=acme`) → member.
    private(set) var members: [InstanceID: [String: InstanceID]] = [:]
    /// Ratio objective (or `group_by` member) → burn window seconds → the window's instance.
    private(set) var burnWindows: [InstanceID: [Int: InstanceID]] = [:]
    /// `group_by` ratio objective → burn window seconds → the instance routing its events to
    /// the members' burn windows (`Role.burnParent`).
    private(set) var burnParents: [InstanceID: [Int: InstanceID]] = [:]
    /// Time-slice objective → the instance keeping its slices.
    private(set) var sliceWindows: [InstanceID: InstanceID] = [:]
    private var byName: [String: InstanceID] = [:]

    // Per-instance state (the engine reads and writes these by `InstanceID`).
    var windows: [Window] = []
    var states: [InstanceState] = []
    /// The SLI at the last evaluation.
    var lastValues: [Double?] = []
    /// The baseline in force at the last evaluation (`Engine.baselineInForce`, `nil` while
    /// untrusted), kept so SLI history does not evaluate it a second time.
    var lastBaselines: [Double?] = []
    /// Event time (unix seconds) of the newest event counted in the window, `-infinity` for
    /// never; kept in `InstanceState.lastSeen` across restarts.
    var lastSeen: [Double] = []
    /// The state and `lastSeen` as of the last `takeChanges`, so a commit writes a state only
    /// when it changed.
    var persistedStates: [InstanceState] = []
    var persistedLastSeen: [Double] = []
    /// Marked changed since the last commit (the set is `Engine.dirty`; this is its fast test).
    var dirtyFlags: [Bool] = []
    /// The open SLI history step of each resolution (`SLIHistory.steps`), judged instances only.
    var history: [[HistorySlot?]] = []
    /// The last `SLIHistory.trendPoints` closed history values of each instance at the step that
    /// suits its window (`Engine.trendStep`), for `status`'s sparkline; in memory only.
    var trend: [[Double?]] = []

    /// The table of `configured` objectives: each one, then the burn-rate windows of the ratio
    /// objectives.
    init(configured: [Objective]) {
        for o in configured {
            append(o, key: InstanceKey(objective: o.name), role: o.groupBy.isEmpty ? .judged : .groupParent)
        }
        for (i, o) in configured.enumerated() where o.sli == .ratio {
            for seconds in o.burnWindowLengths {
                let key = InstanceKey(objective: o.name, burnWindow: seconds)
                if o.groupBy.isEmpty {
                    burnWindows[i, default: [:]][seconds] = append(
                        o.burnWindow(seconds),
                        key: key,
                        role: .burnWindow(of: i, seconds: seconds)
                    )
                } else {
                    burnParents[i, default: [:]][seconds] = append(
                        o.burnWindow(seconds),
                        key: key,
                        role: .burnParent(of: i, seconds: seconds)
                    )
                }
            }
        }
        for (i, o) in configured.enumerated() {
            guard let source = o.sliceSource(), let rule = o.timeslices else { continue }
            sliceWindows[i] = append(
                source,
                key: InstanceKey(objective: o.name, slice: rule.slice),
                role: .sliceSource(of: i)
            )
        }
    }

    /// One instance as a value: what it is, without its window and state (which stay in the
    /// per-instance arrays the hot path reads).
    struct Instance: Sendable {
        /// Its number.
        var id: InstanceID
        /// Its identity (the stored name is `key.storageName`).
        var key: InstanceKey
        /// Its objective (a member's carries the member's name and labels).
        var objective: Objective
        /// What it is for.
        var role: Role
        /// Its parsed `labels:` matchers.
        var matchers: [LabelMatcher]
    }

    /// Instance `id`.
    subscript(id: InstanceID) -> Instance {
        Instance(id: id, key: keys[id], objective: objectives[id], role: roles[id], matchers: filters[id])
    }

    /// Instances in the table.
    var count: Int { objectives.count }
    /// Their numbers.
    var ids: Range<InstanceID> { objectives.indices }

    /// The instance stored as `name` (`InstanceKey.storageName`).
    func id(named name: String) -> InstanceID? { byName[name] }

    /// Whether `i` is a burn-rate window.
    func isBurnWindow(_ i: InstanceID) -> Bool {
        if case .burnWindow = roles[i] { return true }
        return false
    }

    /// The runtime maintenance windows in force for objective `o` of configured objective
    /// `name` (a member's, burn window's or slice source's parent).
    func runtimeWindows(for o: Objective, named name: String) -> [MaintenanceWindow] {
        runtimeMaintenance.filter { $0.sla == o.sla.name && ($0.objective == nil || $0.objective == name) }
            .compactMap(\.effective)
    }

    /// Replaces the runtime maintenance and recomputes every instance's excluded time.
    mutating func setRuntimeMaintenance(_ list: [RuntimeMaintenance]) {
        runtimeMaintenance = list
        for i in objectives.indices {
            let excluded = ExcludedTime(
                objectives[i],
                runtime: runtimeWindows(for: objectives[i], named: keys[i].objective)
            )
            exclusions[i] = excluded
            hasExclusion[i] = excluded != nil
        }
    }

    /// Whether `i` keeps the slices of a time-slice objective.
    func isSliceSource(_ i: InstanceID) -> Bool {
        if case .sliceSource = roles[i] { return true }
        return false
    }

    /// The member of group parent `p` for `values` (label → value), created when new unless
    /// the parent has `max_instances` members already; a new member of a ratio objective with
    /// burn-rate rules gets its own burn windows (instances after it). Returns the member and
    /// whether it is new, or `nil` when refused.
    mutating func member(of p: InstanceID, _ values: [String: String]) -> (id: InstanceID, isNew: Bool)? {
        let o = objectives[p]
        let group = o.groupBy.map { InstanceKey.LabelValue($0, values[$0] ?? "") }
        let key = InstanceKey(objective: o.name, group: group)
        if let existing = members[p]?[key.groupText ?? ""] { return (existing, false) }
        guard (members[p]?.count ?? 0) < o.maxInstances else { return nil }
        let member = o.instance(values)
        let i = append(member, key: key, role: .member(of: p))
        members[p, default: [:]][key.groupText ?? ""] = i
        judged.append(i)
        for seconds in (burnParents[p] ?? [:]).keys.sorted() {
            var burnKey = key
            burnKey.burnWindow = seconds
            burnWindows[i, default: [:]][seconds] = append(
                member.burnWindow(seconds),
                key: burnKey,
                role: .burnWindow(of: i, seconds: seconds)
            )
        }
        return (i, true)
    }

    /// The one place an instance is added: its objective, key and role, and a fresh window and
    /// state in every per-instance array.
    @discardableResult
    private mutating func append(_ o: Objective, key: InstanceKey, role: Role) -> InstanceID {
        let i = objectives.count
        objectives.append(o)
        shared.append(SharedObjective(o))
        let excluded = ExcludedTime(o, runtime: runtimeWindows(for: o, named: key.objective))
        exclusions.append(excluded)
        hasExclusion.append(excluded != nil)
        keys.append(key)
        fingerprints.append(o.dataFingerprint)
        roles.append(role)
        // The config loader refuses a bad matcher (file, line, key); should one get here anyway
        // it matches nothing, never everything.
        filters.append(Self.matchers(o.match))
        goodSelectors.append(o.sli == .ratio ? o.good.map { ($0.metric, Self.matchers($0.match), $0.value) } : nil)
        switch role {
        case .groupParent:
            routing.append(.parent)
            groupParents.append(i)
        case .burnParent:
            routing.append(.parent)
        case .judged:
            judged.append(i)
            routing.append(Self.routing(o))
        case .member, .burnWindow, .sliceSource:
            routing.append(Self.routing(o))
        }
        byName[key.storageName] = i
        windows.append(Self.window(for: o))
        states.append(InstanceState())
        lastValues.append(nil)
        lastBaselines.append(nil)
        lastSeen.append(-.infinity)
        persistedStates.append(InstanceState())
        persistedLastSeen.append(-.infinity)
        dirtyFlags.append(false)
        history.append(SLIHistory.steps.map { _ in nil })
        trend.append([])
        return i
    }

    /// Parsed matchers; a matcher that does not parse gives one that matches nothing.
    private static func matchers(_ labels: [String: String]) -> [LabelMatcher] {
        do {
            return try LabelMatcher.parse(labels)
        } catch {
            return [LabelMatcher.nothing]
        }
    }

    static func routing(_ o: Objective) -> Routing {
        if o.sli == .ratio && o.good != nil { return .ratio }
        return o.match.isEmpty ? .plain : .filtered
    }

    /// An empty window shaped for an objective (its time zone; a sketch per bucket for a
    /// percentile SLI).
    static func window(for o: Objective) -> Window {
        var w = Window(spec: o.window, periods: CalendarPeriods(timeZoneIdentifier: o.timeZone))
        w.tracksQuantiles = o.sli.isPercentile
        return w
    }
}

/// An instance's objective behind a reference (`InstanceTable.shared`), with what evaluation
/// derives from it once.
final class SharedObjective: Sendable {
    /// The objective.
    let objective: Objective
    /// Its alert rules (`for`, `clear_at`, `keep_firing_for`, `nodata`, `min_events`).
    let rules: AlertStateMachine.Rules

    init(_ objective: Objective) {
        self.objective = objective
        self.rules = AlertStateMachine.Rules(objective)
    }
}
