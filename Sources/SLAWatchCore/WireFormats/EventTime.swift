/// The one rule every input path (statsd `|T`, JSON `time`, CSV time columns, drop files and
/// sockets alike) reads a numeric event time by, documented in docs/protocol.md ("Event time"):
///
/// - a finite number ≥ 0 is unix time; below 10¹¹ it is seconds, from 10¹¹ on milliseconds
///   (10¹¹ seconds is the year 5138, 10¹¹ milliseconds March 1973), so `1764669600` and
///   `1764669600000` are the same instant;
/// - a negative, infinite or NaN number is `invalid_timestamp`;
/// - a valid time older than every window that could use it (`0`, `1`, last year's) is
///   `too_late`, judged by the engine against the windows, never by the parser.
///
/// Prometheus text is the exception its specification makes: its sample timestamp is always
/// milliseconds.
public enum EventTime {
    /// Numbers from this on are milliseconds.
    public static let millisecondsFrom: Double = 1e11

    /// Unix seconds for a numeric event time, `nil` when it is not one (negative, infinite,
    /// NaN).
    public static func unixSeconds(_ n: Double) -> Double? {
        guard n.isFinite, n >= 0 else { return nil }
        return n >= millisecondsFrom ? n / 1000 : n
    }
}
