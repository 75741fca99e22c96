import Foundation

/// Metric name → objective indexes, looked up once per event on the ingest path. An
/// open-addressing table hashed with `fnvHash` of the name's UTF-8 bytes (the parser's hash, carried in
/// `EventBatch.nameHashes`, so a name is not hashed twice): cheaper than `String`'s
/// seeded SipHash for the short names metrics have, and the table is built once and never
/// changes (objectives change only by building a new engine).
struct MetricIndex: Sendable {
    private var keys: [String?]
    private var ranges: [Range<Int>]
    /// Objective indexes, grouped per metric; `lookup` returns a range into it.
    private(set) var objectives: [Int] = []
    private let mask: Int

    init(_ map: [String: [Int]]) {
        var capacity = 16
        while capacity < map.count * 2 { capacity <<= 1 }
        mask = capacity - 1
        keys = Array(repeating: nil, count: capacity)
        ranges = Array(repeating: 0..<0, count: capacity)
        for (k, v) in map {
            var slot = Self.hash(k) & mask
            while keys[slot] != nil { slot = (slot + 1) & mask }
            keys[slot] = k
            ranges[slot] = objectives.count..<(objectives.count + v.count)
            objectives += v
        }
    }

    /// `fnvHash` of the name's UTF-8 bytes (`EventBatch.nameHashes` holds the same).
    static func hash(_ s: String) -> Int { EventBatch.hash(s) }

    /// Where the objectives using `metric` are in `objectives`, `nil` when none does.
    func lookup(_ metric: String) -> Range<Int>? { lookup(metric, hash: Self.hash(metric)) }

    /// `lookup(_:)` given the name's hash (`EventBatch.nameHashes`).
    @inline(__always)
    func lookup(_ metric: String, hash: Int) -> Range<Int>? {
        var slot = hash & mask
        while let k = keys[slot] {
            if k == metric { return ranges[slot] }
            slot = (slot + 1) & mask
        }
        return nil
    }
}
