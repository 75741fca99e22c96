import Foundation

/// Drop files: staged windows that count all at once, at the file's commit, or not at all.
extension Engine {
    /// Starts staging: until `commitStaging(now:)` or `discardStaging()`, `ingest` puts events in
    /// a separate set of windows that evaluation, status and snapshots do not see. A drop file is
    /// read this way so that it counts all at once, at its commit, or not at all (a crash or a
    /// read error halfway leaves the live windows as if the file had never been opened), while
    /// socket traffic keeps flowing into the live windows. Memory: one set of buckets per
    /// objective, whatever the file's size.
    public mutating func beginStaging() {
        series.beginStaging()
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
        series.commitStaging()
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

    /// What `commitStaging(now:)` would make durable, without changing the live windows: the
    /// instance changes of every window the staging touches, with the staged events merged in
    /// (and whatever else of those windows was not yet taken), and the staged cumulative-counter
    /// bases in the store's form. A drop file is written this way first, and merged into the
    /// live windows only once that write is durable: until then evaluation and `status` do not
    /// see it, and a write that fails leaves nothing of the file anywhere (it is read again).
    ///
    /// The live engine keeps its own changes untaken, so its next take writes the same buckets
    /// again (absolute values: the same rows, never counted twice). Cost: one copy of the table
    /// of windows (copy-on-write of the touched ones), never of the series maps.
    /// - Returns: the changes, the levels and how many staged events are too late at `now`
    ///   (the same count `commitStaging(now:)` returns for the same `now`).
    public func stagedCommitPreview(now: Double) -> (changes: [InstanceChange], levels: [String: Double], late: Int) {
        guard isStaging else { return ([], [:], 0) }
        var copy = self
        let levels = series.stagedPersisted
        copy.series = SeriesState()
        copy.dirty = []
        let late = copy.commitStaging(now: now)
        return (copy.takeChanges(), levels, late)
    }

    /// Drops everything staged and ends staging.
    public mutating func discardStaging() {
        staged = nil
        stagedLastSeen = nil
        series.discardStaging()
    }
}
