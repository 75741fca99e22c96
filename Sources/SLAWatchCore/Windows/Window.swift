/// Event-time buckets for one objective's window.
///
/// Rolling windows of `W` seconds use `n` buckets of `r = max(1, W / 60)` seconds (`n = ⌈W / r⌉`);
/// bucket `k` holds event times in `[k·r, (k+1)·r)`. The window at time `t` is the buckets
/// `(⌊t/r⌋ − n, ⌊t/r⌋]`: it covers between `W − r` and `W` seconds of the past plus the open bucket
/// (Resilience4j's convention). An event older than the oldest bucket is too late.
///
/// Calendar windows keep one bucket per period, keyed by the period's start (unix seconds): the
/// current period and the previous one (kept until it is judged, then closed). The window at `t`
/// is the period containing `t`. Buckets are `[start, end)` everywhere.
///
/// Incremental state: the window remembers which buckets changed and below which id buckets
/// were dropped since `takeChanges()`, so a commit writes only those. A rolling window keeps the
/// merge of its sealed buckets (all but the newest) and rebuilds it only when the span moves on
/// or a late event lands in a sealed bucket, so judging a window costs one merge, not sixty.
public struct Window: Sendable {
    /// The window's shape.
    public let spec: WindowSpec
    /// Rolling bucket width in seconds (calendar windows: 0).
    public let resolution: Int
    /// Rolling bucket count (calendar windows: 0).
    public let bucketCount: Int
    // The fields an event touches come first, together (a window is several hundred bytes;
    // with a thousand windows, every other cache line an event reads is a miss).
    /// The last rolling bucket an event time fell in: `[start, end)` and its id.
    private var lastBucket: (start: Double, end: Double, id: Int64) = (1, 0, 0)
    /// The newest bucket's id and slot once it needs no bookkeeping on an add (marked changed, no
    /// packed sketch, outside the sealed span): the next events go straight to its totals, with
    /// no look at the other arrays (`.min`: none; any change to slots, flags or the sealed span
    /// resets it).
    private var hotID: Int64 = .min
    private var hotSlot = 0
    /// Per slot, parallel to `ids`: the bucket's totals.
    private var aggregates: [Aggregate] = []
    /// Rolling windows: the span `total` is for (`.min`: stale).
    private var totalNewest: Int64 = .min
    /// Whether buckets keep a `QuantileSketch` of their values (percentile SLIs only).
    public var tracksQuantiles = false
    /// Bucket id → totals. Rolling ids are `⌊t/r⌋`; calendar ids are period starts.
    public var buckets: [Int64: Aggregate] {
        Dictionary(uniqueKeysWithValues: ids.indices.map { (ids[$0], unpacked($0)) })
    }
    /// Bucket ids in ascending order, parallel to `aggregates`. Most events land in the newest
    /// bucket, so lookups check the end first (no hashing on the hot path).
    private var ids: [Int64] = []
    /// Per slot: the sketch of a sealed bucket in `BucketCodec`'s packed form (its aggregate then
    /// holds no sketch), empty otherwise. Percentile windows only: a 30-day window keeps 59
    /// sealed sketches that change only when a late event arrives, at ~2.5 bytes a bin rather
    /// than 8.
    private var packed: [[UInt8]] = []
    /// Per slot, parallel to `ids`: changed since the last `takeChanges()`.
    private var changed: [Bool] = []
    private var changedCount = 0
    /// Buckets below this id were dropped since the last `takeChanges()`.
    private var droppedBefore: Int64?
    /// Rolling windows: the merge of the buckets with ids in `sealedLow...sealedHigh` (`nil`: to
    /// rebuild).
    private var sealed: Aggregate?
    private var sealedLow: Int64 = 1
    private var sealedHigh: Int64 = 0
    /// Rolling windows: the whole window's totals for the span ending at `totalNewest`, until a
    /// bucket of it changes (an idle window is judged without merging anything).
    private var total: Aggregate? { didSet { totalQuantile = nil } }
    /// The last quantile taken of `total` (`quantile(_:at:)`): an idle percentile window is
    /// judged without walking its sketch again.
    private var totalQuantile: (q: Double, value: Double?)?
    /// Percentile windows: what happened to the sealed merge since `takeSealedSummary()` (the
    /// store keeps it, so a start-up decodes one merged sketch per window instead of fifty-nine).
    private var summary = SummaryChange.unchanged

