import Foundation
import Testing

@testable import SLAWatchCore

/// The protocol conformance table of `docs/protocol.md`: each line with the events it must give
/// or the reason it must be rejected with.
private enum Expected: Sendable, CustomStringConvertible {
    case events([Event])
    case rejected(RejectReason)
    case ignored(IgnoredMessage)
    case empty

    var description: String {
        switch self {
        case .events(let e): return "\(e.count) event(s)"
        case .rejected(let r): return "rejected \(r.rawValue)"
        case .ignored(let m): return "ignored \(m.rawValue)"
        case .empty: return "empty"
        }
    }
}

private struct Row: Sendable, CustomTestStringConvertible {
    var line: String
    var expected: Expected
    var options = ParserOptions()
    var testDescription: String { "\(line.debugDescription) → \(expected)" }
}

private func ev(
    _ metric: String,
    _ value: Double,
    _ kind: MetricKind,
    _ labels: [String: String] = [:],
    time: Double? = nil,
    rate: Double = 1,
    member: String? = nil,
    delta: Bool = false
) -> Event {
    Event(
        metric: metric,
        value: value,
        kind: kind,
        labels: labels,
        time: time,
        sampleRate: rate,
        member: member,
        isDelta: delta
    )
}

private let deltas = ParserOptions(gaugeDeltas: true)

