import Foundation
import Testing

@testable import SLAWatchCore

/// Feeds `text` to a batcher of `format` in chunks of `chunk` bytes and returns the events (with
/// their lines) and the rejections.
private func read(
    _ text: String,
    format: LineBatcher.Format,
    chunk: Int = 7,
    maxLineBytes: Int = 1 << 20
) -> (events: [Event], lines: [Int], rejections: [LineRejection], fatal: String?) {
    var b = LineBatcher(maxLineBytes: maxLineBytes, format: format)
    let bytes = Array(text.utf8)
    var i = 0
    while i < bytes.count {
        let end = min(bytes.count, i + chunk)
        bytes[i..<end].withUnsafeBytes { b.feed($0) }
        i = end
    }
    b.finish()
    let t = b.take()
    return (Array(t.events), t.eventLines, t.rejections, b.fatalError)
}

/// `.prom` files: Prometheus text exposition 0.0.4 as node_exporter's textfile collector and
/// client libraries write it.
@Suite struct PrometheusTextTests {
    /// The shape of a real exporter's output (client_golang / node_exporter textfile), with HELP
    /// and TYPE lines, a labelled counter, a gauge with a timestamp, a histogram and a summary.
    static let exporterOutput = """
        # HELP http_requests_total The total number of HTTP requests.
        # TYPE http_requests_total counter
        http_requests_total{method="post",code="200"} 1027 1395066363000
        http_requests_total{method="post",code="400"}    3 1395066363000

        # Escaping in label values and a trailing comma:
        msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\"",} 1.458255915e9

        # HELP metric_without_timestamp_and_labels A gauge.
        # TYPE metric_without_timestamp_and_labels gauge
        metric_without_timestamp_and_labels 12.47

        # HELP http_request_duration_seconds A histogram of the request duration.
        # TYPE http_request_duration_seconds histogram
        http_request_duration_seconds_bucket{le="0.05"} 24054
        http_request_duration_seconds_bucket{le="0.1"} 33444
        http_request_duration_seconds_bucket{le="0.2"} 100392
        http_request_duration_seconds_bucket{le="0.5"} 129389
        http_request_duration_seconds_bucket{le="1"} 133988
        http_request_duration_seconds_bucket{le="+Inf"} 144320
        http_request_duration_seconds_sum 53423
        http_request_duration_seconds_count 144320

        # HELP rpc_duration_seconds A summary of the RPC duration in seconds.
        # TYPE rpc_duration_seconds summary
        rpc_duration_seconds{quantile="0.01"} 3102
        rpc_duration_seconds{quantile="0.5"} 4773
        rpc_duration_seconds{quantile="0.99"} NaN
        rpc_duration_seconds_sum 1.7560473e+07
        rpc_duration_seconds_count 2693
        """

    @Test func exporterOutputBecomesOneEventPerSample() {
        let r = read(Self.exporterOutput, format: .prometheus)
        // 2 + 1 + 1 + 8 + 5 samples, one of them NaN.
        #expect(r.events.count == 16)
        #expect(r.rejections.map(\.reason) == [.nonFiniteValue])
        #expect(r.rejections.first?.line == 28)
        let first = r.events[0]
        #expect(first.metric == "http_requests_total")
        #expect(first.labels == ["method": "post", "code": "200"])
        #expect(first.value == 1027)
        #expect(first.time == 1_395_066_363)
        #expect(first.kind == .cumulative)  // a counter: counted as increases
        #expect(r.events.first { $0.metric == "metric_without_timestamp_and_labels" }?.kind == .gauge)
        #expect(r.events.first { $0.labels["le"] == "0.1" }?.kind == .cumulative)
        #expect(r.events.first { $0.labels["quantile"] == "0.5" }?.kind == .gauge)
        #expect(r.events.first { $0.metric == "rpc_duration_seconds_count" }?.kind == .cumulative)
        #expect(r.events[1].value == 3)
        #expect(r.events[2].labels["path"] == "C:\\DIR\\FILE.TXT")
        #expect(r.events[2].labels["error"] == "Cannot find file:\n\"FILE.TXT\"")
        #expect(r.events[2].value == 1_458_255_915)
        #expect(r.events[3].time == nil)
        let inf = r.events.first { $0.labels["le"] == "+Inf" }
        #expect(inf?.metric == "http_request_duration_seconds_bucket")
        #expect(inf?.value == 144_320)
        #expect(r.events.first { $0.metric == "rpc_duration_seconds_sum" }?.value == 17_560_473)
        #expect(r.lines[0] == 3)
    }

