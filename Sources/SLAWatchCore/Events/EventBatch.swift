import Foundation
import Synchronization

/// Where the parser puts events: an `[Event]` (simple, for tests and tools) or an `EventBatch`
/// (the daemon's hot path).
public protocol EventSink {
    /// Number of events held.
    var count: Int { get }
    /// Appends a whole event (JSON lines, tests).
    mutating func append(_ e: Event)
    /// Appends an event from parsed fields. `nameID`/`labelsID` identify the name and label set
    /// in the parser's cache (`-1` when uncached; `labelsID` 0: no labels) so a batch can intern
    /// them without hashing, and asks for the strings only the first time it sees an id.
    /// `nameHash` is `fnvHash` of the name's UTF-8 bytes when the parser has it (`nil`: the batch
    /// computes it), kept per name for the engine's metric lookup.
    mutating func appendFields(
        name: @autoclosure () -> String,
        nameID: Int,
        nameHash: Int?,
        labels: @autoclosure () -> [String: String],
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
        name: @autoclosure () -> String,
        nameID: Int,
        nameHash: Int?,
        labels: @autoclosure () -> [String: String],
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
                metric: name(),
                value: value,
                kind: kind,
                labels: labels(),
                time: time,
                sampleRate: sampleRate,
                member: member,
                isDelta: isDelta
            )
        )
    }

    public mutating func truncate(to count: Int) { removeSubrange(count...) }
}

/// A batch of events: each distinct metric name and label set once, and per event one compact
/// record of numbers (name index, label-set index, kind, value, rate, time). Handing the engine a
/// batch costs no reference counting per event, and the engine looks up each distinct name once
/// per batch instead of once per event (design §2: "batches, never one await per event"). It is a
/// `RandomAccessCollection` of `Event`, materialized on access.
public struct EventBatch: Sendable, RandomAccessCollection, Equatable, EventSink {
    /// One event's numbers (40 bytes): one append per event on the hot path, not eight.
    public struct Record: Sendable, Equatable {
        /// Index into `names`.
        public var nameIndex: Int32
        /// Index into `labelSets` (0: no labels).
        public var labelIndex: Int32
        /// The kind.
        public var kind: MetricKind
        /// etsy gauge delta (`+N|g`).
        public var isDelta: Bool
        /// The value.
        public var value: Double
        /// The sample rate.
        public var rate: Double
        /// Event time in unix seconds, NaN for "arrival time".
        public var time: Double

        /// A placeholder (buffers filled by `EventBatch.record(…)`).
        static let empty = Record(
            nameIndex: 0,
            labelIndex: 0,
            kind: .counter,
            isDelta: false,
            value: 0,
            rate: 1,
            time: .nan
        )
    }

    /// Distinct metric names, in order of first appearance.
    public private(set) var names: [String] = []
    /// `fnvHash` of each name's UTF-8 bytes, parallel to `names` (the engine's `MetricIndex`
    /// looks names up by it without hashing them again).
    public private(set) var nameHashes: [Int] = []
    /// Distinct label sets; index 0 is the empty set.
    public private(set) var labelSets: [[String: String]] = [[:]]
    /// Per event, in order.
    public private(set) var records: [Record] = []
    /// Set members by event index (set events only).
    public private(set) var members: [Int: String] = [:]
    /// Whether some event is a cumulative counter (the engine turns those into increases).
    public private(set) var hasCumulative = false
    // Interning without hashing: parser cache id → index in this batch, direct-mapped by id.
    // An entry is valid only for the generation it was written in (`removeAll` starts a new one).
    private var nameMemo: [(id: Int, generation: Int, index: Int32)] = []
    private var labelsMemo: [(id: Int, generation: Int, index: Int32)] = []
    private var generation = 0
    private static let memoSize = 4096

    /// An empty batch.
    public init() {}

