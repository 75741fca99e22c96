/// The kind of a metric event, following statsd/DogStatsD metric types.
///
/// - `counter`: an increment (`|c`); the value is how many things happened.
/// - `gauge`: an absolute level (`|g`, DogStatsD semantics: `-3|g` sets −3).
/// - `distribution`: one sample of a timer or histogram (`|ms`, `|h`, `|d`).
/// - `set`: one member of a set (`|s`); the `count` SLI of a set is its number of distinct members.
/// - `cumulative`: a counter's running total; counted as the increases between samples.
public enum MetricKind: String, Sendable, Codable, Hashable, CaseIterable {
    case counter
    case gauge
    case distribution
    case set
    /// A counter's running total (a Prometheus counter, JSON/CSV kind `cumulative`): the engine
    /// turns each sample into the increase since the series' previous sample, reset-aware (a
    /// drop means the counter restarted from zero: the increase is the new value), without
    /// extrapolation; a series' first sample is a base, not an increase.
    case cumulative
}

/// One measurement as it reaches the engine.
///
/// Shape: metric name (UTF-8, as sent), value (finite `Double`), kind, labels (tag key → value),
/// event time in unix seconds (`nil` means "arrival time", stamped by the engine), and the statsd
/// sample rate in (0, 1] by which counts and sums are scaled up (statsd `|@rate`).
public struct Event: Sendable, Equatable {
    /// Metric name, e.g. `leads.qualified`.
    public var metric: String
    /// The measured value: an increment for counters, a level for gauges, a sample otherwise.
    public var value: Double
    /// How the value is interpreted.
    public var kind: MetricKind
    /// Labels from DogStatsD tags (`|#k:v`) or the JSON `labels` object. A tag without a value
    /// (`|#canary`) becomes the label `canary` with an empty value.
    public var labels: [String: String]
    /// Event time, unix seconds; `nil` until the engine stamps the arrival time.
    public var time: Double?
    /// statsd sample rate in (0, 1]; each event stands for `1 / sampleRate` events.
    public var sampleRate: Double
    /// Set events: the member (any text, e.g. a user id); `nil` otherwise.
    public var member: String?
    /// Gauges in the etsy delta dialect: `value` is a change of the current level, not a level.
    public var isDelta: Bool

    /// Creates an event. `sampleRate` defaults to 1 (unsampled), `time` to arrival time.
    public init(
        metric: String,
        value: Double,
        kind: MetricKind,
        labels: [String: String] = [:],
        time: Double? = nil,
        sampleRate: Double = 1,
        member: String? = nil,
        isDelta: Bool = false
    ) {
        self.metric = metric
        self.value = value
        self.kind = kind
        self.labels = labels
        self.time = time
        self.sampleRate = sampleRate
        self.member = member
        self.isDelta = isDelta
    }
}
