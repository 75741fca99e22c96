import Foundation

/// What the engine keeps per series (a metric and its labels, `Engine.seriesKey`) beyond the
/// windows, for metrics an objective uses only, and at most `maxSeries` series in all: two typed
/// maps.
/// - **Gauge levels** (etsy statsd, `gauge_deltas`): `+N|g` / `-N|g` change a gauge's level, so
///   the level of every gauge series is kept.
/// - **Cumulative bases** (Prometheus counters, JSON/CSV `cumulative`): the last sample of every
///   series, so the next one becomes an increase (reset-aware).
///
/// The store keeps both in one table of `series → value`, bases under the key prefix
/// `cumulativePrefix` (`persisted`, `restore`); in memory they never mix.
struct SeriesState: Sendable {
    /// The last sample of a cumulative counter series.
    struct CumulativeBase: Sendable, Equatable {
        /// The counter's value.
        var value: Double
        /// Its event time (unix seconds); `-infinity` for a base restored from the store.
        var time: Double
    }

    /// Series kept at most (`max_series`).
    var maxSeries = 100_000
    /// Events refused because they would have started a series beyond `maxSeries`.
    private(set) var refused = 0
    private var limitNoticed = false
    /// The level of every gauge series.
    private(set) var gaugeLevels: [String: Double] = [:]
    private var dirtyGauges: Set<String> = []
    /// The base of every cumulative counter series.
    private(set) var cumulativeBases: [String: CumulativeBase] = [:]
    private var dirtyBases: Set<String> = []
    /// An open drop file's bases, kept aside until its commit.
    private var stagedBases: [String: CumulativeBase] = [:]
    /// Per cumulative metric family (sample name): the newest event time of its live bases
    /// (`-infinity` for bases restored from the store); an open drop file's, aside.
    private var familyLatest: [String: Double] = [:]
    private var stagedFamilyLatest: [String: Double] = [:]

    /// Key prefix of cumulative-counter bases among the stored levels.
    static let cumulativePrefix = "cumulative\u{1F}"

    /// Series kept now (gauges, bases, staged bases).
    var count: Int { gaugeLevels.count + cumulativeBases.count + stagedBases.count }

    /// Whether one more series may be kept (counting the refusal when not).
    mutating func roomForOneMore() -> Bool {
        if count < maxSeries { return true }
        refused += 1
        return false
    }

    /// `maxSeries` the first time a series was refused, once.
    mutating func takeLimitNotice() -> Int? {
        guard refused > 0, !limitNoticed else { return nil }
        limitNoticed = true
        return maxSeries
    }

    /// Applies a gauge sample of series `key`: a delta (`isDelta`) changes the level (a first
    /// delta sets it), a plain value replaces it. Returns the level after.
    mutating func applyGauge(_ key: String, value: Double, isDelta: Bool) -> Double {
        var level = value
        if isDelta { level += gaugeLevels[key] ?? 0 }
        if gaugeLevels[key] != level {
            gaugeLevels[key] = level
            dirtyGauges.insert(key)
        }
        return level
    }

    /// Whether series `key` has a base (live or staged).
    func hasBase(_ key: String) -> Bool { cumulativeBases[key] != nil || stagedBases[key] != nil }

    /// The base a sample of `key` is compared with: the staged one first while `staged`.
    func base(_ key: String, staged: Bool) -> CumulativeBase? {
        (staged ? stagedBases[key] : nil) ?? cumulativeBases[key]
    }

    /// Records sample `value` at `time` as the base of `key`, a series of `family` (aside,
    /// while `staged`).
    mutating func setBase(_ key: String, family: String, value: Double, time: Double, staged: Bool) {
        if staged {
            stagedBases[key] = CumulativeBase(value: value, time: time)
            stagedFamilyLatest[family] = max(stagedFamilyLatest[family] ?? -.infinity, time)
        } else {
            cumulativeBases[key] = CumulativeBase(value: value, time: time)
            dirtyBases.insert(key)
            familyLatest[family] = max(familyLatest[family] ?? -.infinity, time)
        }
    }

    /// Every cumulative family's newest live sample time, as a batch starts (what
    /// `previousFamilySample` compares with: the family's samples before this batch).
    var familyTimes: [String: Double] { familyLatest }

    /// The time of the previous sample of `family` that a new series of it at event time `t`
    /// comes after (`-infinity`: restored from the store, time unknown), or `nil` when the
    /// family had none before, by `before` (`familyTimes` as the batch started): in a drop file
    /// (`staged`), a sample of an earlier file or stream; otherwise a sample of an earlier batch
    /// at an earlier event time. A new series of a family seen before did not exist at that
    /// sample (it would have been in it), so its first value happened since.
    static func previousFamilySample(_ family: String, at t: Double, staged: Bool, before: [String: Double]) -> Double?
    {
        guard let latest = before[family] else { return nil }
        return staged || latest < t ? latest : nil
    }

    /// A drop file starts: no staged bases.
    mutating func beginStaging() {
        stagedBases = [:]
        stagedFamilyLatest = [:]
    }

