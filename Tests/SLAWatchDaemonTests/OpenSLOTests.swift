import Foundation
import SLAWatchCore
import SLAWatchTestSupport
import Testing

/// OpenSLO in and out, on the specification's own documents (`../shared/data/openslo`).
@Suite struct OpenSLOTests {
    static var examples: String? { sharedDataDirectory.map { $0 + "/openslo/examples" } }

    /// The reasons docs/openslo.md lists for a document that is not imported.
    static let documentedReasons = [
        "has no slawatch metric", "is not imported", "composite SLO", "RatioTimeslices", "is not a slawatch period",
        "is not the start of a", "precomputed (raw) ratio", "only burnrate conditions", "fires above its threshold",
        "no SLI document", "no AlertPolicy document", "no AlertCondition document", "no SLO document",
        "is not openslo/v1", "missing required key", "unknown key", "a target in (0, 1)", "exactly one time window",
        "cannot be honoured", "is not page, ticket", "has no fixed length", "bad events are imported only",
        "threshold and lookbackWindow", "YAML syntax error", "expected", "Timeslices needs",
        "select the same events", "needs op", "is not an IANA time zone", "not both", "needs at least one objective",
        "no DataSource document", "belongs to", "has one objective", "is not true or false", "would both be named",
        "is not a name", "is already defined", "has no calendar", "not supported by slawatch", "has no slawatch form",
        "a burn rate threshold is a positive number", "can never happen", "is not a valid regular expression",
    ]

    func write(_ text: String, _ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("openslo-\(runID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func theSpecificationsExamplesImportOrAreRefusedForANamedReason() throws {
        let dir = try #require(Self.examples, "../shared/data/openslo not found (set SLAWATCH_DATA_DIR)")
        let map = try write(
            """
            - {query: Any, indicator: search-latency, metric: search.latency}
            - {query: Any, indicator: web-availability, role: total, metric: web.requests}
            - {query: Any, indicator: web-availability, role: good, metric: web.requests, labels: {status: "!~5.."}}
            - {query: Any, indicator: response-code, role: total, metric: main.requests}
            - {query: Any, indicator: response-code, role: good, metric: main.requests, labels: {code: "=~2.."}}
            """,
            "map.yaml"
        )
        // Threshold latency over two rolling weeks: 99 % of searches under 500 ms.
        var (rc, out, err) = try slawatch([
            "import", "openslo", "--metric-map", map, dir + "/budgeting-method_occurences-slo.yaml",
        ])
        #expect(rc == 0, "\(err)")
        let objectives = try ObjectivesConfig.parse(out, file: "imported.yaml")
        #expect(objectives.map(\.name) == ["search-slo"])
        #expect(objectives.first?.good?.value == ValueThreshold(.below, 500))
        #expect(objectives.first?.window == .rolling(seconds: 14 * 86400))
        #expect(objectives.first?.baseline.value == 0.99)
        #expect(objectives.first?.sla.name == "web-shop")
        // Without the map: refused, naming the indicator.
        (rc, _, err) = try slawatch(["import", "openslo", dir + "/budgeting-method_occurences-slo.yaml"])
        #expect(rc == 1)
        #expect(
            err.contains(
                "budgeting-method_occurences-slo.yaml:19: spec.indicator.spec.thresholdMetric.metricSource: indicator search-latency (threshold)"
            )
        )
        // RatioTimeslices: the mean of the minutes' ratios of the main page's 2xx.
        (rc, out, err) = try slawatch([
            "import", "openslo", "--metric-map", map, dir + "/budgeting-method_ratio-timeslices.yaml",
        ])
        #expect(rc == 0, "\(err)")
        let slices = try #require(try ObjectivesConfig.parse(out, file: "imported.yaml").first)
        #expect(slices.timeslices?.average == true)
        #expect(slices.timeslices?.slice == 60)
        #expect(slices.timeslices?.goodSelector?.match == ["code": "=~2.."])
        #expect(slices.baseline.value == 0.99)
        // The others are refused, each for a reason slawatch cannot honour.
        for (file, reason) in [
            (
                "budgeting-method_timeslices-slo.yaml",
                "27: spec.timeWindow[0].duration: a calendar window of '1m' is not a slawatch period"
            ),
            (
                "treat-low-traffic-as-equally-important_timeslices-slo.yaml",
                "28: spec.timeWindow[0].calendar.startTime: '2022-01-01 12:00:00' is not the start of a week in America/New_York"
            ),
        ] {
            (rc, _, err) = try slawatch(["import", "openslo", "--metric-map", map, dir + "/" + file])
            #expect(rc == 1, "\(file)")
            #expect(err.contains(file + ":" + reason), "\(file): \(err)")
        }
    }

