import Foundation
import SLAWatchCore
import SLAWatchDaemon
import SLAWatchStore
import SLAWatchTestSupport
import Testing

/// The Prometheus exposition: its text, and the real peers reading it (Debian's promtool,
/// node_exporter's textfile collector, and Prometheus scraping node_exporter on loopback).
@Suite(.serialized) struct PrometheusTests {
    static func status(_ objective: String, state: AlertState, value: Double?) -> Engine.Status {
        Engine.Status(
            objective: objective,
            sla: "api",
            provider: "platform",
            customer: "web",
            metric: "req",
            sli: .ratio,
            window: "1h",
            value: value,
            baseline: 0.99,
            baselineKind: "fixed",
            baselineSince: nil,
            direction: .atLeast,
            state: state,
            since: 1_700_000_000,
            episode: nil,
            errorBudget: 10,
            budgetRemaining: -40,
            burnRate: 5,
            lastSeen: 1_700_000_100
        )
    }

    @Test func theExpositionNamesEveryInstanceWithItsLabels() {
        var stream = SourceCounts()
        stream.accepted = 1000
        stream.rejected = 2
        stream.rejectedByReason = ["parse_error": 2]
        let reply = StatusReply(
            pid: 1,
            startedAt: 1_700_000_000,
            lastEvaluation: 1_700_000_200,
            commits: 7,
            objectives: [
                Self.status("availability{customer=acme,region.name=eu\"1}", state: .breached, value: 0.95),
                Self.status("latency", state: .nodata, value: nil),
            ],
            sources: ["stream": stream],
            rejectedBySource: [:],
            connections: 1,
            connectionsRefused: 0,
            datagrams: 0,
            datagramsTooLong: 0,
            journalWritten: 3,
            journalDropped: 0,
            files: FileCounts.Snapshot()
        )
        let text = MetricsExposition.render(reply)
        let acme =
            #"sla="api",objective="availability",provider="platform",customer="acme",region_name="eu\"1""#
        #expect(text.contains("slawatch_objective_sli{\(acme)} 0.95\n"))
        #expect(text.contains("slawatch_objective_state{\(acme),state=\"breached\"} 1\n"))
        #expect(text.contains("slawatch_objective_state{\(acme),state=\"ok\"} 0\n"))
        #expect(text.contains("slawatch_objective_baseline{\(acme),direction=\"at_least\"} 0.99\n"))
        #expect(text.contains("slawatch_objective_error_budget_remaining_ratio{\(acme)} -4\n"))
        #expect(text.contains("slawatch_objective_burn_rate{\(acme)} 5\n"))
        // No SLI for an instance without data: no sample, not NaN.
        #expect(!text.contains("slawatch_objective_sli{sla=\"api\",objective=\"latency\""))
        #expect(
            text.contains(
                "slawatch_objective_state{sla=\"api\",objective=\"latency\",provider=\"platform\",customer=\"web\",state=\"nodata\"} 1\n"
            )
        )
        #expect(text.contains("# TYPE slawatch_input_rejected_total counter\n"))
        #expect(text.contains("slawatch_input_rejected_total{source=\"stream\",reason=\"parse_error\"} 2\n"))
        #expect(text.contains("slawatch_events_accepted_total{source=\"stream\"} 1000\n"))
        #expect(text.contains("slawatch_store_commits_total 7\n"))
        #expect(text.contains("slawatch_start_time_seconds 1700000000\n"))
        #expect(text.contains("slawatch_build_info{version=\"\(SLAWatchVersion.current)\"} 1\n"))
        // Every family once, with HELP and TYPE.
        let types = text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }
        #expect(Set(types).count == types.count)
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("# HELP ") }.count == types.count)
    }

    /// `promtool check metrics` of an exposition: its exit status and what it said.
    static func promtoolCheck(_ exposition: Data) throws -> (Int32, String) {
        let lint = Process()
        lint.executableURL = URL(fileURLWithPath: try ExternalProgram.promtool.path())
        lint.arguments = ["check", "metrics"]
        let input = Pipe()
        let output = Pipe()
        lint.standardInput = input
        lint.standardOutput = output
        lint.standardError = output
        try lint.run()
        input.fileHandleForWriting.write(exposition)
        try input.fileHandleForWriting.close()
        lint.waitUntilExit()
        return (
            lint.terminationStatus, String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        )
    }

    /// A free TCP port on loopback (bound, read, closed).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) }
        }
        guard bound == 0 else { throw TestFailure("bind: \(errno)") }
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// The body of `url` (fetched by python3's urllib), `nil` when it cannot be fetched.
    static func fetch(_ url: String) -> String? {
        let p = Process()
        guard let python = try? ExternalProgram.python3.path() else { return nil }
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [
            "-c",
            "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())",
            url,
        ]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return p.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
    }

    /// Sends `request` to the Unix stream socket at `path` (socat) and returns the whole answer.
    static func http(_ request: String, _ path: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try ExternalProgram.socat.path())
        p.arguments = ["-t", "5", "-", "UNIX-CONNECT:\(path)"]
        let input = Pipe()
        let output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try p.run()
        input.fileHandleForWriting.write(Data(request.utf8))
        let data = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        try? input.fileHandleForWriting.close()
        return String(decoding: data, as: UTF8.self)
    }

    /// Starts `program` with `arguments`, its output into `log`.
    static func launch(_ program: ExternalProgram, _ arguments: [String], log: String) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try program.path())
        p.arguments = arguments
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = FileHandle(forWritingAtPath: log)!
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        return p
    }

    @Test func aBreachReachesPrometheusThroughTheTextfile() throws {
        let daemon = try TestDaemon(
            objectivesYAML: """
                slas:
                  - name: api
                    provider: platform
                    customer: web
                    objectives:
                      - {name: availability, metric: api.requests, sli: ratio, good: {labels: {status: "!~5.."}},
                         group_by: [customer], window: 1h, direction: at_least, baseline: 99%,
                         burn_rate_alerts: [{factor: 14.4, long: 1h, short: 5m}]}
                """,
            extraConfig: "metrics_textfile: textfile/slawatch.prom\nmetrics_interval: 1s\n"
        )
        let textfileDir = daemon.root.appendingPathComponent("textfile").path
        try FileManager.default.createDirectory(atPath: textfileDir, withIntermediateDirectories: true)
        try daemon.start()
        defer { daemon.stop() }
        let (rc, _, err) = try daemon.push([
            "api.requests:990|c|#status:200,customer:acme", "api.requests:10|c|#status:200,customer:globex",
            "api.requests:50|c|#status:503,customer:acme",
        ])
        #expect(rc == 0, "\(err)")
        let file = textfileDir + "/slawatch.prom"
        let breached =
            #"slawatch_objective_state{sla="api",objective="availability",provider="platform",customer="acme",state="breached"} 1"#
        let written = waitUntil(20) {
            ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").contains(breached)
        }
        #expect(
            written,
            "textfile: \((try? String(contentsOfFile: file, encoding: .utf8)) ?? "none"); log: \(daemon.log)"
        )
        // Only the file itself, no temporary left beside it for the collector to trip on.
        #expect(try FileManager.default.contentsOfDirectory(atPath: textfileDir) == ["slawatch.prom"])
        // The control socket gives the same exposition.
        let (mrc, metrics, _) = try slawatch(["status", "--metrics", "--socket", daemon.controlSocket])
        #expect(mrc == 0)
        #expect(metrics.contains(breached))
        // acme's rule: 50 bad of 1,040 over both windows, 4.8 % ÷ 1 % allowed; globex burns nothing.
        let acme = #"sla="api",objective="availability",provider="platform",customer="acme",rule="14.4x 1h/5m""#
        let rate = String(50.0 / 1040 / 0.01)
        #expect(
            metrics.contains(
                "slawatch_objective_burn_rule_rate{\(acme),window=\"long\",window_seconds=\"3600\"} \(rate)\n"
            )
        )
        #expect(
            metrics.contains(
                "slawatch_objective_burn_rule_rate{\(acme),window=\"short\",window_seconds=\"300\"} \(rate)\n"
            )
        )
        #expect(metrics.contains("slawatch_objective_burn_rule_factor{\(acme)} 14.4\n"))
        #expect(metrics.contains("slawatch_objective_burn_rule_firing{\(acme)} 0\n"))
        #expect(
            metrics.contains(
                #"slawatch_objective_burn_rule_rate{sla="api",objective="availability",provider="platform",customer="globex",rule="14.4x 1h/5m",window="short",window_seconds="300"} 0"#
            )
        )
        #expect(metrics.contains("slawatch_store_commit_failures_total 0\n"))
        #expect(metrics.contains("# TYPE slawatch_evaluation_seconds_total counter\n"))

        // So does the metrics socket over HTTP, to any HTTP client (socat here).
        let metricsSocket = daemon.root.appendingPathComponent("run/metrics.sock").path
        let ok = try Self.http("GET /metrics HTTP/1.1\r\nHost: slawatch\r\nConnection: close\r\n\r\n", metricsSocket)
        #expect(ok.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(ok.prefix(300))")
        #expect(
            ok.contains("\r\ncontent-type: text/plain; version=0.0.4; charset=utf-8\r\n")
                || ok.contains("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n")
        )
        #expect(ok.contains(breached))
        let missing = try Self.http("GET /nothing HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n", metricsSocket)
        #expect(missing.hasPrefix("HTTP/1.1 404 Not Found\r\n"), "\(missing.prefix(200))")
        let post = try Self.http(
            "POST /metrics HTTP/1.1\r\nHost: s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            metricsSocket
        )
        #expect(post.hasPrefix("HTTP/1.1 405 Method Not Allowed\r\n"), "\(post.prefix(200))")

        // promtool lints it clean.
        let (lintStatus, lintText) = try Self.promtoolCheck(try Data(contentsOf: URL(fileURLWithPath: file)))
        #expect(lintStatus == 0, "promtool: \(lintText)")
        #expect(lintText.isEmpty, "promtool: \(lintText)")

        // node_exporter's textfile collector reads it.
        let exporterPort = try Self.freePort()
        let exporter = try Self.launch(
            .nodeExporter,
            [
                "--web.listen-address=127.0.0.1:\(exporterPort)", "--collector.disable-defaults",
                "--collector.textfile", "--collector.textfile.directory=\(textfileDir)",
            ],
            log: daemon.root.appendingPathComponent("node-exporter.log").path
        )
        defer {
            exporter.terminate()
            exporter.waitUntilExit()
        }
        var exported = ""
        // node_exporter orders the labels by name.
        let reordered =
            #"slawatch_objective_state{customer="acme",objective="availability",provider="platform",sla="api",state="breached"} 1"#
        let read = waitUntil(20) {
            exported = Self.fetch("http://127.0.0.1:\(exporterPort)/metrics") ?? ""
            return exported.contains(reordered) && exported.contains("node_textfile_scrape_error 0")
        }
        #expect(
            read,
            "node_exporter: \(exported.split(separator: "\n").filter { $0.contains("slawatch_objective_state") })"
        )

        // Prometheus scrapes node_exporter and answers a query for the breached instance.
        let promPort = try Self.freePort()
        let promDir = daemon.root.appendingPathComponent("prometheus").path
        try FileManager.default.createDirectory(atPath: promDir, withIntermediateDirectories: true)
        try """
        global: {scrape_interval: 1s, evaluation_interval: 1s}
        scrape_configs:
          - job_name: node
            static_configs: [{targets: ["127.0.0.1:\(exporterPort)"]}]
        """.write(toFile: promDir + "/prometheus.yml", atomically: true, encoding: .utf8)
        let prometheus = try Self.launch(
            .prometheus,
            [
                "--config.file=\(promDir)/prometheus.yml", "--storage.tsdb.path=\(promDir)/data",
                "--web.listen-address=127.0.0.1:\(promPort)",
            ],
            log: promDir + "/prometheus.log"
        )
        defer {
            prometheus.terminate()
            prometheus.waitUntilExit()
        }
        let query = "slawatch_objective_state%7Bstate%3D%22breached%22%2Ccustomer%3D%22acme%22%7D"
        var answer = ""
        let scraped = waitUntil(60) {
            answer = Self.fetch("http://127.0.0.1:\(promPort)/api/v1/query?query=\(query)") ?? ""
            return answer.contains(#""value":["#) && answer.contains(#","1"]"#)
        }
        #expect(scraped, "prometheus: \(answer)")
        // Every query of the Grafana dashboard runs on it (the variables as "All").
        let dashboard = try JSONSerialization.jsonObject(
            with: Data(contentsOf: packageRoot.appendingPathComponent("contrib/grafana/slawatch-sla.json"))
        )
        let panels = (dashboard as? [String: Any])?["panels"] as? [[String: Any]] ?? []
        let exprs = panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
        #expect(exprs.count >= 6)
        for expr in exprs {
            let q = expr.replacingOccurrences(of: "$sla", with: ".*").replacingOccurrences(of: "$customer", with: ".*")
            let encoded = q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q
            let reply = Self.fetch("http://127.0.0.1:\(promPort)/api/v1/query?query=\(encoded)") ?? ""
            #expect(reply.contains(#""status":"success""#), "\(expr): \(reply)")
        }
        #expect(answer.contains(#""objective":"availability""#))
        #expect(answer.contains(#""instance":"127.0.0.1:\#(exporterPort)""#))
    }

    /// The example alerting rules under `contrib/` pass `promtool check rules` and their unit
    /// tests (`promtool test rules`): a breach fires and resolves, a low budget fires after 15
    /// minutes, a stale daemon after five.
    @Test func theContribRulesPassPromtool() throws {
        let dir = packageRoot.appendingPathComponent("contrib/prometheus").path
        for args in [["check", "rules", "slawatch.rules.yml"], ["test", "rules", "slawatch.rules.test.yml"]] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: try ExternalProgram.promtool.path())
            p.arguments = args
            p.currentDirectoryURL = URL(fileURLWithPath: dir)
            let out = Pipe()
            p.standardOutput = out
            p.standardError = out
            try p.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "promtool \(args.joined(separator: " ")): \(text)")
            #expect(text.contains("SUCCESS"), "\(text)")
        }
    }
}

