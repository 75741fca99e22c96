import Foundation
import Yams

/// The drop directory's settings (`drop:` in `slawatch.yaml`; docs/drop-directory.md).
public struct DropSettings: Sendable, Equatable {
    /// Where ingested files go (`processed_directory`; default `DROP/processed`). May be on
    /// another file system: the move then copies, fsyncs and unlinks.
    public var processedDirectory: String?
    /// Where unreadable files go (`failed_directory`; default `DROP/failed`).
    public var failedDirectory: String?
    /// Seconds a file written in place must stay unchanged (size and mtime) after it was
    /// closed before it is read (`settle`). Default 2.
    public var settle: Double = 2
    /// Seconds between full rescans while inotify watches (`rescan_interval`). Default 60.
    public var rescanInterval: Double = 60
    /// Seconds processed files (and their `.rejects`) are kept (`processed_retention`).
    /// Default 7 days; 0 keeps them forever.
    public var processedRetention: Double = 7 * 86400
    /// Seconds ledger entries are kept for recognizing repeated files (`ledger_retention`).
    /// Default 400 days (longer than a yearly window).
    public var ledgerRetention: Double = 400 * 86400
    /// Whether the same content dropped again under a new name skips its timestamped events
    /// (`dedupe: on|off`). Default on.
    public var dedupe = true
    /// Longest line in a drop file, in bytes (`max_line_bytes`). Default 1 MiB.
    public var maxLineBytes = 1 << 20
    /// Largest `.json` document, in bytes (read whole; `max_json_bytes`). Default 256 MiB.
    public var maxJSONBytes = JSONDocumentReader.defaultMaxBytes
    /// Mappings for CSV exports with their own columns (`csv:`), first match wins.
    public var csv: [CSVMapping] = []

    /// The defaults.
    public init() {}
}

/// The daemon's own settings (`slawatch.yaml`, design §3). Every key has a default.
public struct DaemonConfig: Sendable, Equatable {
    /// Holds `state.sqlite`. Default `/var/lib/slawatch`.
    public var stateDirectory: String
    /// Holds `ingest.sock` and `control.sock` when not socket-activated. Default `/run/slawatch`.
    public var runtimeDirectory: String
    /// The drop directory; `processed/` and `failed/` are created inside. Default
    /// `/var/lib/slawatch/drop`.
    public var dropDirectory: String
    /// Directory of `*.yaml` SLA files. Default `/etc/slawatch/objectives.d`.
    public var objectivesDirectory: String
    /// Seconds between snapshots of changed state to the store. Default 5.
    public var snapshotInterval: Double
    /// Seconds between evaluations. Default 1.
    public var evaluationInterval: Double
    /// Seconds an event time may be ahead of the clock before it is rejected. Default 300.
    public var maxFutureSkew: Double
    /// Longest accepted line in bytes; longer lines are dropped up to the next newline and
    /// counted. Default 65536.
    public var maxLineBytes: Int
    /// Seconds between drop-directory scans when inotify is unavailable. Default 1.
    public var dropScanInterval: Double
    /// The drop directory's other settings (`drop:`).
    public var drop = DropSettings()
    /// Mode of the socket files. Default 0o660.
    public var socketMode: Int
    /// Datagram socket: the longest accepted datagram in bytes; longer ones are dropped whole.
    /// Default 65536 (the same as `max_line_bytes` unless set).
    public var maxDatagramBytes: Int
    /// A stream connection that completes no line for this many seconds (or leaves its answers
    /// unread that long) is closed. Default 60.
    public var idleTimeout: Double
    /// Concurrent stream connections; further ones are closed at once and counted. Default 1024,
    /// lowered at start to what `RLIMIT_NOFILE` leaves (`DescriptorBudget`).
    public var maxConnections: Int
    /// Events parsed but not yet in the engine, at most (`max_queued_events`, default 500,000:
    /// about 25 MB). Above it the daemon stops reading the sockets until the engine catches up:
    /// senders wait, nothing is dropped, and memory stays flat under any sender.
    public var maxQueuedEvents: Int = 500_000
    /// Gauge and cumulative-counter series whose state is kept at most (`max_series`, default
    /// 100,000): more distinct series are refused (`series_limit`), with one journal entry.
    public var maxSeries: Int = 100_000
    /// Where the Prometheus exposition of every instance and of the daemon's counters is written
    /// (`metrics_textfile:`, a `*.prom` file in node_exporter's textfile collector directory),
    /// atomically (written beside it, then renamed); `nil` (default): not written.
    public var metricsTextfile: String?
    /// How often `metricsTextfile` is rewritten, seconds (`metrics_interval:`, default 15).
    public var metricsInterval: Double = 15
    /// etsy statsd gauge deltas (`+N|g`/`-N|g` change the gauge) on the stream socket.
    /// Config: `gauge_deltas: true` (both sockets), `stream`, `datagram` or `false` (default).
    public var gaugeDeltas: Bool
    /// The same for the datagram socket.
    public var gaugeDeltasDatagram: Bool
    /// Journal entries queued for the writer thread before new ones are dropped (and counted,
    /// with a summary entry once the journal drains). Default 4096.
    public var journalQueueSize: Int
    /// Transition entries written per minute before an alert storm is summarized: further
    /// transitions of that minute are counted per kind and reported in one summary entry.
    /// Default 600.
    public var maxAlertsPerMinute: Int
    /// Who may write which metrics; empty: everyone who can open the socket.
    public var authorization: Authorization
    /// Seconds period verdicts (`period_result`, `period_report`) and hourly SLI history are
    /// kept (`period_retention`). Default 400 days (a year with its previous month beside it);
    /// 5-minute SLI history is kept 35 days whatever this says.
    public var periodRetention: Double = 400 * 86400
    /// The scheduled reports (`reports:`; docs/reports.md). Default: weekly on Monday 09:00
    /// UTC, monthly, HTML, Markdown and JSON into `state_directory/reports`.
    public var reports = ReportSchedule()
    /// The file this was read from, `nil` for the embedded default.
    public var source: String?

