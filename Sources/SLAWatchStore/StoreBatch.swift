import Foundation
import GRDB
import SLAWatchCore

/// One commit's worth of state changes (`StateStore.write(_:at:)`).
public struct StoreBatch: Sendable {
    /// Changed instances.
    public var instances: [Engine.InstanceChange]
    /// `instances` holds every instance: stored ones not in it are deleted.
    public var full: Bool
    /// Closed calendar periods.
    public var periodResults: [Transition]
    /// Changed gauge levels and cumulative bases.
    public var gaugeLevels: [String: Double]
    /// Drop files whose events are in this commit.
    public var ledger: [LedgerEntry]
    /// SLI history points closed since the last commit (`Engine.takeHistory`).
    public var history: [HistoryPoint] = []

    /// Creates a batch.
    public init(
        instances: [Engine.InstanceChange] = [],
        full: Bool = false,
        periodResults: [Transition] = [],
        gaugeLevels: [String: Double] = [:],
        ledger: [LedgerEntry] = []
    ) {
        self.instances = instances
        self.full = full
        self.periodResults = periodResults
        self.gaugeLevels = gaugeLevels
        self.ledger = ledger
    }

    /// Nothing to write.
    public var isEmpty: Bool {
        instances.isEmpty && !full && periodResults.isEmpty && gaugeLevels.isEmpty && ledger.isEmpty
            && history.isEmpty
    }

    /// Adds a later batch to this one (a failed commit's batch absorbs the next): later bucket
    /// totals, states and levels win; drops and replacements accumulate.
    public mutating func absorb(_ later: StoreBatch) {
        if later.full {
            let carried = self
            self = later
            ledger = carried.ledger + later.ledger
            history = carried.history + later.history
            periodResults = carried.periodResults + later.periodResults
            gaugeLevels = carried.gaugeLevels.merging(later.gaugeLevels) { _, n in n }
            return
        }
        var index: [String: Int] = [:]
        for (k, c) in instances.enumerated() { index[c.objective] = k }
        for c in later.instances {
            guard let k = index[c.objective] else {
                index[c.objective] = instances.count
                instances.append(c)
                continue
            }
            var merged = instances[k]
            if c.replaceAll {
                merged = c
            } else {
                if let d = c.dropBefore {
                    merged.dropBefore = max(merged.dropBefore ?? d, d)
                    merged.buckets.removeAll { $0.id < d }
                }
                var byID: [Int64: Aggregate] = [:]
                for b in merged.buckets { byID[b.id] = b.aggregate }
                for b in c.buckets { byID[b.id] = b.aggregate }
                merged.buckets = byID.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
                merged.state = c.state ?? merged.state
                merged.lastSeen = c.lastSeen ?? merged.lastSeen
                merged.closedBefore = c.closedBefore ?? merged.closedBefore
                merged.fingerprint = c.fingerprint
                if case .unchanged = c.sealedSummary {} else { merged.sealedSummary = c.sealedSummary }
            }
            instances[k] = merged
        }
        periodResults += later.periodResults
        gaugeLevels.merge(later.gaugeLevels) { _, n in n }
        ledger += later.ledger
        history += later.history
    }
}
