/// The binary form of a window bucket (`Aggregate`) in the store's `bucket.data` column: compact,
/// exact (every double bit for bit) and fast to write and read, sketches included.
///
/// Layout, format 1 (integers are LEB128 varints, signed ones zigzag-encoded; doubles are 8 bytes
/// little-endian, or a zigzag varint when they hold a whole number below 2⁵³ and the field's bit in
/// `whole` says so):
/// ```
/// u8 format (1) | u8 flags (1: min/max, 2: set members, 4: sketch) | u8 whole (bit per number)
/// varint samples | num count | num sum | num valueSum | num good | [num min | num max]
/// [varint n | n × (varint length | UTF-8 bytes)]                       members, sorted
/// [u8 sketch whole (1: zero, 2: every weight) | num zero
///  | varint n | [zigzag first index | n × (varint gap | num weight)]    positive bins
///  | varint n | [zigzag first index | n × (varint gap | num weight)]]   negative bins
/// ```
/// `whole` bits: 1 count, 2 sum, 4 valueSum, 8 good, 16 min, 32 max. A typical counter bucket
/// takes 8 bytes; a latency bucket with 300 bins about 2 bytes a bin when weights are counts.
public enum BucketCodec {
    /// A bucket that cannot be decoded.
    public struct DecodeError: Error, CustomStringConvertible, Equatable {
        /// What is wrong, with the byte offset.
        public var description: String
        /// Creates the error.
        public init(description: String) { self.description = description }
    }

    /// Appends the encoding of `a` to `out`.
    public static func encode(_ a: Aggregate, into out: inout [UInt8]) {
        out.append(1)
        var flags: UInt8 = 0
        if a.min != nil || a.max != nil { flags |= 1 }
        if a.members != nil { flags |= 2 }
        if a.sketch != nil { flags |= 4 }
        out.append(flags)
        let numbers: [Double] = [a.count, a.sum, a.valueSum, a.good, a.min ?? 0, a.max ?? 0]
        var whole: UInt8 = 0
        for (i, v) in numbers.enumerated() where isWhole(v) { whole |= 1 << UInt8(i) }
        out.append(whole)
        writeVarint(UInt64(max(0, a.samples)), &out)
        for i in 0..<4 { writeNumber(numbers[i], whole & (1 << UInt8(i)) != 0, &out) }
        if flags & 1 != 0 {
            writeNumber(numbers[4], whole & 16 != 0, &out)
            writeNumber(numbers[5], whole & 32 != 0, &out)
        }
        if let members = a.members {
            let sorted = members.sorted()
            writeVarint(UInt64(sorted.count), &out)
            for m in sorted {
                let bytes = Array(m.utf8)
                writeVarint(UInt64(bytes.count), &out)
                out += bytes
            }
        }
        if let sketch = a.sketch { encodeSketch(sketch, into: &out) }
    }

    /// Appends the sketch section of the layout (also the packed form in which a window keeps the
    /// sketches of its sealed buckets in memory: about 2.5 bytes a bin instead of 8).
    public static func encodeSketch(_ sketch: QuantileSketch, into out: inout [UInt8]) {
        let p = sketch.positiveBins
        let n = sketch.negativeBins
        let allWhole = p.allSatisfy { isWhole($0.weight) } && n.allSatisfy { isWhole($0.weight) }
        let zeroWhole = isWhole(sketch.zero)
        out.append((zeroWhole ? 1 : 0) | (allWhole ? 2 : 0))
        writeNumber(sketch.zero, zeroWhole, &out)
        for bins in [p, n] {
            writeVarint(UInt64(bins.count), &out)
            guard let first = bins.first else { continue }
            writeVarint(zigzag(Int64(first.index)), &out)
            var previous = first.index
            for b in bins {
                writeVarint(UInt64(Int64(b.index) - Int64(previous)), &out)
                previous = b.index
                writeNumber(b.weight, allWhole, &out)
            }
        }
    }