    /// The defaults of a config file that sets nothing (system paths).
    public static let systemDefaults = DaemonConfig(
        stateDirectory: "/var/lib/slawatch",
        runtimeDirectory: "/run/slawatch",
        dropDirectory: "/var/lib/slawatch/drop",
        objectivesDirectory: "/etc/slawatch/objectives.d",
        snapshotInterval: 5,
        evaluationInterval: 1,
        maxFutureSkew: 300,
        maxLineBytes: 65536,
        dropScanInterval: 1,
        socketMode: 0o660,
        maxDatagramBytes: 65536,
        idleTimeout: 60,
        maxConnections: 1024,
        gaugeDeltas: false,
        gaugeDeltasDatagram: false,
        journalQueueSize: 4096,
        maxAlertsPerMinute: 600,
        authorization: Authorization(),
        source: nil
    )

    /// The embedded default used when the daemon runs with no config at all: everything under
    /// `base` (default `./.slawatch`), objectives from `./config/objectives.d` when it exists.
    public static func embedded(base: String = ".slawatch", objectives: String = "config/objectives.d") -> DaemonConfig
    {
        let root = URL(fileURLWithPath: base).standardizedFileURL.path
        var c = systemDefaults
        c.stateDirectory = root + "/state"
        c.runtimeDirectory = root + "/run"
        c.dropDirectory = root + "/drop"
        c.objectivesDirectory = URL(fileURLWithPath: objectives).standardizedFileURL.path
        return c
    }

    static let keys: Set<String> = [
        "state_directory", "runtime_directory", "drop_directory", "objectives_directory", "snapshot_interval",
        "evaluation_interval", "max_future_skew", "max_line_bytes", "drop_scan_interval", "socket_mode",
        "max_datagram_bytes", "idle_timeout", "max_connections", "max_queued_events", "max_series", "gauge_deltas",
        "authorization",
        "journal_queue_size", "max_alerts_per_minute", "drop", "period_retention", "reports", "metrics_textfile",
        "metrics_interval",
    ]

    /// Reads a daemon config file. Relative paths in it are resolved against the file's directory.
    /// - Throws: `ConfigErrors` naming file, line and key for each problem (unreadable file,
    ///   YAML syntax, unknown key, bad duration or number).
    public static func load(path: String) throws(ConfigErrors) -> DaemonConfig {
        let text: String
        do {
            text = try TextFile.read(path)
        } catch {
            throw ConfigErrors([error.configError])
        }
        return try parse(text, file: path)
    }

