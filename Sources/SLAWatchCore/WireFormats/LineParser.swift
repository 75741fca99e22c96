import Foundation

/// The outcome of parsing one line.
public enum LineOutcome: Sendable, Equatable {
    /// The line held this many events (a packed statsd line or a JSON array may hold several);
    /// they were appended to the output array.
    case accepted(Int)
    /// The line was dropped for this reason; nothing was appended.
    case rejected(RejectReason)
    /// A JSON array line whose elements were partly good: `accepted` events were appended, and
    /// each bad element was dropped for the listed reason; `elements` are their 0-based
    /// positions in the array.
    case partial(accepted: Int, rejected: [RejectReason], elements: [Int])
    /// A DogStatsD message that is not a metric (`_e{…}` event, `_sc|…` service check): valid
    /// input that slawatch does not use; counted, not an error.
    case ignored(IgnoredMessage)
    /// An empty (or whitespace-only) line: neither an event nor an error.
    case empty
}

/// Non-metric DogStatsD messages (datagram format: events and service checks).
public enum IgnoredMessage: String, Sendable, Equatable, CaseIterable {
    /// `_e{title_length,text_length}:title|text|…`
    case event = "dogstatsd_event"
    /// `_sc|name|status|…`
    case serviceCheck = "dogstatsd_service_check"
}

/// Per-listener parsing options.
public struct ParserOptions: Sendable, Equatable {
    /// etsy statsd gauge dialect: a gauge value written with a sign (`+5|g`, `-3|g`) changes the
    /// gauge instead of setting it. Off by default (DogStatsD: `-3|g` sets −3).
    public var gaugeDeltas: Bool

    /// Creates options; the default is the DogStatsD dialect.
    public init(gaugeDeltas: Bool = false) { self.gaugeDeltas = gaugeDeltas }
}

/// Counters of harmless oddities seen while parsing (not errors).
public struct ParseStats: Sendable, Equatable {
    /// Unknown `|`-fields skipped (`|c:…`, `|e:…`, `|card:…`).
    public var ignoredFields = 0
    /// DogStatsD events and service checks skipped.
    public var ignoredMessages = 0

    /// Zero counters.
    public init() {}
}

/// Remembers recently parsed metric names and tag sets so a stream of lines with repeating names
/// and tags reuses the same `String`s and label dictionaries instead of allocating new ones for
/// every line. Two open-addressing tables (linear probing, at most half full), keyed by the hash
/// `scanName` computes; an entry is used only when its bytes are equal. A table doubles when half
/// full, up to `maxNameSlots` / `maxTagSlots`; one that is full at its largest starts empty again
/// (ids stay unique), so a stream of endless distinct names costs bounded memory and never
/// thrashes a few names against each other. One per connection or file (inside `LineBatcher`).
public struct ParseCache: Sendable {
    /// Each name slot's `String` (nil: free).
    private var names: [String?]
    /// The name slots, 64 bytes each (one cache line: a hit reads one line): the hash (8 bytes),
    /// the id (8), the name's length + 1 (2; 0: free), the name's bytes (`keyWidth`). Aligned
    /// to 64 bytes from `slotBase`; names longer than `keyWidth` are not cached.
    private var nameTable: [UInt8]
    private var nameCount = 0
    private static let slotSize = 64
    private static let keyWidth = 46
    /// Name slots a table may grow to (65,536: 4 MiB, 32,768 names).
    static let maxNameSlots = 65_536
    /// The tag-set slots, 64 bytes each, aligned like the name slots: the hash (8 bytes), the id
    /// (8), the key's length + 1 (4; 0: free), where bytes past the first `tagInline` are in
    /// `tagTails` (4), then the key's first `tagInline` bytes. A hit on a key of up to 40 bytes
    /// reads one cache line and copies nothing.
    private var tagTable: [UInt8]
    /// Each tag slot's label set, parallel to the slots.
    private var tagValues: [[String: String]]
    /// The bytes of long keys past their first `tagInline`, end to end.
    private var tagTails: [UInt8] = []
    private var tagCount = 0
    private static let tagInline = 40
    /// Tag fields longer than this are parsed every time instead of cached (bounds `tagTails`).
    static let maxCachedTagBytes = 1024
    /// Tag-set slots a table may grow to (8,192 tag sets).
    static let maxTagSlots = 16_384
    private var nextID = 0

    /// A cache with 4,096 name slots and 512 tag-set slots (about 330 KiB), growing with the
    /// stream's variety.
    public init() {
        self.init(nameSlots: 4096, tagSlots: 512)
    }

    private init(nameSlots: Int, tagSlots: Int) {
        names = Array(repeating: nil, count: nameSlots)
        nameTable = Array(repeating: 0, count: (nameSlots + 1) * Self.slotSize)
        tagTable = Array(repeating: 0, count: tagSlots == 0 ? 0 : (tagSlots + 1) * Self.slotSize)
        tagValues = Array(repeating: [:], count: tagSlots)
    }

    /// A cache that stores nothing (no allocation).
    public static let disabled = ParseCache(disabled: ())
    private init(disabled: Void) {
        names = []
        nameTable = []
        tagTable = []
        tagValues = []
    }

    /// Whether the cache stores anything (`disabled` does not).
    public var isEnabled: Bool { !names.isEmpty }

    /// Name slots and tag-set slots now (they grow; tests).
    var capacity: (names: Int, tags: Int) { (names.count, tagValues.count) }

    static func hash(_ b: UnsafeRawBufferPointer) -> Int { Int(truncatingIfNeeded: fnvHash(b)) }

    /// The first 64-byte boundary in the table's storage (the array is one slot longer).
    @inline(__always)
    private static func slotBase(_ raw: UnsafeRawPointer) -> UnsafeRawPointer {
        raw + ((64 - (Int(bitPattern: raw) & 63)) & 63)
    }

