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

/// A series is its name and labels, whatever the spelling of a number in them, and appears
/// once per file.
@Suite struct PrometheusSeriesIdentityTests {
    @Test(arguments: [
        ("1", "1.0"), ("1.0", "1.0"), ("1e0", "1.0"), ("01", "1.0"), ("0.25", "0.25"), ("2.5e-1", "0.25"),
        ("+Inf", "+Inf"), ("inf", "+Inf"), ("-Inf", "-Inf"), ("NaN", "NaN"), ("0", "0.0"), ("-1", "-1.0"),
        ("100000", "100000.0"), ("1000000", "1e+06"), ("123456789", "1.23456789e+08"), ("0.0001", "0.0001"),
        ("0.00001", "1e-05"), ("0.005", "0.005"), ("10", "10.0"), ("abc", "abc"), ("", ""),
    ])
    func boundsAreSpelledAsPrometheus3StoresThem(_ c: (String, String)) {
        #expect(PrometheusTextParser.canonicalBound(c.0) == c.1, "\(c.0)")
    }

    /// `le="1"` in one scrape and `le="1.0"` in the next are one bucket series: the increase is
    /// counted (it was lost as a new series' base), and an objective's `le: "1"` selects both.
    @Test func aBucketSpelledTwoWaysIsOneSeries() throws {
        let objectives = try ObjectivesConfig.parse(
            """
            slas:
              - name: s
                provider: p
                customer: c
                objectives:
                  - {name: fast, metric: rpc_seconds_bucket, labels: {le: "1"}, sli: count, window: 1h,
                     direction: at_least, baseline: 1}
            """,
            file: "o.yaml"
        )
        var e = Engine(objectives: objectives)
        for (k, text) in [
            "# TYPE rpc_seconds histogram\nrpc_seconds_bucket{le=\"1\"} 10 1700000000000\n",
            "# TYPE rpc_seconds histogram\nrpc_seconds_bucket{le=\"1.0\"} 15 1700000060000\n",
            "# TYPE rpc_seconds histogram\nrpc_seconds_bucket{le=\"1e0\"} 22 1700000120000\n",
        ].enumerated() {
            let r = read(text, format: .prometheus)
            #expect(r.fatal == nil)
            #expect(r.events.first?.labels["le"] == "1.0")
            _ = e.ingest(r.events, now: 1_700_000_000 + Double(k) * 60 + 1)
        }
        #expect(e.status(at: 1_700_000_200).first?.value == 12)
    }

    /// A writer that appends instead of replacing: the same series twice (without timestamps,
    /// or at the same one) makes the whole file unreadable, naming both lines; the same series
    /// at two timestamps (a backfill) is two samples.
    @Test func aSeriesTwiceInOneFileIsRefusedNamingBothLines() {
        let appended = """
            # TYPE jobs_total counter
            jobs_total{queue="a"} 40
            jobs_total{queue="b"} 7
            # TYPE jobs_total counter
            jobs_total{queue="a"} 50
            """
        let r = read(appended, format: .prometheus)
        #expect(
            r.fatal
                == "the series jobs_total{queue=\"a\"} appears twice, at lines 2 and 5 (a writer that appends to the file instead of replacing it?)"
        )
        #expect(
            read("x_bucket{le=\"1\"} 1 1000\nx_bucket{le=\"1.0\"} 2 1000\n", format: .prometheus).fatal?.contains(
                "lines 1 and 2"
            ) == true
        )
        let backfill = read("x_total 1 1000\nx_total 2 2000\ny 1\n", format: .prometheus)
        #expect(backfill.fatal == nil)
        #expect(backfill.events.count == 3)
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