    /// What a commit does with the stored sealed merge of a window.
    public enum SummaryChange: Sendable {
        /// Nothing.
        case unchanged
        /// Store this one: the span of bucket ids it covers, and its totals.
        case set(low: Int64, high: Int64, aggregate: Aggregate)
        /// Forget the stored one (a late event changed a bucket in its span).
        case clear
    }
    /// Calendar windows: periods starting before this id are closed (judged) and reject events.
    public private(set) var closedBefore: Int64?
    /// Calendar arithmetic in the objective's time zone.
    let periods: CalendarPeriods?
    private var cachedPeriod: (start: Double, end: Double)?

    /// Creates an empty window. `periods` is required for calendar windows (their time zone).
    public init(spec: WindowSpec, periods: CalendarPeriods?) {
        self.spec = spec
        self.periods = periods
        switch spec {
        case .rolling(let w):
            let r = max(1, w / 60)
            resolution = r
            bucketCount = (w + r - 1) / r
        case .calendar:
            resolution = 0
            bucketCount = 0
        }
    }

    /// Rolling windows: the start (unix seconds) of the oldest bucket held, `nil` when empty or
    /// calendar.
    public var oldestBucketStart: Double? {
        guard case .rolling = spec, let first = ids.first else { return nil }
        return Double(first) * Double(resolution)
    }

    /// The bucket id an event time falls into.
    @inline(__always)
    public mutating func bucketID(for t: Double) -> Int64 {
        switch spec {
        case .rolling:
            // Most events of a batch fall in the bucket of the one before (often `now`).
            if t >= lastBucket.start && t < lastBucket.end { return lastBucket.id }
            let id = Int64((t / Double(resolution)).rounded(.down))
            lastBucket = (Double(id) * Double(resolution), Double(id + 1) * Double(resolution), id)
            return id
        case .calendar: return Int64(period(containing: t).start)
        }
    }

    /// The calendar period containing `t` (rolling windows: the covered span ending at `t`).
    public mutating func period(containing t: Double) -> (start: Double, end: Double) {
        switch spec {
        case .rolling(let w):
            return (t - Double(w), t)
        case .calendar(let unit):
            if let c = cachedPeriod, t >= c.start, t < c.end { return c }
            let p = periods!.period(unit, containing: t)
            cachedPeriod = p
            return p
        }
    }

    /// Adds an event with event time `t`, given the current time `now`.
    /// - Returns: `false` when the event is too late for this window (its bucket was evicted or
    ///   its period already judged); nothing is recorded then.
    public mutating func add(_ e: Event, at t: Double, now: Double) -> Bool {
        add(e, at: t, oldest: oldestLiveBucket(now: now))
    }

    /// Adds an event given the oldest bucket id still accepted (`oldestLiveBucket(now:)`,
    /// computed once per batch by the engine).
    /// - Returns: `false` when the event is too late; nothing is recorded then.
    public mutating func add(_ e: Event, at t: Double, oldest: Int64) -> Bool {
        add(value: e.value, kind: e.kind, sampleRate: e.sampleRate, member: e.member, at: t, oldest: oldest)
    }

    /// Adds an event given its fields; see `add(_:at:oldest:)`.
    public mutating func add(
        value: Double,
        kind: MetricKind,
        sampleRate: Double,
        member: String?,
        at t: Double,
        oldest: Int64
    ) -> Bool {
        let quantiles = tracksQuantiles
        return update(at: t, oldest: oldest) {
            $0.add(value: value, kind: kind, sampleRate: sampleRate, member: member, quantiles: quantiles)
        }
    }

    /// Changes the bucket of event time `t` with `body` (creating the bucket, unpacking its
    /// sketch, marking it changed), unless it is older than `oldest`. - Returns: `false` when
    /// it is (nothing changed). The newest bucket, once marked, is reached without any
    /// bookkeeping (`hotID`).
    @inline(__always)
    private mutating func update(at t: Double, oldest: Int64, _ body: (inout Aggregate) -> Void) -> Bool {
        let id = bucketID(for: t)
        if id < oldest { return false }
        if id == hotID {
            body(&aggregates[hotSlot])
            totalNewest = .min
            return true
        }
        let k = slot(for: id)
        if !packed[k].isEmpty { unpack(k) }
        body(&aggregates[k])
        touch(k, id)
        if k == ids.count - 1 && !(id <= sealedHigh && id >= sealedLow) { (hotID, hotSlot) = (id, k) }
        return true
    }

    /// Adds a fold of events with event time `t` (`Engine.ingest`; never a percentile window:
    /// its sketch needs every value). - Returns: `false` when they are too late (nothing recorded).
    mutating func add(_ f: Fold, at t: Double, oldest: Int64) -> Bool {
        update(at: t, oldest: oldest) { $0.add(f) }
    }