    /// The cache entry of the name `b` whose hash (`hash(_:)`) is `hash`: its slot (for
    /// `string(at:)`) and its id (unique for the cache's life), `(-1, -1)` when the cache is
    /// disabled or the name is too long to cache. No `String` is made or copied on a hit.
    @inline(__always)
    mutating func entry(_ b: UnsafeRawBufferPointer, hash: Int) -> (slot: Int, id: Int) {
        guard isEnabled, b.count <= Self.keyWidth else { return (-1, -1) }
        let mask = names.count - 1
        let tag = UInt16(truncatingIfNeeded: b.count + 1)
        // (slot, id) on a hit; (-1 - the free slot the probe ended at, 0) on a miss.
        let found: (Int, Int) = nameTable.withUnsafeBytes { raw in
            let table = Self.slotBase(raw.baseAddress!)
            var slot = hash & mask
            while true {
                let s = table + slot &* Self.slotSize
                let stored = s.load(fromByteOffset: 16, as: UInt16.self)
                if stored == 0 { return (-1 - slot, 0) }
                if stored == tag && s.load(as: Int.self) == hash && Self.equal(s + 18, b) {
                    return (slot, s.load(fromByteOffset: 8, as: Int.self))
                }
                slot = (slot &+ 1) & mask
            }
        }
        if found.0 >= 0 { return found }
        return insertName(b, hash: hash, at: -1 - found.0)
    }

    /// A miss: the name goes into the free `slot` its probe ended at, after the table doubled
    /// (or, at its largest, emptied) if it was half full.
    @inline(never)
    private mutating func insertName(_ b: UnsafeRawBufferPointer, hash: Int, at free: Int) -> (slot: Int, id: Int) {
        var slot = free
        if (nameCount + 1) * 2 > names.count {
            let size = names.count < Self.maxNameSlots ? names.count * 2 : names.count
            var fresh = ParseCache(nameSlots: size, tagSlots: 0)
            if size > names.count {
                nameTable.withUnsafeBytes { raw in
                    let table = Self.slotBase(raw.baseAddress!)
                    for old in names.indices {
                        let s = table + old * Self.slotSize
                        let stored = Int(s.load(fromByteOffset: 16, as: UInt16.self))
                        if stored == 0 { continue }
                        fresh.putName(
                            names[old]!,
                            bytes: UnsafeRawBufferPointer(start: s + 18, count: stored - 1),
                            hash: s.load(as: Int.self),
                            id: s.load(fromByteOffset: 8, as: Int.self)
                        )
                    }
                }
            }
            names = fresh.names
            nameTable = fresh.nameTable
            nameCount = fresh.nameCount
            slot = -1
        }
        nextID += 1
        let at = putName(String(decoding: b, as: UTF8.self), bytes: b, hash: hash, id: nextID, at: slot)
        return (at, nextID)
    }

    /// Stores a name at `slot`, or at the first free slot of its probe when `slot` is -1.
    @discardableResult
    private mutating func putName(
        _ name: String,
        bytes b: UnsafeRawBufferPointer,
        hash: Int,
        id: Int,
        at slot: Int = -1
    ) -> Int {
        let mask = names.count - 1
        let at: Int = nameTable.withUnsafeMutableBytes { raw in
            let table = UnsafeMutableRawPointer(mutating: Self.slotBase(raw.baseAddress!))
            var at = slot
            if at < 0 {
                at = hash & mask
                while table.load(fromByteOffset: at * Self.slotSize + 16, as: UInt16.self) != 0 { at = (at + 1) & mask }
            }
            let s = table + at * Self.slotSize
            s.storeBytes(of: hash, as: Int.self)
            s.storeBytes(of: id, toByteOffset: 8, as: Int.self)
            s.storeBytes(of: UInt16(b.count + 1), toByteOffset: 16, as: UInt16.self)
            if let src = b.baseAddress { (s + 18).copyMemory(from: src, byteCount: b.count) }
            return at
        }
        names[at] = name
        nameCount += 1
        return at
    }

    /// Whether the `b.count` bytes at `key` are `b`'s, eight at a time (no memcmp(3) call for a
    /// name of a dozen bytes).
    @inline(__always)
    static func equal(_ key: UnsafeRawPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard let base = b.baseAddress else { return true }
        var i = 0
        while i + 8 <= b.count {
            if key.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                != base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            {
                return false
            }
            i += 8
        }
        while i < b.count {
            if key.load(fromByteOffset: i, as: UInt8.self) != base.load(fromByteOffset: i, as: UInt8.self) {
                return false
            }
            i += 1
        }
        return true
    }

    /// The name held in `slot` (from `entry`).
    @inline(__always)
    func string(at slot: Int) -> String { names[slot]! }

    /// The name for these bytes and the id of the cache entry (unique for the cache's life),
    /// `-1` when the cache is disabled.
    mutating func name(_ b: UnsafeRawBufferPointer) -> (String, Int) {
        let (slot, id) = entry(b, hash: Self.hash(b))
        return slot < 0 ? (String(decoding: b, as: UTF8.self), -1) : (string(at: slot), id)
    }

    func labels(_ b: UnsafeRawBufferPointer) -> ([String: String], Int)? {
        guard let (slot, id) = labelsEntry(b) else { return nil }
        return (tagValues[slot], id)
    }

    /// The slot (for `labelSet(at:)`) and id of the cached tag set `b`, `nil` when not cached;
    /// no dictionary is copied.
    @inline(__always)
    func labelsEntry(_ b: UnsafeRawBufferPointer) -> (slot: Int, id: Int)? {
        labelsEntry(b, hash: Self.hash(b))
    }

