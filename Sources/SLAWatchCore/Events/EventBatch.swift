import Foundation

/// Where the parser puts events: an `[Event]` (simple, for tests and tools) or an `EventBatch`
/// (the daemon's hot path).
public protocol EventSink {
    /// Number of events held.
    var count: Int { get }
    /// Appends a whole event (JSON lines, tests).
    mutating func append(_ e: Event)
    /// Appends an event from parsed fields. `nameID`/`labelsID` identify the name and label set
    /// in the parser's cache (`-1` when uncached) so a batch can intern them without hashing.
    mutating func appendFields(
        name: String,
        nameID: Int,
        labels: [String: String],
        labelsID: Int,
        value: Double,
        kind: MetricKind,
        time: Double?,
        sampleRate: Double,
        member: String?,
        isDelta: Bool
    )
    /// Drops events from index `count` on (undoing a line that turned out bad).
    mutating func truncate(to count: Int)
}

extension Array: EventSink where Element == Event {
    public mutating func appendFields(
        name: String,
        nameID: Int,
        labels: [String: String],
        labelsID: Int,
        value: Double,
        kind: MetricKind,
        time: Double?,
        sampleRate: Double,
        member: String?,
        isDelta: Bool
    ) {
        append(
            Event(
                metric: name,
                value: value,
                kind: kind,
                labels: labels,
                time: time,
                sampleRate: sampleRate,
                member: member,
                isDelta: isDelta
            )
        )
    }

    public mutating func truncate(to count: Int) { removeSubrange(count...) }
}

/// A batch of events stored column by column: each distinct metric name and label set once, and
/// per event only numbers (name index, label-set index, value, kind, rate, time). Handing the
/// engine a batch costs no reference counting per event, and the engine looks up each distinct
/// name once per batch instead of once per event (design §2: "batches, never one await per
/// event"). It is a `RandomAccessCollection` of `Event`, materialized on access.
public struct EventBatch: Sendable, RandomAccessCollection, Equatable, EventSink {
    /// Distinct metric names, in order of first appearance.
    public private(set) var names: [String] = []
    /// Distinct label sets; index 0 is the empty set.
    public private(set) var labelSets: [[String: String]] = [[:]]
    /// Per event: index into `names`.
    public private(set) var nameIndex: [Int32] = []
    /// Per event: index into `labelSets`.
    public private(set) var labelIndex: [Int32] = []
    /// Per event: the value.
    public private(set) var values: [Double] = []
    /// Per event: the kind.
    public private(set) var kinds: [MetricKind] = []
    /// Per event: the sample rate.
    public private(set) var rates: [Double] = []
    /// Per event: event time in unix seconds, NaN for "arrival time".
    public private(set) var times: [Double] = []
    /// Per event: set member (nil for other kinds).
    public private(set) var members: [String?] = []
    /// Per event: etsy gauge delta.
    public private(set) var deltas: [Bool] = []
    // Interning without hashing: parser cache id → index in this batch, direct-mapped by id.
    // An entry is valid only for the generation it was written in (`removeAll` starts a new one).
    private var nameMemo: [(id: Int, generation: Int, index: Int32)] = []
    private var labelsMemo: [(id: Int, generation: Int, index: Int32)] = []
    private var generation = 0
    private static let memoSize = 2048

    /// An empty batch.
    public init() {}

