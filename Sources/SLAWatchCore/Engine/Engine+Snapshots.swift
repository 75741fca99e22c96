import Foundation

/// Snapshots: what a commit writes and what a restart restores.
extension Engine {
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
            var stateChanged = full
            if !full, table.states[i] != table.persistedStates[i] {
                // Running figures alone wait for the instance's flush boundary.
                if runningDue.contains(i)
                    || !table.states[i].differsOnlyInRunningFigures(from: table.persistedStates[i])
                {
                    stateChanged = true
                } else {
                    runningDirty.insert(i)
                }
            }
            let seenChanged = table.lastSeen[i] != table.persistedLastSeen[i]
            let replace = full || replaceBuckets.contains(i)
            var summaryChanged = true
            if case .unchanged = summary { summaryChanged = false }
            if buckets.isEmpty && dropped == nil && !stateChanged && !seenChanged && !replace && !summaryChanged {
                continue
            }
            // The stored state (without lastSeen, a column of its own), copied only when written.
            var st: InstanceState?
            if stateChanged {
                st = table.states[i]
                st!.lastSeen = nil
            }
            var change =
                InstanceChange(
                    objective: table.objectives[i].name,
                    fingerprint: table.fingerprints[i],
                    state: st,
                    lastSeen: table.lastSeen[i].isFinite ? table.lastSeen[i] : nil,
                    closedBefore: table.windows[i].closedBefore,
                    buckets: replace
                        ? table.windows[i].buckets.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } : buckets,
                    dropBefore: replace ? nil : dropped,
                    replaceAll: replace
                )
            change.sealedSummary = replace && !summaryChanged ? .clear : summary
            out.append(change)
            if stateChanged { table.persistedStates[i] = table.states[i] }
            table.persistedLastSeen[i] = table.lastSeen[i]
        }
        for i in dirty { table.dirtyFlags[i] = false }
        if full {
            runningDirty.removeAll()
            runningDue.removeAll()
        } else {
            runningDue.subtract(dirty)
        }
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

    func snapshot(of i: Int) -> Snapshot {
        var state = table.states[i]
        state.lastSeen = table.lastSeen[i].isFinite ? table.lastSeen[i] : nil
        return Snapshot(
            objective: table.objectives[i].name,
            fingerprint: table.fingerprints[i],
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
                // A member's burn window: the member made it.
                if found != nil, key.burnWindow != nil { found = table.id(named: s.objective) }
            }
            guard let i = found else { continue }
            table.states[i] = s.state
            table.lastSeen[i] = s.state.lastSeen ?? -.infinity
            table.persistedStates[i] = s.state
            table.persistedLastSeen[i] = table.lastSeen[i]
            if s.fingerprint == table.fingerprints[i] {
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
                table.states[i].historySince = nil
                table.lastSeen[i] = -.infinity
                replaceBuckets.insert(i)
                dirty.insert(i)
            }
        }
    }
}
