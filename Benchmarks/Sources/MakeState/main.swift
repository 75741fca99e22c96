// Writes a slawatch state directory with N p99 instances over full 30-day windows of realistic
// latency data, for the start-up, idle-CPU and memory figures of docs/performance.md.
//
// usage: make-state DIR INSTANCES [NOW]
// Writes DIR/slawatch.yaml, DIR/objectives.d/latency.yaml (one objective, `group_by: [service]`,
// p99 of `api.latency` over 30d) and DIR/state/state.sqlite holding INSTANCES instances
// (`service` s0 … sN-1), each with 60 buckets of 12 hours. Each bucket's sketch is a log-normal
// latency distribution (median 20–200 ms, σ 0.6–1.1, 500–3,000 requests), 200–400 bins, its
// weights whole numbers as request counts are. NOW (unix seconds, default the clock) is the end
// of the windows. Prints the instance count, bins per bucket, and the state file's size.
import Foundation
import SLAWatchCore
import SLAWatchStore

let args = CommandLine.arguments
guard args.count >= 3, let n = Int(args[2]) else {
    FileHandle.standardError.write(Data("usage: make-state DIR INSTANCES [NOW]\n".utf8))
    exit(2)
}
let dir = args[1]
let now = args.count > 3 ? Double(args[3]) ?? Date().timeIntervalSince1970 : Date().timeIntervalSince1970
try FileManager.default.createDirectory(atPath: dir + "/objectives.d", withIntermediateDirectories: true)
let yaml = """
    slas:
      - name: api
        provider: platform
        customer: web
        objectives:
          - name: latency-p99
            metric: api.latency
            group_by: [service]
            max_instances: \(max(100, n))
            sli: p99
            window: 30d
            direction: at_most
            baseline: 2000
            nodata: ok
            unit: ms
    """
try yaml.write(toFile: dir + "/objectives.d/latency.yaml", atomically: true, encoding: .utf8)
try "state_directory: state\nruntime_directory: run\ndrop_directory: drop\nobjectives_directory: objectives.d\n"
    .write(toFile: dir + "/slawatch.yaml", atomically: true, encoding: .utf8)
let parent = try ObjectivesConfig.parse(yaml, file: "latency.yaml")[0]
let resolution = 30 * 86400 / 60
let newest = Int64((now / Double(resolution)).rounded(.down))

struct SplitMix {
    var state: UInt64
    mutating func next() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
    }
}
var rng = SplitMix(state: 42)
let gamma = (1 + QuantileSketch.relativeAccuracy) / (1 - QuantileSketch.relativeAccuracy)
func erf(_ x: Double) -> Double { Foundation.erf(x) }
var bins = 0
var buckets = 0
let store = try StateStore(path: dir + "/state/state.sqlite")
var batch: [Engine.Snapshot] = []
for i in 0..<n {
    let o = parent.instance(["service": "s\(i)"])
    let median = 20 + rng.next() * 180
    let sigma = 0.6 + rng.next() * 0.5
    var byID: [Int64: Aggregate] = [:]
    for b in 0..<60 {
        let requests = 500 + Int(rng.next() * 2500)
        let mu = log(median * (0.8 + 0.4 * rng.next()))
        // Log-normal mass per DDSketch bin (γ^(k-1), γ^k], rounded to whole requests.
        var positive: [(index: Int32, weight: Double)] = []
        var total = 0.0
        let lo = Int32((((mu - 4 * sigma) / log(gamma))).rounded(.down))
        let hi = Int32((((mu + 4 * sigma) / log(gamma))).rounded(.up))
        for k in lo...hi {
            let a = (Double(k - 1) * log(gamma) - mu) / (sigma * 2.0.squareRoot())
            let c = (Double(k) * log(gamma) - mu) / (sigma * 2.0.squareRoot())
            let w = (Double(requests) * (erf(c) - erf(a)) / 2).rounded()
            if w > 0 {
                positive.append((k, w))
                total += w
            }
        }
        var agg = Aggregate()
        agg.samples = Int(total)
        agg.count = total
        agg.sum = total * median
        agg.valueSum = total * median
        agg.min = exp(mu - 3 * sigma)
        agg.max = exp(mu + 3 * sigma)
        agg.sketch = QuantileSketch(positive: positive, negative: [], zero: 0)
        bins += positive.count
        buckets += 1
        byID[newest - Int64(59 - b)] = agg
    }
    batch.append(
        Engine.Snapshot(objective: o.name, fingerprint: o.dataFingerprint, state: InstanceState(), buckets: byID, closedBefore: nil)
    )
    if batch.count == 500 || i == n - 1 {
        try store.save(batch, at: now)
        batch = []
    }
}
// As a daemon that ran before leaves it: one evaluation stores each window's sealed merge.
var engine = Engine(objectives: [parent])
engine.restore(try store.loadSnapshots(keepingSketchesPacked: true))
_ = engine.evaluate(at: now)
try store.write(StoreBatch(instances: engine.takeChanges()), at: now)
try store.checkpoint()
let size = (try FileManager.default.attributesOfItem(atPath: dir + "/state/state.sqlite")[.size] as? Int) ?? 0
print("instances \(n)")
print("buckets \(buckets)")
print(String(format: "bins_per_bucket %.0f", Double(bins) / Double(buckets)))
print("state_bytes \(size)")
print(String(format: "state_bytes_per_instance %.0f", Double(size) / Double(n)))
