import Foundation
import SLAWatchCore
import SLAWatchStore

/// The objectives whose stored instances the state target forges: one of each kind of window
/// and SLI that keeps state (count, ratio with burn rules, percentile, calendar target with
/// pace, group_by).
let stateObjectives: [Objective] = {
    let yaml = """
        slas:
          - name: s
            provider: p
            customer: c
            objectives:
              - {name: errors, metric: api.errors, sli: count, window: 10m, direction: at_most, baseline: 5, keep_firing_for: 1m}
              - {name: avail, metric: api.requests, good: {labels: {status: "!~5.."}}, sli: ratio, window: 1h, direction: at_least, baseline: 0.99, burn_rate_alerts: [{long: 1h, short: 5m, factor: 14.4}]}
              - {name: p99, metric: api.latency, sli: p99, window: 5m, direction: at_most, baseline: 300}
              - {name: leads, metric: leads, sli: count, window: month, direction: at_least, baseline: 100, pace: {by: linear}}
              - {name: per-customer, metric: api.errors, group_by: [customer], sli: count, window: 10m, direction: at_most, baseline: 5}
        """
    return try! ObjectivesConfig.parse(yaml, file: "fuzz-state.yaml")
}()

/// Each instance's stored name and fingerprint, as the engine saves them.
let stateInstances: [(name: String, fingerprint: String)] = {
    var engine = Engine(objectives: stateObjectives)
    let t = 1_764_410_000.0
    _ = engine.ingest(
        [
            Event(metric: "api.errors", value: 1, kind: .counter, labels: ["customer": "acme"], time: t),
            Event(metric: "api.requests", value: 1, kind: .counter, labels: ["status": "200"], time: t),
            Event(metric: "api.latency", value: 12, kind: .distribution, time: t),
            Event(metric: "leads", value: 1, kind: .counter, time: t),
        ],
        now: t
    )
    return engine.takeChanges(full: true).map { ($0.objective, $0.fingerprint) }
}()

/// A stored instance as a database row might hold it after corruption or tampering: the first
/// two bytes pick the instance and the length of the JSON state text; the state text follows,
/// then binary buckets (each: a 1-byte length, then that many bytes of `BucketCodec` data).
/// What decodes is restored into an engine, which must evaluate, report status and save again
/// without trapping; what does not decode must be refused with an error (never a crash).
func fuzzState(_ bytes: UnsafeRawBufferPointer) {
    guard bytes.count >= 2 else { return }
    let instance = stateInstances[Int(bytes[0]) % stateInstances.count]
    let stateLength = min(Int(bytes[1]) * 4, bytes.count - 2)
    let stateText = Data(bytes[2..<(2 + stateLength)])
    guard let state = try? JSONDecoder().decode(InstanceState.self, from: stateText) else { return }
    var buckets: [Int64: Aggregate] = [:]
    var packed = PackedBuckets()
    var at = 2 + stateLength
    var id = Int64(1_764_409_400 / 60)
    while at < bytes.count {
        let n = Int(bytes[at])
        at += 1
        let blob = UnsafeRawBufferPointer(rebasing: bytes[at..<min(at + n, bytes.count)])
        at += n
        // Ascending and unique, as the store's primary key and ORDER BY give them.
        id += 1 + Int64(n % 7)
        if let a = try? BucketCodec.decode(blob) { buckets[id] = a }
        if let (a, sketch) = try? BucketCodec.decodeKeepingSketchPacked(blob) {
            packed.append(id: id, aggregate: a, sketch: sketch)
        }
    }
    for usePacked in [false, true] {
        var snapshot = Engine.Snapshot(
            objective: instance.name,
            fingerprint: instance.fingerprint,
            state: state,
            buckets: usePacked ? [:] : buckets,
            closedBefore: nil
        )
        if usePacked { snapshot.packedBuckets = packed }
        var engine = Engine(objectives: stateObjectives)
        engine.restore([snapshot])
        for now in [1_764_410_000.0, 1_764_413_600, 1_767_225_600] {
            _ = engine.evaluate(at: now)
            for s in engine.status(at: now) { _ = s.value }
        }
        _ = engine.takeChanges(full: true)
    }
}

/// Seeds for the state target, written by `SLAWATCH_FUZZ_WRITE_SEEDS=DIR slawatch-fuzz`: each
/// instance with a few real states and real buckets (counts, a sketch), in the layout
/// `fuzzState` reads.
func writeStateSeeds(to dir: String) throws {
    let encoder = JSONEncoder()
    var states: [InstanceState] = [InstanceState()]
    var breached = InstanceState()
    breached.state = .breached
    breached.since = 1_764_409_000
    breached.episode = "1764409000-1"
    breached.episodeCounter = 1
    states.append(breached)
    var counts = Aggregate()
    for v in [1.0, 2, 3] { counts.add(Event(metric: "m", value: v, kind: .counter)) }
    var sketch = Aggregate()
    for v in [12.0, 15, 900, 0.5] {
        sketch.add(value: v, kind: .distribution, sampleRate: 1, member: nil, quantiles: true)
    }
    let blobs = [BucketCodec.encode(counts), BucketCodec.encode(sketch)]
    var n = 0
    for (i, _) in stateInstances.enumerated() {
        for state in states {
            var json = Array(try encoder.encode(state))
            while json.count % 4 != 0 { json.append(UInt8(ascii: " ")) }
            guard json.count / 4 <= 255 else { continue }
            var seed: [UInt8] = [UInt8(i), UInt8(json.count / 4)] + json
            for blob in blobs where blob.count <= 255 {
                seed.append(UInt8(blob.count))
                seed += blob
            }
            try Data(seed).write(to: URL(fileURLWithPath: dir + "/seed-\(n)"))
            n += 1
        }
    }
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
    _ argc: UnsafeMutablePointer<CInt>?,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> CInt {
    if let dir = ProcessInfo.processInfo.environment["SLAWATCH_FUZZ_WRITE_SEEDS"] {
        do {
            try writeStateSeeds(to: dir)
        } catch {
            fatalError("cannot write seeds to \(dir): \(error)")
        }
        exit(0)
    }
    _ = FuzzTarget.selected
    return 0
}