/// What the exposition adds to the instance's standing: its last closed periods (from the state
/// file at start, and from each evaluation after), per-rule burn rates, and the engine's own
/// counters.
@Suite struct ExpositionPeriodTests {
    static func reply(_ status: [Engine.Status], actor: EngineActor) async -> StatusReply {
        StatusReply(
            pid: 1,
            startedAt: 1_700_000_000,
            lastEvaluation: nil,
            commits: 0,
            objectives: status,
            sources: [:],
            rejectedBySource: [:],
            connections: 0,
            connectionsRefused: 0,
            datagrams: 0,
            datagramsTooLong: 0,
            journalWritten: 0,
            journalDropped: 0,
            files: FileCounts.Snapshot(),
            engine: await actor.counters,
            lastPeriods: await actor.closedPeriods()
        )
    }

    @Test func theLastClosedPeriodsComeFromTheStateFileAndEachEvaluation() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slawatch-lp-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try ReportScenario.write(into: dir)
        let objectives = try ObjectivesConfig.parse(ReportScenario.objectivesYAML, file: "scenario.yaml")
        let store = try StateStore(path: dir + "/state/state.sqlite")
        let clock = ManualClock(now: ReportScenario.end)
        let actor = EngineActor(engine: Engine(objectives: objectives), store: store, clock: { clock.now })
        try await actor.loadClosedPeriods()
        let periods = await actor.closedPeriods()
        // November's verdicts and report periods; the newest closed week is W48 (23–30 Nov).
        #expect(
            periods.map { "\($0.objective) \($0.period)" } == [
                "availability month", "availability week", "latency month", "latency week", "qualified-leads month",
            ]
        )
        #expect(periods.filter { $0.period == "month" }.allSatisfy { $0.start == ReportScenario.start })
        #expect(periods.filter { $0.period == "week" }.allSatisfy { $0.start == ReportScenario.start + 22 * 86400 })
        let leads = try #require(periods.last)
        #expect(leads.value == 110 && leads.met == true && leads.compliance == nil)
        // Latency: the 20-minute breach of the month, of its judged time (all but the first minute).
        let latency = try #require(periods.first { $0.objective == "latency" && $0.period == "month" })
        let judged: Double = 30 * 86400 - 60
        let compliance = try #require(latency.compliance)
        #expect(abs(compliance - (1 - 1200 / judged)) < 1e-12)
        _ = await actor.evaluate()
        let text = MetricsExposition.render(await Self.reply(await actor.status(), actor: actor))
        let checkout = #"sla="checkout",objective="latency",provider="platform",customer="shop""#
        #expect(
            text.contains(
                "slawatch_objective_last_period_compliance_ratio{\(checkout),period=\"month\"} \(compliance)\n"
            )
        )
        #expect(text.contains("slawatch_objective_last_period_met{\(checkout),period=\"week\"} 1\n"))
        let sales = #"sla="leads-to-sales",objective="qualified-leads",provider="marketing",customer="sales""#
        #expect(text.contains("slawatch_objective_last_period_sli{\(sales),period=\"month\"} 110\n"))
        #expect(
            text.contains(
                "slawatch_objective_last_period_end_timestamp_seconds{\(sales),period=\"month\"} 1796083200\n"
            )
        )
        // A calendar target has no time-based compliance.
        #expect(!text.contains("slawatch_objective_last_period_compliance_ratio{\(sales)"))
        #expect(text.contains("slawatch_evaluations_total 1\n"))
        #expect(text.contains("slawatch_store_commit_failures_total 0\n"))
        let (lintStatus, lintText) = try PrometheusTests.promtoolCheck(Data(text.utf8))
        #expect(lintStatus == 0 && lintText.isEmpty, "promtool: \(lintText)")
    }

    @Test func aPeriodClosedByAnEvaluationBecomesTheLastOne() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slawatch-lp-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let objectives = try ObjectivesConfig.parse(
            """
            slas:
              - name: support
                provider: helpdesk
                customer: sales
                objectives:
                  - {name: tickets, metric: tickets.closed, sli: count, window: day, direction: at_least, baseline: 5,
                     nodata: ok}
            """,
            file: "support.yaml"
        )
        let store = try StateStore(path: dir + "/state.sqlite")
        // 2026-11-10T22:00:00Z; the day ends two hours later.
        let clock = ManualClock(now: 1_794_348_000)
        let actor = EngineActor(engine: Engine(objectives: objectives), store: store, clock: { clock.now })
        try await actor.loadClosedPeriods()
        #expect(await actor.closedPeriods().isEmpty)
        _ = await actor.ingest(
            EventBatch([Event(metric: "tickets.closed", value: 3, kind: .counter, time: clock.now)])
        )
        _ = await actor.evaluate()
        #expect(await actor.closedPeriods().isEmpty)
        clock.advance(by: 2 * 3600 + 30)
        _ = await actor.evaluate()
        let day = try #require(await actor.closedPeriods().first)
        #expect(day.objective == "tickets" && day.period == "day")
        #expect(day.start == 1_794_355_200 - 86400 && day.end == 1_794_355_200)
        #expect(day.value == 3 && day.met == false)
        let text = MetricsExposition.render(await Self.reply(await actor.status(), actor: actor))
        #expect(
            text.contains(
                #"slawatch_objective_last_period_met{sla="support",objective="tickets",provider="helpdesk",customer="sales",period="day"} 0"#
            )
        )
        #expect(text.contains("slawatch_evaluations_total 2\n"))
        #expect(await actor.counters.lastEvaluationSeconds > 0)
    }
}