    /// `labelsEntry(_:)` given `b`'s hash (`hash(_:)`).
    @inline(__always)
    func labelsEntry(_ b: UnsafeRawBufferPointer, hash: Int) -> (slot: Int, id: Int)? {
        guard isEnabled, b.count <= Self.maxCachedTagBytes else { return nil }
        let mask = tagValues.count - 1
        let tag = UInt32(truncatingIfNeeded: b.count + 1)
        let inline = Swift.min(b.count, Self.tagInline)
        return tagTable.withUnsafeBytes { raw -> (slot: Int, id: Int)? in
            let table = Self.slotBase(raw.baseAddress!)
            var slot = hash & mask
            while true {
                let s = table + slot &* Self.slotSize
                let stored = s.load(fromByteOffset: 16, as: UInt32.self)
                if stored == 0 { return nil }
                if stored == tag && s.load(as: Int.self) == hash
                    && Self.equal(s + 24, UnsafeRawBufferPointer(rebasing: b[0..<inline]))
                    && (inline == b.count
                        || tagTails.withUnsafeBytes {
                            Self.equal(
                                $0.baseAddress! + Int(s.load(fromByteOffset: 20, as: UInt32.self)),
                                UnsafeRawBufferPointer(rebasing: b[inline...])
                            )
                        })
                {
                    return (slot, s.load(fromByteOffset: 8, as: Int.self))
                }
                slot = (slot &+ 1) & mask
            }
        }
    }

    /// The label set held in `slot` (from `labelsEntry`).
    @inline(__always)
    func labelSet(at slot: Int) -> [String: String] { tagValues[slot] }

    /// Caches the label set parsed from the tag bytes `b` (not cached yet: `labelsEntry` missed);
    /// returns its new id (`-1` when the cache is disabled or `b` is longer than
    /// `maxCachedTagBytes`). The table doubles when half full, and at its largest starts empty
    /// again.
    mutating func store(labels: [String: String], for b: UnsafeRawBufferPointer) -> Int {
        guard isEnabled, b.count <= Self.maxCachedTagBytes else { return -1 }
        if (tagCount + 1) * 2 > tagValues.count {
            let size = tagValues.count < Self.maxTagSlots ? tagValues.count * 2 : tagValues.count
            var fresh = ParseCache(nameSlots: 0, tagSlots: size)
            if size > tagValues.count {
                fresh.tagTails = tagTails
                tagTable.withUnsafeBytes { raw in
                    let table = Self.slotBase(raw.baseAddress!)
                    for old in tagValues.indices {
                        let s = table + old * Self.slotSize
                        if s.load(fromByteOffset: 16, as: UInt32.self) == 0 { continue }
                        fresh.putTags(copying: s, tagValues[old])
                    }
                }
            }
            (tagTable, tagValues, tagTails, tagCount) = (
                fresh.tagTable, fresh.tagValues, fresh.tagTails, fresh.tagCount
            )
        }
        nextID += 1
        let hash = Self.hash(b)
        let inline = Swift.min(b.count, Self.tagInline)
        let tail = tagTails.count
        tagTails.append(contentsOf: UnsafeRawBufferPointer(rebasing: b[inline...]))
        let slot = freeTagSlot(hash)
        tagTable.withUnsafeMutableBytes { raw in
            let s = UnsafeMutableRawPointer(mutating: Self.slotBase(raw.baseAddress!)) + slot * Self.slotSize
            s.storeBytes(of: hash, as: Int.self)
            s.storeBytes(of: nextID, toByteOffset: 8, as: Int.self)
            s.storeBytes(of: UInt32(b.count + 1), toByteOffset: 16, as: UInt32.self)
            s.storeBytes(of: UInt32(tail), toByteOffset: 20, as: UInt32.self)
            if let src = b.baseAddress { (s + 24).copyMemory(from: src, byteCount: inline) }
        }
        tagValues[slot] = labels
        tagCount += 1
        return nextID
    }

    /// The first free slot of the probe for `hash`.
    private func freeTagSlot(_ hash: Int) -> Int {
        let mask = tagValues.count - 1
        return tagTable.withUnsafeBytes { raw in
            let table = Self.slotBase(raw.baseAddress!)
            var slot = hash & mask
            while table.load(fromByteOffset: slot * Self.slotSize + 16, as: UInt32.self) != 0 {
                slot = (slot + 1) & mask
            }
            return slot
        }
    }

    /// Re-inserts a slot of a smaller table (its 64 bytes as they are: the tails stay put).
    private mutating func putTags(copying old: UnsafeRawPointer, _ labels: [String: String]) {
        let slot = freeTagSlot(old.load(as: Int.self))
        tagTable.withUnsafeMutableBytes { raw in
            let s = UnsafeMutableRawPointer(mutating: Self.slotBase(raw.baseAddress!)) + slot * Self.slotSize
            s.copyMemory(from: old, byteCount: Self.slotSize)
        }
        tagValues[slot] = labels
        tagCount += 1
    }
}

/// Parses slawatch's wire formats straight from bytes: statsd/DogStatsD lines and JSON lines.
/// The grammar, with one example per rule, is `docs/protocol.md`.
///
/// statsd (etsy statsd `docs/metric_types.md`, DogStatsD datagram format v1.1–v1.3):
/// `name:value[:value…]|type[|@rate][|#k:v,…][|T<unix seconds>][|other]`, types `c` (counter),
/// `g` (gauge, absolute: `-3|g` sets −3 as in DogStatsD, unless `gaugeDeltas`), `ms`/`h`/`d`
/// (distribution samples), `s` (set member). Unknown `|`-fields are ignored and counted, as
/// DogStatsD ignores them. Names are kept as sent (valid UTF-8, NFC-normalized).
///
/// JSON: one object per line, `{"metric": String, "value": Number, "kind": "counter" | "gauge" |
/// "distribution" | "set" (or c/g/ms/h/d/s), "labels": {String: String}, "time": RFC 3339 string
/// or unix seconds}`; a number above 10¹¹ is taken as unix milliseconds. A JSON array of such
/// objects on one line is a batch.
///
/// The parser is a value type with no shared state; one per connection or file.
public struct LineParser: Sendable {
    /// Dialect options.
    public var options: ParserOptions

    /// Creates a parser.
    public init(options: ParserOptions = ParserOptions()) { self.options = options }