    /// Marks slot `k` (bucket `id`) changed, and the sealed merge stale when it holds `id`.
    @inline(__always)
    private mutating func touch(_ k: Int, _ id: Int64) {
        totalNewest = .min
        if !changed[k] {
            changed[k] = true
            changedCount += 1
        }
        if id <= sealedHigh && id >= sealedLow {
            sealed = nil
            if tracksQuantiles { summary = .clear }
        }
    }

    /// Merges totals into bucket `id` (creating it), without a lateness check: the caller has
    /// checked `oldestLiveBucket(now:)` (staged drop files, `Engine.commitStaging(now:)`).
    public mutating func merge(_ aggregate: Aggregate, intoBucket id: Int64) {
        let k = slot(for: id)
        if !packed[k].isEmpty { unpack(k) }
        aggregates[k].merge(aggregate)
        touch(k, id)
    }

    /// Adds an event to a ratio SLI's window: to the total when `total`, to the good count when
    /// `good`. - Returns: `false` when the event is too late (nothing recorded).
    public mutating func addRatio(
        value: Double,
        kind: MetricKind,
        sampleRate: Double,
        at t: Double,
        oldest: Int64,
        good: Bool,
        total: Bool
    ) -> Bool {
        let id = bucketID(for: t)
        if id < oldest { return false }
        let k = slot(for: id)
        if total { aggregates[k].add(value: value, kind: kind, sampleRate: sampleRate, member: nil) }
        if good { aggregates[k].addGood(value: value, kind: kind, sampleRate: sampleRate) }
        touch(k, id)
        return true
    }

    /// The index of bucket `id` in the parallel arrays, inserting an empty bucket if needed.
    @inline(__always)
    private mutating func slot(for id: Int64) -> Int {
        // The usual case: the newest bucket.
        let n = ids.count
        if n > 0 && ids[n - 1] == id { return n - 1 }
        return newSlot(for: id)
    }

