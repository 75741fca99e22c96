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
    case seriesLimit = "series_limit"

    /// A sentence naming what was wrong with a statsd line (`explanation(in:)` for the others).
    public var description: String { explanation(in: .statsd) }

    /// A sentence naming what was wrong, in the terms of the grammar the line was read with: a
    /// JSON event without `kind` is told about its `kind` member, not about `name:value|type`.
    public func explanation(in grammar: LineGrammar) -> String {
        switch (self, grammar) {
        case (.emptyName, .json): return "\"metric\" is empty"
        case (.invalidName, .json):
            return "\"metric\" contains ':', '|', '#' or a control character"
        case (.missingValue, .json):
            return "no \"value\" member (expected {\"metric\": …, \"value\": …, \"kind\": …})"
        case (.missingValue, .csv): return "the value cell is empty"
        case (.missingValue, .prometheus): return "no value after the series name"
        case (.invalidValue, .json):
            return "\"value\" is not a number (a string is a member only for kind set)"
        case (.invalidValue, .csv): return "the value cell is not a number"
        case (.missingType, .json):
            return "no \"kind\" member (expected \(Self.jsonKinds))"
        case (.unknownType, .json), (.unknownType, .csv):
            return "unknown kind (expected \(Self.jsonKinds))"
        case (.negativeDuration, .json), (.negativeDuration, .csv): return "a timer value is negative"
        case (.invalidTag, .json): return "a label with an empty name"
        case (.invalidTimestamp, .json):
            return "\"time\" is not an RFC 3339 string or a unix time ≥ 0 (seconds, or milliseconds from 10¹¹)"
        case (.invalidTimestamp, .csv):
            return "the time cell is not an RFC 3339 time, a local date-time or unix seconds"
        case (.invalidTimestamp, .prometheus): return "the timestamp is not unix milliseconds"
        default: return statsdExplanation
        }
    }

    /// Every JSON and CSV `kind`, for messages.
    public static let jsonKinds =
        "counter, cumulative, gauge, distribution, histogram, timer or set; or c, g, ms, h, d, s"

    private var statsdExplanation: String {
        switch self {
        case .invalidUTF8: return "line is not valid UTF-8"
        case .emptyName: return "metric name is empty"
        case .invalidName: return "metric name contains ':', '|', '#' or a control character"
        case .missingValue: return "no value after the metric name (expected name:value|type)"
        case .invalidValue: return "value is not a number"
        case .nonFiniteValue: return "value is not finite (NaN or Inf)"
        case .missingType: return "no metric type (expected name:value|type)"
        case .unknownType:
            return "unknown metric type (expected c counter, g gauge, ms timer, h histogram, d distribution or s set)"
        case .negativeDuration: return "timer (ms) value is negative"
        case .invalidSampleRate: return "sample rate is not a number in (0, 1]"
        case .invalidTag: return "tag without a key"
        case .invalidTimestamp:
            return "the |T field is not whole unix seconds or milliseconds ≥ 0 (|T1764669600 or |T1764669600000)"
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
        case .seriesLimit:
            return "max_series reached: no state is kept for a new gauge or cumulative counter series"
        case .invalidCSV:
            return "CSV row has the wrong number of cells or an unterminated quote (or the file's header is unusable)"
        case .incompleteLine:
            return
                "the connection timed out or was reset in the middle of a line (only a clean end of input completes a final line)"
        }
    }
}

/// The grammar a line was read with, so that a rejection is explained in its terms.
public enum LineGrammar: String, Sendable, Codable, Hashable {
    /// statsd/DogStatsD (`name:value|type|…`).
    case statsd
    /// JSON events (`{"metric": …}`, an array of them, a `.json` document).
    case json
    /// CSV rows.
    case csv
    /// Prometheus text exposition.
    case prometheus

    /// The grammar of a socket line: JSON when its first non-blank byte is `{` or `[`, else statsd.
    public static func socket<Bytes: Collection<UInt8>>(_ line: Bytes) -> LineGrammar {
        for b in line where b != 0x20 && b != 0x09 {
            return b == UInt8(ascii: "{") || b == UInt8(ascii: "[") ? .json : .statsd
        }
        return .statsd
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
    /// The grammar the line was read with.
    public var grammar: LineGrammar

    /// Creates a rejection record.
    public init(line: Int, reason: RejectReason, excerpt: String, grammar: LineGrammar = .statsd) {
        self.line = line
        self.reason = reason
        self.excerpt = excerpt
        self.grammar = grammar
    }

    /// The reason as a sentence in the terms of the line's grammar; for an `invalid_json` line
    /// kept whole (under 200 bytes), what exactly is wrong with it (`JSONDiagnosis`).
    public var explanation: String {
        if reason == .invalidJSON, grammar == .json, excerpt.utf8.count < 200, !excerpt.hasPrefix("[element "),
            let detail = JSONDiagnosis.explain(excerpt)
        {
            return detail
        }
        return reason.explanation(in: grammar)
    }
}