    /// Parses daemon config text; see `load(path:)`.
    public static func parse(_ text: String, file: String) throws(ConfigErrors) -> DaemonConfig {
        var r = YAMLReader(file: file)
        var c = systemDefaults
        c.source = file
        let base = URL(fileURLWithPath: file).deletingLastPathComponent()
        func resolve(_ p: String) -> String {
            p.hasPrefix("/") ? p : base.appendingPathComponent(p).standardizedFileURL.path
        }
        if let root = r.compose(text) {
            let m = r.mapping(root, "", allowed: keys)
            if let s = r.string(m["state_directory"], "state_directory") { c.stateDirectory = resolve(s) }
            if let s = r.string(m["runtime_directory"], "runtime_directory") { c.runtimeDirectory = resolve(s) }
            if let s = r.string(m["drop_directory"], "drop_directory") { c.dropDirectory = resolve(s) }
            if let s = r.string(m["objectives_directory"], "objectives_directory") {
                c.objectivesDirectory = resolve(s)
            }
            c.snapshotInterval = r.duration(
                m["snapshot_interval"],
                "snapshot_interval",
                default: 5,
                minimum: 0.001,
                maximum: 86400
            )
            c.evaluationInterval = r.duration(
                m["evaluation_interval"],
                "evaluation_interval",
                default: 1,
                minimum: 0.001,
                maximum: 86400
            )
            c.maxFutureSkew = r.duration(m["max_future_skew"], "max_future_skew", default: 300, maximum: 366 * 86400)
            c.dropScanInterval = r.duration(
                m["drop_scan_interval"],
                "drop_scan_interval",
                default: 1,
                minimum: 0.001,
                maximum: 86400
            )
            if let n = m["max_line_bytes"], let s = r.string(n, "max_line_bytes") {
                if let v = Int(s), v >= 64 {
                    c.maxLineBytes = v
                } else {
                    r.fail(n, "max_line_bytes", "'\(s)' is not a byte count of at least 64")
                }
            }
            c.periodRetention = r.duration(
                m["period_retention"],
                "period_retention",
                default: 400 * 86400,
                minimum: 86400,
                maximum: 100 * 366 * 86400
            )
            parseMore(m, into: &c, reader: &r)
            if let d = c.reports.directory { c.reports.directory = resolve(d) }
            if let n = m["metrics_textfile"], let s = r.string(n, "metrics_textfile") {
                if s.hasSuffix(".prom") {
                    c.metricsTextfile = resolve(s)
                } else {
                    r.fail(
                        n,
                        "metrics_textfile",
                        "'\(s)' must end in .prom (node_exporter's textfile collector reads only *.prom)"
                    )
                }
            }
            c.metricsInterval = r.duration(
                m["metrics_interval"],
                "metrics_interval",
                default: 15,
                minimum: 1,
                maximum: 3600
            )
            if let n = m["socket_mode"], let s = r.string(n, "socket_mode") {
                if let v = Int(s, radix: 8), v >= 0, v <= 0o777 {
                    c.socketMode = v
                } else {
                    r.fail(n, "socket_mode", "'\(s)' is not an octal mode such as 0660")
                }
            }
        }
        if !r.errors.isEmpty { throw ConfigErrors(r.errors) }
        return c
    }

