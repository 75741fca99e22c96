/// Why one input line was not turned into events. The raw value is the stable counter name
/// (used in `slawatch status` and journal fields); `description` is the sentence an operator reads.
public enum RejectReason: String, Sendable, Codable, Hashable, CaseIterable, CustomStringConvertible {
    case invalidUTF8 = "invalid_utf8"
    case emptyName = "empty_name"
    case invalidName = "invalid_name"
    case missingValue = "missing_value"
    case invalidValue = "invalid_value"
    case nonFiniteValue = "non_finite_value"
    case missingType = "missing_type"
    case unknownType = "unknown_type"
    case negativeDuration = "negative_duration"
    case invalidSampleRate = "invalid_sample_rate"
    case invalidTag = "invalid_tag"
    case invalidTimestamp = "invalid_timestamp"
    case invalidJSON = "invalid_json"
    case lineTooLong = "line_too_long"
    case futureEvent = "future_event"
    case tooLate = "too_late"
    case unknownControl = "unknown_control"
    case unauthorized = "unauthorized"
    case datagramTooLong = "datagram_too_long"
    case incompleteLine = "incomplete_line"
    case invalidCSV = "invalid_csv"
    case instanceLimit = "instance_limit"

    /// A sentence naming what was wrong with the line.
    public var description: String {
        switch self {
        case .invalidUTF8: return "line is not valid UTF-8"
        case .emptyName: return "metric name is empty"
        case .invalidName: return "metric name contains ':', '|', '#' or a control character"
        case .missingValue: return "no value after the metric name (expected name:value|type)"
        case .invalidValue: return "value is not a number"
        case .nonFiniteValue: return "value is not finite (NaN or Inf)"
        case .missingType: return "no metric type (expected name:value|type)"
        case .unknownType: return "unknown metric type (expected c, g, ms, h or d)"
        case .negativeDuration: return "timer (ms) value is negative"
        case .invalidSampleRate: return "sample rate is not a number in (0, 1]"
        case .invalidTag: return "tag without a key"
        case .invalidTimestamp: return "time is not RFC 3339 or unix seconds"
        case .invalidJSON: return "JSON line is not an object with metric, value and kind"
        case .lineTooLong: return "line longer than max_line_bytes"
        case .futureEvent: return "event time is further in the future than max_future_skew"
        case .tooLate: return "event time is older than every window that could use it"
        case .unknownControl: return "line starts with '#' but is not a control command (#sync ID)"
        case .unauthorized:
            return "the peer's user and groups may not write this metric (authorization in slawatch.yaml)"
        case .datagramTooLong: return "datagram longer than max_datagram_bytes (dropped whole)"
        case .instanceLimit:
            return "a group_by objective reached max_instances: no instance for this label value"
        case .invalidCSV:
            return "CSV row has the wrong number of cells or an unterminated quote (or the file's header is unusable)"
        case .incompleteLine:
            return
                "the connection timed out or was reset in the middle of a line (only a clean end of input completes a final line)"
        }
    }
}

/// One rejected line: where it came from (1-based line number within its source), the reason,
/// and the line itself truncated to 200 bytes for sidecars and journal entries.
public struct LineRejection: Sendable, Equatable {
    /// 1-based line number within the file or connection.
    public var line: Int
    /// Why the line was dropped.
    public var reason: RejectReason
    /// The offending line, lossily decoded and truncated to at most 200 bytes.
    public var excerpt: String

    /// Creates a rejection record.
    public init(line: Int, reason: RejectReason, excerpt: String) {
        self.line = line
        self.reason = reason
        self.excerpt = excerpt
    }
}