    /// A batch holding `events`, in order.
    public init(_ events: [Event]) {
        for e in events { append(e) }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { records.count }
    public var count: Int { records.count }

    /// The event at `i`, materialized.
    public subscript(i: Int) -> Event {
        let r = records[i]
        return Event(
            metric: names[Int(r.nameIndex)],
            value: r.value,
            kind: r.kind,
            labels: labelSets[Int(r.labelIndex)],
            time: r.time.isNaN ? nil : r.time,
            sampleRate: r.rate,
            member: members.isEmpty ? nil : members[i],
            isDelta: r.isDelta
        )
    }

    /// The metric name of event `i` (no copy of the labels).
    public func metric(at i: Int) -> String { names[Int(records[i].nameIndex)] }

    /// The event time of event `i`, `nil` for arrival time.
    public func time(at i: Int) -> Double? { records[i].time.isNaN ? nil : records[i].time }

    /// Whether any event of the batch is a set member (`member(at:)` is nil for every event
    /// otherwise).
    public var hasMembers: Bool { !members.isEmpty }

    /// The set member of event `i` (`nil` for other kinds).
    public func member(at i: Int) -> String? { members.isEmpty ? nil : members[i] }

    public static func == (a: EventBatch, b: EventBatch) -> Bool { Array(a) == Array(b) }

    /// Compares with plain events (tests).
    public static func == (a: EventBatch, b: [Event]) -> Bool { Array(a) == b }

    @inline(__always)
    private mutating func internName(_ name: () -> String, id: Int, hash: Int?) -> Int32 {
        if id >= 0 {
            if nameMemo.isEmpty { nameMemo = Array(repeating: (-1, 0, 0), count: Self.memoSize) }
            let slot = id & (Self.memoSize - 1)
            if nameMemo[slot].id == id && nameMemo[slot].generation == generation { return nameMemo[slot].index }
            addName(name(), hash: hash)
            nameMemo[slot] = (id, generation, Int32(names.count - 1))
            return Int32(names.count - 1)
        }
        let n = name()
        if names.count < 64, let known = names.firstIndex(of: n) { return Int32(known) }
        addName(n, hash: hash)
        return Int32(names.count - 1)
    }

    @inline(never)
    private mutating func addName(_ name: String, hash: Int?) {
        names.append(name)
        nameHashes.append(hash ?? Self.hash(name))
    }

    /// `fnvHash` of a name's UTF-8 bytes (what the statsd parser computes while scanning it).
    static func hash(_ name: String) -> Int {
        var copy = name
        return copy.withUTF8 { Int(truncatingIfNeeded: fnvHash(UnsafeRawBufferPointer($0))) }
    }

    @inline(__always)
    private mutating func internLabels(_ labels: () -> [String: String], id: Int) -> Int32 {
        if id == 0 { return 0 }
        if id > 0 {
            if labelsMemo.isEmpty { labelsMemo = Array(repeating: (-1, 0, 0), count: Self.memoSize) }
            let slot = id & (Self.memoSize - 1)
            if labelsMemo[slot].id == id && labelsMemo[slot].generation == generation { return labelsMemo[slot].index }
            labelSets.append(labels())
            labelsMemo[slot] = (id, generation, Int32(labelSets.count - 1))
            return Int32(labelSets.count - 1)
        }
        let l = labels()
        if l.isEmpty { return 0 }
        labelSets.append(l)
        return Int32(labelSets.count - 1)
    }

    public mutating func append(_ e: Event) {
        appendFields(
            name: e.metric,
            nameID: -1,
            nameHash: nil,
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
        name: @autoclosure () -> String,
        nameID: Int,
        nameHash: Int?,
        labels: @autoclosure () -> [String: String],
        labelsID: Int,
        value: Double,
        kind: MetricKind,
        time: Double?,
        sampleRate: Double,
        member: String?,
        isDelta: Bool
    ) {
        if let member { members[records.count] = member }
        records.append(
            record(
                name: name(),
                nameID: nameID,
                nameHash: nameHash,
                labels: labels(),
                labelsID: labelsID,
                value: value,
                kind: kind,
                time: time,
                sampleRate: sampleRate,
                isDelta: isDelta
            )
        )
    }

    /// The record of an event given as by `appendFields` (its name and label set interned in
    /// the batch), not appended: the stream's fast lane writes records into a buffer of its own
    /// and appends them by the hundred (`append(records:)`), instead of paying an append's
    /// uniqueness and capacity checks per event. A set member cannot be given this way.
    @inline(__always)
    mutating func record(
        name: @autoclosure () -> String,
        nameID: Int,
        nameHash: Int?,
        labels: @autoclosure () -> [String: String],
        labelsID: Int,
        value: Double,
        kind: MetricKind,
        time: Double?,
        sampleRate: Double,
        isDelta: Bool
    ) -> Record {
        if kind == .cumulative { hasCumulative = true }
        return Record(
            nameIndex: internName(name, id: nameID, hash: nameHash),
            labelIndex: internLabels(labels, id: labelsID),
            kind: kind,
            isDelta: isDelta,
            value: value,
            rate: sampleRate,
            time: time ?? .nan
        )
    }

    /// Appends records made by `record(…)` of this batch (no set members), in order.
    mutating func append<C: Collection>(records more: C) where C.Element == Record {
        records.append(contentsOf: more)
    }

    public mutating func truncate(to count: Int) {
        records.removeSubrange(count...)
        if !members.isEmpty { members = members.filter { $0.key < count } }
    }

    /// Empties the batch but keeps its storage, so a recycled batch fills up again without
    /// allocating (the steady state of the ingest path allocates nothing per event).
    public mutating func removeAll() {
        names.removeAll(keepingCapacity: true)
        nameHashes.removeAll(keepingCapacity: true)
        labelSets.removeAll(keepingCapacity: true)
        labelSets.append([:])
        records.removeAll(keepingCapacity: true)
        if !members.isEmpty { members.removeAll() }
        hasCumulative = false
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
        records[i].value = v
        records[i].isDelta = false
    }

    /// Replaces an event's value and kind (a cumulative sample becomes its increase).
    mutating func setCounterIncrease(_ v: Double, at i: Int) {
        records[i].value = v
        records[i].kind = .counter
        records[i].isDelta = false
    }
}

/// Batches handed back by the consumer after ingesting them, for the producer to fill again:
/// the ingest path then reuses the same storage and allocates nothing per event in the steady
/// state. Thread-safe; holds at most `capacity` spares.
public final class EventBatchPool: Sendable {
    private let spares = Mutex<[(events: EventBatch, eventLines: [Int])]>([])
    private let capacity: Int

    /// A pool holding up to `capacity` spare batches.
    public init(capacity: Int = 8) { self.capacity = capacity }

    /// A spare batch, or `nil` when none is free.
    public func take() -> (events: EventBatch, eventLines: [Int])? {
        spares.withLock { $0.popLast() }
    }

    /// Gives a batch back (it is emptied by the next `LineBatcher.take(reusing:)`). For the
    /// storage to be reused, the caller must hold the only reference.
    public func recycle(_ events: EventBatch, _ eventLines: [Int]) {
        spares.withLock { spares in
            if spares.count < capacity { spares.append((events, eventLines)) }
        }
    }
}
