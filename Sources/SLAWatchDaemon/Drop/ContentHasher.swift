import Foundation
import SLAWatchCore
import SLAWatchStore

/// A 128-bit non-cryptographic content digest (two 64-bit multiply–xorshift lanes over 8-byte
/// words, length folded in): tells one file's content from another's in the ledger. Stable
/// across runs and machines (little-endian words).
struct ContentHasher {
    private var a: UInt64 = 0x9E37_79B9_7F4A_7C15
    private var b: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private var tail: [UInt8] = []
    private(set) var bytes: Int64 = 0

    private static func mix(_ h: UInt64, _ w: UInt64, _ k: UInt64) -> UInt64 {
        var x = (h ^ w) &* k
        x ^= x >> 29
        return x &* 0xBF58_476D_1CE4_E5B9
    }

    mutating func update(_ data: UnsafeRawBufferPointer) {
        bytes += Int64(data.count)
        var i = 0
        if !tail.isEmpty {
            while tail.count < 8, i < data.count {
                tail.append(data[i])
                i += 1
            }
            if tail.count < 8 { return }
            let w = tail.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            absorb(UInt64(littleEndian: w))
            tail.removeAll(keepingCapacity: true)
        }
        while i + 8 <= data.count {
            absorb(UInt64(littleEndian: data.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
            i += 8
        }
        while i < data.count {
            tail.append(data[i])
            i += 1
        }
    }

    private mutating func absorb(_ w: UInt64) {
        a = Self.mix(a, w, 0x94D0_49BB_1331_11EB)
        b = Self.mix(b &+ 0x632B_E59B_D9B4_E019, w.byteSwapped, 0xFF51_AFD7_ED55_8CCD)
    }

    var hex: String {
        var x = a
        var y = b
        var last: UInt64 = 0
        for (k, byte) in tail.enumerated() { last |= UInt64(byte) << (8 * UInt64(k)) }
        x = Self.mix(x, last ^ UInt64(bitPattern: bytes), 0x94D0_49BB_1331_11EB)
        y = Self.mix(y, last &+ UInt64(bitPattern: bytes), 0xFF51_AFD7_ED55_8CCD)
        x ^= x >> 31
        y ^= y >> 31
        func hex16(_ v: UInt64) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }
        return hex16(x) + hex16(y)
    }
}
