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
    private var capReported: Set<Int> = []
    /// Instances refused by the cap since the last evaluation: parent → refused keys.
    private var refusedInstances: [Int: Set<String>] = [:]
    /// Events further ahead of `now` than this (seconds) are rejected (`future_event`).
    public var maxFutureSkew: Double
    private var byMetric: MetricIndex
    private var dirty: Set<Int> = []
    private var scratchOldest: [Int64] = []
    private var scratchCandidates: [Range<Int>?] = []
    private var scratchDirty: [Int] = []
    /// `lastSeen` of the open drop file's staged events, merged at `commitStaging(now:)`.
    private var stagedLastSeen: [Double]?
    /// Instances whose stored buckets must all be replaced (their fingerprint changed).
    private var replaceBuckets: Set<Int> = []
    /// Keep the level of every gauge series (needed only for the etsy delta dialect, where
    /// `+N|g` changes the level; the daemon turns it on with `gauge_deltas: true`).
    public var tracksGaugeLevels = false
    /// Series (gauge levels and cumulative-counter bases) kept at most (`max_series`): state is
    /// kept only for metrics an objective uses, and an event that would start one more series is
    /// rejected (`series_limit`), so memory stays bounded whatever the senders make up.
    public var maxSeries = 100_000
    /// Events refused by `maxSeries` since start.
    public private(set) var seriesRefused = 0
    private var seriesLimitNoticed = false
    /// Current level of every gauge series (metric and labels), for the etsy delta dialect.
    public private(set) var gaugeLevels: [String: Double] = [:]
    private var dirtyGauges: Set<String> = []
    /// Cumulative counters: the last sample (value, time) of every series.
    private var cumulativeLast: [String: (value: Double, time: Double)] = [:]
    private var dirtyCumulative: Set<String> = []
    private var stagedCumulative: [String: (value: Double, time: Double)] = [:]
    /// Key prefix of cumulative-counter bases among the persisted gauge levels.
    static let cumulativePrefix = "cumulative\u{1F}"
    /// Windows receiving a drop file's events while it is being read (`beginStaging()`), merged
    /// into the live windows by `commitStaging(now:)`; `nil` when no file is open.
    private var staged: [Window]?

    /// Creates an engine with fresh state for each objective.
    /// - Precondition: objective names are unique and calendar time zones valid (the config
    ///   loader checks both).
    public init(objectives: [Objective], maxFutureSkew: Double = 300) {
        self.objectives = objectives
        self.maxFutureSkew = maxFutureSkew
        table = InstanceTable(configured: objectives)
        var index: [String: [Int]] = [:]
        for i in table.ids {
            let o = table.objectives[i]
            index[o.metric, default: []].append(i)
            if let g = table.goodSelectors[i], g.metric != o.metric { index[g.metric, default: []].append(i) }
        }
        byMetric = MetricIndex(index)
    }

    /// Finds (or creates) the instance of every `group_by` objective for every label set that
    /// an event of the objective's metric (or good metric) carries in the batch and that matches
    /// the objective's selectors. Key: `labelSet << 20 | parent`; value: the instance's index,
    /// or -1 when `max_instances` refused it. Label sets of other metrics' events create nothing.
    private mutating func routeInstances(_ batch: EventBatch, toStaging: Bool) -> [Int: Int] {
        var route: [Int: Int] = [:]
        // The label sets each name's events carry, in order of first use.
        var labelsOf: [String: [Int]] = [:]
        var seen = Set<Int>()
        for r in batch.records where seen.insert(Int(r.nameIndex) << 32 | Int(r.labelIndex)).inserted {
            labelsOf[batch.names[Int(r.nameIndex)], default: []].append(Int(r.labelIndex))
        }
        for p in table.groupParents {
            let o = table.objectives[p]
            var used = labelsOf[o.metric] ?? []
            if let g = o.good, g.metric != o.metric { used += labelsOf[g.metric] ?? [] }
            for l in Set(used).sorted() {
                let labels = batch.labelSets[l]
                let total = LabelMatcher.all(table.filters[p], labels)
                let good = table.goodSelectors[p].map { LabelMatcher.all($0.matchers, labels) } ?? false
                guard total || good else { continue }
                var values: [String: String] = [:]
                for g in o.groupBy { values[g] = labels[g] ?? "" }
                if let m = member(of: p, values) {
                    route[l << 20 | p] = m
                } else {
                    route[l << 20 | p] = -1
                    refusedInstances[p, default: []].insert(
                        o.groupBy.map { "\($0)=\(values[$0] ?? "")" }.joined(separator: ",")
                    )
                }
            }
        }
        return route
    }

    /// The member of group parent `p` for `values`, created when new (with an empty staged
    /// window while a drop file is open); `nil` when `max_instances` refuses it.
    private mutating func member(of p: Int, _ values: [String: String]) -> Int? {
        guard let (i, isNew) = table.member(of: p, values) else { return nil }
        if isNew {
            stagedLastSeen?.append(-.infinity)
            if staged != nil { staged!.append(InstanceTable.window(for: table.objectives[i])) }
        }
        return i
    }

    // MARK: - Ingest

    /// The result of ingesting a batch.
    public struct IngestResult: Sendable, Equatable {
        /// Events kept (including events no objective uses).
        public var accepted = 0
        /// Events dropped: `(index in the batch, reason)`.
        public var rejected: [(index: Int, reason: RejectReason)] = []

        /// An empty result.
        public init() {}

        public static func == (a: IngestResult, b: IngestResult) -> Bool {
            a.accepted == b.accepted && a.rejected.map(\.index) == b.rejected.map(\.index)
                && a.rejected.map(\.reason) == b.rejected.map(\.reason)
        }
    }

    /// Adds a batch of events. Events without a time get `now` (arrival time).
    ///
    /// An event is rejected when its time is more than `maxFutureSkew` ahead of `now`
    /// (`future_event`), or when it matches objectives but is too old for all of their windows
    /// (`too_late`). Events that match no objective are accepted and ignored.
    public mutating func ingest(_ events: [Event], now: Double) -> IngestResult {
        ingest(EventBatch(events), now: now)
    }

    /// Adds a batch of events (the daemon's path); see `ingest(_:now:)` for the rules. Each
    /// distinct metric name is looked up once per batch, each label filter evaluated once per
    /// distinct label set.
    public mutating func ingest(_ input: EventBatch, now: Double) -> IngestResult {
        ingest(input, now: now, staged: false)
    }

    /// Adds a batch of events to the open staging (`beginStaging()`) when `staged` is true (a
    /// drop file's events), else to the live windows; see `ingest(_:now:)` for the rules.
    /// - Precondition: `staged` only while a staging is open.
    public mutating func ingest(_ input: EventBatch, now: Double, staged toStaging: Bool) -> IngestResult {
        var result = IngestResult()
        var batch = input
        let skew = maxFutureSkew
        // Which of the batch's names an objective uses (series state is kept for those only), and
        // the events refused because they would start a series beyond `maxSeries`.
        var candidates = scratchCandidates
        scratchCandidates = []
        candidates.removeAll(keepingCapacity: true)
        for n in batch.names.indices { candidates.append(byMetric.lookup(batch.names[n], hash: batch.nameHashes[n])) }
        var refusedSeries: Set<Int> = []
        // Series state, in event order (so `maxSeries` refuses the latest series, not a kind):
        // cumulative counters become increases (per series, reset-aware; a first sample is a
        // base), and etsy gauge deltas become levels.
        let tracksCumulative = batch.hasCumulative
        if tracksCumulative || tracksGaugeLevels {
            for i in batch.indices {
                let kind = batch.records[i].kind
                guard (kind == .cumulative || (kind == .gauge && tracksGaugeLevels)),
                    candidates[Int(batch.records[i].nameIndex)] != nil
                else { continue }
                let t = batch.time(at: i) ?? now
                if t > now + skew { continue }
                if kind == .gauge {
                    let e = batch[i]
                    if gaugeLevels[Self.seriesKey(e)] == nil && !roomForSeries() {
                        refusedSeries.insert(i)
                        continue
                    }
                    if let level = trackGauge(e) { batch.setValue(level, at: i) }
                    continue
                }
                let key = Self.seriesKey(batch[i])
                if cumulativeLast[key] == nil && stagedCumulative[key] == nil && !roomForSeries() {
                    refusedSeries.insert(i)
                    continue
                }
                let v = batch.records[i].value
                var increase = 0.0
                // A staged file's bases stay aside until its commit (a file read again after an
                // abort must see the bases it saw the first time).
                let staging = toStaging && staged != nil
                if let last = (staging ? stagedCumulative[key] : nil) ?? cumulativeLast[key] {
                    if t < last.time {
                        // An older sample than one already seen: no increase, nothing changes.
                        batch.setCounterIncrease(0, at: i)
                        continue
                    }
                    increase = v >= last.value ? v - last.value : v
                }
                if staging {
                    stagedCumulative[key] = (v, t)
                } else {
                    cumulativeLast[key] = (v, t)
                    dirtyCumulative.insert(key)
                }
                batch.setCounterIncrease(increase, at: i)
            }
        }
        // group_by: each (objective, label set) goes to its instance, created on first sight
        // (-1: refused by max_instances).
        let route = table.groupParents.isEmpty ? [:] : routeInstances(batch, toStaging: toStaging)
        let index = byMetric
        let filters = table.filters
        let goodSelectors = table.goodSelectors
        let routing = table.routing
        var roleCache: [Int: UInt8] = [:]
        let labelSetCount = batch.labelSets.count
        // Scratch buffers live in the engine and are reused batch after batch (no allocation
        // per batch in the steady state); they are moved out for the loop and back after it.
        var filterCache: [Int: Bool] = [:]
        var flags = table.dirtyFlags
        table.dirtyFlags = []
        var newlyDirty = scratchDirty
        scratchDirty = []
        newlyDirty.removeAll(keepingCapacity: true)
        // Per batch, not per event: the oldest bucket each window still accepts at `now`
        // (Int64.min: not computed yet).
        var oldest = scratchOldest
        scratchOldest = []
        if oldest.count != table.count { oldest = Array(repeating: .min, count: table.count) }
        let objectiveCount = table.count
        // While a drop file is open its events go to the staged windows; the live windows only
        // say which buckets are still accepted.
        let staging = toStaging && staged != nil
        var stagedWindows = staging ? staged! : []
        if staging { staged = nil }
        // Moved out for the loop and back after it, like the scratch buffers (no copy).
        var seen = staging ? (stagedLastSeen ?? []) : table.lastSeen
        if staging { stagedLastSeen = nil } else { table.lastSeen = [] }
        let hasMembers = batch.hasMembers
        table.windows.withUnsafeMutableBufferPointer { windows in
            stagedWindows.withUnsafeMutableBufferPointer { stagedWindows in
                for i in 0..<batch.count {
                    let t = batch.records[i].time.isNaN ? now : batch.records[i].time
                    if t > now + skew {
                        result.rejected.append((i, .futureEvent))
                        continue
                    }
                    if !refusedSeries.isEmpty && refusedSeries.contains(i) {
                        result.rejected.append((i, .seriesLimit))
                        continue
                    }
                    guard let range = candidates[Int(batch.records[i].nameIndex)] else {
                        result.accepted += 1
                        continue
                    }
                    var matched = false
                    var used = false
                    var refused = false
                    for k in range {
                        var j = index.objectives[k]
                        var how = routing[j]
                        if how == .parent {
                            guard let r = route[Int(batch.records[i].labelIndex) << 20 | j] else { continue }
                            if r < 0 {
                                refused = true
                                continue
                            }
                            j = r
                            how = routing[j]
                        }
                        if how == .ratio, let g = goodSelectors[j] {
                            // A ratio objective: the event may count in the total, the good
                            // count, or both (decided once per name, label set and objective).
                            let n = Int(batch.records[i].nameIndex)
                            let l = Int(batch.records[i].labelIndex)
                            let key = (n * labelSetCount + l) * objectiveCount + j
                            let role: UInt8
                            if let known = roleCache[key] {
                                role = known
                            } else {
                                let labels = batch.labelSets[l]
                                let name = batch.names[n]
                                let isTotal =
                                    name == self.table.objectives[j].metric && LabelMatcher.all(filters[j], labels)
                                let isGood = name == g.metric && LabelMatcher.all(g.matchers, labels)
                                role = (isTotal ? 1 : 0) | (isGood ? 2 : 0)
                                roleCache[key] = role
                            }
                            if role == 0 { continue }
                            matched = true
                            if oldest[j] == .min { oldest[j] = windows[j].oldestLiveBucket(now: now) }
                            // The live window, or the staged one of an open drop file.
                            let w = (staging ? stagedWindows.baseAddress! : windows.baseAddress!) + j
                            if w.pointee.addRatio(
                                value: batch.records[i].value,
                                kind: batch.records[i].kind,
                                sampleRate: batch.records[i].rate,
                                at: t,
                                oldest: oldest[j],
                                good: role & 2 != 0,
                                total: role & 1 != 0
                            ) {
                                used = true
                                if t > seen[j] { seen[j] = t }
                                if !staging && !flags[j] {
                                    flags[j] = true
                                    newlyDirty.append(j)
                                }
                            }
                            continue
                        }
                        if how == .filtered {
                            let l = Int(batch.records[i].labelIndex)
                            let key = l * objectiveCount + j
                            let ok: Bool
                            if let known = filterCache[key] {
                                ok = known
                            } else {
                                ok = LabelMatcher.all(filters[j], batch.labelSets[l])
                                filterCache[key] = ok
                            }
                            if !ok { continue }
                        }
                        matched = true
                        if oldest[j] == .min { oldest[j] = windows[j].oldestLiveBucket(now: now) }
                        let w = (staging ? stagedWindows.baseAddress! : windows.baseAddress!) + j
                        let r = batch.records[i]
                        // Set members only when the batch has any (a literal nil: no String to
                        // release per event).
                        let added =
                            hasMembers
                            ? w.pointee.add(
                                value: r.value,
                                kind: r.kind,
                                sampleRate: r.rate,
                                member: batch.member(at: i),
                                at: t,
                                oldest: oldest[j]
                            )
                            : w.pointee.add(
                                value: r.value,
                                kind: r.kind,
                                sampleRate: r.rate,
                                member: nil,
                                at: t,
                                oldest: oldest[j]
                            )
                        if added {
                            used = true
                            if t > seen[j] { seen[j] = t }
                            if !staging && !flags[j] {
                                flags[j] = true
                                newlyDirty.append(j)
                            }
                        }
                    }
                    if refused && !used {
                        result.rejected.append((i, .instanceLimit))
                    } else if matched && !used {
                        result.rejected.append((i, .tooLate))
                    } else {
                        result.accepted += 1
                    }
                }
            }
        }
        if staging { staged = stagedWindows }
        if staging { stagedLastSeen = seen } else { table.lastSeen = seen }
        table.dirtyFlags = flags
        for j in newlyDirty { dirty.insert(j) }
        for k in candidates.indices {
            guard let range = candidates[k] else { continue }
            for r in range { oldest[index.objectives[r]] = .min }
        }
        scratchOldest = oldest
        scratchCandidates = candidates
        scratchDirty = newlyDirty
        return result
    }

    // MARK: - Staging (drop files)

    /// Starts staging: until `commitStaging(now:)` or `discardStaging()`, `ingest` puts events in
    /// a separate set of windows that evaluation, status and snapshots do not see. A drop file is
    /// read this way so that it counts all at once, at its commit, or not at all (a crash or a
    /// read error halfway leaves the live windows as if the file had never been opened), while
    /// socket traffic keeps flowing into the live windows. Memory: one set of buckets per
    /// objective, whatever the file's size.
    public mutating func beginStaging() {
        stagedCumulative = [:]
        staged = table.objectives.map(InstanceTable.window(for:))
        stagedLastSeen = Array(repeating: -.infinity, count: table.objectives.count)
    }

    /// Whether a staging is open.
    public var isStaging: Bool { staged != nil }

    /// Merges the staged events into the live windows (marking them for the next snapshot) and
    /// ends staging.
    /// - Returns: the number of staged events that became too late while the file was read (their
    ///   bucket left the window or their calendar period was judged in the meantime); they are
    ///   not counted.
    @discardableResult
    public mutating func commitStaging(now: Double) -> Int {
        guard let staged else { return 0 }
        self.staged = nil
        for (k, v) in stagedCumulative {
            cumulativeLast[k] = v
            dirtyCumulative.insert(k)
        }
        stagedCumulative = [:]
        if let seen = stagedLastSeen {
            for j in seen.indices where seen[j] > table.lastSeen[j] { table.lastSeen[j] = seen[j] }
        }
        stagedLastSeen = nil
        var late = 0
        for j in staged.indices {
            let buckets = staged[j].buckets
            if buckets.isEmpty { continue }
            let oldest = table.windows[j].oldestLiveBucket(now: now)
            for (id, agg) in buckets.sorted(by: { $0.key < $1.key }) {
                if id < oldest {
                    late += agg.samples
                    continue
                }
                table.windows[j].merge(agg, intoBucket: id)
                dirty.insert(j)
            }
        }
        return late
    }

    /// Drops everything staged and ends staging.
    public mutating func discardStaging() {
        staged = nil
        stagedLastSeen = nil
        stagedCumulative = [:]
    }

    /// etsy statsd: a signed gauge value changes the level; a first delta sets it. Returns the
    /// absolute level when the event was a delta.
    private mutating func trackGauge(_ e: Event) -> Double? {
        let key = Self.seriesKey(e)
        var level = e.value
        if e.isDelta { level += gaugeLevels[key] ?? 0 }
        if gaugeLevels[key] != level {
            gaugeLevels[key] = level
            dirtyGauges.insert(key)
        }
        return e.isDelta ? level : nil
    }

    /// `metric{k=v,…}` with labels sorted: the identity of a series.
    public static func seriesKey(_ e: Event) -> String {
        if e.labels.isEmpty { return e.metric }
        return e.metric + "{"
            + e.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            + "}"
    }

    /// Whether one more series may be kept (counting the refusals when not).
    private mutating func roomForSeries() -> Bool {
        if gaugeLevels.count + cumulativeLast.count + stagedCumulative.count < maxSeries { return true }
        seriesRefused += 1
        return false
    }

    /// `maxSeries` the first time it refused a series, once (the daemon writes one journal entry).
    public mutating func takeSeriesLimitNotice() -> Int? {
        guard seriesRefused > 0, !seriesLimitNoticed else { return nil }
        seriesLimitNoticed = true
        return maxSeries
    }

    /// Gauge levels changed since the last call (series key → level), and clears the set.
    public mutating func takeDirtyGaugeLevels() -> [String: Double] {
        defer {
            dirtyGauges.removeAll()
            dirtyCumulative.removeAll()
        }
        var out = Dictionary(uniqueKeysWithValues: dirtyGauges.compactMap { k in gaugeLevels[k].map { (k, $0) } })
        for k in dirtyCumulative {
            if let last = cumulativeLast[k] { out[Self.cumulativePrefix + k] = last.value }
        }
        return out
    }

    /// Gauge levels and cumulative-counter bases, all of them (a full snapshot after a reload).
    public var persistedLevels: [String: Double] {
        var out = gaugeLevels
        for (k, v) in cumulativeLast { out[Self.cumulativePrefix + k] = v.value }
        return out
    }

    /// Restores gauge levels and cumulative-counter bases saved by an earlier run (a restored
    /// base has no time: any later sample is compared with it). Series of metrics no objective
    /// uses any more are left out (the next full write removes them from the store).
    public mutating func restoreGaugeLevels(_ levels: [String: Double]) {
        for (k, v) in levels {
            // Only series of metrics an objective uses, and at most `maxSeries` of them.
            let series = k.hasPrefix(Self.cumulativePrefix) ? String(k.dropFirst(Self.cumulativePrefix.count)) : k
            let metric = series.split(separator: "{", maxSplits: 1).first.map(String.init) ?? series
            if byMetric.lookup(metric) == nil || gaugeLevels.count + cumulativeLast.count >= maxSeries { continue }
            if k.hasPrefix(Self.cumulativePrefix) {
                cumulativeLast[String(k.dropFirst(Self.cumulativePrefix.count))] = (v, -Double.infinity)
            } else {
                gaugeLevels[k] = v
            }
        }
    }

    // MARK: - Evaluation

    /// Evaluates every objective at `now` and returns the transitions (and period results), in
    /// objective order. Calling it twice at the same time returns nothing the second time.
    public mutating func evaluate(at now: Double) -> [Transition] {
        var out: [Transition] = []
        for i in table.judged {
            if table.objectives[i].isCumulative {
                // Judge before evicting: after a gap of more than one period the tracked period
                // is older than the oldest live bucket, and evicting first would judge it as 0.
                evaluateCumulative(i, now: now, into: &out)
                if table.objectives[i].pace != nil { checkPace(i, now: now, into: &out) }
                if table.windows[i].evict(now: now) { dirty.insert(i) }
            } else {
                // Adaptive baselines sample the window at each boundary before old buckets go.
                if let rule = table.objectives[i].baseline.adaptive { learn(i, rule, now: now) }
                if table.windows[i].evict(now: now) { dirty.insert(i) }
                evaluateContinuous(i, now: now, into: &out)
                // A rebuilt sealed merge of a percentile window is stored for the next start-up.
                if table.windows[i].hasSummaryChange { dirty.insert(i) }
                if table.burnWindows[i] != nil { evaluateBurn(i, now: now, into: &out) }
            }
        }
        for i in table.ids where table.isBurnWindow(i) && table.windows[i].evict(now: now) {
            dirty.insert(i)
        }
        for (p, keys) in refusedInstances.sorted(by: { $0.key < $1.key }) where !capReported.contains(p) {
            let o = table.objectives[p]
            capReported.insert(p)
            out.append(
                .of(
                    .init(.instanceLimit, from: .ok, to: .ok),
                    objective: o.name,
                    at: now,
                    value: Double(table.members[p]?.count ?? 0),
                    baseline: Double(o.maxInstances),
                    period: (now, now),
                    detail: .instanceLimit(refused: keys.sorted().first)
                )
            )
        }
        refusedInstances = [:]
        return out
    }

    /// Multi-window burn-rate alerts of ratio objective `i` (SRE workbook): the burn rate over a
    /// window is `(bad / total) / (1 − target)`; a rule fires while both of its windows burn at
    /// least `factor` and the long one holds `min_events`, and stops when either drops below.
    private mutating func evaluateBurn(_ i: Int, now: Double, into out: inout [Transition]) {
        let o = table.objectives[i]
        guard let windowsOf = table.burnWindows[i], o.baseline.value < 1 else { return }
        var st = table.states[i]
        var firing = st.burnFiring ?? [:]
        for rule in o.burnRateAlerts {
            guard let l = windowsOf[rule.long], let s = windowsOf[rule.short] else { continue }
            let long = table.windows[l].aggregate(at: now)
            let short = table.windows[s].aggregate(at: now)
            func burn(_ a: Aggregate) -> Double {
                a.count > 0 ? (max(0, a.count - a.good) / a.count) / (1 - o.baseline.value) : 0
            }
            let (bl, bs) = (burn(long), burn(short))
            let fires = bl >= rule.factor && bs >= rule.factor && long.count >= Double(max(1, o.minEvents))
            let episode = firing[rule.id]
            guard fires != (episode != nil) else { continue }
            if fires { firing[rule.id] = st.alert.newEpisodeID(prefix: "burn-", now: now) }
            out.append(
                .of(
                    .init(
                        fires ? .burnRate : .burnRateResolved,
                        from: st.state,
                        to: st.state,
                        episode: firing[rule.id]
                    ),
                    objective: o.name,
                    at: now,
                    value: o.sliValue(long, seconds: Double(rule.long)),
                    baseline: o.baseline.value,
                    period: (now - Double(rule.long), now),
                    detail: .burn(
                        .init(rule: rule, long: bl, short: bs, counts: .init(total: long.count, good: long.good))
                    )
                )
            )
            if !fires { firing[rule.id] = nil }
        }
        st.burnFiring = firing.isEmpty ? nil : firing
        if st != table.states[i] {
            table.states[i] = st
            dirty.insert(i)
        }
    }

    /// Adaptive baselines: records the SLI at every `every` boundary since the last sample (at
    /// most `periods × slots` of them after a long gap), then sets the baseline in force now
    /// from the history of the current slot.
    private mutating func learn(_ i: Int, _ rule: AdaptiveRule, now: Double) {
        let o = table.objectives[i]
        var st = table.states[i]
        let zone = table.windows[i].periods?.timeZone ?? TimeZone(identifier: "UTC")!
        let k = Int64((now / rule.every).rounded(.down))
        var history = st.history ?? [:]
        if let last = st.lastSample, last < k {
            let slots: Int64 =
                rule.season == .hourOfWeek ? 168 : rule.season == .hourOfDay ? 24 : rule.season == .dayOfWeek ? 7 : 1
            let first = max(last + 1, k - Int64(rule.periods) * slots)
            for b in first...k {
                let boundary = Double(b) * rule.every
                let agg = table.windows[i].aggregate(at: boundary)
                let span = table.windows[i].period(containing: boundary)
                let seconds: Double
                if case .calendar = o.window {
                    seconds = boundary - span.start
                } else {
                    seconds = span.end - span.start
                }
                guard let v = o.sliValue(agg, seconds: seconds) else { continue }
                let slot = rule.slot(boundary - rule.every / 2, zone: zone)
                var h = history[slot] ?? []
                h.append(v)
                if h.count > rule.periods { h.removeFirst(h.count - rule.periods) }
                history[slot] = h
            }
        }
        st.lastSample = k
        st.history = history
        // The window judged now is compared with the windows that ended at the nearest boundary
        // in earlier seasons.
        let nearest = (now / rule.every).rounded() * rule.every
        let current = rule.baseline(history[rule.slot(nearest - rule.every / 2, zone: zone)] ?? [])
        if current != st.baselineValue {
            st.baselineValue = current
            st.baselineSince = now
        }
        if st != table.states[i] {
            table.states[i] = st
            dirty.insert(i)
        }
    }

    /// The baseline in force for objective `i`: the adaptive value (`nil` while untrusted), or
    /// the configured number.
    private func baselineInForce(_ i: Int) -> Double? {
        let b = table.objectives[i].baseline
        if b.adaptive != nil { return table.states[i].baselineValue }
        if b.references.isEmpty { return b.value }
        // `${objective}` references: the other objectives' latest values (this evaluation's for
        // those judged earlier in config order); untrusted while any has none.
        return try? BaselineExpression.evaluate(b.source) { name in
            guard let k = self.table.id(named: name) else { return nil }
            return self.table.lastValues[k]
        }
    }

    private mutating func evaluateContinuous(_ i: Int, now: Double, into out: inout [Transition]) {
        let o = table.objectives[i]
        let baseline = baselineInForce(i)
        let agg = table.windows[i].aggregate(at: now)
        let span = table.windows[i].period(containing: now)
        let seconds: Double
        if case .calendar = o.window { seconds = now - span.start } else { seconds = span.end - span.start }
        let value = o.sliValue(agg, seconds: seconds)
        table.lastValues[i] = value
        var st = table.states[i]
        let before = st
        // effective_from: a baseline that changed (learned, recomputed from other objectives,
        // or edited and reloaded) is recorded with the time it took effect.
        if let baseline, st.baselineValue != baseline {
            st.baselineValue = baseline
            st.baselineSince = now
        }
        // `min_events`: too few events to judge (one failure on a quiet service is no breach).
        let events = o.sli == .ratio ? agg.count : Double(agg.samples)
        let actions = st.alert.judge(.init(value: value, baseline: baseline, events: events), rules: .init(o), now: now)
        for a in actions {
            out.append(
                .of(
                    a,
                    objective: o.name,
                    at: now,
                    value: value,
                    baseline: baseline ?? o.baseline.value,
                    period: (span.start, span.end),
                    baselineSince: st.baselineSince,
                    detail: o.sli == .ratio ? .ratio(.init(total: agg.count, good: agg.good)) : .none
                )
            )
        }
        if st != before {
            table.states[i] = st
            dirty.insert(i)
        }
    }

    /// Pace of a cumulative target: once `min_elapsed` of the period has passed, the count so
    /// far is projected to the period end (`value / elapsed`); a projection below the baseline
    /// writes "pace at risk" (once, until the pace recovers or the period ends), a recovery
    /// "back on pace".
    private mutating func checkPace(_ i: Int, now: Double, into out: inout [Transition]) {
        let o = table.objectives[i]
        guard let rule = o.pace, let periods = table.windows[i].periods else { return }
        let period = table.windows[i].period(containing: now)
        var st = table.states[i]
        if st.pacePeriod != Int64(period.start) {
            st.pacePeriod = Int64(period.start)
            st.paceAtRisk = false
        }
        let f = rule.elapsed(start: period.start, end: period.end, now: now, periods: periods)
        if f >= rule.minElapsed && f < 1 {
            let value = o.sliValue(table.windows[i].aggregate(at: now), seconds: now - period.start) ?? 0
            let baseline = o.baseline.value
            let projection = value / f
            let atRisk = o.isBad(projection, baseline: baseline)
            if atRisk != (st.paceAtRisk ?? false) {
                out.append(
                    .of(
                        .init(atRisk ? .paceAtRisk : .paceOnTrack, from: st.state, to: st.state, episode: st.episode),
                        objective: o.name,
                        at: now,
                        value: value,
                        baseline: baseline,
                        period: (period.start, period.end),
                        detail: .pace(.init(expected: baseline * f, projection: projection, elapsed: f))
                    )
                )
                st.paceAtRisk = atRisk
            }
        }
        if st != table.states[i] {
            table.states[i] = st
            dirty.insert(i)
        }
    }

    private mutating func evaluateCumulative(_ i: Int, now: Double, into out: inout [Transition]) {
        let o = table.objectives[i]
        let current = table.windows[i].period(containing: now)
        table.lastValues[i] = o.sliValue(table.windows[i].aggregate(at: now), seconds: now - current.start) ?? 0
        var st = table.states[i]
        guard let tracked = st.trackedPeriodStart else {
            st.trackedPeriodStart = Int64(current.start)
            st.since = now
            table.states[i] = st
            dirty.insert(i)
            return
        }
        let trackedPeriod = table.windows[i].period(containing: Double(tracked))
        guard Double(tracked) < current.start, now >= trackedPeriod.end + o.lateTolerance else { return }
        let value = o.sliValue(table.windows[i].aggregate(periodStarting: tracked), seconds: 0) ?? 0
        let baseline = baselineInForce(i) ?? o.baseline.value
        let met = !o.isBad(value, baseline: baseline)
        for a in st.alert.judgePeriod(met: met, now: now) {
            out.append(
                .of(
                    a,
                    objective: o.name,
                    at: now,
                    value: value,
                    baseline: baseline,
                    period: (trackedPeriod.start, trackedPeriod.end),
                    met: a.kind == .periodResult ? met : nil
                )
            )
        }
        // Periods between the tracked one and the current one had no evaluation (the daemon was
        // down); they are skipped, not judged.
        st.trackedPeriodStart = Int64(current.start)
        table.windows[i].close(before: Int64(current.start))
        table.states[i] = st
        dirty.insert(i)
    }

    // MARK: - Status

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
        /// SLI name (`count`, `avg`, …).
        public var sli: String
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
        /// `at_least` or `at_most`.
        public var direction: String
        /// Alert state.
        public var state: String
        /// Unix seconds of the last state change.
        public var since: Double
        /// Open episode id.
        public var episode: String?
        /// Ratio SLIs: the window's error budget in events, `(1 − target) × total`.
        public var errorBudget: Double?
        /// Ratio SLIs: what is left of the budget (negative when overspent).
        public var budgetRemaining: Double?
        /// Ratio SLIs: the burn rate, `(bad / total) / (1 − target)`.
        public var burnRate: Double?
        /// Event time (unix seconds) of the newest event of the objective's metric counted in its
        /// window; `nil` when none ever was (a typo in `metric` shows here).
        public var lastSeen: Double?

        private enum CodingKeys: String, CodingKey {
            case objective, sla, provider, customer, metric, sli, window, value, baseline, baselineKind,
                baselineSince, direction, state, since, episode, errorBudget, budgetRemaining, burnRate, lastSeen
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
            try c.encode(sli, forKey: .sli)
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
            sli = try c.decode(String.self, forKey: .sli)
            window = try c.decode(String.self, forKey: .window)
            value = try c.decodeIfPresent(Double.self, forKey: .value)
            baseline = try c.decode(Double.self, forKey: .baseline)
            baselineKind = try c.decode(String.self, forKey: .baselineKind)
            baselineSince = try time(.baselineSince)
            direction = try c.decode(String.self, forKey: .direction)
            state = try c.decode(String.self, forKey: .state)
            since = try time(.since) ?? 0
            episode = try c.decodeIfPresent(String.self, forKey: .episode)
            errorBudget = try c.decodeIfPresent(Double.self, forKey: .errorBudget)
            budgetRemaining = try c.decodeIfPresent(Double.self, forKey: .budgetRemaining)
            burnRate = try c.decodeIfPresent(Double.self, forKey: .burnRate)
            lastSeen = try time(.lastSeen)
        }

        /// Creates a status record.
        public init(
            objective: String,
            sla: String,
            provider: String,
            customer: String,
            metric: String,
            sli: String,
            window: String,
            value: Double?,
            baseline: Double,
            baselineKind: String,
            baselineSince: Double?,
            direction: String,
            state: String,
            since: Double,
            episode: String?,
            errorBudget: Double?,
            budgetRemaining: Double?,
            burnRate: Double?,
            lastSeen: Double?
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
        }
    }

    /// The standing of every objective as of the last evaluation.
    public func status() -> [Status] { status(values: table.lastValues, counts: nil) }

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
                values[i] = o.sliValue(agg, seconds: span.end - span.start)
            }
        }
        return status(values: values, counts: counts)
    }

    private func status(values: [Double?], counts: [(total: Double, good: Double)?]?) -> [Status] {
        table.judged.map { i in
            let o = table.objectives[i]
            let e = counts?[i].flatMap {
                Transition.errorBudget(total: $0.total, good: $0.good, target: baselineInForce(i) ?? o.baseline.value)
            }
            return Status(
                objective: o.name,
                sla: o.sla.name,
                provider: o.sla.provider,
                customer: o.sla.customer,
                metric: o.metric,
                sli: o.sli.rawValue,
                window: o.window.description,
                value: values[i],
                baseline: baselineInForce(i) ?? o.baseline.value,
                baselineKind: o.baseline.kind.rawValue,
                baselineSince: table.states[i].baselineSince,
                direction: o.direction.rawValue,
                state: table.states[i].state.rawValue,
                since: table.states[i].since,
                episode: table.states[i].episode,
                errorBudget: e?.budget,
                budgetRemaining: e?.remaining,
                burnRate: e?.burnRate,
                lastSeen: table.lastSeen[i].isFinite ? table.lastSeen[i] : nil
            )
        }
    }

    /// The objective named `name`, if any.
    public func objective(named name: String) -> Objective? { table.id(named: name).map { table.objectives[$0] } }

    // MARK: - Snapshots

    /// Everything persisted for one objective: its alert state and window buckets.
    public struct Snapshot: Sendable, Equatable, Codable {
        /// Objective name.
        public var objective: String
        /// `Objective.dataFingerprint` when taken.
        public var fingerprint: String
        /// Alert state.
        public var state: InstanceState
        /// Window buckets by id.
        public var buckets: [Int64: Aggregate]
        /// Calendar windows: periods before this id are closed.
        public var closedBefore: Int64?
        /// Buckets as the store read them with their sketches still packed
        /// (`BucketCodec.decodeKeepingSketchPacked`), instead of `buckets`: a restore then
        /// decodes nothing it does not need. Not encoded.
        public var packedBuckets = PackedBuckets()
        /// The sealed merge the store kept for the window (with `packedBuckets`). Not encoded.
        public var sealedSummary: (low: Int64, high: Int64, aggregate: Aggregate)?

        private enum CodingKeys: String, CodingKey { case objective, fingerprint, state, buckets, closedBefore }

        /// Equal objective, fingerprint, state, buckets and closed periods (packed buckets are a
        /// restore's transport, compared by id and totals).
        public static func == (a: Snapshot, b: Snapshot) -> Bool {
            a.objective == b.objective && a.fingerprint == b.fingerprint && a.state == b.state && a.buckets == b.buckets
                && a.closedBefore == b.closedBefore
                && a.packedBuckets == b.packedBuckets
        }

        /// Creates a snapshot record.
        public init(
            objective: String,
            fingerprint: String,
            state: InstanceState,
            buckets: [Int64: Aggregate],
            closedBefore: Int64?
        ) {
            self.objective = objective
            self.fingerprint = fingerprint
            self.state = state
            self.buckets = buckets
            self.closedBefore = closedBefore
        }
    }

    /// What changed in one instance since the last `takeChanges`: what a commit writes.
    public struct InstanceChange: Sendable {
        /// Instance name (`NAME` or `NAME{k=v}`).
        public var objective: String
        /// `Objective.dataFingerprint`.
        public var fingerprint: String
        /// The alert state, when it changed (`nil`: unchanged). Its `lastSeen` is `nil`; see
        /// `lastSeen`.
        public var state: InstanceState?
        /// The newest counted event time, when it changed.
        public var lastSeen: Double?
        /// Calendar windows: periods before this id are closed.
        public var closedBefore: Int64?
        /// Buckets written or changed, ascending ids, with their totals now.
        public var buckets: [(id: Int64, aggregate: Aggregate)]
        /// Stored buckets below this id are gone (evicted or closed).
        public var dropBefore: Int64?
        /// Every stored bucket of the instance is replaced by `buckets`.
        public var replaceAll: Bool
        /// The window's sealed merge to store or forget (percentile windows).
        public var sealedSummary: Window.SummaryChange = .unchanged

        /// Creates a change record.
        public init(
            objective: String,
            fingerprint: String,
            state: InstanceState?,
            lastSeen: Double?,
            closedBefore: Int64?,
            buckets: [(id: Int64, aggregate: Aggregate)],
            dropBefore: Int64?,
            replaceAll: Bool
        ) {
            self.objective = objective
            self.fingerprint = fingerprint
            self.state = state
            self.lastSeen = lastSeen
            self.closedBefore = closedBefore
            self.buckets = buckets
            self.dropBefore = dropBefore
            self.replaceAll = replaceAll
        }
    }

    /// The changes since the last call, per changed instance (changed buckets, dropped buckets,
    /// a changed state or `lastSeen`), and clears them. With `full`, every instance with every
    /// bucket and its state, each replacing what is stored (after a reload or a failed store).
    public mutating func takeChanges(full: Bool = false) -> [InstanceChange] {
        let candidates = full ? Array(table.objectives.indices) : dirty.sorted()
        var out: [InstanceChange] = []
        out.reserveCapacity(candidates.count)
        for i in candidates {
            let (buckets, dropped) = table.windows[i].takeChanges()
            let summary = table.windows[i].takeSealedSummary()
            var st = table.states[i]
            st.lastSeen = nil
            let stateChanged = full || table.states[i] != table.persistedStates[i]
            let seenChanged = table.lastSeen[i] != table.persistedLastSeen[i]
            let replace = full || replaceBuckets.contains(i)
            var summaryChanged = true
            if case .unchanged = summary { summaryChanged = false }
            if buckets.isEmpty && dropped == nil && !stateChanged && !seenChanged && !replace && !summaryChanged {
                continue
            }
            var change =
                InstanceChange(
                    objective: table.objectives[i].name,
                    fingerprint: table.objectives[i].dataFingerprint,
                    state: stateChanged ? st : nil,
                    lastSeen: table.lastSeen[i].isFinite ? table.lastSeen[i] : nil,
                    closedBefore: table.windows[i].closedBefore,
                    buckets: replace
                        ? table.windows[i].buckets.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } : buckets,
                    dropBefore: replace ? nil : dropped,
                    replaceAll: replace
                )
            change.sealedSummary = replace && !summaryChanged ? .clear : summary
            out.append(change)
            table.persistedStates[i] = table.states[i]
            table.persistedLastSeen[i] = table.lastSeen[i]
        }
        for i in dirty { table.dirtyFlags[i] = false }
        dirty.removeAll()
        replaceBuckets.removeAll()
        return out
    }

    /// Snapshots of the objectives changed since the last call, and clears the dirty set.
    public mutating func takeDirtySnapshots() -> [Snapshot] {
        let out = dirty.sorted().map(snapshot(of:))
        for i in dirty { table.dirtyFlags[i] = false }
        dirty.removeAll()
        return out
    }

    /// Snapshots of all objectives (does not touch the dirty set).
    public func allSnapshots() -> [Snapshot] { table.objectives.indices.map(snapshot(of:)) }

    private func snapshot(of i: Int) -> Snapshot {
        var state = table.states[i]
        state.lastSeen = table.lastSeen[i].isFinite ? table.lastSeen[i] : nil
        return Snapshot(
            objective: table.objectives[i].name,
            fingerprint: table.objectives[i].dataFingerprint,
            state: state,
            buckets: table.windows[i].buckets,
            closedBefore: table.windows[i].closedBefore
        )
    }

    /// Restores snapshots taken by an earlier run. Snapshots of objectives no longer configured
    /// are ignored; when an objective's data fingerprint changed (other metric, filter, window or
    /// zone) its buckets are discarded but its alert state is kept.
    ///
    /// Snapshots handed over (`consume`) are taken apart: each window takes its buckets' arrays
    /// without copying them.
    public mutating func restore(_ snapshots: consuming [Snapshot]) {
        for k in snapshots.indices {
            // The packed buckets are moved out (the window is then their only owner and
            // unpacks its newest bucket in place).
            let packedBuckets = snapshots[k].packedBuckets
            snapshots[k].packedBuckets = PackedBuckets()
            let s = snapshots[k]
            var found = table.id(named: s.objective)
            if found == nil, let key = InstanceKey(storageName: s.objective), let group = key.group,
                let p = table.id(named: key.objective), table.roles[p] == .groupParent,
                Set(group.map(\.name)) == Set(table.objectives[p].groupBy)
            {
                // A member of a group_by objective: recreated from its key (unless the parent
                // has `max_instances` members already).
                found = member(of: p, Dictionary(group.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }))
            }
            guard let i = found else { continue }
            table.states[i] = s.state
            table.lastSeen[i] = s.state.lastSeen ?? -.infinity
            table.persistedStates[i] = s.state
            table.persistedLastSeen[i] = table.lastSeen[i]
            if s.fingerprint == table.objectives[i].dataFingerprint {
                if packedBuckets.isEmpty {
                    table.windows[i].restore(buckets: s.buckets, closedBefore: s.closedBefore)
                } else {
                    table.windows[i].restore(
                        packedBuckets: consume packedBuckets,
                        closedBefore: s.closedBefore,
                        sealedSummary: s.sealedSummary
                    )
                }
            } else {
                table.states[i].trackedPeriodStart = nil
                table.lastSeen[i] = -.infinity
                replaceBuckets.insert(i)
                dirty.insert(i)
            }
        }
    }
}
