import Foundation
import Testing

@testable import SLAWatchCore

private func parseDaemon(_ text: String, file: String = "/etc/slawatch/slawatch.yaml") -> Result<
    DaemonConfig, ConfigErrors
> {
    do throws(ConfigErrors) {
        return .success(try DaemonConfig.parse(text, file: file))
    } catch {
        return .failure(error)
    }
}

private func parseObjectives(_ text: String, file: String = "leads.yaml") -> Result<[Objective], ConfigErrors> {
    do throws(ConfigErrors) {
        return .success(try ObjectivesConfig.parse(text, file: file))
    } catch {
        return .failure(error)
    }
}

private func errors<T>(_ r: Result<T, ConfigErrors>) -> [ConfigError] {
    if case .failure(let e) = r { return e.errors }
    return []
}

@Suite struct DaemonConfigTests {
    @Test func emptyFileGivesDefaults() throws {
        for text in ["", "# only a comment\n", "\n\n"] {
            let c = try parseDaemon(text).get()
            #expect(c.stateDirectory == "/var/lib/slawatch")
            #expect(c.runtimeDirectory == "/run/slawatch")
            #expect(c.dropDirectory == "/var/lib/slawatch/drop")
            #expect(c.objectivesDirectory == "/etc/slawatch/objectives.d")
            #expect(c.snapshotInterval == 5)
            #expect(c.evaluationInterval == 1)
            #expect(c.maxFutureSkew == 300)
            #expect(c.maxLineBytes == 65536)
            #expect(c.dropScanInterval == 1)
            #expect(c.socketMode == 0o660)
            #expect(c.source == "/etc/slawatch/slawatch.yaml")
        }
    }

    @Test func valuesAndDurations() throws {
        let text = """
            # daemon settings
            state_directory: state
            runtime_directory: /run/x
            drop_directory: ../drop
            snapshot_interval: 1m30s
            evaluation_interval: 500ms
            max_future_skew: 2h
            max_line_bytes: 4096
            socket_mode: "0640"
            drop_scan_interval: 2
            """
        let c = try parseDaemon(text, file: "/etc/slawatch/slawatch.yaml").get()
        #expect(c.stateDirectory == "/etc/slawatch/state")
        #expect(c.runtimeDirectory == "/run/x")
        #expect(c.dropDirectory == "/etc/drop")
        #expect(c.objectivesDirectory == "/etc/slawatch/objectives.d")
        #expect(c.snapshotInterval == 90)
        #expect(c.evaluationInterval == 0.5)
        #expect(c.maxFutureSkew == 7200)
        #expect(c.maxLineBytes == 4096)
        #expect(c.socketMode == 0o640)
        #expect(c.dropScanInterval == 2)
    }