    /// A batch holding `events`, in order.
    public init(_ events: [Event]) {
        for e in events { append(e) }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { values.count }
    public var count: Int { values.count }

    /// The event at `i`, materialized.
    public subscript(i: Int) -> Event {
        Event(
            metric: names[Int(nameIndex[i])],
            value: values[i],
            kind: kinds[i],
            labels: labelSets[Int(labelIndex[i])],
            time: times[i].isNaN ? nil : times[i],
            sampleRate: rates[i],
            member: members[i],
            isDelta: deltas[i]
        )
    }

    /// The metric name of event `i` (no copy of the labels).
    public func metric(at i: Int) -> String { names[Int(nameIndex[i])] }

    /// The event time of event `i`, `nil` for arrival time.
    public func time(at i: Int) -> Double? { times[i].isNaN ? nil : times[i] }

    public static func == (a: EventBatch, b: EventBatch) -> Bool { Array(a) == Array(b) }

    /// Compares with plain events (tests).
    public static func == (a: EventBatch, b: [Event]) -> Bool { Array(a) == b }

    private mutating func internName(_ name: String, id: Int) -> Int32 {
        if id >= 0 {
            if nameMemo.isEmpty { nameMemo = Array(repeating: (-1, 0, 0), count: Self.memoSize) }
            let slot = id & (Self.memoSize - 1)
            if nameMemo[slot].id == id && nameMemo[slot].generation == generation { return nameMemo[slot].index }
            names.append(name)
            nameMemo[slot] = (id, generation, Int32(names.count - 1))
            return Int32(names.count - 1)
        }
        if names.count < 64, let known = names.firstIndex(of: name) { return Int32(known) }
        names.append(name)
        return Int32(names.count - 1)
    }

    private mutating func internLabels(_ labels: [String: String], id: Int) -> Int32 {
        if labels.isEmpty { return 0 }
        if id >= 0 {
            if labelsMemo.isEmpty { labelsMemo = Array(repeating: (-1, 0, 0), count: Self.memoSize) }
            let slot = id & (Self.memoSize - 1)
            if labelsMemo[slot].id == id && labelsMemo[slot].generation == generation { return labelsMemo[slot].index }
            labelSets.append(labels)
            labelsMemo[slot] = (id, generation, Int32(labelSets.count - 1))
            return Int32(labelSets.count - 1)
        }
        labelSets.append(labels)
        return Int32(labelSets.count - 1)
    }

    public mutating func append(_ e: Event) {
        appendFields(
            name: e.metric,
            nameID: -1,
            labels: e.labels,
            labelsID: -1,
            value: e.value,
            kind: e.kind,
            time: e.time,
            sampleRate: e.sampleRate,
            member: e.member,
            isDelta: e.isDelta
        )
    }

    public mutating func appendFields(
        name: String,
        nameID: Int,
        labels: [String: String],
        labelsID: Int,
        value: Double,
        kind: MetricKind,
        time: Double?,
        sampleRate: Double,
        member: String?,
        isDelta: Bool
    ) {
        nameIndex.append(internName(name, id: nameID))
        labelIndex.append(internLabels(labels, id: labelsID))
        values.append(value)
        kinds.append(kind)
        rates.append(sampleRate)
        times.append(time ?? .nan)
        members.append(member)
        deltas.append(isDelta)
    }

    public mutating func truncate(to count: Int) {
        nameIndex.removeSubrange(count...)
        labelIndex.removeSubrange(count...)
        values.removeSubrange(count...)
        kinds.removeSubrange(count...)
        rates.removeSubrange(count...)
        times.removeSubrange(count...)
        members.removeSubrange(count...)
        deltas.removeSubrange(count...)
    }

    /// Empties the batch but keeps its storage, so a recycled batch fills up again without
    /// allocating (the steady state of the ingest path allocates nothing per event).
    public mutating func removeAll() {
        names.removeAll(keepingCapacity: true)
        labelSets.removeAll(keepingCapacity: true)
        labelSets.append([:])
        nameIndex.removeAll(keepingCapacity: true)
        labelIndex.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        kinds.removeAll(keepingCapacity: true)
        rates.removeAll(keepingCapacity: true)
        times.removeAll(keepingCapacity: true)
        members.removeAll(keepingCapacity: true)
        deltas.removeAll(keepingCapacity: true)
        generation += 1
    }

    /// Appends every event of `other` (names and label sets re-interned).
    public mutating func append(contentsOf other: EventBatch) {
        for i in other.indices { append(other[i]) }
    }

    /// The events at `indexes` (ascending), as a new batch.
    public func selecting(_ indexes: [Int]) -> EventBatch {
        var out = EventBatch()
        for i in indexes { out.append(self[i]) }
        return out
    }

    /// Replaces the value of event `i` (gauge deltas resolved to levels).
    mutating func setValue(_ v: Double, at i: Int) {
        values[i] = v
        deltas[i] = false
    }

    /// Replaces an event's value and kind (a cumulative sample becomes its increase).
    mutating func setCounterIncrease(_ v: Double, at i: Int) {
        values[i] = v
        kinds[i] = .counter
        deltas[i] = false
    }
}

/// Batches handed back by the consumer after ingesting them, for the producer to fill again:
/// the ingest path then reuses the same storage and allocates nothing per event in the steady
/// state. Thread-safe; holds at most `capacity` spares.
public final class EventBatchPool: @unchecked Sendable {
    private let lock = NSLock()
    private var spares: [(events: EventBatch, eventLines: [Int])] = []
    private let capacity: Int

    /// A pool holding up to `capacity` spare batches.
    public init(capacity: Int = 8) { self.capacity = capacity }

    /// A spare batch, or `nil` when none is free.
    public func take() -> (events: EventBatch, eventLines: [Int])? {
        lock.lock()
        defer { lock.unlock() }
        return spares.popLast()
    }

    /// Gives a batch back (it is emptied by the next `LineBatcher.take(reusing:)`). For the
    /// storage to be reused, the caller must hold the only reference.
    public func recycle(_ events: EventBatch, _ eventLines: [Int]) {
        lock.lock()
        defer { lock.unlock() }
        if spares.count < capacity { spares.append((events, eventLines)) }
    }
}
