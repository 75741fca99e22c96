// The ingest hot path on a fixed payload, for instruction counts (`valgrind --tool=callgrind`,
// repeatable whatever else the machine does) and, run natively, nanoseconds per event.
//
// usage: ingest-instructions MODE [EVENTS] [SERIES]
//   parse   LineBatcher framing and parsing of EVENTS counter lines (256 KiB reads, as NIO
//           delivers them), no engine
//   ingest  the same, and Engine.ingest of each batch with 1,000 count objectives over the
//           metrics (every event updates a window)
//   commit  one commit of a fixed state: 1,000 instances with a changed bucket each, taken
//           from the engine and encoded as the store writes them (BucketCodec), no SQLite
//   store   the same commit written by StateStore.write into a state file in a scratch
//           directory whose rows exist already (the steady state): the SQLite transaction too
//           (its fsyncs are system calls, which callgrind does not count)
// Prints `MODE events ns_per_event` (wall time of the loop, after a warm-up of 10 %).
import Foundation
import SLAWatchCore
import SLAWatchStore

let args = CommandLine.arguments
let mode = args.count > 1 ? args[1] : "ingest"
let events = args.count > 2 ? Int(args[2]) ?? 1_000_000 : 1_000_000
let series = args.count > 3 ? Int(args[3]) ?? 1000 : 1000
let names = max(1, min(series, 1000))
let shards = max(1, series / names)

// Built from precomputed pieces, so the payload costs little next to what is measured.
let nameBytes = (0..<names).map { Array("bench.s\($0):1|c".utf8) }
let shardBytes = (0..<shards).map { Array("|#shard:\($0)\n".utf8) }
var payload: [UInt8] = []
payload.reserveCapacity(events * 32)
for i in 0..<events {
    payload.append(contentsOf: nameBytes[i % names])
    if shards > 1 { payload.append(contentsOf: shardBytes[i / names % shards]) } else { payload.append(10) }
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
/// Feeds `range` of the payload in 256 KiB reads; returns the events parsed. Locals only: no
/// global is touched per read (Swift checks exclusive access to globals at run time).
func run(
    _ payload: [UInt8],
    _ range: Range<Int>,
    batcher: inout LineBatcher,
    engine: inout Engine,
    pool: EventBatchPool,
    engineToo: Bool
) -> Int {
    var parsed = 0
    var offset = range.lowerBound
    let now = 1_764_000_000.0
    while offset < range.upperBound {
        let end = min(offset + 262_144, range.upperBound)
        payload.withUnsafeBytes { raw in batcher.feed(UnsafeRawBufferPointer(rebasing: raw[offset..<end])) }
        let b = batcher.take(reusing: pool)
        parsed += b.events.count
        if engineToo { _ = engine.ingest(b.events, now: now) }
        pool.recycle(b.events, b.eventLines)
        offset = end
    }
    return parsed
}

/// The measured part of `parse` and `ingest` (callgrind collects inside it only:
/// `--toggle-collect='*measuredRun*'`).
@inline(never)
func measuredRun(
    _ payload: [UInt8],
    _ range: Range<Int>,
    batcher: inout LineBatcher,
    engine: inout Engine,
    pool: EventBatchPool,
    engineToo: Bool
) -> Int {
    run(payload, range, batcher: &batcher, engine: &engine, pool: pool, engineToo: engineToo)
}

/// The measured part of `commit`: take the changes and encode their buckets as the store does.
@inline(never)
func measuredCommit(_ engine: inout Engine) -> (instances: Int, bytes: Int) {
    let changes = engine.takeChanges()
    var blob: [UInt8] = []
    var bytes = 0
    for c in changes {
        for bucket in c.buckets {
            blob.removeAll(keepingCapacity: true)
            BucketCodec.encode(bucket.aggregate, into: &blob)
            bytes += blob.count
        }
    }
    return (changes.count, bytes)
}

/// The measured part of `store`: the whole commit, take and transaction.
@inline(never)
func measuredStore(_ engine: inout Engine, _ store: StateStore, at now: Double) throws -> Int {
    let changes = engine.takeChanges()
    try store.write(StoreBatch(instances: changes), at: now)
    return changes.count
}

func measure(_ mode: String, _ payload: [UInt8], _ objectives: [Objective]) throws {
    var engine = Engine(objectives: objectives)
    var batcher = LineBatcher(maxLineBytes: 65536)
    let pool = EventBatchPool()
    let now = 1_764_000_000.0
    switch mode {
    case "parse", "ingest":
        let warm = payload.count / 10
        _ = run(payload, 0..<warm, batcher: &batcher, engine: &engine, pool: pool, engineToo: mode == "ingest")
        let t0 = DispatchTime.now().uptimeNanoseconds
        let n = measuredRun(
            payload,
            warm..<payload.count,
            batcher: &batcher,
            engine: &engine,
            pool: pool,
            engineToo: mode == "ingest"
        )
        let ns = Double(DispatchTime.now().uptimeNanoseconds - t0)
        print(String(format: "%@ %d %.1f", mode, n, ns / Double(n)))
    case "commit", "store":
        _ = run(payload, 0..<payload.count, batcher: &batcher, engine: &engine, pool: pool, engineToo: true)
        var store: StateStore?
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ingest-instructions-\(getpid())"
        )
        defer { try? FileManager.default.removeItem(at: scratch) }
        if mode == "store" {
            store = try StateStore(path: scratch.appendingPathComponent("state.sqlite").path)
            try store!.write(StoreBatch(instances: engine.takeChanges()), at: now)
        } else {
            _ = engine.takeChanges()
        }
        var lines: [UInt8] = []
        for i in 0..<1000 { lines += Array("bench.s\(i):1|c\n".utf8) }
        lines.withUnsafeBytes { batcher.feed($0) }
        let b = batcher.take()
        _ = engine.ingest(b.events, now: now + 1)
        let t0 = DispatchTime.now().uptimeNanoseconds
        if let store {
            let count = try measuredStore(&engine, store, at: now + 1)
            let ns = Double(DispatchTime.now().uptimeNanoseconds - t0)
            print(String(format: "store %d instances %.1f ns per instance", count, ns / Double(count)))
        } else {
            let (count, bytes) = measuredCommit(&engine)
            let ns = Double(DispatchTime.now().uptimeNanoseconds - t0)
            print(String(format: "commit %d instances %d bytes %.1f ns per instance", count, bytes, ns / Double(count)))
        }
    default:
        FileHandle.standardError.write(
            Data("usage: ingest-instructions parse|ingest|commit|store [EVENTS] [SERIES]\n".utf8)
        )
        exit(2)
    }
}

do {
    try measure(mode, payload, objectives)
} catch {
    FileHandle.standardError.write(Data("ingest-instructions: \(error)\n".utf8))
    exit(1)
}