    @Test func exemplarsAreIgnored() {
        let r = read(
            "requests_total{code=\"200\"} 64 1700000000000 # {trace_id=\"abc\"} 1 1700000000.5\n",
            format: .prometheus
        )
        #expect(r.rejections.isEmpty)
        #expect(r.events.first?.value == 64)
        #expect(r.events.first?.time == 1_700_000_000)
    }

    @Test(arguments: [
        ("bad name", "9metric 1", RejectReason.invalidName),
        ("no value", "metric{a=\"b\"}", .missingValue),
        ("word value", "metric abc", .invalidValue),
        ("unclosed labels", "metric{a=\"b\" 1", .invalidTag),
        ("unquoted label", "metric{a=b} 1", .invalidTag),
        ("duplicate label", "metric{a=\"1\",a=\"2\"} 1", .invalidTag),
        ("bad timestamp", "metric 1 12x", .invalidTimestamp),
        ("extra field", "metric 1 2 3", .invalidValue),
        ("+Inf value", "metric +Inf", .nonFiniteValue),
        ("hexadecimal", "metric 0x200", .invalidValue),
    ])
    func malformedSampleCostsOnlyItsLine(_ c: (String, String, RejectReason)) {
        let r = read("good 1\n\(c.1)\ngood 2\n", format: .prometheus)
        #expect(r.events.map(\.value) == [1, 2], "\(c.0)")
        #expect(r.rejections.map(\.reason) == [c.2], "\(c.0)")
        #expect(r.rejections.first?.line == 2)
    }
}

/// `.csv` files: a header row, RFC 4180 quoting, and mappings for foreign exports.
@Suite struct CSVEventTests {
    @Test func headerColumnsKindsLabelsAndTimes() {
        let text = """
            time,metric,value,kind,label.region,label.team
            2026-11-02T10:00:00Z,leads.qualified,3,,eu,growth
            1793613600,leads.qualified,2,c,"us",
            "2026-11-02 12:00:00",api.latency,120.5,distribution,eu,"a, b"
            2026-11-02T13:00:00+01:00,visitors,alice,set,,
            """
        let r = read(text, format: .csv(nil))
        #expect(r.rejections.isEmpty)
        #expect(r.events.count == 4)
        #expect(
            r.events[0]
                == Event(
                    metric: "leads.qualified",
                    value: 3,
                    kind: .counter,
                    labels: ["region": "eu", "team": "growth"],
                    time: 1_793_613_600
                )
        )
        #expect(r.events[1].time == 1_793_613_600)
        #expect(r.events[1].labels == ["region": "us"])
        #expect(r.events[2].kind == .distribution)
        #expect(r.events[2].time == 1_793_620_800)
        #expect(r.events[2].labels["team"] == "a, b")
        #expect(r.events[3].kind == .set)
        #expect(r.events[3].member == "alice")
        #expect(r.events[3].time == 1_793_620_800)
        #expect(r.lines == [2, 3, 4, 5])
    }

    @Test func badRowsCostOnlyThemselves() {
        let text = """
            time,metric,value
            2026-11-02T10:00:00Z,a,1
            2026-11-02T10:00:00Z,a
            2026-11-02T10:00:00Z,a,x
            yesterday,a,1
            2026-11-02T10:00:00Z,a,"1
            2026-11-02T10:00:00Z,,1
            2026-11-02T10:00:00Z,a,NaN
            2026-11-02T10:00:00Z,a,4
            """
        let r = read(text, format: .csv(nil))
        #expect(r.events.map(\.value) == [1, 4])
        #expect(r.lines == [2, 9])
        #expect(
            r.rejections.map(\.reason) == [
                .invalidCSV, .invalidValue, .invalidTimestamp, .invalidCSV, .emptyName, .nonFiniteValue,
            ]
        )
        #expect(r.rejections.map(\.line) == [3, 4, 5, 6, 7, 8])
    }

    @Test func headerWithoutRequiredColumnsMakesTheFileUnreadable() {
        let r = read("timestamp,value\n2014-07-01 00:00:00,10844\n", format: .csv(nil))
        #expect(r.events.isEmpty)
        #expect(r.fatal?.contains("has no column metric") == true)
    }

    @Test func repeatedHeaderColumnsMakeTheFileUnreadable() {
        let r = read("time,metric,value,value\n1,a,1,2\n", format: .csv(nil))
        #expect(r.events.isEmpty)
        #expect(r.fatal?.contains("names column value more than once") == true)
    }

    @Test func mappingReadsAForeignExport() {
        let mapping = CSVMapping(pattern: "nyc_taxi*.csv", metric: "taxi.passengers", labels: ["source": "nab"])
        #expect(mapping.matches("nyc_taxi-2026.csv"))
        #expect(!mapping.matches("other.csv"))
        let r = read(
            "\u{FEFF}timestamp,value\r\n2014-07-01 00:00:00,10844\r\n2014-07-01 00:30:00,8127",
            format: .csv(mapping)
        )
        #expect(r.rejections.isEmpty)
        #expect(
            r.events == [
                Event(
                    metric: "taxi.passengers",
                    value: 10844,
                    kind: .counter,
                    labels: ["source": "nab"],
                    time: 1_404_172_800
                ),
                Event(
                    metric: "taxi.passengers",
                    value: 8127,
                    kind: .counter,
                    labels: ["source": "nab"],
                    time: 1_404_174_600
                ),
            ]
        )
    }

    @Test func localTimesFollowTheMappingsZoneAcrossDST() {
        var m = CSVMapping(pattern: "*.csv", metric: "x")
        m.timeZone = "America/New_York"
        // 2026-03-08 01:30 EST (UTC−5) and 03:30 EDT (UTC−4), either side of the spring gap.
        let r = read("time,value\n2026-03-08 01:30:00,1\n2026-03-08 03:30:00,1\n", format: .csv(m))
        #expect(r.events.map(\.time) == [1_772_951_400, 1_772_955_000])
    }

    @Test func quotedCells() {
        #expect(CSVEventParser.split("a,\"b,c\",\"d\"\"e\",") == ["a", "b,c", "d\"e", ""])
        #expect(CSVEventParser.split("\"open") == nil)
        #expect(CSVEventParser.split("\"a\"b") == nil)
    }
}