    @Test func theShippedExampleParses() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/slawatch.yaml").path
        let c = try DaemonConfig.load(path: path)
        #expect(c.maxFutureSkew == 300)
        #expect(c.socketMode == 0o660)
        #expect(c.snapshotInterval == 5)
        #expect(c.periodRetention == 400 * 86400)
    }

    /// `period_retention`: a duration of at least a day; anything else names the key and line.
    @Test func periodRetentionIsADurationOfADayOrMore() throws {
        let c = try parseDaemon("period_retention: 90d\n").get()
        #expect(c.periodRetention == 90 * 86400)
        #expect(try parseDaemon("snapshot_interval: 5s\n").get().periodRetention == 400 * 86400)
        guard case .failure(let e) = parseDaemon("snapshot_interval: 5s\nperiod_retention: 1h\n") else {
            Issue.record("a retention of one hour was accepted")
            return
        }
        #expect("\(e)".contains("slawatch.yaml:2"))
        #expect("\(e)".contains("period_retention"))
        #expect("\(e)".contains("'1h' is not a duration from 1d"))
    }

    @Test func dropSectionAndItsErrors() throws {
        let c = try parseDaemon(
            """
            drop:
              processed_directory: archive/processed
              settle: 500ms
              rescan_interval: 30s
              processed_retention: 0s
              dedupe: off
              max_line_bytes: 200000
              csv:
                - {match: "nyc_taxi*.csv", metric: taxi.passengers, kind: gauge, labels: {source: nab}, time_zone: America/New_York}
            """,
            file: "/etc/slawatch/slawatch.yaml"
        ).get()
        #expect(c.drop.processedDirectory == "/etc/slawatch/archive/processed")
        #expect(c.drop.failedDirectory == nil)
        #expect(c.drop.settle == 0.5)
        #expect(c.drop.rescanInterval == 30)
        #expect(c.drop.processedRetention == 0)
        #expect(c.drop.dedupe == false)
        #expect(c.drop.maxLineBytes == 200_000)
        #expect(
            c.drop.csv == [
                CSVMapping(
                    pattern: "nyc_taxi*.csv",
                    metric: "taxi.passengers",
                    kind: .gauge,
                    labels: ["source": "nab"],
                    timeZone: "America/New_York"
                )
            ]
        )
        #expect(DaemonConfig.systemDefaults.drop == DropSettings())
        let errs = errors(
            parseDaemon(
                """
                drop:
                  dedupe: maybe
                  settle: soon
                  csv:
                    - {match: "*.csv"}
                    - {match: "a.csv", metric: a, kind: bucket, time_zone: Mars/Base}
                  colour: blue
                """,
                file: "s.yaml"
            )
        )
        let lineOf = Dictionary(errs.map { ($0.key, $0.line) }, uniquingKeysWith: { a, _ in a })
        #expect(lineOf["drop.dedupe"] == 2)
        #expect(lineOf["drop.settle"] == 3)
        #expect(lineOf["drop.csv[0].metric"] == 5)
        #expect(lineOf["drop.csv[1].kind"] == 6)
        #expect(lineOf["drop.csv[1].time_zone"] == 6)
        #expect(lineOf["drop.colour"] == 7)
    }

    @Test func errorsNameFileLineAndKey() {
        let text = """
            state_directory: /srv/slawatch
            snapshot_intervall: 5s
            evaluation_interval: fast
            max_line_bytes: 10
            socket_mode: "999"
            drop_scan_interval: 0s
            """
        let errs = errors(parseDaemon(text, file: "conf/slawatch.yaml"))
        #expect(errs.map(\.file) == Array(repeating: "conf/slawatch.yaml", count: 5))
        #expect(
            Set(errs.map(\.key)) == [
                "snapshot_intervall", "evaluation_interval", "max_line_bytes", "socket_mode", "drop_scan_interval",
            ]
        )
        let lineOf = Dictionary(errs.map { ($0.key, $0.line) }, uniquingKeysWith: { a, _ in a })
        #expect(lineOf["snapshot_intervall"] == 2)
        #expect(lineOf["evaluation_interval"] == 3)
        #expect(lineOf["max_line_bytes"] == 4)
        #expect(lineOf["socket_mode"] == 5)
        #expect(lineOf["drop_scan_interval"] == 6)
        let unknown = errs.first { $0.key == "snapshot_intervall" }
        #expect(unknown?.description.hasPrefix("conf/slawatch.yaml:2: snapshot_intervall: unknown key") == true)
        #expect(errs.first { $0.key == "evaluation_interval" }?.message.contains("'fast'") == true)
    }

    @Test func yamlSyntaxErrorHasALine() {
        let errs = errors(parseDaemon("state_directory: /a\nsnapshot_interval: [5s\nx: 1\n", file: "s.yaml"))
        #expect(errs.count == 1)
        #expect(errs.first?.file == "s.yaml")
        #expect((errs.first?.line ?? 0) >= 2)
        #expect(errs.first?.message.hasPrefix("YAML syntax error") == true)
    }

    @Test func nonMappingRootIsAnError() {
        let errs = errors(parseDaemon("- a\n- b\n", file: "s.yaml"))
        #expect(errs.map(\.line) == [1])
        #expect(errs.map(\.key) == [""])
    }

    @Test func unreadableFile() {
        do throws(ConfigErrors) {
            _ = try DaemonConfig.load(path: "/nonexistent/slawatch.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.errors.map(\.line) == [0])
            #expect(error.errors.map(\.file) == ["/nonexistent/slawatch.yaml"])
        }
    }
}

