import Foundation

/// The outcome of parsing one line.
public enum LineOutcome: Sendable, Equatable {
    /// The line held this many events (a packed statsd line or a JSON array may hold several);
    /// they were appended to the output array.
    case accepted(Int)
    /// The line was dropped for this reason; nothing was appended.
    case rejected(RejectReason)
    /// A JSON array line whose elements were partly good: `accepted` events were appended, and
    /// each bad element was dropped for the listed reason; `elements` are their 0-based
    /// positions in the array.
    case partial(accepted: Int, rejected: [RejectReason], elements: [Int])
    /// A DogStatsD message that is not a metric (`_e{…}` event, `_sc|…` service check): valid
    /// input that slawatch does not use; counted, not an error.
    case ignored(IgnoredMessage)
    /// An empty (or whitespace-only) line: neither an event nor an error.
    case empty
}

/// Non-metric DogStatsD messages (datagram format: events and service checks).
public enum IgnoredMessage: String, Sendable, Equatable, CaseIterable {
    /// `_e{title_length,text_length}:title|text|…`
    case event = "dogstatsd_event"
    /// `_sc|name|status|…`
    case serviceCheck = "dogstatsd_service_check"
}

/// Per-listener parsing options.
public struct ParserOptions: Sendable, Equatable {
    /// etsy statsd gauge dialect: a gauge value written with a sign (`+5|g`, `-3|g`) changes the
    /// gauge instead of setting it. Off by default (DogStatsD: `-3|g` sets −3).
    public var gaugeDeltas: Bool

    /// Creates options; the default is the DogStatsD dialect.
    public init(gaugeDeltas: Bool = false) { self.gaugeDeltas = gaugeDeltas }
}

/// Counters of harmless oddities seen while parsing (not errors).
public struct ParseStats: Sendable, Equatable {
    /// Unknown `|`-fields skipped (`|c:…`, `|e:…`, `|card:…`).
    public var ignoredFields = 0
    /// DogStatsD events and service checks skipped.
    public var ignoredMessages = 0

    /// Zero counters.
    public init() {}
}

/// Parses slawatch's wire formats straight from bytes: statsd/DogStatsD lines and JSON lines.
/// The grammar, with one example per rule, is `docs/protocol.md`.
///
/// statsd (etsy statsd `docs/metric_types.md`, DogStatsD datagram format v1.1–v1.3):
/// `name:value[:value…]|type[|@rate][|#k:v,…][|T<unix seconds>][|other]`, types `c` (counter),
/// `g` (gauge, absolute: `-3|g` sets −3 as in DogStatsD, unless `gaugeDeltas`), `ms`/`h`/`d`
/// (distribution samples), `s` (set member). Unknown `|`-fields are ignored and counted, as
/// DogStatsD ignores them. Names are kept as sent (valid UTF-8, NFC-normalized).
///
/// JSON: one object per line, `{"metric": String, "value": Number, "kind": "counter" | "gauge" |
/// "distribution" | "set" (or c/g/ms/h/d/s), "labels": {String: String}, "time": RFC 3339 string
/// or unix seconds}`; a number above 10¹¹ is taken as unix milliseconds. A JSON array of such
/// objects on one line is a batch.
///
/// The parser is a value type with no shared state; one per connection or file.
public struct LineParser: Sendable {
    /// Dialect options.
    public var options: ParserOptions

    /// Creates a parser.
    public init(options: ParserOptions = ParserOptions()) { self.options = options }

    /// Parses one line (without its `\n`; a trailing `\r` and a leading UTF-8 BOM are tolerated)
    /// and appends its events to `events`.
    ///
    /// - Returns: `.accepted(n)` with the number of events appended, `.rejected(reason)`,
    ///   `.partial` for a JSON batch with bad elements, `.ignored` for DogStatsD events and
    ///   service checks, or `.empty` for a blank line.
    public func parse(_ line: UnsafeRawBufferPointer, into events: inout [Event]) -> LineOutcome {
        var stats = ParseStats()
        return parse(line, into: &events, stats: &stats)
    }

    /// Parses one line, counting ignored fields and messages in `stats`.
    public func parse(_ line: UnsafeRawBufferPointer, into events: inout [Event], stats: inout ParseStats)
        -> LineOutcome
    {
        var cache = ParseCache.disabled
        return parse(line, into: &events, stats: &stats, cache: &cache)
    }

    /// Parses one line, reusing names and label sets from `cache`.
    public func parse<Sink: EventSink>(
        _ line: UnsafeRawBufferPointer,
        into events: inout Sink,
        stats: inout ParseStats,
        cache: inout ParseCache
    ) -> LineOutcome {
        var start = 0
        var end = line.count
        // UTF-8 BOM (only meaningful at the start of a stream, harmless anywhere).
        if end >= 3, line[0] == 0xEF, line[1] == 0xBB, line[2] == 0xBF { start = 3 }
        while end > start, line[end - 1] == UInt8(ascii: "\r") || line[end - 1] == UInt8(ascii: " ") { end -= 1 }
        while start < end, line[start] == UInt8(ascii: " ") || line[start] == UInt8(ascii: "\t") { start += 1 }
        if start == end { return .empty }
        let body = UnsafeRawBufferPointer(rebasing: line[start..<end])
        switch body[0] {
        case UInt8(ascii: "{"):
            return parseJSON(body, into: &events)
        case UInt8(ascii: "["):
            return parseJSONBatch(body, into: &events)
        case UInt8(ascii: "_"):
            if body.count >= 3, body[1] == UInt8(ascii: "e"), body[2] == UInt8(ascii: "{") {
                stats.ignoredMessages += 1
                return .ignored(.event)
            }
            if body.count >= 4, body[1] == UInt8(ascii: "s"), body[2] == UInt8(ascii: "c"),
                body[3] == UInt8(ascii: "|")
            {
                stats.ignoredMessages += 1
                return .ignored(.serviceCheck)
            }
            return parseStatsd(body, into: &events, stats: &stats, cache: &cache)
        default:
            return parseStatsd(body, into: &events, stats: &stats, cache: &cache)
        }
    }

    /// Convenience for tests and the CLI: parses a `String` line.
    public func parse(_ line: String, into events: inout [Event]) -> LineOutcome {
        var copy = line
        return copy.withUTF8 { parse(UnsafeRawBufferPointer($0), into: &events) }
    }
}