    /// `slot(for:)` when the bucket is not the newest: a new newest, or a late event's.
    @inline(never)
    private mutating func newSlot(for id: Int64) -> Int {
        hotID = .min
        if let last = ids.last {
            if last < id {
                ids.append(id)
                aggregates.append(Aggregate())
                changed.append(false)
                packed.append([])
                // The former newest bucket is sealed now: keep its sketch packed.
                if tracksQuantiles { packSealed() }
                return ids.count - 1
            }
        } else {
            ids.append(id)
            aggregates.append(Aggregate())
            changed.append(false)
            packed.append([])
            return 0
        }
        // A late event: binary search for its bucket or its insertion point.
        var lo = 0
        var hi = ids.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ids[mid] < id { lo = mid + 1 } else { hi = mid }
        }
        if lo < ids.count && ids[lo] == id { return lo }
        ids.insert(id, at: lo)
        aggregates.insert(Aggregate(), at: lo)
        changed.insert(false, at: lo)
        packed.insert([], at: lo)
        return lo
    }

    /// Packs the sketch of every bucket but the newest that holds one decoded.
    private mutating func packSealed() {
        guard ids.count > 1 else { return }
        for k in 0..<(ids.count - 1) where aggregates[k].sketch != nil {
            packed[k] = BucketCodec.packSketch(aggregates[k].sketch!)
            aggregates[k].sketch = nil
        }
    }

    /// Decodes slot `k`'s packed sketch back into its aggregate (a late event or a merge changes it).
    private mutating func unpack(_ k: Int) {
        aggregates[k].sketch = try? BucketCodec.unpackSketch(packed[k])
        packed[k] = []
    }

    /// Slot `k`'s totals with its sketch, decoded if packed.
    private func unpacked(_ k: Int) -> Aggregate {
        guard !packed[k].isEmpty else { return aggregates[k] }
        var a = aggregates[k]
        a.sketch = try? BucketCodec.unpackSketch(packed[k])
        return a
    }

    /// Merges slot `k` into `total`, its packed sketch straight from the bytes.
    private func merge(_ k: Int, into total: inout Aggregate) {
        total.merge(aggregates[k])
        if !packed[k].isEmpty {
            if total.sketch == nil { total.sketch = QuantileSketch() }
            try? BucketCodec.mergePacked(packed[k], into: &total.sketch!)
        }
    }

    /// Removes the first `n` slots (evicted or closed buckets), remembering the drop for the store.
    private mutating func dropFirst(_ n: Int, below id: Int64) {
        guard n > 0 else { return }
        hotID = .min
        changedCount -= changed[0..<n].count(where: { $0 })
        ids.removeFirst(n)
        aggregates.removeFirst(n)
        changed.removeFirst(n)
        packed.removeFirst(n)
        droppedBefore = max(droppedBefore ?? id, id)
        sealed = nil
        total = nil
    }

    /// The buckets changed since the last call (ascending ids, with their totals now) and the id
    /// below which buckets were dropped since then; clears both.
    public mutating func takeChanges() -> (buckets: [(id: Int64, aggregate: Aggregate)], droppedBefore: Int64?) {
        var out: [(id: Int64, aggregate: Aggregate)] = []
        hotID = .min
        if changedCount > 0 {
            out.reserveCapacity(changedCount)
            for k in ids.indices where changed[k] {
                out.append((ids[k], unpacked(k)))
                changed[k] = false
            }
            changedCount = 0
        }
        defer { droppedBefore = nil }
        return (out, droppedBefore)
    }

    /// Whether buckets changed or were dropped since the last `takeChanges()`.
    public var hasChanges: Bool { changedCount > 0 || droppedBefore != nil }

    /// Drops buckets that can no longer be part of any window at `now`.
    /// - Returns: `true` when something was dropped.
    @discardableResult
    public mutating func evict(now: Double) -> Bool {
        let oldest = oldestLiveBucket(now: now)
        guard let first = ids.first, first < oldest else { return false }
        let keep = ids.firstIndex { $0 >= oldest } ?? ids.count
        dropFirst(keep, below: oldest)
        return true
    }

    /// The smallest bucket id still accepted at `now`.
    public mutating func oldestLiveBucket(now: Double) -> Int64 {
        switch spec {
        case .rolling:
            return bucketID(for: now) - Int64(bucketCount) + 1
        case .calendar:
            let current = period(containing: now)
            let previous = Int64(period(containing: current.start - 1).start)
            // Restore the cache to the current period (the lookup above replaced it).
            cachedPeriod = current
            return max(previous, closedBefore ?? Int64.min)
        }
    }

    /// Totals of the window at `now`.
    public mutating func aggregate(at now: Double) -> Aggregate {
        var total = Aggregate()
        switch spec {
        case .rolling:
            let newest = bucketID(for: now)
            if totalNewest == newest, let cached = self.total { return cached }
            let oldest = newest - Int64(bucketCount) + 1
            // The sealed buckets' merge, rebuilt when the span moved or a sealed bucket changed:
            // always merged in bucket order from empty, so a restored window gives the very same
            // doubles as the original (summing in another order could differ in the last bit).
            if sealed == nil || sealedLow != oldest || sealedHigh != newest - 1 {
                var merged = Aggregate()
                for (k, id) in ids.enumerated() where id >= oldest && id < newest { merge(k, into: &merged) }
                sealed = merged
                (sealedLow, sealedHigh) = (oldest, newest - 1)
                hotID = .min
                if tracksQuantiles { summary = .set(low: oldest, high: newest - 1, aggregate: merged) }
            }
            total = sealed!
            // The newest bucket is the last one unless events from the near future made later ones.
            var k = ids.count - 1
            while k >= 0 && ids[k] > newest { k -= 1 }
            if k >= 0 && ids[k] == newest { merge(k, into: &total) }
            self.total = total
            totalNewest = newest
        case .calendar:
            let id = bucketID(for: now)
            if let k = ids.firstIndex(of: id) { total = unpacked(k) }
        }
        return total
    }

    /// The `q` quantile (0…1) of the window's totals at `now`, clamped to their exact minimum
    /// and maximum (the sketch is within 1 %); `nil` without samples. A rolling window
    /// remembers it until its totals change.
    public mutating func quantile(_ q: Double, at now: Double) -> Double? {
        let agg = aggregate(at: now)
        if case .rolling = spec, let memo = totalQuantile, memo.q == q, total != nil { return memo.value }
        let value = agg.isEmpty ? nil : agg.quantile(q)
        if case .rolling = spec, total != nil { totalQuantile = (q, value) }
        return value
    }

    /// Rolling windows: totals of the buckets with ids in `low...high` (those still held).
    public func sum(from low: Int64, through high: Int64) -> Aggregate {
        var total = Aggregate()
        guard low <= high else { return total }
        for (k, id) in ids.enumerated() where id >= low && id <= high { merge(k, into: &total) }
        return total
    }

    /// Totals of the calendar period starting at `start` (empty if nothing was recorded).
    public func aggregate(periodStarting start: Int64) -> Aggregate {
        ids.firstIndex(of: start).map { unpacked($0) } ?? Aggregate()
    }

    /// Marks calendar periods starting before `id` as judged: their buckets are dropped and later
    /// events for them are too late.
    public mutating func close(before id: Int64) {
        closedBefore = max(closedBefore ?? id, id)
        let keep = ids.firstIndex { $0 >= id } ?? ids.count
        dropFirst(keep, below: id)
    }

    /// What became of the merge of the sealed buckets of a rolling percentile window since the
    /// last call: rebuilt (the span of bucket ids it covers and its totals, which the store keeps
    /// for the next start-up), made stale by a late event, or unchanged (always, for other
    /// windows).
    /// Whether `takeSealedSummary()` has something for the store.
    public var hasSummaryChange: Bool {
        if case .unchanged = summary { return false }
        return true
    }

    public mutating func takeSealedSummary() -> SummaryChange {
        defer { summary = .unchanged }
        return summary
    }

    /// Replaces the window's contents with buckets whose sketches are still packed, as the store
    /// reads them (`StateStore.loadSnapshots(keepingSketchesPacked:)`): nothing is decoded, not
    /// even the newest bucket (the first event into it does).
    /// - Parameter sealedSummary: the sealed merge kept by the store (`takeSealedSummary()`):
    ///   used while the window's span is still the one it covers, so judging the window right
    ///   after a start-up merges no sealed bucket.
    public mutating func restore(
        packedBuckets: consuming PackedBuckets,
        closedBefore: Int64?,
        sealedSummary: (low: Int64, high: Int64, aggregate: Aggregate)? = nil
    ) {
        packedBuckets.sortByID()
        hotID = .min
        // The store's arrays are taken over (no element is copied; handed over with `consume`,
        // the window is their only owner and unpacks the newest bucket in place).
        (ids, aggregates, packed) = packedBuckets.take()
        // Even the newest stays packed: the first event into it decodes it (`add`), judging
        // merges it from its bytes. A start-up decodes nothing.
        changed = Array(repeating: false, count: ids.count)
        changedCount = 0
        droppedBefore = nil
        sealed = sealedSummary?.aggregate
        total = nil
        (sealedLow, sealedHigh) = sealedSummary.map { ($0.low, $0.high) } ?? (1, 0)
        summary = .unchanged
        self.closedBefore = closedBefore
    }

    /// Replaces the window's contents (restore from a snapshot).
    public mutating func restore(buckets: [Int64: Aggregate], closedBefore: Int64?) {
        let sorted = buckets.sorted { $0.key < $1.key }
        hotID = .min
        ids = sorted.map(\.key)
        aggregates = sorted.map(\.value)
        packed = Array(repeating: [], count: ids.count)
        if tracksQuantiles { packSealed() }
        changed = Array(repeating: false, count: ids.count)
        changedCount = 0
        droppedBefore = nil
        sealed = nil
        total = nil
        self.closedBefore = closedBefore
    }
}