    /// Parses one line (without its `\n`; a trailing `\r` and a leading UTF-8 BOM are tolerated)
    /// and appends its events to `events`.
    ///
    /// - Returns: `.accepted(n)` with the number of events appended, `.rejected(reason)`,
    ///   `.partial` for a JSON batch with bad elements, `.ignored` for DogStatsD events and
    ///   service checks, or `.empty` for a blank line.
    public func parse(_ line: UnsafeRawBufferPointer, into events: inout [Event]) -> LineOutcome {
        var stats = ParseStats()
        return parse(line, into: &events, stats: &stats)
    }

    /// Parses one line, counting ignored fields and messages in `stats`.
    public func parse(_ line: UnsafeRawBufferPointer, into events: inout [Event], stats: inout ParseStats)
        -> LineOutcome
    {
        var cache = ParseCache.disabled
        return parse(line, into: &events, stats: &stats, cache: &cache)
    }

    /// Parses one line, reusing names and label sets from `cache`.
    public func parse<Sink: EventSink>(
        _ line: UnsafeRawBufferPointer,
        into events: inout Sink,
        stats: inout ParseStats,
        cache: inout ParseCache
    ) -> LineOutcome {
        var start = 0
        var end = line.count
        // UTF-8 BOM (only meaningful at the start of a stream, harmless anywhere).
        if end >= 3, line[0] == 0xEF, line[1] == 0xBB, line[2] == 0xBF { start = 3 }
        while end > start, line[end - 1] == UInt8(ascii: "\r") || line[end - 1] == UInt8(ascii: " ") { end -= 1 }
        while start < end, line[start] == UInt8(ascii: " ") || line[start] == UInt8(ascii: "\t") { start += 1 }
        if start == end { return .empty }
        let body = UnsafeRawBufferPointer(rebasing: line[start..<end])
        switch body[0] {
        case UInt8(ascii: "{"):
            return parseJSON(body, into: &events)
        case UInt8(ascii: "["):
            return parseJSONBatch(body, into: &events)
        case UInt8(ascii: "_"):
            if body.count >= 3, body[1] == UInt8(ascii: "e"), body[2] == UInt8(ascii: "{") {
                stats.ignoredMessages += 1
                return .ignored(.event)
            }
            if body.count >= 4, body[1] == UInt8(ascii: "s"), body[2] == UInt8(ascii: "c"),
                body[3] == UInt8(ascii: "|")
            {
                stats.ignoredMessages += 1
                return .ignored(.serviceCheck)
            }
            return parseStatsd(body, into: &events, stats: &stats, cache: &cache)
        default:
            return parseStatsd(body, into: &events, stats: &stats, cache: &cache)
        }
    }

    /// Convenience for tests and the CLI: parses a `String` line.
    public func parse(_ line: String, into events: inout [Event]) -> LineOutcome {
        var copy = line
        return copy.withUTF8 { parse(UnsafeRawBufferPointer($0), into: &events) }
    }

    // MARK: - statsd / DogStatsD

    /// The fast lane for the commonest statsd line, tried before `parse` on busy streams:
    /// `name:digits|c` (or `|g`, `|ms`, `|h`, `|d`), optionally followed by one `|#tags` field
    /// whose bytes are already in `cache`, with an ASCII name, 1–15 digits and nothing else (no
    /// sign, sample rate, timestamp, trailing `\r` or space). Appends exactly the event `parse`
    /// would and returns `true`; returns `false`, having touched nothing but the name cache, for
    /// any other line, which then takes `parse` (so errors and rare shapes are judged in one
    /// place). `LineBatcherTests` checks both lanes agree on generated lines.
    @inline(__always)
    func parseCommonStatsd<Sink: EventSink>(
        _ b: UnsafeRawBufferPointer,
        into events: inout Sink,
        cache: inout ParseCache
    ) -> Bool {
        parseCommonStatsd(b, untilNewline: false, maxLineBytes: .max, into: &events, cache: &cache) >= 0
    }

    /// The fast lane on the next line of a chunk: `b` starts at a line and runs to the end of
    /// what was read; a line of the lane's shape, ended by `\n` within `b` and at most
    /// `maxLineBytes` long (the `\n` not counted), is appended as by `parseCommonStatsd(_:into:cache:)`
    /// and the offset of its `\n` returned. Anything else returns -1 having touched nothing but
    /// the name cache, and the line is then found (memchr) and parsed as usual. One pass over a
    /// common line instead of two (memchr, then the lane).
    @inline(__always)
    func parseCommonStatsdLine<Sink: EventSink>(
        _ b: UnsafeRawBufferPointer,
        maxLineBytes: Int,
        into events: inout Sink,
        cache: inout ParseCache
    ) -> Int {
        parseCommonStatsd(b, untilNewline: true, maxLineBytes: maxLineBytes, into: &events, cache: &cache)
    }

