import Foundation

/// The outcome of parsing one line.
public enum LineOutcome: Sendable, Equatable {
    /// The line held this many events (a packed statsd line may hold several); they were
    /// appended to the output array.
    case accepted(Int)
    /// The line was dropped for this reason; nothing was appended.
    case rejected(RejectReason)
    /// An empty (or whitespace-only) line: neither an event nor an error.
    case empty
}

/// Parses slawatch's wire formats straight from bytes: statsd/DogStatsD lines and JSON lines.
///
/// statsd (etsy statsd `docs/metric_types.md`, DogStatsD datagram format v1.1/v1.3):
/// `name:value[:value…]|type[|@rate][|#k:v,…][|T<unix seconds>]`, types `c` (counter), `g` (gauge,
/// absolute: `-3|g` sets −3 as in DogStatsD), `ms`/`h`/`d` (distribution samples). Unknown
/// `|`-fields are ignored, as DogStatsD does.
///
/// JSON: one object per line, `{"metric": String, "value": Number, "kind": "counter" | "gauge" |
/// "distribution" (or c/g/ms/h/d), "labels": {String: String}, "time": RFC 3339 string or unix
/// seconds}`; a number above 10¹¹ is taken as unix milliseconds.
///
/// The parser is a value type with no shared state; one per connection or file.
public struct LineParser: Sendable {
    /// Creates a parser.
    public init() {}

    /// Parses one line (without its `\n`; a trailing `\r` and a leading UTF-8 BOM are tolerated)
    /// and appends its events to `events`.
    ///
    /// - Returns: `.accepted(n)` with the number of events appended, `.rejected(reason)`, or
    ///   `.empty` for a blank line.
    public func parse(_ line: UnsafeRawBufferPointer, into events: inout [Event]) -> LineOutcome {
        var start = 0
        var end = line.count
        // UTF-8 BOM (only meaningful at the start of a stream, harmless anywhere).
        if end >= 3, line[0] == 0xEF, line[1] == 0xBB, line[2] == 0xBF { start = 3 }
        while end > start, line[end - 1] == UInt8(ascii: "\r") || line[end - 1] == UInt8(ascii: " ") { end -= 1 }
        while start < end, line[start] == UInt8(ascii: " ") || line[start] == UInt8(ascii: "\t") { start += 1 }
        if start == end { return .empty }
        let body = UnsafeRawBufferPointer(rebasing: line[start..<end])
        if body[0] == UInt8(ascii: "{") {
            return parseJSON(body, into: &events)
        }
        return parseStatsd(body, into: &events)
    }

    /// Convenience for tests and the CLI: parses a `String` line.
    public func parse(_ line: String, into events: inout [Event]) -> LineOutcome {
        var copy = line
        return copy.withUTF8 { parse(UnsafeRawBufferPointer($0), into: &events) }
    }

    // MARK: - statsd / DogStatsD

