import Foundation

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