    /// Both lanes: the line is `b` whole (`untilNewline` false) or `b`'s bytes up to the first
    /// `\n` (true). Returns the line's length, -1 when the line is not of the lane's shape.
    @inline(__always)
    private func parseCommonStatsd<Sink: EventSink>(
        _ b: UnsafeRawBufferPointer,
        untilNewline: Bool,
        maxLineBytes: Int,
        into events: inout Sink,
        cache: inout ParseCache
    ) -> Int {
        let n = b.count
        guard n >= 5, let p = b.baseAddress else { return -1 }
        // The first byte: not what `parse` strips or routes elsewhere (space, BOM, JSON, `_e{`).
        switch p.load(as: UInt8.self) {
        case UInt8(ascii: " "), UInt8(ascii: "_"), UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "#"): return -1
        default: break
        }
        // The name, as `scanName` reads it (same hash), but giving up at any byte ≥ 0x80.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        var i = 0
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func has(_ w: UInt64, _ c: UInt8) -> Bool {
            let x = w ^ (ones &* UInt64(c))
            return (x &- ones) & ~x & highs != 0
        }
        while i + 8 <= n {
            let w = p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            if w & highs != 0 || (w &- ones &* 0x20) & ~w & highs != 0 || has(w, 0x7F) || has(w, UInt8(ascii: ":"))
                || has(w, UInt8(ascii: "|")) || has(w, UInt8(ascii: "#"))
            {
                break
            }
            h = mixWord(h, w)
            i += 8
        }
        while true {
            guard i < n else { return -1 }
            let c = p.load(fromByteOffset: i, as: UInt8.self)
            if c == UInt8(ascii: ":") { break }
            if c < 0x20 || c >= 0x7F || c == UInt8(ascii: "|") || c == UInt8(ascii: "#") { return -1 }
            h = (h ^ UInt64(c)) &* 0x100_0000_01b3
            i += 1
        }
        let colon = i
        guard colon > 0 else { return -1 }
        // The value: 1 to 15 decimal digits, then '|'.
        i += 1
        var m: UInt64 = 0
        while i < n {
            let d = p.load(fromByteOffset: i, as: UInt8.self) &- UInt8(ascii: "0")
            if d > 9 { break }
            m = m &* 10 &+ UInt64(d)
            i += 1
        }
        let digits = i - colon - 1
        guard digits >= 1, digits <= 15, i + 1 < n, p.load(fromByteOffset: i, as: UInt8.self) == UInt8(ascii: "|")
        else { return -1 }
        // The type, then the end of the line or '|'.
        let kind: MetricKind
        switch p.load(fromByteOffset: i + 1, as: UInt8.self) {
        case UInt8(ascii: "c"): kind = .counter
        case UInt8(ascii: "g"): kind = .gauge
        case UInt8(ascii: "h"), UInt8(ascii: "d"): kind = .distribution
        case UInt8(ascii: "m"):
            guard i + 2 < n, p.load(fromByteOffset: i + 2, as: UInt8.self) == UInt8(ascii: "s") else { return -1 }
            kind = .distribution
            i += 1
        default: return -1
        }
        i += 2
        var tagSlot = -1
        var labelsID = 0
        var end = n
        if untilNewline && i < n && p.load(fromByteOffset: i, as: UInt8.self) == UInt8(ascii: "\n") {
            end = i
        } else if i < n {
            // Only `|#tags` to the end of the line, already cached (a cached key holds no '|'
            // and no trailing space: it came from a line `parse` took apart). One pass finds the
            // line's end and hashes the tags as `ParseCache.hash` does (words, then bytes).
            guard i + 1 < n, p.load(fromByteOffset: i, as: UInt8.self) == UInt8(ascii: "|"),
                p.load(fromByteOffset: i + 1, as: UInt8.self) == UInt8(ascii: "#")
            else { return -1 }
            let tags = i + 2
            var th: UInt64 = 0xcbf2_9ce4_8422_2325
            var k = tags
            while k + 8 <= n {
                let w = p.loadUnaligned(fromByteOffset: k, as: UInt64.self)
                if untilNewline && has(w, UInt8(ascii: "\n")) { break }
                th = mixWord(th, w)
                k += 8
            }
            while k < n {
                let c = p.load(fromByteOffset: k, as: UInt8.self)
                if untilNewline && c == UInt8(ascii: "\n") { break }
                th = (th ^ UInt64(c)) &* 0x100_0000_01b3
                k += 1
            }
            if untilNewline && k == n { return -1 }
            end = k
            guard
                let (slot, id) = cache.labelsEntry(
                    UnsafeRawBufferPointer(rebasing: b[tags..<end]),
                    hash: Int(truncatingIfNeeded: finishHash(th))
                )
            else { return -1 }
            (tagSlot, labelsID) = (slot, id)
        } else if untilNewline {
            return -1
        }
        if untilNewline && end > maxLineBytes { return -1 }
        let hash = Int(truncatingIfNeeded: finishHash(h))
        let (slot, nameID) = cache.entry(UnsafeRawBufferPointer(rebasing: b[0..<colon]), hash: hash)
        guard slot >= 0 else { return -1 }
        events.appendFields(
            name: cache.string(at: slot),
            nameID: nameID,
            nameHash: hash,
            labels: tagSlot < 0 ? [:] : cache.labelSet(at: tagSlot),
            labelsID: labelsID,
            value: Double(m),
            kind: kind,
            time: nil,
            sampleRate: 1,
            member: nil,
            isDelta: false
        )
        return end
    }

    private func parseStatsd<Sink: EventSink>(
        _ b: UnsafeRawBufferPointer,
        into events: inout Sink,
        stats: inout ParseStats,
        cache: inout ParseCache
    ) -> LineOutcome {
        // ASCII is valid UTF-8; only lines with high bytes pay for full validation.
        let ascii = isASCII(b)
        if !ascii && String(validating: b, as: UTF8.self) == nil { return .rejected(.invalidUTF8) }
        // One pass over the name: find the ':', check the name's bytes, hash them for the cache.
        let (colon, badName, h) = scanName(b)
        if colon < 0 { return .rejected(.missingValue) }
        if colon == 0 { return .rejected(.emptyName) }
        if badName { return .rejected(.invalidName) }
        // Fields after the name, split at '|' by index: values, type, then optional fields.
        guard let firstBar = find(UInt8(ascii: "|"), in: b, from: colon + 1) else {
            return b.count == colon + 1 ? .rejected(.missingValue) : .rejected(.missingType)
        }
        let valueField = UnsafeRawBufferPointer(rebasing: b[(colon + 1)..<firstBar])
        if valueField.isEmpty { return .rejected(.missingValue) }
        let typeEnd = find(UInt8(ascii: "|"), in: b, from: firstBar + 1) ?? b.count
        let typeField = UnsafeRawBufferPointer(rebasing: b[(firstBar + 1)..<typeEnd])
        let kind: MetricKind
        var isTimer = false
        if typeField.count == 1 {
            switch typeField[0] {
            case UInt8(ascii: "c"): kind = .counter
            case UInt8(ascii: "g"): kind = .gauge
            case UInt8(ascii: "h"), UInt8(ascii: "d"): kind = .distribution
            case UInt8(ascii: "s"): kind = .set
            default: return .rejected(.unknownType)
            }
        } else if typeField.count == 2 && typeField[0] == UInt8(ascii: "m") && typeField[1] == UInt8(ascii: "s") {
            kind = .distribution
            isTimer = true
        } else {
            return .rejected(typeField.isEmpty ? .missingType : .unknownType)
        }
        var rate = 1.0
        var labels: [String: String]?
        var labelsID = 0
        var time: Double?
        var fieldStart = typeEnd + 1
        while fieldStart <= b.count {
            let fieldEnd =
                fieldStart < b.count ? (find(UInt8(ascii: "|"), in: b, from: fieldStart) ?? b.count) : b.count
            let field = UnsafeRawBufferPointer(rebasing: b[fieldStart..<fieldEnd])
            fieldStart = fieldEnd + 1
            if field.isEmpty { continue }
            let rest = UnsafeRawBufferPointer(rebasing: field[1...])
            switch field[0] {
            case UInt8(ascii: "@"):
                guard let r = parseNumber(rest), r > 0, r <= 1, (1 / r).isFinite else {
                    return .rejected(.invalidSampleRate)
                }
                rate = r
            case UInt8(ascii: "#"):
                var parsed: [String: String]
                var id: Int
                if let (cached, cachedID) = cache.labels(rest) {
                    (parsed, id) = (cached, cachedID)
                } else {
                    parsed = [:]
                    guard parseTags(rest, into: &parsed) else { return .rejected(.invalidTag) }
                    id = cache.store(labels: parsed, for: rest)
                }
                if labels == nil {
                    (labels, labelsID) = (parsed, id)
                } else {
                    // Several #-fields: their union is a new label set, not a cached one.
                    labels!.merge(parsed) { _, new in new }
                    labelsID = -1
                }
            case UInt8(ascii: "T"):
                guard let t = parseNumber(rest), t > 0, t == t.rounded(), t < 1e11 else {
                    return .rejected(.invalidTimestamp)
                }
                time = t
            default:
                // Unknown DogStatsD fields (c:, e:, card:, …) are ignored, as the agent does.
                stats.ignoredFields += 1
            }
        }
        let nameBytes = UnsafeRawBufferPointer(rebasing: b[0..<colon])
        var (slot, nameID) = cache.entry(nameBytes, hash: Int(truncatingIfNeeded: h))
        if !ascii { (slot, nameID) = (-1, -1) }
        // The name's String only when the batch meets this id for the first time.
        func name() -> String {
            if slot >= 0 { return cache.string(at: slot) }
            let decoded = String(decoding: nameBytes, as: UTF8.self)
            return ascii ? decoded : decoded.precomposedStringWithCanonicalMapping
        }
        if kind == .set {
            // A set member is any text (user id, session id); packing does not apply to sets.
            let member = String(decoding: valueField, as: UTF8.self)
            events.appendFields(
                name: name(),
                nameID: nameID,
                nameHash: ascii ? Int(truncatingIfNeeded: h) : nil,
                labels: labels ?? [:],
                labelsID: labelsID,
                value: 1,
                kind: .set,
                time: time,
                sampleRate: rate,
                member: member,
                isDelta: false
            )
            return .accepted(1)
        }
        // Packed values (DogStatsD v1.1): name:1:2:3|h is three samples; empty ones are skipped.
        let first = events.count
        var vStart = 0
        while vStart <= valueField.count {
            let vEnd =
                vStart < valueField.count
                ? (find(UInt8(ascii: ":"), in: valueField, from: vStart) ?? valueField.count) : valueField.count
            let piece = UnsafeRawBufferPointer(rebasing: valueField[vStart..<vEnd])
            vStart = vEnd + 1
            if piece.isEmpty { continue }
            guard let v = parseNumber(piece) else {
                events.truncate(to: first)
                return .rejected(.invalidValue)
            }
            guard v.isFinite else {
                events.truncate(to: first)
                return .rejected(.nonFiniteValue)
            }
            if isTimer && v < 0 {
                events.truncate(to: first)
                return .rejected(.negativeDuration)
            }
            // The value scaled by the sample rate must stay finite (1e308|c|@0.01 would be +Inf).
            if rate != 1 && !(v / rate).isFinite {
                events.truncate(to: first)
                return .rejected(.nonFiniteValue)
            }
            let isDelta =
                kind == .gauge && options.gaugeDeltas
                && (piece[0] == UInt8(ascii: "+") || piece[0] == UInt8(ascii: "-"))
            events.appendFields(
                name: name(),
                nameID: nameID,
                nameHash: ascii ? Int(truncatingIfNeeded: h) : nil,
                labels: labels ?? [:],
                labelsID: labelsID,
                value: v,
                kind: kind,
                time: time,
                sampleRate: rate,
                member: nil,
                isDelta: isDelta
            )
        }
        if events.count == first { return .rejected(.missingValue) }
        return .accepted(events.count - first)
    }

    private func parseTags(_ b: UnsafeRawBufferPointer, into labels: inout [String: String]) -> Bool {
        var start = 0
        for i in 0...b.count where i == b.count || b[i] == UInt8(ascii: ",") {
            let tag = UnsafeRawBufferPointer(rebasing: b[start..<i])
            start = i + 1
            if tag.isEmpty { continue }
            if let c = tag.firstIndex(of: UInt8(ascii: ":")) {
                if c == 0 { return false }
                labels[String(decoding: tag[0..<c], as: UTF8.self)] = String(decoding: tag[(c + 1)...], as: UTF8.self)
            } else {
                labels[String(decoding: tag, as: UTF8.self)] = ""
            }
        }
        return true
    }

    // MARK: - JSON lines

    private struct JSONEvent: Decodable {
        var metric: String?
        var value: ValueField?
        var kind: String?
        var labels: [String: LabelValue]?
        var time: TimeValue?
    }

    private enum LabelValue: Decodable {
        case text(String)
        case absent
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() {
                self = .absent
            } else if let s = try? c.decode(String.self) {
                self = .text(s)
            } else if let b = try? c.decode(Bool.self) {
                self = .text(b ? "true" : "false")
            } else {
                let d = try c.decode(Double.self)
                self = .text(d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d))
            }
        }
    }

    /// A JSON value: a number, or text (allowed only as a set member, e.g. a user id).
    private enum ValueField: Decodable {
        case number(Double)
        case text(String)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let d = try? c.decode(Double.self) { self = .number(d) } else { self = .text(try c.decode(String.self)) }
        }
    }

    private enum TimeValue: Decodable {
        case text(String)
        case number(Double)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let d = try? c.decode(Double.self) { self = .number(d) } else { self = .text(try c.decode(String.self)) }
        }
    }

    /// An array element that may not be an event object at all.
    private struct BatchElement: Decodable {
        var event: JSONEvent?
        init(from decoder: Decoder) throws { event = try? JSONEvent(from: decoder) }
    }

    private func parseJSON<Sink: EventSink>(_ b: UnsafeRawBufferPointer, into events: inout Sink) -> LineOutcome {
        guard String(validating: b, as: UTF8.self) != nil else { return .rejected(.invalidUTF8) }
        let decoded: JSONEvent
        do {
            decoded = try JSONDecoder().decode(JSONEvent.self, from: Data(b))
        } catch {
            // A value of the wrong JSON type (e.g. "value": "x" or true) lands here too.
            return .rejected(.invalidJSON)
        }
        switch makeEvent(decoded) {
        case .success(let e):
            events.append(e)
            return .accepted(1)
        case .failure(let reason):
            return .rejected(reason.reason)
        }
    }

    private func parseJSONBatch<Sink: EventSink>(_ b: UnsafeRawBufferPointer, into events: inout Sink)
        -> LineOutcome
    {
        guard String(validating: b, as: UTF8.self) != nil else { return .rejected(.invalidUTF8) }
        guard let elements = try? JSONDecoder().decode([BatchElement].self, from: Data(b)) else {
            return .rejected(.invalidJSON)
        }
        var accepted = 0
        var rejected: [RejectReason] = []
        var positions: [Int] = []
        for (k, element) in elements.enumerated() {
            guard let decoded = element.event else {
                rejected.append(.invalidJSON)
                positions.append(k)
                continue
            }
            switch makeEvent(decoded) {
            case .success(let e):
                events.append(e)
                accepted += 1
            case .failure(let reason):
                rejected.append(reason.reason)
                positions.append(k)
            }
        }
        if rejected.isEmpty { return elements.isEmpty ? .empty : .accepted(accepted) }
        if accepted == 0 && rejected.count == 1 && elements.count == 1 { return .rejected(rejected[0]) }
        return .partial(accepted: accepted, rejected: rejected, elements: positions)
    }

    private struct Rejection: Error {
        var reason: RejectReason
        init(_ r: RejectReason) { reason = r }
    }

    private func makeEvent(_ decoded: JSONEvent) -> Result<Event, Rejection> {
        guard var metric = decoded.metric, decoded.value != nil || decoded.kind != nil else {
            return .failure(Rejection(.invalidJSON))
        }
        if metric.isEmpty { return .failure(Rejection(.emptyName)) }
        if metric.utf8.contains(where: {
            $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "|") || $0 == UInt8(ascii: "#") || $0 == UInt8(ascii: ":")
        }) {
            return .failure(Rejection(.invalidName))
        }
        if metric.utf8.contains(where: { $0 >= 0x80 }) { metric = metric.precomposedStringWithCanonicalMapping }
        guard let field = decoded.value else { return .failure(Rejection(.missingValue)) }
        let kind: MetricKind
        switch decoded.kind {
        case "counter", "c": kind = .counter
        case "cumulative": kind = .cumulative
        case "gauge", "g": kind = .gauge
        case "distribution", "d", "h", "histogram", "timer", "ms": kind = .distribution
        case "set", "s": kind = .set
        case nil: return .failure(Rejection(.missingType))
        default: return .failure(Rejection(.unknownType))
        }
        let value: Double
        var textMember: String?
        switch field {
        case .number(let n): value = n
        case .text(let t):
            guard kind == .set else { return .failure(Rejection(.invalidValue)) }
            value = 1
            textMember = t
        }
        guard value.isFinite else { return .failure(Rejection(.nonFiniteValue)) }
        if decoded.kind == "ms" || decoded.kind == "timer", value < 0 { return .failure(Rejection(.negativeDuration)) }
        var time: Double?
        switch decoded.time {
        case nil: time = nil
        case .number(let n):
            guard n.isFinite, n > 0 else { return .failure(Rejection(.invalidTimestamp)) }
            time = n > 1e11 ? n / 1000 : n
        case .text(let s):
            guard let t = RFC3339.parse(s), t > 0 else { return .failure(Rejection(.invalidTimestamp)) }
            time = t
        }
        var labels: [String: String] = [:]
        for (k, v) in decoded.labels ?? [:] {
            if k.isEmpty { return .failure(Rejection(.invalidTag)) }
            if case .text(let s) = v { labels[k] = s }
        }
        if kind == .set {
            // A JSON set member is the value: a string as is, a number in its shortest form.
            return .success(
                Event(
                    metric: metric,
                    value: 1,
                    kind: .set,
                    labels: labels,
                    time: time,
                    member: textMember ?? AlertEntry.number(value)
                )
            )
        }
        return .success(Event(metric: metric, value: value, kind: kind, labels: labels, time: time))
    }
}

