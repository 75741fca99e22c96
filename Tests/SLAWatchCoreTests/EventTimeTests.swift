import Foundation
import Testing

@testable import SLAWatchCore

/// One rule for a numeric event time on every path (`EventTime`, docs/protocol.md "Event time"):
/// the same number means the same instant, or the same rejection, in a statsd `|T` field, a JSON
/// `time` and a CSV time cell; and a valid but ancient time is `too_late` by the engine, never
/// `invalid_timestamp` by a parser.
@Suite struct EventTimeTests {
    /// (number as sent, unix seconds it means or nil for invalid_timestamp)
    static let cases: [(String, Double?)] = [
        ("0", 0),
        ("1", 1),
        ("1764410000", 1_764_410_000),
        ("99999999999", 99_999_999_999),
        ("100000000000", 100_000_000),
        ("1764410000250", 1_764_410_000.25),
        ("-1", nil),
        ("-1764410000", nil),
    ]

    private func statsd(_ n: String) -> Double?? {
        let (outcome, events) = parseLine("req:1|c|T\(n)")
        if outcome == .rejected(.invalidTimestamp) { return .some(nil) }
        return events.first.map { $0.time }
    }

    private func json(_ n: String) -> Double?? {
        let (outcome, events) = parseLine(#"{"metric":"req","value":1,"kind":"c","time":\#(n)}"#)
        if outcome == .rejected(.invalidTimestamp) { return .some(nil) }
        return events.first.map { $0.time }
    }

    @Test(arguments: cases)
    func theSameNumberMeansTheSameOnEveryPath(_ sent: String, _ expected: Double?) {
        #expect(EventTime.unixSeconds(Double(sent)!) == expected)
        #expect(statsd(sent) == .some(expected), "statsd |T\(sent)")
        #expect(json(sent) == .some(expected), "JSON time \(sent)")
        #expect(CSVEventParser.time(sent, zone: nil) == expected, "CSV \(sent)")
    }

    @Test func nonFiniteAndNonNumbersAreInvalidEverywhere() {
        #expect(EventTime.unixSeconds(.nan) == nil)
        #expect(EventTime.unixSeconds(.infinity) == nil)
        #expect(statsd("soon") == .some(nil))
        #expect(CSVEventParser.time("inf", zone: nil) == nil)
        #expect(CSVEventParser.time("nan", zone: nil) == nil)
        #expect(CSVEventParser.time("1969-12-31T23:59:59Z", zone: nil) == nil)
        #expect(CSVEventParser.time("1970-01-01T00:00:00Z", zone: nil) == 0)
    }

    @Test func timesZeroAndOneAreBothTooLateForTheEngine() throws {
        let objectives = try ObjectivesConfig.parse(
            """
            slas:
              - name: s
                provider: p
                customer: c
                objectives:
                  - {name: n, metric: req, sli: count, window: 10m, direction: at_most, baseline: 5, nodata: ok}
            """,
            file: "o.yaml"
        )
        var engine = Engine(objectives: objectives)
        var events: [Event] = []
        for line in ["req:1|c|T0", "req:1|c|T1", #"{"metric":"req","value":1,"kind":"c","time":0}"#] {
            #expect(LineParser().parse(line, into: &events) != .rejected(.invalidTimestamp))
        }
        #expect(events.count == 3)
        let r = engine.ingest(events, now: 1_764_410_000)
        #expect(r.accepted == 0)
        #expect(r.rejected.map(\.reason) == [.tooLate, .tooLate, .tooLate])
    }
}