/// Staging: a drop file's events count at its commit, all at once, or not at all.
@Suite struct StagingTests {
    private func engine() -> Engine {
        Engine(objectives: [
            Objective(
                name: "n",
                sla: SLA(name: "s", provider: "p", customer: "c"),
                metric: "m",
                match: [:],
                sli: .count,
                window: .rolling(seconds: 600),
                timeZone: "UTC",
                direction: .atMost,
                baseline: Baseline(value: 100, kind: .fixed, source: "100"),
                forSeconds: 0,
                lateTolerance: 0,
                nodata: .ok
            )
        ])
    }

    @Test func stagedEventsAreInvisibleUntilCommitted() {
        var e = engine()
        _ = e.ingest([Event(metric: "m", value: 1, kind: .counter, time: 1000)], now: 1000)
        e.beginStaging()
        let r = e.ingest(EventBatch([Event(metric: "m", value: 5, kind: .counter, time: 990)]), now: 1000, staged: true)
        #expect(r.accepted == 1)
        // Socket traffic during the file still counts at once.
        _ = e.ingest([Event(metric: "m", value: 2, kind: .counter, time: 1000)], now: 1000)
        #expect(e.status(at: 1000).first?.value == 3)
        #expect(e.takeDirtySnapshots().first?.buckets.values.map(\.count).reduce(0, +) == 3)
        #expect(e.commitStaging(now: 1001) == 0)
        #expect(e.status(at: 1001).first?.value == 8)
        #expect(!e.isStaging)
    }

    @Test func discardedStagingLeavesNoTrace() {
        var e = engine()
        _ = e.ingest([Event(metric: "m", value: 1, kind: .counter, time: 1000)], now: 1000)
        e.beginStaging()
        _ = e.ingest(EventBatch([Event(metric: "m", value: 5, kind: .counter, time: 1000)]), now: 1000, staged: true)
        e.discardStaging()
        #expect(e.status(at: 1000).first?.value == 1)
    }

    @Test func eventsThatTurnLateWhileTheFileIsReadAreNotCounted() {
        var e = engine()
        e.beginStaging()
        _ = e.ingest(EventBatch([Event(metric: "m", value: 5, kind: .counter, time: 1000)]), now: 1000, staged: true)
        // The file took 20 minutes: its bucket left the 10-minute window.
        #expect(e.commitStaging(now: 2200) == 1)
        #expect(e.status(at: 2200).first?.value == nil)  // no data in the window
    }
}