/// The statsd name at the start of `b`: the index of the `:` after it (-1: none), whether it holds
/// a byte a name may not (a control character, DEL, `|` or `#`), and the FNV-1a hash of its bytes
/// (`fnvHash`), all in one pass: eight bytes at a time while no `:` or bad byte is in
/// the word.
@inline(__always)
func scanName(_ b: UnsafeRawBufferPointer) -> (colon: Int, bad: Bool, hash: UInt64) {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    var bad = false
    var i = 0
    if let base = b.baseAddress {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func has(_ w: UInt64, _ c: UInt8) -> Bool {
            let x = w ^ (ones &* UInt64(c))
            return (x &- ones) & ~x & highs != 0
        }
        while i + 8 <= b.count {
            let w = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            // A control byte (< 0x20), DEL, ':', '|' or '#' somewhere: finish byte by byte.
            if (w &- ones &* 0x20) & ~w & highs != 0 || has(w, 0x7F) || has(w, UInt8(ascii: ":"))
                || has(w, UInt8(ascii: "|")) || has(w, UInt8(ascii: "#"))
            {
                break
            }
            h = mixWord(h, w)
            i += 8
        }
    }
    while i < b.count {
        let byte = b[i]
        if byte == UInt8(ascii: ":") { return (i, bad, finishHash(h)) }
        if byte < 0x20 || byte == 0x7F || byte == UInt8(ascii: "|") || byte == UInt8(ascii: "#") { bad = true }
        h = (h ^ UInt64(byte)) &* 0x100_0000_01b3
        i += 1
    }
    return (-1, bad, 0)
}