private let seedText = """
    slas:
      - name: leads-to-sales
        provider: marketing
        customer: sales
        objectives:
          - name: qualified-leads-monthly
            metric: leads.qualified
            sli: count
            window: month
            time_zone: Europe/Paris
            direction: at_least
            baseline: 10000 / 500 / 0.20
            severity: warning
            unit: leads
          - name: api-errors
            metric: api.errors
            labels: {service: api}
            sli: count
            window: 5m
            direction: at_most
            baseline: 10
            for: 2m
            nodata: ok
            late_tolerance: 1h
    """

/// The seed text with line `n` (1-based) replaced, or removed when `replacement` is nil.
private func seed(line n: Int, _ replacement: String?) -> String {
    var lines = seedText.components(separatedBy: "\n")
    if let replacement {
        let indent = lines[n - 1].prefix { $0 == " " }
        lines[n - 1] = indent + replacement
    } else {
        lines.remove(at: n - 1)
    }
    return lines.joined(separator: "\n")
}

struct ObjectiveErrorCase: Sendable, CustomTestStringConvertible {
    var line: Int
    var replacement: String?
    var key: String
    var expectedLine: Int
    var testDescription: String { "line \(line) → \(replacement ?? "(removed)") ⇒ \(key)" }
}

@Suite struct ObjectivesConfigTests {
    @Test func seedSLA() throws {
        let objectives = try parseObjectives(seedText).get()
        #expect(objectives.map(\.name) == ["qualified-leads-monthly", "api-errors"])
        let o = objectives[0]
        #expect(o.baseline.value == 100)
        #expect(o.baseline.kind == .expression)
        #expect(o.baseline.source == "10000 / 500 / 0.20")
        #expect(o.sla == SLA(name: "leads-to-sales", provider: "marketing", customer: "sales"))
        #expect(o.metric == "leads.qualified")
        #expect(o.sli == .count)
        #expect(o.window == .calendar(.month))
        #expect(o.timeZone == "Europe/Paris")
        #expect(o.direction == .atLeast)
        #expect(o.severity == .warning)
        #expect(o.unit == "leads")
        #expect(o.forSeconds == 0)
        #expect(o.nodata == .alert)
        #expect(o.match.isEmpty)
        #expect(o.isCumulative)

        let a = objectives[1]
        #expect(a.baseline == Baseline(value: 10, kind: .fixed, source: "10"))
        #expect(a.match == ["service": "api"])
        #expect(a.window == .rolling(seconds: 300))
        #expect(a.timeZone == "UTC")
        #expect(a.direction == .atMost)
        #expect(a.forSeconds == 120)
        #expect(a.lateTolerance == 3600)
        #expect(a.nodata == .ok)
        #expect(a.unit == nil)
        #expect(!a.isCumulative)
    }