    /// A packed sketch (`encodeSketch`).
    public static func packSketch(_ sketch: QuantileSketch) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(8 + 3 * sketch.binCount)
        encodeSketch(sketch, into: &out)
        return out
    }

    /// Adds a packed sketch's bins into `sketch` (`sign` 1), or takes them out (`sign` −1),
    /// straight from the bytes, without building a sketch for it.
    /// - Throws: `DecodeError` for bytes that are not a packed sketch.
    public static func mergePacked(_ bytes: [UInt8], into sketch: inout QuantileSketch, sign: Double = 1)
        throws(DecodeError)
    {
        do {
            try bytes.withUnsafeBytes { raw in
                var r = Reader(bytes: raw)
                try mergeSketch(&r, into: &sketch, sign: sign)
                guard r.offset == raw.count else {
                    throw DecodeError(description: "\(raw.count - r.offset) trailing byte(s) after a packed sketch")
                }
            }
        } catch let e as DecodeError {
            throw e
        } catch {
            throw DecodeError(description: "\(error)")
        }
    }

    /// A packed sketch, decoded.
    /// - Throws: `DecodeError`.
    public static func unpackSketch(_ bytes: [UInt8]) throws(DecodeError) -> QuantileSketch {
        var sketch = QuantileSketch()
        try mergePacked(bytes, into: &sketch)
        return sketch
    }

    private static func mergeSketch(_ r: inout Reader, into sketch: inout QuantileSketch, sign: Double)
        throws(DecodeError)
    {
        let sw = try r.byte()
        sketch.addWeight(zero: sign * (try r.number(sw & 1 != 0)))
        for side in 0..<2 {
            let n = try r.count()
            guard n > 0 else { continue }
            var index = unzigzag(try r.varint())
            for _ in 0..<n {
                // A gap that does not fit, or an index that overflows, is damage, not a trap
                // (found by the state fuzz target).
                let gap = try r.varint()
                guard let step = Int64(exactly: gap), case (let next, false) = index.addingReportingOverflow(step)
                else {
                    throw DecodeError(description: "sketch bin gap \(gap) out of range at byte \(r.offset)")
                }
                index = next
                // Only indexes a finite value can have: a forged or damaged row with bins far
                // apart would otherwise allocate every bin in between (found by the state fuzz
                // target: 6 GB for one bucket).
                guard let k = Int32(exactly: index), QuantileSketch.indexRange.contains(k) else {
                    throw DecodeError(description: "sketch bin index \(index) out of range at byte \(r.offset)")
                }
                sketch.addWeight(bin: k, negative: side == 1, sign * (try r.number(sw & 2 != 0)))
            }
        }
    }

    /// Decodes a bucket's fields, leaving its sketch packed: the bytes of its sketch section
    /// (`nil` when it has none), for a window to keep as they are.
    /// - Throws: `DecodeError`.
    public static func decodeKeepingSketchPacked(_ bytes: UnsafeRawBufferPointer) throws(DecodeError) -> (
        aggregate: Aggregate, sketch: [UInt8]?
    ) {
        var r = Reader(bytes: bytes)
        var a = try decodeFields(&r)
        // The sketch section is the rest of the bytes; it is checked when it is first merged.
        if a.sketch != nil {
            a.sketch = nil
            guard r.offset < bytes.count else {
                throw DecodeError(description: "bucket ends early at byte \(r.offset)")
            }
            return (a, Array(bytes[r.offset...]))
        }
        guard r.offset == bytes.count else {
            throw DecodeError(description: "\(bytes.count - r.offset) trailing byte(s) after a bucket")
        }
        return (a, nil)
    }

    /// The encoding of `a`.
    public static func encode(_ a: Aggregate) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(48)
        encode(a, into: &out)
        return out
    }

    /// Decodes a bucket.
    /// - Throws: `DecodeError` for an unknown format, a truncated buffer or trailing bytes.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(DecodeError) -> Aggregate {
        var r = Reader(bytes: bytes)
        var a = try decodeFields(&r)
        if a.sketch != nil {
            var sketch = QuantileSketch()
            try mergeSketch(&r, into: &sketch, sign: 1)
            a.sketch = sketch
        }
        guard r.offset == bytes.count else {
            throw DecodeError(description: "\(bytes.count - r.offset) trailing byte(s) after a bucket")
        }
        return a
    }

    /// The fields before the sketch section; `sketch` is an empty sketch when one follows.
    private static func decodeFields(_ r: inout Reader) throws(DecodeError) -> Aggregate {
        let format = try r.byte()
        guard format == 1 else { throw DecodeError(description: "unknown bucket format \(format)") }
        let flags = try r.byte()
        let whole = try r.byte()
        var a = Aggregate()
        let samples = try r.varint()
        guard let n = Int(exactly: samples) else {
            throw DecodeError(description: "sample count \(samples) out of range at byte \(r.offset)")
        }
        a.samples = n
        a.count = try r.number(whole & 1 != 0)
        a.sum = try r.number(whole & 2 != 0)
        a.valueSum = try r.number(whole & 4 != 0)
        a.good = try r.number(whole & 8 != 0)
        if flags & 1 != 0 {
            a.min = try r.number(whole & 16 != 0)
            a.max = try r.number(whole & 32 != 0)
        }
        if flags & 2 != 0 {
            let n = try r.count()
            var members = Set<String>(minimumCapacity: n)
            for _ in 0..<n {
                let length = try r.count()
                members.insert(String(decoding: try r.take(length), as: UTF8.self))
            }
            a.members = members
        }
        if flags & 4 != 0 { a.sketch = QuantileSketch() }
        return a
    }

    /// Decodes a bucket from an array.
    /// - Throws: `DecodeError`.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> Aggregate {
        do {
            return try bytes.withUnsafeBytes { raw in try decode(raw) }
        } catch let e as DecodeError {
            throw e
        } catch {
            throw DecodeError(description: "\(error)")
        }
    }

    @inline(__always)
    private static func isWhole(_ v: Double) -> Bool {
        v == v.rounded(.towardZero) && abs(v) < 9_007_199_254_740_992 && !(v == 0 && v.sign == .minus)
    }

    @inline(__always)
    private static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }

    @inline(__always)
    private static func unzigzag(_ v: UInt64) -> Int64 { Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1) }

    @inline(__always)
    private static func writeVarint(_ value: UInt64, _ out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    @inline(__always)
    private static func writeNumber(_ v: Double, _ whole: Bool, _ out: inout [UInt8]) {
        if whole {
            writeVarint(zigzag(Int64(v)), &out)
        } else {
            var bits = v.bitPattern.littleEndian
            withUnsafeBytes(of: &bits) { out.append(contentsOf: $0) }
        }
    }

    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        @inline(__always)
        mutating func byte() throws(DecodeError) -> UInt8 {
            guard offset < bytes.count else { throw DecodeError(description: "bucket ends early at byte \(offset)") }
            defer { offset += 1 }
            return bytes[offset]
        }

        @inline(__always)
        mutating func varint() throws(DecodeError) -> UInt64 {
            // One byte is the common case (bin gaps, small counts).
            if offset < bytes.count, bytes[offset] < 0x80 {
                defer { offset += 1 }
                return UInt64(bytes[offset])
            }
            var v: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let b = try byte()
                guard shift < 64 else { throw DecodeError(description: "varint too long at byte \(offset)") }
                v |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return v }
                shift += 7
            }
        }

        /// A count or length, bounded by the bytes left (each element takes at least one byte).
        mutating func count() throws(DecodeError) -> Int {
            let v = try varint()
            guard v <= UInt64(bytes.count - offset) else {
                throw DecodeError(description: "length \(v) exceeds the bucket at byte \(offset)")
            }
            return Int(v)
        }

        mutating func take(_ n: Int) throws(DecodeError) -> UnsafeRawBufferPointer {
            guard n <= bytes.count - offset else {
                throw DecodeError(description: "bucket ends early at byte \(offset)")
            }
            defer { offset += n }
            return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)])
        }

        @inline(__always)
        mutating func number(_ whole: Bool) throws(DecodeError) -> Double {
            if whole { return Double(BucketCodec.unzigzag(try varint())) }
            let raw = try take(8)
            var bits: UInt64 = 0
            withUnsafeMutableBytes(of: &bits) { $0.copyMemory(from: raw) }
            return Double(bitPattern: UInt64(littleEndian: bits))
        }
    }
}