/// The hash `scanName` computes, of any bytes (the parse cache's key for names and tag sets):
/// whole eight-byte words mixed with one multiply each, then the rest byte by byte (FNV-1a).
@inline(__always)
func fnvHash(_ b: UnsafeRawBufferPointer) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    var i = 0
    if let base = b.baseAddress {
        while i + 8 <= b.count {
            h = mixWord(h, base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            i += 8
        }
    }
    while i < b.count {
        h = (h ^ UInt64(b[i])) &* 0x100_0000_01b3
        i += 1
    }
    return finishHash(h)
}

/// One eight-byte word into a running hash (a multiply and a shift: a short dependency chain).
@inline(__always)
func mixWord(_ h: UInt64, _ w: UInt64) -> UInt64 {
    let x = (h ^ w) &* 0x9E37_79B9_7F4A_7C15
    return x ^ (x >> 32)
}

@inline(__always)
func finishHash(_ h: UInt64) -> UInt64 {
    // FNV's multiply carries a byte's effect only upwards: the low bits, which pick a cache set,
    // would hardly depend on the last digits of `bench.s123`. One more multiply and a fold bring
    // the high bits down.
    let x = h &* 0x9E37_79B9_7F4A_7C15
    return x ^ (x >> 32)
}

/// Whether every byte is below 0x80, eight at a time.
@inline(__always)
func isASCII(_ b: UnsafeRawBufferPointer) -> Bool {
    var i = 0
    if let base = b.baseAddress {
        while i + 8 <= b.count {
            if base.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
            i += 8
        }
    }
    while i < b.count {
        if b[i] >= 0x80 { return false }
        i += 1
    }
    return true
}