    @Test func shippedObjectivesLoad() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/objectives.d").path
        let objectives = try ObjectivesConfig.load(directory: dir)
        let monthly = try #require(objectives.first { $0.name == "qualified-leads-monthly" })
        #expect(monthly.baseline.value == 100)
        #expect(monthly.baseline.kind == .expression)
        #expect(Set(objectives.map(\.name)).count == objectives.count)
    }

    @Test(arguments: [
        ObjectiveErrorCase(
            line: 9,
            replacement: "window: fortnight",
            key: "slas[0].objectives[0].window",
            expectedLine: 9
        ),
        ObjectiveErrorCase(
            line: 10,
            replacement: "time_zone: Mars/Olympus_Mons",
            key: "slas[0].objectives[0].time_zone",
            expectedLine: 10
        ),
        ObjectiveErrorCase(
            line: 13,
            replacement: "severity: loud",
            key: "slas[0].objectives[0].severity",
            expectedLine: 13
        ),
        ObjectiveErrorCase(
            line: 12,
            replacement: "baseline: 10 / (5 - 5)",
            key: "slas[0].objectives[0].baseline",
            expectedLine: 12
        ),
        ObjectiveErrorCase(
            line: 12,
            replacement: "baseline: ten",
            key: "slas[0].objectives[0].baseline",
            expectedLine: 12
        ),
        ObjectiveErrorCase(
            line: 12,
            replacement: "baseline: {adaptive: true}",
            key: "slas[0].objectives[0].baseline.adaptive",
            expectedLine: 12
        ),
        ObjectiveErrorCase(
            line: 12,
            replacement: "baseline: {adaptive: {factor: 0.5}}",
            key: "slas[0].objectives[0].baseline",
            expectedLine: 12
        ),
        ObjectiveErrorCase(
            line: 11,
            replacement: "direction: above",
            key: "slas[0].objectives[0].direction",
            expectedLine: 11
        ),
        ObjectiveErrorCase(line: 8, replacement: "sli: p99.9x", key: "slas[0].objectives[0].sli", expectedLine: 8),
        ObjectiveErrorCase(line: 7, replacement: nil, key: "slas[0].objectives[0].metric", expectedLine: 6),
        ObjectiveErrorCase(line: 16, replacement: nil, key: "slas[0].objectives[1].metric", expectedLine: 15),
        ObjectiveErrorCase(line: 19, replacement: "windw: 5m", key: "slas[0].objectives[1].windw", expectedLine: 19),
        ObjectiveErrorCase(line: 22, replacement: "for: soon", key: "slas[0].objectives[1].for", expectedLine: 22),
        ObjectiveErrorCase(
            line: 23,
            replacement: "nodata: maybe",
            key: "slas[0].objectives[1].nodata",
            expectedLine: 23
        ),
        ObjectiveErrorCase(
            line: 24,
            replacement: "late_tolerance: -1h",
            key: "slas[0].objectives[1].late_tolerance",
            expectedLine: 24
        ),
        ObjectiveErrorCase(
            line: 17,
            replacement: "labels: [service, api]",
            key: "slas[0].objectives[1].labels",
            expectedLine: 17
        ),
        ObjectiveErrorCase(
            line: 15,
            replacement: "- name: api errors",
            key: "slas[0].objectives[1].name",
            expectedLine: 15
        ),
        ObjectiveErrorCase(line: 4, replacement: nil, key: "slas[0].customer", expectedLine: 2),
        ObjectiveErrorCase(line: 3, replacement: "provider: \"\"", key: "slas[0].provider", expectedLine: 3),
        ObjectiveErrorCase(
            line: 4,
            replacement: "customer: sales\n    owner: me",
            key: "slas[0].owner",
            expectedLine: 5
        ),
    ])
    func errorLocatesFileLineAndKey(c: ObjectiveErrorCase) {
        let text = seed(line: c.line, c.replacement)
        let errs = errors(parseObjectives(text, file: "objectives.d/leads.yaml"))
        #expect(!errs.isEmpty)
        let e = errs.first { $0.key == c.key }
        #expect(e != nil, "keys: \(errs.map(\.key))")
        #expect(e?.line == c.expectedLine, "\(errs)")
        #expect(e?.file == "objectives.d/leads.yaml")
        #expect(e?.description.hasPrefix("objectives.d/leads.yaml:\(c.expectedLine): \(c.key): ") == true)
    }

    @Test func missingSlasAndObjectives() {
        #expect(errors(parseObjectives("foo: 1\n")).map(\.key).contains("foo"))
        #expect(errors(parseObjectives("foo: 1\n")).map(\.key).contains("slas"))
        let noObjectives = "slas:\n  - name: a\n    provider: b\n    customer: c\n"
        let errs = errors(parseObjectives(noObjectives))
        #expect(errs.map(\.key) == ["slas[0].objectives"])
        #expect(errs.map(\.line) == [2])
    }

    @Test func baselineExpressionErrorMentionsPosition() throws {
        let errs = errors(parseObjectives(seed(line: 12, "baseline: 10 / (5 - 5)")))
        let e = try #require(errs.first)
        #expect(e.message.contains("division by zero at character 4"))
    }

    @Test func duplicateNamesInOneFileAreRejected() {
        let text = seed(line: 15, "- name: qualified-leads-monthly")
        let errs = errors(parseObjectives(text, file: "dup.yaml"))
        #expect(errs.count == 1)
        #expect(errs.first?.key == "slas[0].objectives[1].name")
        #expect(errs.first?.file == "dup.yaml")
    }

    @Test func duplicateNamesAcrossFilesAreRejected() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "slawatch-core-tests-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try seedText.write(to: dir.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        let second = """
            slas:
              - name: other
                provider: p
                customer: c
                objectives:
                  - name: qualified-leads-monthly
                    metric: x
                    sli: count
                    window: day
                    direction: at_least
                    baseline: 1
            """
        try second.write(to: dir.appendingPathComponent("b.yml"), atomically: true, encoding: .utf8)
        try "not: [valid".write(to: dir.appendingPathComponent(".hidden.yaml"), atomically: true, encoding: .utf8)
        try "ignored".write(to: dir.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        do throws(ConfigErrors) {
            _ = try ObjectivesConfig.load(directory: dir.path)
            Issue.record("duplicate objective names were accepted")
        } catch {
            #expect(error.errors.count == 1)
            let e = error.errors.first
            #expect(e?.file == dir.appendingPathComponent("b.yml").path)
            #expect(e?.line == 6)
            #expect(e?.key == "slas[0].objectives[0].name")
            #expect(e?.message.contains("a.yaml:6") == true)
        }
        try FileManager.default.removeItem(at: dir.appendingPathComponent("b.yml"))
        let ok = try ObjectivesConfig.load(directory: dir.path)
        #expect(ok.map(\.name) == ["qualified-leads-monthly", "api-errors"])
        #expect(try ObjectivesConfig.load(directory: dir.appendingPathComponent("missing").path).isEmpty)
    }
}

@Suite struct SeverityTests {
    @Test func namesAndAliases() {
        #expect(Severity(name: "warning") == .warning)
        #expect(Severity(name: "WARN") == .warning)
        #expect(Severity(name: "critical") == .crit)
        #expect(Severity(name: "error") == .err)
        #expect(Severity(name: "panic") == .emerg)
        #expect(Severity(name: "loud") == nil)
        #expect(Severity.warning.rawValue == 4)
        #expect(Severity.debug.rawValue == 7)
        for s in Severity.allCases { #expect(Severity(name: s.name) == s) }
    }
}

@Suite struct ConfigLimitTests {
    @Test func absurdIntervalsAreErrorsNotCrashes() {
        let e = errors(parseDaemon("snapshot_interval: 9999999999999999d\nevaluation_interval: 2d\n", file: "d.yaml"))
        #expect(e.map(\.key) == ["snapshot_interval", "evaluation_interval"])
        #expect(e.map(\.line) == [1, 2])
        #expect(e.first?.message.contains("from 1ms to 1d") == true)
    }

    @Test func hugeWindowIsAnErrorNotACrash() {
        let yaml = """
            slas:
              - name: s
                provider: p
                customer: c
                objectives:
                  - {name: o, metric: m, sli: count, window: 99999999999999999999s, direction: at_least, baseline: 1}
            """
        let e = errors(parseObjectives(yaml))
        #expect(e.count == 1)
        #expect(e.first?.key == "slas[0].objectives[0].window")
        #expect(e.first?.line == 6)
    }

    @Test func duplicateKeyNamesItsLine() {
        let e = errors(parseDaemon("state_directory: /a\nsnapshot_interval: 5s\nstate_directory: /b\n", file: "d.yaml"))
        #expect(e.count == 1)
        #expect(e.first?.message.contains("duplicate key(s) state_directory") == true)
        #expect((e.first?.line ?? 0) >= 1)
    }
}

@Suite struct GaugeDeltaConfigTests {
    @Test(arguments: [
        ("true", true, true), ("false", false, false), ("stream", true, false), ("datagram", false, true),
    ])
    func perListener(_ text: String, _ stream: Bool, _ datagram: Bool) throws {
        let c = try parseDaemon("gauge_deltas: \(text)\n").get()
        #expect(c.gaugeDeltas == stream)
        #expect(c.gaugeDeltasDatagram == datagram)
    }

    @Test func anythingElseIsAnError() {
        let e = errors(parseDaemon("gauge_deltas: sometimes\n", file: "d.yaml"))
        #expect(e.first?.key == "gauge_deltas")
        #expect(e.first?.line == 1)
    }
}