    @Test func everyYAMLExampleOfSPECmdImportsOrIsRefusedForADocumentedReason() throws {
        let root = try #require(sharedDataDirectory, "../shared/data not found")
        let spec = try String(contentsOfFile: root + "/openslo/SPEC.md", encoding: .utf8)
        var blocks: [String] = []
        var current: [String]?
        for line in spec.components(separatedBy: "\n") {
            if current == nil, line.hasPrefix("```yaml") {
                current = []
            } else if current != nil, line.hasPrefix("```") {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else {
                current?.append(line)
            }
        }
        let documents = blocks.filter { $0.contains("apiVersion: openslo/v1") }
        #expect(documents.count >= 8)
        for (k, text) in documents.enumerated() {
            let path = try write(text, "spec-\(k).yaml")
            let (rc, _, err) = try slawatch(["import", "openslo", path])
            if rc == 0 { continue }
            #expect(rc == 1)
            for line in err.split(separator: "\n") where !line.isEmpty {
                #expect(Self.documentedReasons.contains { line.contains($0) }, "spec example \(k): \(line)")
            }
        }
    }

    /// What import writes is checked as slawatch reads it; a value that would not load is said
    /// at the OpenSLO objective or condition it came from, never at the generated text; what
    /// import chose where OpenSLO leaves it open is said as a note (and a comment in the file).
    @Test func valuesThatWouldNotLoadAreNamedAtTheirOpenSLOSource() throws {
        func slo(name: String, goodLabels: String, threshold: String, window: String) -> String {
            """
            apiVersion: openslo/v1
            kind: SLO
            metadata:
              name: \(name)
            spec:
              service: api
              budgetingMethod: Occurrences
            \(window)  indicator:
                metadata: {name: \(name)-sli}
                spec:
                  ratioMetric:
                    good:
                      metricSource: {type: slawatch, spec: {metric: http.requests, labels: {\(goodLabels)}}}
                    total:
                      metricSource: {type: slawatch, spec: {metric: http.requests}}
              objectives:
                - target: 0.99
              alertPolicies:
                - kind: AlertPolicy
                  metadata: {name: \(name)-fast}
                  spec:
                    conditions:
                      - kind: AlertCondition
                        metadata: {name: \(name)-c}
                        spec:
                          condition: {kind: burnrate, op: gt, threshold: \(threshold), lookbackWindow: 1h}

            """
        }
        let bad = try write(
            slo(name: "regex", goodLabels: #"code: "=~2((""#, threshold: "14.4", window: "")
                + "---\n" + slo(name: "never", goodLabels: #"code: "2xx""#, threshold: "200", window: ""),
            "bad.yaml"
        )
        var (rc, out, err) = try slawatch(["import", "openslo", bad])
        #expect(rc == 1)
        #expect(out.isEmpty)
        #expect(
            err.contains(
                "\(bad):17: spec.objectives[0] (slawatch's good.labels.code): '2((' is not a valid regular expression"
            ),
            "\(err)"
        )
        #expect(
            err.contains(
                "\(bad):44: spec.objectives[0] (slawatch's burn_rate_alerts[0].factor): a burn rate of 200 can never happen for a target of at least 0.99"
            ),
            "\(err)"
        )
        #expect(!err.contains("(imported)"))
        // A threshold no objective could use is said at the condition.
        let zero = try write(slo(name: "zero", goodLabels: #"code: "2xx""#, threshold: "0", window: ""), "zero.yaml")
        (rc, out, err) = try slawatch(["import", "openslo", zero])
        #expect(rc == 1)
        #expect(
            err.contains(
                "\(zero):26: spec.alertPolicies[0].spec.conditions[0].spec.condition.threshold: a burn rate threshold is a positive number"
            ),
            "\(err)"
        )
        // Left open by OpenSLO: a rolling 30d window, UTC for a calendar one; said, and written down.
        let open = try write(
            slo(name: "rolling", goodLabels: #"code: "2xx""#, threshold: "14.4", window: "")
                + "---\n"
                + slo(
                    name: "monthly",
                    goodLabels: #"code: "2xx""#,
                    threshold: "14.4",
                    window: "  timeWindow:\n    - duration: 1M\n      calendar: {startTime: \"2024-01-01 00:00:00\"}\n"
                ),
            "open.yaml"
        )
        (rc, out, err) = try slawatch(["import", "openslo", open])
        #expect(rc == 0, "\(err)")
        let first =
            "\(open):1: SLO rolling gives no timeWindow (optional in OpenSLO): imported with a rolling 30d window"
        let second = "\(open):37: SLO monthly's calendar window gives no timeZone: imported in UTC"
        #expect(err.contains("note: " + first) && err.contains("note: " + second), "\(err)")
        #expect(out.contains("# note: " + first + "\n") && out.contains("# note: " + second + "\n"))
        let objectives = try ObjectivesConfig.parse(out, file: "imported.yaml")
        #expect(objectives.map(\.window) == [.rolling(seconds: 30 * 86400), .calendar(.month)])
    }

    /// What a helper found breaking import (stop 26): errors in a referenced document named in
    /// its own file, nothing dropped or given another meaning silently.
    @Test func referencedDocumentsAndOddShapesAreSaidWhereTheyAre() throws {
        let slo = """
            apiVersion: openslo/v1
            kind: SLO
            metadata:
              name: refd
            spec:
              service: checkout
              indicatorRef: sli-a
              timeWindow:
                - duration: 7d
                  isRolling: true
              budgetingMethod: Occurrences
              objectives:
                - displayName: main
                  target: 0.999
              alertPolicies:
                - alertPolicyRef: pol-a

            """
        let sli = """
            apiVersion: openslo/v1
            kind: SLI
            metadata:
              name: sli-a
            spec:
              ratioMetric:
                good:
                  metricSource: {type: slawatch, spec: {metric: req, labels: {code: "=~2.."}}}
                  bogus: 1
                total:
                  metricSource: {type: slawatch, spec: {metric: req}}

            """
        let policy = """
            apiVersion: openslo/v1
            kind: AlertPolicy
            metadata:
              name: pol-a
            spec:
              conditions:
                - conditionRef: cond-a
            ---
            apiVersion: openslo/v1
            kind: AlertCondition
            metadata:
              name: cond-a
            spec:
              condition: {kind: burnrate, op: gte, threshold: .nan, lookbackWindow: 6h}

            """
        let second = slo.replacingOccurrences(of: "name: refd", with: "name: refd2")
            .replacingOccurrences(of: "  alertPolicies:\n    - alertPolicyRef: pol-a\n", with: "")
        let files = [
            try write(slo + "---\n" + second, "slo.yaml"), try write(sli, "sli.yaml"), try write(policy, "policy.yaml"),
        ]
        var (rc, _, err) = try slawatch(["import", "openslo"] + files)
        #expect(rc == 1)
        #expect(err.contains("\(files[1]):9: SLI sli-a.spec.ratioMetric.good.bogus: unknown key"), "\(err)")
        #expect(
            err.contains(
                "\(files[2]):14: AlertCondition cond-a.spec.condition.threshold: a burn rate threshold is a positive number"
            ),
            "\(err)"
        )
        #expect(!err.contains("\(files[0]):9:") && !err.contains("\(files[0]):14:"))
        // One error once, however many SLOs refer to the document holding it.
        #expect(err.components(separatedBy: "good.bogus").count == 2, "\(err)")
        // An objective that is no mapping is refused, not dropped; a bad selector that changes
        // one of the total's conditions is refused, not inverted into another meaning.
        let odd = try write(
            """
            apiVersion: openslo/v1
            kind: SLO
            metadata:
              name: odd
            spec:
              service: checkout
              budgetingMethod: Occurrences
              indicator:
                metadata: {name: odd-sli}
                spec:
                  ratioMetric:
                    bad:
                      metricSource: {type: slawatch, spec: {metric: req, labels: {env: staging}}}
                    total:
                      metricSource: {type: slawatch, spec: {metric: req, labels: {env: prod}}}
              objectives:
                - 0.99

            """,
            "odd.yaml"
        )
        (rc, _, err) = try slawatch(["import", "openslo", odd])
        #expect(rc == 1)
        #expect(err.contains("\(odd):13: spec.indicator.spec.ratioMetric.bad: bad events are imported only"), "\(err)")
        #expect(err.contains("\(odd):17: spec.objectives[0]: expected a mapping"), "\(err)")
        // Two SLOs whose objectives would share a name: both places are named.
        let a = slo.replacingOccurrences(of: "name: refd", with: "name: a")
            .replacingOccurrences(
                of: "    - displayName: main\n      target: 0.999\n",
                with: "    - displayName: b\n      target: 0.999\n    - displayName: x\n      target: 0.99\n"
            )
            .replacingOccurrences(of: "  alertPolicies:\n    - alertPolicyRef: pol-a\n", with: "")
        let ab = slo.replacingOccurrences(of: "name: refd", with: "name: a-b")
            .replacingOccurrences(of: "  alertPolicies:\n    - alertPolicyRef: pol-a\n", with: "")
        let cleanSLI = try write(sli.replacingOccurrences(of: "      bogus: 1\n", with: ""), "sli.yaml")
        let twoFiles = [try write(a, "a.yaml"), try write(ab, "ab.yaml"), cleanSLI]
        (rc, _, err) = try slawatch(["import", "openslo"] + twoFiles)
        #expect(rc == 1)
        #expect(
            err.contains(
                "\(twoFiles[1]):13: spec.objectives[0]: the objective would be named 'a-b', as the one imported from \(twoFiles[0]):13 (spec.objectives[0])"
            ),
            "\(err)"
        )
        #expect(!err.contains("(imported)"))
    }

    /// Fields that were dropped or ignored (stop 26) are refused at their line.
    @Test func fieldsThatWouldBeIgnoredAreRefused() throws {
        let file = try write(
            """
            apiVersion: openslo/v1
            kind: SLO
            metadata:
              name: sliced
            spec:
              service: checkout
              budgetingMethod: RatioTimeslices
              indicator:
                metadata: {name: sliced-sli}
                spec:
                  ratioMetric:
                    good:
                      metricSource: {type: slawatch, spec: {metric: req, labels: {code: "=~2.."}}}
                    total:
                      metricSource: {type: slawatch, spec: {metric: req}}
              objectives:
                - target: 0.99
                  timeSliceWindow: 1m
                  timeSliceTarget: 0.9
            ---
            apiVersion: openslo/v1
            kind: SLO
            metadata:
              name: policies
            spec:
              service: checkout
              budgetingMethod: Occurrences
              indicator:
                metadata: {name: policies-sli}
                spec:
                  ratioMetric:
                    good:
                      metricSource: {type: slawatch, spec: {metric: req, labels: {code: [200, 201]}}}
                    total:
                      metricSource: {type: slawatch, spec: {metric: req}}
              objectives:
                - target: 0.99
              alertPolicies:
                - kind: AlertPolicy
                  metadata: {name: empty}
                  spec:
                    alertWhenResolved: maybe
                    conditions: []

            """,
            "ignored.yaml"
        )
        let (rc, _, err) = try slawatch(["import", "openslo", file])
        #expect(rc == 1)
        for expected in [
            "\(file):33: spec.indicator.spec.ratioMetric.good.metricSource.spec.labels.code: a label condition is one string",
            "\(file):19: spec.objectives[0].timeSliceTarget: timeSliceTarget belongs to Timeslices",
            "\(file):42: spec.alertPolicies[0].spec.alertWhenResolved: 'maybe' is not true or false",
            "\(file):43: spec.alertPolicies[0].spec.conditions: an alert policy needs at least one condition",
        ] {
            #expect(err.contains(expected), "\(expected)\n\(err)")
        }
    }

    @Test func importExportImportIsStable() throws {
        let text = """
            apiVersion: openslo/v1
            kind: Service
            metadata: {name: checkout}
            spec: {description: The shop's checkout}
            ---
            apiVersion: openslo/v1
            kind: SLI
            metadata: {name: checkout-errors}
            spec:
              ratioMetric:
                counter: true
                bad:
                  metricSource: {type: slawatch, spec: {metric: checkout.requests, labels: {status: "=~5.."}}}
                total:
                  metricSource: {type: slawatch, spec: {metric: checkout.requests}}
            ---
            apiVersion: openslo/v1
            kind: AlertCondition
            metadata: {name: fast-burn}
            spec:
              severity: page
              condition: {kind: burnrate, op: gte, threshold: 14.4, lookbackWindow: 1h, alertAfter: 0m}
            ---
            apiVersion: openslo/v1
            kind: AlertPolicy
            metadata: {name: page-on-fast-burn}
            spec:
              alertWhenBreaching: true
              conditions: [{conditionRef: fast-burn}]
              notificationTargets: []
            ---
            apiVersion: openslo/v1
            kind: SLO
            metadata: {name: checkout-availability}
            spec:
              service: checkout
              indicatorRef: checkout-errors
              timeWindow: [{duration: 1M, isRolling: false, calendar: {startTime: "2026-01-01 00:00:00", timeZone: Europe/Paris}}]
              budgetingMethod: Occurrences
              objectives: [{displayName: Checkout works, targetPercent: 99.9}]
              alertPolicies: [{alertPolicyRef: page-on-fast-burn}]
            """
        let source = try write(text, "checkout.yaml")
        let (rc, first, err) = try slawatch(["import", "openslo", "--customer", "shoppers", source])
        #expect(rc == 0, "\(err)")
        let imported = try ObjectivesConfig.parse(first, file: "first.yaml")
        let o = try #require(imported.first)
        #expect(o.name == "checkout-availability")
        #expect(o.sla.name == "checkout")
        #expect(o.sla.customer == "shoppers")
        #expect(o.good?.match == ["status": "!~5.."])  // bad 5xx inverted into good
        #expect(o.window == .calendar(.month))
        #expect(o.timeZone == "Europe/Paris")
        #expect(o.baseline.value == 0.999)
        #expect(o.burnRateAlerts == [BurnRateRule(factor: 14.4, long: 3600, short: 300, severity: .crit)])
        // Export, import again: the same definition, and a second round changes nothing.
        func roundTrip(_ yaml: String) throws -> String {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("openslo-rt-\(runID())")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try yaml.write(to: dir.appendingPathComponent("o.yaml"), atomically: true, encoding: .utf8)
            let (erc, exported, eerr) = try slawatch(["export", "openslo", "--objectives", dir.path])
            #expect(erc == 0, "\(eerr)")
            let file = dir.appendingPathComponent("exported.yaml").path
            try exported.write(toFile: file, atomically: true, encoding: .utf8)
            let (irc, again, ierr) = try slawatch(["import", "openslo", "--customer", "shoppers", file])
            #expect(irc == 0, "\(ierr)\n\(exported)")
            return again
        }
        let second = try roundTrip(first)
        let back = try ObjectivesConfig.parse(second, file: "second.yaml")
        #expect(back.map(\.name) == imported.map(\.name))
        for (a, b) in zip(back, imported) {
            // The same definition; the baseline's text may read 0.999 for 99.9%.
            #expect(a.baseline.value == b.baseline.value)
            #expect(
                a.definitionFields.filter { $0.key != "baseline" }.map(\.value)
                    == b.definitionFields.filter { $0.key != "baseline" }.map(\.value)
            )
        }
        #expect(try roundTrip(second) == second)
    }
}
