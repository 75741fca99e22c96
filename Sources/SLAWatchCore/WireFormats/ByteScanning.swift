import Foundation

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