/// The index of the first `byte` in `b` at or after `from`, `nil` when absent. A plain loop:
/// the fields of a statsd line are a few bytes long, where a memchr(3) call costs more than it
/// saves (the line framing, which scans kilobytes, uses `findFar`).
@inline(__always)
func find(_ byte: UInt8, in b: UnsafeRawBufferPointer, from: Int) -> Int? {
    var i = from
    while i < b.count {
        if b[i] == byte { return i }
        i += 1
    }
    return nil
}

/// Like `find`, with memchr(3), for long scans.
@inline(__always)
func findFar(_ byte: UInt8, in b: UnsafeRawBufferPointer, from: Int) -> Int? {
    guard from < b.count, let base = b.baseAddress else { return nil }
    guard let hit = memchr(base + from, Int32(byte), b.count - from) else { return nil }
    return UnsafeRawPointer(hit) - base
}

// MARK: - Number parsing

private let powersOfTen: [Double] = (0...22).map { pow(10.0, Double($0)) }

/// Parses a decimal number from ASCII bytes. Plain decimals with at most 15 significant digits use
/// an exact fast path (Clinger: one correctly rounded division by an exact power of ten, so the
/// result equals `strtod`); anything else (exponents, `inf`, `nan`) goes through `Double(String)`.
func parseNumber(_ b: UnsafeRawBufferPointer) -> Double? {
    if b.isEmpty { return nil }
    // The usual statsd value: a few decimal digits ("1", "250").
    if b.count <= 15 {
        var m: UInt64 = 0
        var digits = true
        for c in b {
            let d = c &- UInt8(ascii: "0")
            if d > 9 {
                digits = false
                break
            }
            m = m &* 10 &+ UInt64(d)
        }
        if digits { return Double(m) }
    }
    var i = 0
    var negative = false
    if b[0] == UInt8(ascii: "-") || b[0] == UInt8(ascii: "+") {
        negative = b[0] == UInt8(ascii: "-")
        i = 1
    }
    var mantissa: UInt64 = 0
    var significant = 0
    var anyDigit = false
    var fractionDigits = 0
    var seenDot = false
    var fast = true
    while i < b.count {
        let c = b[i]
        if c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
            anyDigit = true
            let d = UInt64(c - UInt8(ascii: "0"))
            if mantissa != 0 || d != 0 { significant += 1 }
            if significant > 15 {
                fast = false
                break
            }
            mantissa = mantissa * 10 + d
            if seenDot { fractionDigits += 1 }
        } else if c == UInt8(ascii: "."), !seenDot {
            seenDot = true
        } else {
            fast = false
            break
        }
        i += 1
    }
    if fast && anyDigit && fractionDigits <= 22 {
        // Whole numbers (the usual counter "1") need no table.
        let v = fractionDigits == 0 ? Double(mantissa) : Double(mantissa) / powersOfTen[fractionDigits]
        return negative ? -v : v
    }
    // Only decimal syntax reaches Double(String): it would accept hexadecimal floats, and strtod
    // underneath stops at a NUL byte ("5\0garbage" would read as 5).
    for c in b {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "i"), UInt8(ascii: "I"), UInt8(ascii: "n"),
            UInt8(ascii: "N"), UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "a"), UInt8(ascii: "A"),
            UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "y"), UInt8(ascii: "Y"):
            continue
        default:
            return nil
        }
    }
    return Double(String(decoding: b, as: UTF8.self))
}