/// A window's buckets as the store reads them (`BucketCodec.decodeKeepingSketchPacked`), in
/// three parallel arrays that `Window.restore(packedBuckets:closedBefore:sealedSummary:)` takes
/// over whole: a start-up copies no bucket. Sketches stay in `BucketCodec`'s packed form (empty:
/// none).
public struct PackedBuckets: Sendable, Equatable {
    /// Bucket ids (ascending when read from the store).
    public private(set) var ids: [Int64] = []
    /// Per bucket, its totals (no sketch).
    public private(set) var aggregates: [Aggregate] = []
    /// Per bucket, its packed sketch (empty: none).
    public private(set) var sketches: [[UInt8]] = []

    /// No buckets.
    public init() {}

    /// Whether there are none.
    public var isEmpty: Bool { ids.isEmpty }

    /// Number of buckets.
    public var count: Int { ids.count }

    /// Appends a bucket (`sketch` nil or empty: none).
    public mutating func append(id: Int64, aggregate: Aggregate, sketch: [UInt8]?) {
        ids.append(id)
        aggregates.append(aggregate)
        sketches.append(sketch ?? [])
    }

    /// The three arrays, leaving this empty (so the caller becomes their only owner).
    mutating func take() -> (ids: [Int64], aggregates: [Aggregate], sketches: [[UInt8]]) {
        defer { self = PackedBuckets() }
        return (ids, aggregates, sketches)
    }

    /// Puts the buckets in ascending id order (nothing moves when they already are).
    mutating func sortByID() {
        if zip(ids, ids.dropFirst()).allSatisfy({ $0 < $1 }) { return }
        let order = ids.indices.sorted { ids[$0] < ids[$1] }
        (ids, aggregates, sketches) = (order.map { ids[$0] }, order.map { aggregates[$0] }, order.map { sketches[$0] })
    }
}