    private func parseStatsd(_ b: UnsafeRawBufferPointer, into events: inout [Event]) -> LineOutcome {
        guard String(validating: b, as: UTF8.self) != nil else { return .rejected(.invalidUTF8) }
        guard let colon = b.firstIndex(of: UInt8(ascii: ":")) else {
            return .rejected(.missingValue)
        }
        let nameBytes = UnsafeRawBufferPointer(rebasing: b[0..<colon])
        if nameBytes.isEmpty { return .rejected(.emptyName) }
        for byte in nameBytes
        where byte < 0x20 || byte == 0x7F || byte == UInt8(ascii: "|") || byte == UInt8(ascii: "#") {
            return .rejected(.invalidName)
        }
        // Split the remainder at '|'.
        var fields: [UnsafeRawBufferPointer] = []
        fields.reserveCapacity(4)
        var fieldStart = colon + 1
        for i in (colon + 1)..<b.count where b[i] == UInt8(ascii: "|") {
            fields.append(UnsafeRawBufferPointer(rebasing: b[fieldStart..<i]))
            fieldStart = i + 1
        }
        fields.append(UnsafeRawBufferPointer(rebasing: b[fieldStart..<b.count]))
        if fields[0].isEmpty { return .rejected(.missingValue) }
        guard fields.count >= 2, !fields[1].isEmpty else { return .rejected(.missingType) }
        let kind: MetricKind
        var isTimer = false
        switch asciiString(fields[1]) {
        case "c": kind = .counter
        case "g": kind = .gauge
        case "ms":
            kind = .distribution
            isTimer = true
        case "h", "d": kind = .distribution
        default: return .rejected(.unknownType)
        }
        var rate = 1.0
        var labels: [String: String] = [:]
        var time: Double?
        for field in fields.dropFirst(2) where !field.isEmpty {
            switch field[0] {
            case UInt8(ascii: "@"):
                guard let r = parseNumber(UnsafeRawBufferPointer(rebasing: field[1...])), r > 0, r <= 1 else {
                    return .rejected(.invalidSampleRate)
                }
                rate = r
            case UInt8(ascii: "#"):
                guard parseTags(UnsafeRawBufferPointer(rebasing: field[1...]), into: &labels) else {
                    return .rejected(.invalidTag)
                }
            case UInt8(ascii: "T"):
                guard let t = parseNumber(UnsafeRawBufferPointer(rebasing: field[1...])), t > 0, t == t.rounded()
                else { return .rejected(.invalidTimestamp) }
                time = t
            default:
                // Unknown DogStatsD fields (c:, e:, card:, …) are ignored, as the agent does.
                continue
            }
        }
        let name = String(decoding: nameBytes, as: UTF8.self)
        // Packed values (DogStatsD v1.1): name:1:2:3|h is three samples; empty ones are skipped.
        var values: [Double] = []
        var vStart = 0
        let valueField = fields[0]
        for i in 0...valueField.count where i == valueField.count || valueField[i] == UInt8(ascii: ":") {
            let piece = UnsafeRawBufferPointer(rebasing: valueField[vStart..<i])
            vStart = i + 1
            if piece.isEmpty { continue }
            guard let v = parseNumber(piece) else { return .rejected(.invalidValue) }
            guard v.isFinite else { return .rejected(.nonFiniteValue) }
            if isTimer && v < 0 { return .rejected(.negativeDuration) }
            values.append(v)
        }
        if values.isEmpty { return .rejected(.missingValue) }
        for v in values {
            events.append(Event(metric: name, value: v, kind: kind, labels: labels, time: time, sampleRate: rate))
        }
        return .accepted(values.count)
    }

    private func parseTags(_ b: UnsafeRawBufferPointer, into labels: inout [String: String]) -> Bool {
        var start = 0
        for i in 0...b.count where i == b.count || b[i] == UInt8(ascii: ",") {
            let tag = UnsafeRawBufferPointer(rebasing: b[start..<i])
            start = i + 1
            if tag.isEmpty { continue }
            if let c = tag.firstIndex(of: UInt8(ascii: ":")) {
                if c == 0 { return false }
                labels[String(decoding: tag[0..<c], as: UTF8.self)] = String(decoding: tag[(c + 1)...], as: UTF8.self)
            } else {
                labels[String(decoding: tag, as: UTF8.self)] = ""
            }
        }
        return true
    }

    // MARK: - JSON lines

    private struct JSONEvent: Decodable {
        var metric: String?
        var value: Double?
        var kind: String?
        var labels: [String: LabelValue]?
        var time: TimeValue?
    }

