// Allocations per event on slawatch's ingest hot path: the stream socket's line framing and
// parsing (LineBatcher, 256 KiB reads as NIO delivers them to the stream listener) and the engine's window updates
// (Engine.ingest of each batch), with 1,000 objectives over the metrics. Counted by
// ordo-one/malloc-interposer (LD_PRELOAD), after a warm-up, over the steady state.
//
// usage: ingest-allocations [EVENTS] [SERIES]
import Foundation
import MallocInterposerSwift
import SLAWatchCore

let arguments = CommandLine.arguments
let events = arguments.count > 1 ? Int(arguments[1]) ?? 2_000_000 : 2_000_000
let series = arguments.count > 2 ? Int(arguments[2]) ?? 1000 : 1000
let names = max(1, min(series, 1000))
let shards = max(1, series / names)

var payload: [UInt8] = []
payload.reserveCapacity(events * 32)
for i in 0..<events {
    var line = "bench.s\(i % names):1|c"
    if shards > 1 { line += "|#shard:\(i / names % shards)" }
    payload += Array((line + "\n").utf8)
}
let sla = SLA(name: "b", provider: "b", customer: "b")
let objectives = (0..<names).map { i in
    Objective(
        name: "b-\(i)",
        sla: sla,
        metric: "bench.s\(i)",
        sli: .count,
        window: .rolling(seconds: 300),
        direction: .atMost,
        baseline: Baseline(value: 1e12, kind: .fixed, source: "1e12"),
        nodata: .ok
    )
}
var engine = Engine(objectives: objectives)
var batcher = LineBatcher(maxLineBytes: 65536)
let now = Date().timeIntervalSince1970
let chunk = 262_144
var accepted = 0
let pool = EventBatchPool()

@MainActor
func run(_ range: Range<Int>) {
    var offset = range.lowerBound
    while offset < range.upperBound {
        let end = min(offset + chunk, range.upperBound)
        payload.withUnsafeBytes { raw in batcher.feed(UnsafeRawBufferPointer(rebasing: raw[offset..<end])) }
        let b = batcher.take(reusing: pool)
        accepted += engine.ingest(b.events, now: now).accepted
        pool.recycle(b.events, b.eventLines)
        offset = end
    }
}

MallocInterposerSwift.initialize()
let warmup = payload.count / 10
run(0..<warmup)
let before = accepted
MallocInterposerSwift.reset()
MallocInterposerSwift.hook()
let t0 = ProcessInfo.processInfo.systemUptime
run(warmup..<payload.count)
let elapsed = ProcessInfo.processInfo.systemUptime - t0
MallocInterposerSwift.unhook()
let stats = MallocInterposerSwift.getStatistics()
let measured = accepted - before
print(
    "ingest hot path (parse + engine), \(measured) events, \(series) series, steady state after \(before) warm-up events"
)
print(
    String(
        format: "  mallocs per event: %.4f (%d in all)",
        Double(stats.mallocCount) / Double(measured),
        stats.mallocCount
    )
)
print(
    String(
        format: "  bytes allocated per event: %.2f (%d in all)",
        Double(stats.mallocBytesCount) / Double(measured),
        stats.mallocBytesCount
    )
)
print(String(format: "  %.0f events/s on one thread (with the interposer counting)", Double(measured) / elapsed))
