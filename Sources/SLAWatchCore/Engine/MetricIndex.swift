import Foundation

/// Metric name → objective indexes, looked up once per event on the ingest path. An
/// open-addressing table hashed with FNV-1a over the name's UTF-8 bytes: cheaper than `String`'s
/// seeded SipHash for the short names metrics have, and the table is built once and never
/// changes (objectives change only by building a new engine).
struct MetricIndex: Sendable {
    private var keys: [String?]
    private var values: [[Int]]
    private let mask: Int

    init(_ map: [String: [Int]]) {
        var capacity = 16
        while capacity < map.count * 2 { capacity <<= 1 }
        mask = capacity - 1
        keys = Array(repeating: nil, count: capacity)
        values = Array(repeating: [], count: capacity)
        for (k, v) in map {
            var slot = Self.hash(k) & mask
            while keys[slot] != nil { slot = (slot + 1) & mask }
            keys[slot] = k
            values[slot] = v
        }
    }

    static func hash(_ s: String) -> Int {
        var copy = s
        return copy.withUTF8 { b in
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in b { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
            return Int(truncatingIfNeeded: h ^ (h >> 29))
        }
    }

    /// The objectives using `metric`, `nil` when none does.
    func lookup(_ metric: String) -> [Int]? {
        var slot = Self.hash(metric) & mask
        while let k = keys[slot] {
            if k == metric { return values[slot] }
            slot = (slot + 1) & mask
        }
        return nil
    }
}