private let table: [Row] = [
    // Types.
    Row(line: "leads.qualified:1|c", expected: .events([ev("leads.qualified", 1, .counter)])),
    Row(line: "leads.qualified:2.5|c", expected: .events([ev("leads.qualified", 2.5, .counter)])),
    Row(line: "queue.depth:42|g", expected: .events([ev("queue.depth", 42, .gauge)])),
    Row(line: "temp:-3|g", expected: .events([ev("temp", -3, .gauge)])),
    Row(line: "temp:+3|g", expected: .events([ev("temp", 3, .gauge)])),
    Row(line: "latency:320|ms", expected: .events([ev("latency", 320, .distribution)])),
    Row(line: "latency:0|ms", expected: .events([ev("latency", 0, .distribution)])),
    Row(line: "size:1024|h", expected: .events([ev("size", 1024, .distribution)])),
    Row(line: "size:-5|h", expected: .events([ev("size", -5, .distribution)])),
    Row(line: "size:1.5e3|d", expected: .events([ev("size", 1500, .distribution)])),
    Row(line: "users:alice|s", expected: .events([ev("users", 1, .set, member: "alice")])),
    Row(line: "users:42|s", expected: .events([ev("users", 1, .set, member: "42")])),
    // Gauge dialects.
    Row(line: "temp:-3|g", expected: .events([ev("temp", -3, .gauge, delta: true)]), options: deltas),
    Row(line: "temp:+4|g", expected: .events([ev("temp", 4, .gauge, delta: true)]), options: deltas),
    Row(line: "temp:7|g", expected: .events([ev("temp", 7, .gauge)]), options: deltas),
    Row(line: "hits:-1|c", expected: .events([ev("hits", -1, .counter)]), options: deltas),
    // Packed values.
    Row(
        line: "x:1:2:3|h",
        expected: .events([ev("x", 1, .distribution), ev("x", 2, .distribution), ev("x", 3, .distribution)])
    ),
    Row(line: "x:1::2|c", expected: .events([ev("x", 1, .counter), ev("x", 2, .counter)])),
    Row(line: "x:5:oops|h", expected: .rejected(.invalidValue)),
    // Sample rates.
    Row(line: "req:1|c|@0.1", expected: .events([ev("req", 1, .counter, rate: 0.1)])),
    Row(line: "req:1|c|@1", expected: .events([ev("req", 1, .counter)])),
    Row(line: "lat:12|ms|@0.5", expected: .events([ev("lat", 12, .distribution, rate: 0.5)])),
    Row(line: "req:1|c|@0", expected: .rejected(.invalidSampleRate)),
    Row(line: "req:1|c|@1.5", expected: .rejected(.invalidSampleRate)),
    Row(line: "req:1|c|@-0.5", expected: .rejected(.invalidSampleRate)),
    Row(line: "req:1|c|@", expected: .rejected(.invalidSampleRate)),
    Row(line: "req:1|c|@abc", expected: .rejected(.invalidSampleRate)),
    // Tags.
    Row(
        line: "req:1|c|#env:prod,team:web",
        expected: .events([ev("req", 1, .counter, ["env": "prod", "team": "web"])])
    ),
    Row(line: "req:1|c|#canary", expected: .events([ev("req", 1, .counter, ["canary": ""])])),
    Row(line: "req:1|c|#url:http://x", expected: .events([ev("req", 1, .counter, ["url": "http://x"])])),
    Row(line: "req:1|c|@0.5|#env:prod", expected: .events([ev("req", 1, .counter, ["env": "prod"], rate: 0.5)])),
    Row(line: "req:1|c|#env:prod|@0.5", expected: .events([ev("req", 1, .counter, ["env": "prod"], rate: 0.5)])),
    Row(line: "req:1|c|#:prod", expected: .rejected(.invalidTag)),
    Row(line: "req:1|c|#a:1,:2", expected: .rejected(.invalidTag)),
    Row(line: "req:1|c|#", expected: .events([ev("req", 1, .counter)])),
    // Event time.
    Row(line: "req:1|c|T1764410000", expected: .events([ev("req", 1, .counter, time: 1_764_410_000)])),
    Row(line: "req:1|c|#a:b|T1764410000", expected: .events([ev("req", 1, .counter, ["a": "b"], time: 1_764_410_000)])),
    Row(line: "req:1|c|Tsoon", expected: .rejected(.invalidTimestamp)),
    Row(line: "req:1|c|T-5", expected: .rejected(.invalidTimestamp)),
    Row(line: "req:1|c|T1764410000.5", expected: .rejected(.invalidTimestamp)),
    // One rule for every path (EventTime): milliseconds from 10¹¹ on, 0 is a time (too_late
    // for the engine), negative is not.
    Row(line: "req:1|c|T1764410000250", expected: .events([ev("req", 1, .counter, time: 1_764_410_000.25)])),
    Row(line: "req:1|c|T0", expected: .events([ev("req", 1, .counter, time: 0)])),
    Row(line: "req:1|c|T99999999999", expected: .events([ev("req", 1, .counter, time: 99_999_999_999)])),
    Row(line: "req:1|c|T100000000000", expected: .events([ev("req", 1, .counter, time: 100_000_000)])),
    // Unknown fields are ignored.
    Row(line: "req:1|c|c:abc123", expected: .events([ev("req", 1, .counter)])),
    Row(line: "req:1|c|e:it-false,cn-x", expected: .events([ev("req", 1, .counter)])),
    Row(line: "req:1|c|card:high|#a:b", expected: .events([ev("req", 1, .counter, ["a": "b"])])),
    // Non-metric DogStatsD messages.
    Row(line: "_e{5,4}:title|text|#a:b", expected: .ignored(.event)),
    Row(line: "_sc|db.up|0|#env:prod", expected: .ignored(.serviceCheck)),
    Row(line: "_private.metric:1|c", expected: .events([ev("_private.metric", 1, .counter)])),
    // Names: UTF-8 kept as sent, NFC-normalized; reserved characters rejected.
    Row(line: "ventes_qualifiées:1|c", expected: .events([ev("ventes_qualifiées", 1, .counter)])),
    Row(line: "ventes_qualifie\u{301}es:1|c", expected: .events([ev("ventes_qualifiées", 1, .counter)])),
    Row(line: "名前:1|c", expected: .events([ev("名前", 1, .counter)])),
    Row(line: "a b:1|c", expected: .events([ev("a b", 1, .counter)])),
    Row(line: ":1|c", expected: .rejected(.emptyName)),
    Row(line: "a|b:1|c", expected: .rejected(.invalidName)),
    Row(line: "a#b:1|c", expected: .rejected(.invalidName)),
    Row(line: "a\u{7}b:1|c", expected: .rejected(.invalidName)),
    Row(line: "a:b:1|c", expected: .rejected(.invalidValue)),
    // Values.
    Row(line: "a:NaN|g", expected: .rejected(.nonFiniteValue)),
    Row(line: "a:inf|c", expected: .rejected(.nonFiniteValue)),
    Row(line: "a:-Infinity|g", expected: .rejected(.nonFiniteValue)),
    Row(line: "a:1e400|g", expected: .rejected(.nonFiniteValue)),
    Row(line: "a:0x10|c", expected: .rejected(.invalidValue)),
    Row(line: "a:1,5|c", expected: .rejected(.invalidValue)),
    Row(line: "a:-1|ms", expected: .rejected(.negativeDuration)),
    Row(line: "x:5\u{0}garbage|g", expected: .rejected(.invalidValue)),
    Row(line: "x:1|c|@0.5\u{0}9", expected: .rejected(.invalidSampleRate)),
    Row(line: "x:1e308|c|@0.01", expected: .rejected(.nonFiniteValue)),
    Row(line: "x:1|c|@1e-309", expected: .rejected(.invalidSampleRate)),
    Row(line: "a:|c", expected: .rejected(.missingValue)),
    Row(line: "a:", expected: .rejected(.missingValue)),
    Row(line: "a", expected: .rejected(.missingValue)),
    Row(line: "a:1", expected: .rejected(.missingType)),
    Row(line: "a:1|", expected: .rejected(.missingType)),
    Row(line: "a:1|zz", expected: .rejected(.unknownType)),
    Row(line: "a:1|C", expected: .rejected(.unknownType)),
    Row(line: "a:1|msx", expected: .rejected(.unknownType)),
    // Whitespace, line endings, BOM.
    Row(line: "a:1|c\r", expected: .events([ev("a", 1, .counter)])),
    Row(line: "\u{FEFF}a:1|c", expected: .events([ev("a", 1, .counter)])),
    Row(line: "", expected: .empty),
    Row(line: "   ", expected: .empty),
    Row(line: "\r", expected: .empty),
    // JSON lines.
    Row(
        line: #"{"metric":"leads","value":2,"kind":"counter","labels":{"src":"crm"}}"#,
        expected: .events([ev("leads", 2, .counter, ["src": "crm"])])
    ),
    Row(
        line: #"{"metric":"lat","value":12.5,"kind":"ms","time":"2026-11-29T10:00:00Z"}"#,
        expected: .events([ev("lat", 12.5, .distribution, time: 1_795_946_400)])
    ),
    Row(
        line: #"{"metric":"lat","value":1,"kind":"d","time":"2026-11-29T11:00:00.5+01:00"}"#,
        expected: .events([ev("lat", 1, .distribution, time: 1_795_946_400.5)])
    ),
    Row(
        line: #"{"metric":"g","value":1,"kind":"gauge","time":1764410400}"#,
        expected: .events([ev("g", 1, .gauge, time: 1_764_410_400)])
    ),
    Row(
        line: #"{"metric":"g","value":1,"kind":"gauge","time":1764410400250}"#,
        expected: .events([ev("g", 1, .gauge, time: 1_764_410_400.25)])
    ),
    Row(
        line: #"{"metric":"u","value":7,"kind":"set"}"#,
        expected: .events([ev("u", 1, .set, member: "7")])
    ),
    Row(
        line: #"[{"metric":"a","value":1,"kind":"c"},{"metric":"b","value":2,"kind":"g"}]"#,
        expected: .events([ev("a", 1, .counter), ev("b", 2, .gauge)])
    ),
    Row(line: #"{"metric":"a","value":"1","kind":"c"}"#, expected: .rejected(.invalidValue)),
    Row(line: #"{"metric":"u","value":"alice","kind":"set"}"#, expected: .events([ev("u", 1, .set, member: "alice")])),
    Row(line: #"{"metric":"a","value":true,"kind":"c"}"#, expected: .rejected(.invalidJSON)),
    Row(line: #"{"metric":"a","kind":"c"}"#, expected: .rejected(.missingValue)),
    Row(line: #"{"metric":"a","value":1}"#, expected: .rejected(.missingType)),
    Row(line: #"{"metric":"a","value":1,"kind":"meter"}"#, expected: .rejected(.unknownType)),
    Row(line: #"{"metric":"","value":1,"kind":"c"}"#, expected: .rejected(.emptyName)),
    Row(line: #"{"metric":"a:b","value":1,"kind":"c"}"#, expected: .rejected(.invalidName)),
    Row(line: #"{"metric":"a","value":1,"kind":"c","time":"yesterday"}"#, expected: .rejected(.invalidTimestamp)),
    Row(line: #"{"metric":"a","value":1,"kind":"c","time":-1}"#, expected: .rejected(.invalidTimestamp)),
    Row(line: #"{"metric":"a","value":1,"kind":"c","time":0}"#, expected: .events([ev("a", 1, .counter, time: 0)])),
    Row(
        line: #"{"metric":"a","value":1,"kind":"c","time":1764410000250}"#,
        expected: .events([ev("a", 1, .counter, time: 1_764_410_000.25)])
    ),
    Row(
        line: #"{"metric":"a","value":1,"kind":"c","time":"1970-01-01T00:00:00Z"}"#,
        expected: .events([ev("a", 1, .counter, time: 0)])
    ),
    // Found by the fuzzer: a date before 1970 is not an event time.
    Row(
        line: #"{"metric":"a","value":1,"kind":"c","time":"1013-11-29T10:00:00Z"}"#,
        expected: .rejected(.invalidTimestamp)
    ),
    Row(line: #"{"metric":"a","value":1,"kind":"c","labels":{"":"x"}}"#, expected: .rejected(.invalidTag)),
    Row(line: #"{"metric":"a","value":1,"kind":"c""#, expected: .rejected(.invalidJSON)),
    Row(line: #"{"metric":"a","value":1e999,"kind":"c"}"#, expected: .rejected(.invalidJSON)),
    Row(line: "[1]", expected: .rejected(.invalidJSON)),
    Row(
        line: #"{"metric":"a","value":1,"kind":"c","labels":{"n":null,"m":"x"}}"#,
        expected: .events([ev("a", 1, .counter, ["m": "x"])])
    ),
    Row(line: "#a:1|c", expected: .rejected(.unknownControl)),
    Row(line: "[]", expected: .empty),
]

@Suite struct ConformanceTests {
    @Test func tableCoversAtLeastSixtyLines() {
        #expect(table.count >= 60)
    }

    @Test(arguments: table)
    fileprivate func row(_ row: Row) {
        var events: [Event] = []
        var outcome = LineParser(options: row.options).parse(row.line, into: &events)
        if row.line.hasPrefix("#") {
            // Control lines are recognised by the framing layer, before the parser.
            var batcher = LineBatcher(maxLineBytes: 1024, options: row.options)
            Array((row.line + "\n").utf8).withUnsafeBytes { batcher.feed($0) }
            outcome = batcher.rejections.first.map { .rejected($0.reason) } ?? .accepted(batcher.events.count)
            events = Array(batcher.events)
        }
        switch row.expected {
        case .events(let want):
            #expect(outcome == .accepted(want.count))
            #expect(events == want)
        case .rejected(let reason):
            #expect(outcome == .rejected(reason))
            #expect(events.isEmpty)
        case .ignored(let kind):
            #expect(outcome == .ignored(kind))
            #expect(events.isEmpty)
        case .empty:
            #expect(outcome == .empty)
            #expect(events.isEmpty)
        }
    }

    @Test func invalidUTF8IsRejected() {
        let bytes: [UInt8] = Array("caf".utf8) + [0xC3, 0x28] + Array(":1|c".utf8)
        var events: [Event] = []
        let outcome = bytes.withUnsafeBytes { LineParser().parse($0, into: &events) }
        #expect(outcome == .rejected(.invalidUTF8))
        #expect(events.isEmpty)
    }

    @Test func jsonBatchWithABadElementKeepsTheGoodOnes() {
        var events: [Event] = []
        let outcome = LineParser().parse(
            #"[{"metric":"a","value":1,"kind":"c"},{"metric":"b","kind":"c"},7,{"metric":"c","value":3,"kind":"g"}]"#,
            into: &events
        )
        #expect(outcome == .partial(accepted: 2, rejected: [.missingValue, .invalidJSON], elements: [1, 2]))
        #expect(events.map(\.metric) == ["a", "c"])
    }

    @Test func ignoredFieldsAndMessagesAreCounted() {
        var batcher = LineBatcher(maxLineBytes: 1024)
        let text = "a:1|c|c:abc|card:low\n_sc|x|0\n_e{1,1}:a|b\nb:2|g\n"
        text.utf8CString.dropLast().map { UInt8(bitPattern: $0) }.withUnsafeBytes { batcher.feed($0) }
        #expect(batcher.stats.ignoredFields == 2)
        #expect(batcher.stats.ignoredMessages == 2)
        #expect(batcher.events.map(\.metric) == ["a", "b"])
        #expect(batcher.eventLines == [1, 4])
    }

    @Test func setCountIsDistinctMembersAcrossBuckets() {
        var w = Window(spec: .rolling(seconds: 60), periods: nil)
        for (t, m) in [(0.0, "alice"), (1, "bob"), (10, "alice"), (20, "carol"), (59, "bob")] {
            let kept = w.add(Event(metric: "u", value: 1, kind: .set, member: m), at: 1001 + t, now: 1060)
            #expect(kept)
        }
        let agg = w.aggregate(at: 1060)
        #expect(agg.distinctMembers == 3)
        let o = Objective(
            name: "o",
            sla: SLA(name: "s", provider: "p", customer: "c"),
            metric: "u",
            sli: .count,
            window: .rolling(seconds: 60),
            direction: .atLeast,
            baseline: Baseline(value: 1, kind: .fixed, source: "1")
        )
        #expect(o.sliValue(agg, seconds: 60) == 3)
    }

    @Test func gaugeDeltasChangeTheLevelPerSeries() {
        let o = Objective(
            name: "o",
            sla: SLA(name: "s", provider: "p", customer: "c"),
            metric: "temp",
            sli: .max,
            window: .rolling(seconds: 60),
            direction: .atMost,
            baseline: Baseline(value: 100, kind: .fixed, source: "100")
        )
        var engine = Engine(objectives: [o])
        engine.tracksGaugeLevels = true
        let parser = LineParser(options: ParserOptions(gaugeDeltas: true))
        var events: [Event] = []
        for line in ["temp:10|g|#room:a", "temp:+5|g|#room:a", "temp:-3|g|#room:b", "temp:-2|g|#room:a"] {
            _ = parser.parse(line, into: &events)
        }
        _ = engine.ingest(events, now: 1000)
        #expect(engine.gaugeLevels["temp{room=a}"] == 13)
        #expect(engine.gaugeLevels["temp{room=b}"] == -3)
        _ = engine.evaluate(at: 1000)
        #expect(engine.status().first?.value == 15)  // max of the levels 10, 15, -3, 13
    }
}