    private enum LabelValue: Decodable {
        case text(String)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) {
                self = .text(s)
            } else if let b = try? c.decode(Bool.self) {
                self = .text(b ? "true" : "false")
            } else {
                let d = try c.decode(Double.self)
                self = .text(d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d))
            }
        }
    }

    private enum TimeValue: Decodable {
        case text(String)
        case number(Double)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let d = try? c.decode(Double.self) { self = .number(d) } else { self = .text(try c.decode(String.self)) }
        }
    }

    private func parseJSON(_ b: UnsafeRawBufferPointer, into events: inout [Event]) -> LineOutcome {
        guard String(validating: b, as: UTF8.self) != nil else { return .rejected(.invalidUTF8) }
        let decoded: JSONEvent
        do {
            decoded = try JSONDecoder().decode(JSONEvent.self, from: Data(b))
        } catch {
            // A value of the wrong JSON type (e.g. "value": "x" or true) lands here too.
            return .rejected(.invalidJSON)
        }
        guard let metric = decoded.metric, decoded.value != nil || decoded.kind != nil else {
            return .rejected(.invalidJSON)
        }
        if metric.isEmpty { return .rejected(.emptyName) }
        if metric.utf8.contains(where: {
            $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "|") || $0 == UInt8(ascii: "#") || $0 == UInt8(ascii: ":")
        }) {
            return .rejected(.invalidName)
        }
        guard let value = decoded.value else { return .rejected(.missingValue) }
        guard value.isFinite else { return .rejected(.nonFiniteValue) }
        let kind: MetricKind
        switch decoded.kind {
        case "counter", "c": kind = .counter
        case "gauge", "g": kind = .gauge
        case "distribution", "d", "h", "histogram", "timer", "ms": kind = .distribution
        case nil: return .rejected(.missingType)
        default: return .rejected(.unknownType)
        }
        if decoded.kind == "ms" || decoded.kind == "timer", value < 0 { return .rejected(.negativeDuration) }
        var time: Double?
        switch decoded.time {
        case nil: time = nil
        case .number(let n):
            guard n.isFinite, n > 0 else { return .rejected(.invalidTimestamp) }
            time = n > 1e11 ? n / 1000 : n
        case .text(let s):
            guard let t = RFC3339.parse(s) else { return .rejected(.invalidTimestamp) }
            time = t
        }
        var labels: [String: String] = [:]
        for (k, v) in decoded.labels ?? [:] {
            if k.isEmpty { return .rejected(.invalidTag) }
            if case .text(let s) = v { labels[k] = s }
        }
        events.append(Event(metric: metric, value: value, kind: kind, labels: labels, time: time))
        return .accepted(1)
    }
}

// MARK: - Number parsing

private let powersOfTen: [Double] = (0...22).map { pow(10.0, Double($0)) }

/// Parses a decimal number from ASCII bytes. Plain decimals with at most 15 significant digits use
/// an exact fast path (Clinger: one correctly rounded division by an exact power of ten, so the
/// result equals `strtod`); anything else (exponents, `inf`, `nan`) goes through `Double(String)`.
func parseNumber(_ b: UnsafeRawBufferPointer) -> Double? {
    if b.isEmpty { return nil }
    var i = 0
    var negative = false
    if b[0] == UInt8(ascii: "-") || b[0] == UInt8(ascii: "+") {
        negative = b[0] == UInt8(ascii: "-")
        i = 1
    }
    var mantissa: UInt64 = 0
    var significant = 0
    var anyDigit = false
    var fractionDigits = 0
    var seenDot = false
    var fast = true
    while i < b.count {
        let c = b[i]
        if c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
            anyDigit = true
            let d = UInt64(c - UInt8(ascii: "0"))
            if mantissa != 0 || d != 0 { significant += 1 }
            if significant > 15 {
                fast = false
                break
            }
            mantissa = mantissa * 10 + d
            if seenDot { fractionDigits += 1 }
        } else if c == UInt8(ascii: "."), !seenDot {
            seenDot = true
        } else {
            fast = false
            break
        }
        i += 1
    }
    if fast && anyDigit && fractionDigits <= 22 {
        let v = Double(mantissa) / powersOfTen[fractionDigits]
        return negative ? -v : v
    }
    let text = String(decoding: b, as: UTF8.self)
    // Swift's Double(String) accepts hexadecimal floats; statsd clients never send them.
    if text.contains("x") || text.contains("X") { return nil }
    return Double(text)
}

private func asciiString(_ b: UnsafeRawBufferPointer) -> String {
    String(decoding: b, as: UTF8.self)
}
