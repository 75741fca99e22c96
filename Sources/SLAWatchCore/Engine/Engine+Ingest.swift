import Foundation

/// Ingest: events into the windows of the instances they match (the hot path).
extension Engine {
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
        // A version taking effect (never while a drop file is staged: its windows are the
        // table's).
        if nextVersionChange != nil, staged == nil { applyVersions(at: now) }
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
        // OpenMetrics `foo_created{…}` samples in the batch: creation times (unix seconds) of
        // the `foo_total` / `foo_count` / `foo_sum` / `foo_bucket` series with those labels.
        var created: [String: Double]?
        if tracksCumulative, batch.names.contains(where: { $0.hasSuffix("_created") }) {
            var map: [String: Double] = [:]
            for i in batch.indices where batch.metric(at: i).hasSuffix("_created") {
                let e = batch[i]
                map[Self.createdKey(family: String(e.metric.dropLast("_created".count)), labels: e.labels)] = e.value
            }
            created = map
        }
        let familiesBefore = tracksCumulative ? series.familyTimes : [:]
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
                    let key = Self.seriesKey(e)
                    if series.gaugeLevels[key] == nil && !series.roomForOneMore() {
                        refusedSeries.insert(i)
                        continue
                    }
                    let level = series.applyGauge(key, value: e.value, isDelta: e.isDelta)
                    if e.isDelta { batch.setValue(level, at: i) }
                    continue
                }
                let event = batch[i]
                let key = Self.seriesKey(event)
                if !series.hasBase(key) && !series.roomForOneMore() {
                    refusedSeries.insert(i)
                    continue
                }
                let v = batch.records[i].value
                var increase = 0.0
                // A staged file's bases stay aside until its commit (a file read again after an
                // abort must see the bases it saw the first time).
                let staging = toStaging && staged != nil
                if let last = series.base(key, staged: staging) {
                    if t < last.time {
                        // An older sample than one already seen: no increase, nothing changes.
                        batch.setCounterIncrease(0, at: i)
                        continue
                    }
                    increase = v >= last.value ? v - last.value : v
                } else if let previous = SeriesState.previousFamilySample(
                    event.metric,
                    at: t,
                    staged: staging,
                    before: familiesBefore
                ),
                    created.map({ $0[Self.createdKey(event)].map { $0 > previous } ?? true }) ?? true
                {
                    // A new series of a family seen before: it was created since that sample
                    // (OpenMetrics `_created`, when given, must say so too), so its first value
                    // counts in full (the first errors of a new status code).
                    increase = v
                }
                series.setBase(key, family: event.metric, value: v, time: t, staged: staging)
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
        // Service hours and maintenance: whether an event's second is excluded, per objective
        // (a batch's events are mostly of a few seconds).
        let hasExclusion = table.hasExclusion
        let exclusions = table.exclusions
        var exclusionCache: [Int: (second: Double, excluded: Bool)] = [:]
        func excluded(_ j: Int, _ t: Double) -> Bool {
            let second = t.rounded(.down)
            if let c = exclusionCache[j], c.second == second { return c.excluded }
            let x = exclusions[j]?.exclusion(at: second) != nil
            exclusionCache[j] = (second, x)
            return x
        }
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
        // Names whose every objective takes its events plainly (no label filter, ratio,
        // group_by, service hours or sketch): their events at arrival time are folded per name
        // (`Fold`) and each window takes a batch's fold in one step, not event by event.
        var folds = scratchFolds
        scratchFolds = []
        var folded = scratchFolded
        scratchFolded = []
        folded.removeAll(keepingCapacity: true)
        folds.removeAll(keepingCapacity: true)
        if !staging {
            for n in batch.names.indices {
                var plain = candidates[n] != nil
                for k in candidates[n] ?? 0..<0 {
                    let j = index.objectives[k]
                    if routing[j] != .plain || hasExclusion[j] || table.windows[j].tracksQuantiles { plain = false }
                }
                var f = Fold()
                f.isOpen = plain
                folds.append(f)
            }
        }
        // Every per-event write goes through a buffer pointer: an array subscript's write
        // checks uniqueness (a runtime call) every time.
        table.windows.withUnsafeMutableBufferPointer { windows in
            stagedWindows.withUnsafeMutableBufferPointer { stagedWindows in
                seen.withUnsafeMutableBufferPointer { seen in
                    oldest.withUnsafeMutableBufferPointer { oldest in
                        flags.withUnsafeMutableBufferPointer { flags in
                            folds.withUnsafeMutableBufferPointer { folds in
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
                                    let name = Int(batch.records[i].nameIndex)
                                    guard let range = candidates[name] else {
                                        result.accepted += 1
                                        continue
                                    }
                                    if !staging && folds[name].isOpen && batch.records[i].time.isNaN {
                                        let r = batch.records[i]
                                        if Fold.admits(r.value, kind: r.kind, rate: r.rate) {
                                            if folds[name].samples == 0 { folded.append(name) }
                                            if folds[name].take(r.value, kind: r.kind) {
                                                result.accepted += 1
                                                continue
                                            }
                                        }
                                    }
                                    var matched = false
                                    var used = false
                                    var outOfService = false
                                    var refused = false
                                    for k in range {
                                        var j = index.objectives[k]
                                        var how = routing[j]
                                        if how == .parent {
                                            guard let r = route[Int(batch.records[i].labelIndex) << 20 | j] else {
                                                continue
                                            }
                                            if r < 0 {
                                                refused = true
                                                continue
                                            }
                                            j = r
                                            how = routing[j]
                                        }
                                        if hasExclusion[j] && excluded(j, t) {
                                            // Not counted: outside service hours or in maintenance.
                                            matched = true
                                            outOfService = true
                                            continue
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
                                                    name == self.table.objectives[j].metric
                                                    && LabelMatcher.all(filters[j], labels)
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
                                                // A threshold SLI: good by the event's own value.
                                                good: role & 2 != 0
                                                    && (g.value?.admits(batch.records[i].value) ?? true),
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
                                    } else if matched && !used && !outOfService {
                                        result.rejected.append((i, .tooLate))
                                    } else {
                                        result.accepted += 1
                                    }
                                }
                                // The folds, each into every window of its name (all their events
                                // have the time `now`).
                                for name in folded {
                                    var used = false
                                    for k in candidates[name]! {
                                        let j = index.objectives[k]
                                        if oldest[j] == .min { oldest[j] = windows[j].oldestLiveBucket(now: now) }
                                        if windows[j].add(folds[name], at: now, oldest: oldest[j]) {
                                            used = true
                                            if now > seen[j] { seen[j] = now }
                                            if !flags[j] {
                                                flags[j] = true
                                                newlyDirty.append(j)
                                            }
                                        }
                                    }
                                    if !used {
                                        // Too late for every window (`now` is in a judged period):
                                        // each folded event is, as it would have been alone.
                                        let f = folds[name]
                                        result.accepted -= Int(f.samples)
                                        for i in 0..<batch.count
                                        where Int(batch.records[i].nameIndex) == name && batch.records[i].time.isNaN
                                            && batch.records[i].kind == f.kind
                                            && Fold.admits(
                                                batch.records[i].value,
                                                kind: f.kind,
                                                rate: batch.records[i].rate
                                            )
                                            && !refusedSeries.contains(i)
                                        {
                                            result.rejected.append((i, .tooLate))
                                        }
                                        result.rejected.sort { $0.index < $1.index }
                                    }
                                }
                            }
                        }
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
        scratchFolds = folds
        scratchFolded = folded
        return result
    }

    /// Finds (or creates) the instance of every `group_by` objective for every label set that
    /// an event of the objective's metric (or good metric) carries in the batch and that matches
    /// the objective's selectors. Key: `labelSet << 20 | parent`; value: the instance's index,
    /// or -1 when `max_instances` refused it. Label sets of other metrics' events create nothing.
    mutating func routeInstances(_ batch: EventBatch, toStaging: Bool) -> [Int: Int] {
        var route: [Int: Int] = [:]
        // The label sets that events of a group_by metric carry (events of other names cost one
        // array read each).
        var groupMetrics = Set<String>()
        for p in table.groupParents {
            groupMetrics.insert(table.objectives[p].metric)
            if let g = table.objectives[p].good { groupMetrics.insert(g.metric) }
        }
        let relevant = batch.names.map(groupMetrics.contains)
        var labelsOf: [String: [Int]] = [:]
        var seen = Set<Int>()
        for r in batch.records
        where relevant[Int(r.nameIndex)] && seen.insert(Int(r.nameIndex) << 32 | Int(r.labelIndex)).inserted {
            labelsOf[batch.names[Int(r.nameIndex)], default: []].append(Int(r.labelIndex))
        }
        for p in table.groupParents {
            let o = table.objectives[p]
            // A label set makes an instance only as its own metric's event matches: the
            // objective's metric with its selectors (or, when the good events share the metric,
            // the good selectors), the good metric with the good selectors only.
            var used: Set<Int> = []
            let goodSelector = table.goodSelectors[p]
            for l in labelsOf[o.metric] ?? [] {
                let labels = batch.labelSets[l]
                if LabelMatcher.all(table.filters[p], labels)
                    || (goodSelector.map { $0.metric == o.metric && LabelMatcher.all($0.matchers, labels) } ?? false)
                {
                    used.insert(l)
                }
            }
            if let g = goodSelector, g.metric != o.metric {
                for l in labelsOf[g.metric] ?? [] where LabelMatcher.all(g.matchers, batch.labelSets[l]) {
                    used.insert(l)
                }
            }
            for l in used.sorted() {
                let labels = batch.labelSets[l]
                var values: [String: String] = [:]
                for g in o.groupBy { values[g] = labels[g] ?? "" }
                let m = member(of: p, values)
                route[l << 20 | p] = m ?? -1
                // The burn windows of the member take the same events (routed by the
                // objective's burn parents).
                for (seconds, b) in table.burnParents[p] ?? [:] {
                    route[l << 20 | b] = m.flatMap { table.burnWindows[$0]?[seconds] } ?? -1
                }
                if m == nil {
                    refusedInstances[p, default: []].insert(
                        o.groupBy.map { "\($0)=\(values[$0] ?? "")" }.joined(separator: ",")
                    )
                }
            }
        }
        return route
    }

    /// The member of group parent `p` for `values`, created when new (with its burn windows,
    /// and an empty staged window for each while a drop file is open); `nil` when
    /// `max_instances` refuses it.
    mutating func member(of p: Int, _ values: [String: String]) -> Int? {
        let before = table.count
        guard let (i, isNew) = table.member(of: p, values) else { return nil }
        if isNew {
            for j in before..<table.count {
                stagedLastSeen?.append(-.infinity)
                if staged != nil { staged!.append(InstanceTable.window(for: table.objectives[j])) }
            }
        }
        return i
    }
}