    /// A drop file is committed: its bases become the live ones.
    mutating func commitStaging() {
        for (k, v) in stagedBases {
            cumulativeBases[k] = v
            dirtyBases.insert(k)
        }
        for (f, t) in stagedFamilyLatest { familyLatest[f] = max(familyLatest[f] ?? -.infinity, t) }
        stagedBases = [:]
        stagedFamilyLatest = [:]
    }

    /// A drop file is abandoned: its bases are forgotten.
    mutating func discardStaging() {
        stagedBases = [:]
        stagedFamilyLatest = [:]
    }

    /// What changed since the last call, in the store's form (series → level, bases under
    /// `cumulativePrefix`), and clears it.
    mutating func takeDirty() -> [String: Double] {
        var out = Dictionary(uniqueKeysWithValues: dirtyGauges.compactMap { k in gaugeLevels[k].map { (k, $0) } })
        for k in dirtyBases {
            if let base = cumulativeBases[k] { out[Self.cumulativePrefix + k] = base.value }
        }
        dirtyGauges.removeAll()
        dirtyBases.removeAll()
        return out
    }

    /// An open drop file's bases, in the store's form.
    var stagedPersisted: [String: Double] {
        var out: [String: Double] = [:]
        for (k, v) in stagedBases { out[Self.cumulativePrefix + k] = v.value }
        return out
    }

    /// Everything, in the store's form.
    var persisted: [String: Double] {
        var out = gaugeLevels
        for (k, v) in cumulativeBases { out[Self.cumulativePrefix + k] = v.value }
        return out
    }

    /// Restores what `persisted` wrote, keeping only series whose metric `uses` accepts, and at
    /// most `maxSeries` of them (a restored base has no time: any later sample is compared with
    /// it).
    mutating func restore(_ levels: [String: Double], uses: (String) -> Bool) {
        for (k, v) in levels {
            let isBase = k.hasPrefix(Self.cumulativePrefix)
            let series = isBase ? String(k.dropFirst(Self.cumulativePrefix.count)) : k
            let metric = series.split(separator: "{", maxSplits: 1).first.map(String.init) ?? series
            if !uses(metric) || gaugeLevels.count + cumulativeBases.count >= maxSeries { continue }
            if isBase {
                cumulativeBases[series] = CumulativeBase(value: v, time: -.infinity)
                if familyLatest[metric] == nil { familyLatest[metric] = -.infinity }
            } else {
                gaugeLevels[k] = v
            }
        }
    }
}

/// Series state: etsy gauge levels and cumulative-counter bases (`SeriesState`), bounded by
/// `max_series`.
extension Engine {
    /// Series (gauge levels and cumulative-counter bases) kept at most (`max_series`): state is
    /// kept only for metrics an objective uses, and an event that would start one more series is
    /// rejected (`series_limit`), so memory stays bounded whatever the senders make up.
    public var maxSeries: Int {
        get { series.maxSeries }
        set { series.maxSeries = newValue }
    }

    /// Events refused by `maxSeries` since start.
    public var seriesRefused: Int { series.refused }

    /// Current level of every gauge series (`seriesKey` → level), for the etsy delta dialect.
    public var gaugeLevels: [String: Double] { series.gaugeLevels }

    /// Key prefix of cumulative-counter bases among the persisted gauge levels.
    public static var cumulativePrefix: String { SeriesState.cumulativePrefix }

    /// The key under which an OpenMetrics `_created` sample gives the creation time of a running
    /// total: its family (the sample name without `_total`, `_count`, `_sum`, `_bucket`) and its
    /// labels without `le`.
    static func createdKey(_ e: Event) -> String {
        var family = e.metric
        for suffix in ["_total", "_count", "_sum", "_bucket"] where family.hasSuffix(suffix) {
            family = String(family.dropLast(suffix.count))
            break
        }
        var labels = e.labels
        labels["le"] = nil
        return createdKey(family: family, labels: labels)
    }

    /// `createdKey(_:)` of a family and labels.
    static func createdKey(family: String, labels: [String: String]) -> String {
        family + "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") + "}"
    }

    /// `metric{k=v,…}` with labels sorted: the identity of a series.
    public static func seriesKey(_ e: Event) -> String {
        if e.labels.isEmpty { return e.metric }
        return e.metric + "{"
            + e.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            + "}"
    }

    /// `maxSeries` the first time it refused a series, once (the daemon writes one journal entry).
    public mutating func takeSeriesLimitNotice() -> Int? { series.takeLimitNotice() }

    /// Gauge levels and cumulative bases changed since the last call (series key → level, bases
    /// under `cumulativePrefix`), and clears the set.
    public mutating func takeDirtyGaugeLevels() -> [String: Double] { series.takeDirty() }

    /// Gauge levels and cumulative-counter bases, all of them (a full snapshot after a reload).
    public var persistedLevels: [String: Double] { series.persisted }

    /// Restores gauge levels and cumulative-counter bases saved by an earlier run. Series of
    /// metrics no objective uses any more are left out (the next full write removes them from
    /// the store).
    public mutating func restoreGaugeLevels(_ levels: [String: Double]) {
        let index = byMetric
        series.restore(levels) { index.lookup($0) != nil }
    }
}