    private static func parseDrop(_ node: Node, into d: inout DropSettings, reader r: inout YAMLReader) {
        let m = r.mapping(
            node,
            "drop",
            allowed: [
                "processed_directory", "failed_directory", "settle", "rescan_interval", "processed_retention",
                "ledger_retention", "dedupe", "max_line_bytes", "max_json_bytes", "csv",
            ]
        )
        let base = URL(fileURLWithPath: r.file).deletingLastPathComponent()
        func resolve(_ p: String) -> String {
            p.hasPrefix("/") ? p : base.appendingPathComponent(p).standardizedFileURL.path
        }
        if let s = r.string(m["processed_directory"], "drop.processed_directory") { d.processedDirectory = resolve(s) }
        if let s = r.string(m["failed_directory"], "drop.failed_directory") { d.failedDirectory = resolve(s) }
        d.settle = r.duration(m["settle"], "drop.settle", default: 2, maximum: 3600)
        d.rescanInterval = r.duration(
            m["rescan_interval"],
            "drop.rescan_interval",
            default: 60,
            minimum: 0.01,
            maximum: 86400
        )
        d.processedRetention = r.duration(
            m["processed_retention"],
            "drop.processed_retention",
            default: 7 * 86400,
            maximum: 10 * 366 * 86400
        )
        d.ledgerRetention = r.duration(
            m["ledger_retention"],
            "drop.ledger_retention",
            default: 400 * 86400,
            minimum: 86400,
            maximum: 10 * 366 * 86400
        )
        if let n = m["dedupe"], let s = r.string(n, "drop.dedupe") {
            switch s {
            case "on", "true", "yes": d.dedupe = true
            case "off", "false", "no": d.dedupe = false
            default: r.fail(n, "drop.dedupe", "'\(s)' is not on or off")
            }
        }
        for (key, minimum) in [("max_line_bytes", 64), ("max_json_bytes", 64)] {
            guard let n = m[key], let s = r.string(n, "drop.\(key)") else { continue }
            guard let v = Int(s), v >= minimum, v <= 1 << 32 else {
                r.fail(n, "drop.\(key)", "'\(s)' is not a byte count of at least \(minimum)")
                continue
            }
            if key == "max_line_bytes" { d.maxLineBytes = v } else { d.maxJSONBytes = v }
        }
        if let list = m["csv"] {
            for (k, item) in r.sequence(list, "drop.csv").enumerated() {
                let path = "drop.csv[\(k)]"
                let e = r.mapping(
                    item,
                    path,
                    allowed: ["match", "metric", "time_column", "value_column", "kind", "labels", "time_zone"]
                )
                guard let pattern = r.requiredString(e, "match", path, parent: item),
                    let metric = r.requiredString(e, "metric", path, parent: item)
                else { continue }
                var mapping = CSVMapping(pattern: pattern, metric: metric)
                if let s = r.string(e["time_column"], "\(path).time_column") { mapping.timeColumn = s }
                if let s = r.string(e["value_column"], "\(path).value_column") { mapping.valueColumn = s }
                if let n = e["kind"], let s = r.string(n, "\(path).kind") {
                    if let kind = MetricKind(rawValue: s) {
                        mapping.kind = kind
                    } else {
                        r.fail(n, "\(path).kind", "'\(s)' is not counter, gauge, distribution or set")
                    }
                }
                if let n = e["time_zone"], let s = r.string(n, "\(path).time_zone") {
                    if TimeZone(identifier: s) != nil {
                        mapping.timeZone = s
                    } else {
                        r.fail(n, "\(path).time_zone", "'\(s)' is not an IANA time zone")
                    }
                }
                if let n = e["labels"] {
                    if case .mapping(let map) = n {
                        for (lk, lv) in map {
                            if let key = lk.string, let value = lv.string { mapping.labels[key] = value }
                        }
                    } else {
                        r.fail(n, "\(path).labels", "expected a mapping of label names to values")
                    }
                }
                if metric.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
                    r.fail(e["metric"], "\(path).metric", "metric name contains a control character")
                }
                d.csv.append(mapping)
            }
        }
    }

    private static func parseReports(_ node: Node, into s: inout ReportSchedule, reader r: inout YAMLReader) {
        let m = r.mapping(
            node,
            "reports",
            allowed: ["weekly", "monthly", "monthly_at", "time_zone", "directory", "formats"]
        )
        func flag(_ text: String) -> Bool? {
            switch text {
            case "true", "yes", "on": return true
            case "false", "no", "off": return false
            default: return nil
            }
        }
        if let n = m["weekly"], let text = r.string(n, "reports.weekly") {
            if flag(text) == false {
                s.weekly = nil
            } else if let w = ReportSchedule.parseWeekly(text) {
                s.weekly = w
            } else {
                r.fail(n, "reports.weekly", "'\(text)' is not a day and time such as \"mon 09:00\", or false")
            }
        }
        if let n = m["monthly"], let text = r.string(n, "reports.monthly") {
            if let b = flag(text) {
                s.monthly = b
            } else {
                r.fail(n, "reports.monthly", "'\(text)' is not true or false")
            }
        }
        if let n = m["monthly_at"], let text = r.string(n, "reports.monthly_at") {
            if let t = ReportSchedule.parseTime(text) {
                s.monthlyMinute = t
            } else {
                r.fail(n, "reports.monthly_at", "'\(text)' is not a time of day such as 00:30")
            }
        }
        if let n = m["time_zone"], let text = r.string(n, "reports.time_zone") {
            if TimeZone(identifier: text) != nil {
                s.timeZone = text
            } else {
                r.fail(n, "reports.time_zone", "'\(text)' is not an IANA time zone such as Europe/Paris")
            }
        }
        if let n = m["directory"], let text = r.string(n, "reports.directory") {
            if text.isEmpty { r.fail(n, "reports.directory", "is empty (leave it out for state_directory/reports)") }
            s.directory = text.isEmpty ? nil : text
        }
        if let n = m["formats"] {
            var formats: [ReportFormat] = []
            for item in r.sequence(n, "reports.formats") {
                guard let text = r.string(item, "reports.formats") else { continue }
                if let f = ReportFormat(rawValue: text) {
                    formats.append(f)
                } else {
                    r.fail(
                        item,
                        "reports.formats",
                        "'\(text)' is not one of \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
            }
            if formats.isEmpty && r.errors.isEmpty {
                r.fail(n, "reports.formats", "names no format (weekly: false and monthly: false turn reports off)")
            }
            s.formats = formats
        }
    }

    private static func parseMore(_ m: [String: Node], into c: inout DaemonConfig, reader r: inout YAMLReader) {
        if let v = r.count(m["max_datagram_bytes"], "max_datagram_bytes", 64...16 << 20) { c.maxDatagramBytes = v }
        if let node = m["drop"] { parseDrop(node, into: &c.drop, reader: &r) }
        if let node = m["reports"] { parseReports(node, into: &c.reports, reader: &r) }
        if let v = r.count(m["max_connections"], "max_connections", 1...1 << 20) { c.maxConnections = v }
        if let v = r.count(m["max_queued_events"], "max_queued_events", 1000...1 << 30) { c.maxQueuedEvents = v }
        if let v = r.count(m["max_series"], "max_series", 1...1 << 30) { c.maxSeries = v }
        if let v = r.count(m["journal_queue_size"], "journal_queue_size", 1...1 << 24) { c.journalQueueSize = v }
        if let v = r.count(m["max_alerts_per_minute"], "max_alerts_per_minute", 1...1 << 24) {
            c.maxAlertsPerMinute = v
        }
        c.idleTimeout = r.duration(m["idle_timeout"], "idle_timeout", default: 60, minimum: 0.001, maximum: 86400)
        if let n = m["gauge_deltas"], let s = r.string(n, "gauge_deltas") {
            switch s {
            case "true", "yes", "on": (c.gaugeDeltas, c.gaugeDeltasDatagram) = (true, true)
            case "false", "no", "off": (c.gaugeDeltas, c.gaugeDeltasDatagram) = (false, false)
            case "stream": (c.gaugeDeltas, c.gaugeDeltasDatagram) = (true, false)
            case "datagram": (c.gaugeDeltas, c.gaugeDeltasDatagram) = (false, true)
            default: r.fail(n, "gauge_deltas", "'\(s)' is not true, false, stream or datagram")
            }
        }
        if let node = m["authorization"] {
            let a = r.mapping(node, "authorization", allowed: ["users", "groups"])
            func rules(_ key: String) -> [String: [String]] {
                guard let n = a[key] else { return [:] }
                guard case .mapping(let map) = n else {
                    r.fail(n, "authorization.\(key)", "expected a mapping of \(key) to lists of metric patterns")
                    return [:]
                }
                var out: [String: [String]] = [:]
                for (k, v) in map {
                    guard let name = k.string, !name.isEmpty else { continue }
                    let path = "authorization.\(key).\(name)"
                    var patterns: [String] = []
                    if case .scalar(let one) = v {
                        patterns = [one.string]
                    } else {
                        for p in r.sequence(v, path) {
                            if let s = r.string(p, path), !s.isEmpty { patterns.append(s) }
                        }
                    }
                    for p in patterns where p.dropLast(p.hasSuffix("*") ? 1 : 0).contains("*") {
                        r.fail(v, path, "'\(p)' is not a pattern: '*' may only end it (e.g. leads.*)")
                    }
                    out[name] = patterns
                }
                return out
            }
            c.authorization = Authorization(users: rules("users"), groups: rules("groups"))
        }
    }
}
