import Foundation

/// JSON lines: one object, or an array of objects (a batch), per line.
extension LineParser {
    struct JSONEvent: Decodable {
        var metric: String?
        var value: ValueField?
        var kind: String?
        var labels: [String: LabelValue]?
        var time: TimeValue?
    }

    enum LabelValue: Decodable {
        case text(String)
        case absent
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() {
                self = .absent
            } else if let s = try? c.decode(String.self) {
                self = .text(s)
            } else if let b = try? c.decode(Bool.self) {
                self = .text(b ? "true" : "false")
            } else {
                let d = try c.decode(Double.self)
                self = .text(d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d))
            }
        }
    }

    /// A JSON value: a number, or text (allowed only as a set member, e.g. a user id).
    enum ValueField: Decodable {
        case number(Double)
        case text(String)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let d = try? c.decode(Double.self) { self = .number(d) } else { self = .text(try c.decode(String.self)) }
        }
    }

    enum TimeValue: Decodable {
        case text(String)
        case number(Double)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let d = try? c.decode(Double.self) { self = .number(d) } else { self = .text(try c.decode(String.self)) }
        }
    }

    /// An array element that may not be an event object at all.
    struct BatchElement: Decodable {
        var event: JSONEvent?
        init(from decoder: Decoder) throws { event = try? JSONEvent(from: decoder) }
    }

    func parseJSON<Sink: EventSink>(_ b: UnsafeRawBufferPointer, into events: inout Sink) -> LineOutcome {
        guard String(validating: b, as: UTF8.self) != nil else { return .rejected(.invalidUTF8) }
        let decoded: JSONEvent
        do {
            decoded = try JSONDecoder().decode(JSONEvent.self, from: Data(b))
        } catch {
            // A value of the wrong JSON type (e.g. "value": "x" or true) lands here too.
            return .rejected(.invalidJSON)
        }
        switch makeEvent(decoded) {
        case .success(let e):
            events.append(e)
            return .accepted(1)
        case .failure(let reason):
            return .rejected(reason.reason)
        }
    }

    func parseJSONBatch<Sink: EventSink>(_ b: UnsafeRawBufferPointer, into events: inout Sink)
        -> LineOutcome
    {
        guard String(validating: b, as: UTF8.self) != nil else { return .rejected(.invalidUTF8) }
        guard let elements = try? JSONDecoder().decode([BatchElement].self, from: Data(b)) else {
            return .rejected(.invalidJSON)
        }
        var accepted = 0
        var rejected: [RejectReason] = []
        var positions: [Int] = []
        for (k, element) in elements.enumerated() {
            guard let decoded = element.event else {
                rejected.append(.invalidJSON)
                positions.append(k)
                continue
            }
            switch makeEvent(decoded) {
            case .success(let e):
                events.append(e)
                accepted += 1
            case .failure(let reason):
                rejected.append(reason.reason)
                positions.append(k)
            }
        }
        if rejected.isEmpty { return elements.isEmpty ? .empty : .accepted(accepted) }
        if accepted == 0 && rejected.count == 1 && elements.count == 1 { return .rejected(rejected[0]) }
        return .partial(accepted: accepted, rejected: rejected, elements: positions)
    }

    struct Rejection: Error {
        var reason: RejectReason
        init(_ r: RejectReason) { reason = r }
    }

    func makeEvent(_ decoded: JSONEvent) -> Result<Event, Rejection> {
        guard var metric = decoded.metric, decoded.value != nil || decoded.kind != nil else {
            return .failure(Rejection(.invalidJSON))
        }
        if metric.isEmpty { return .failure(Rejection(.emptyName)) }
        if metric.utf8.contains(where: {
            $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "|") || $0 == UInt8(ascii: "#") || $0 == UInt8(ascii: ":")
        }) {
            return .failure(Rejection(.invalidName))
        }
        if metric.utf8.contains(where: { $0 >= 0x80 }) { metric = metric.precomposedStringWithCanonicalMapping }
        guard let field = decoded.value else { return .failure(Rejection(.missingValue)) }
        let kind: MetricKind
        switch decoded.kind {
        case "counter", "c": kind = .counter
        case "cumulative": kind = .cumulative
        case "gauge", "g": kind = .gauge
        case "distribution", "d", "h", "histogram", "timer", "ms": kind = .distribution
        case "set", "s": kind = .set
        case nil: return .failure(Rejection(.missingType))
        default: return .failure(Rejection(.unknownType))
        }
        let value: Double
        var textMember: String?
        switch field {
        case .number(let n): value = n
        case .text(let t):
            guard kind == .set else { return .failure(Rejection(.invalidValue)) }
            value = 1
            textMember = t
        }
        guard value.isFinite else { return .failure(Rejection(.nonFiniteValue)) }
        if decoded.kind == "ms" || decoded.kind == "timer", value < 0 { return .failure(Rejection(.negativeDuration)) }
        var time: Double?
        switch decoded.time {
        case nil: time = nil
        case .number(let n):
            guard let t = EventTime.unixSeconds(n) else { return .failure(Rejection(.invalidTimestamp)) }
            time = t
        case .text(let s):
            guard let t = RFC3339.parse(s), t >= 0 else { return .failure(Rejection(.invalidTimestamp)) }
            time = t
        }
        var labels: [String: String] = [:]
        for (k, v) in decoded.labels ?? [:] {
            if k.isEmpty { return .failure(Rejection(.invalidTag)) }
            if case .text(let s) = v { labels[k] = s }
        }
        if kind == .set {
            // A JSON set member is the value: a string as is, a number in its shortest form.
            return .success(
                Event(
                    metric: metric,
                    value: 1,
                    kind: .set,
                    labels: labels,
                    time: time,
                    member: textMember ?? AlertEntry.number(value)
                )
            )
        }
        return .success(Event(metric: metric, value: value, kind: kind, labels: labels, time: time))
    }
}
