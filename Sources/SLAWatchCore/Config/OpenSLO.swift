import Foundation
import Yams

/// OpenSLO v1 in and out (https://github.com/OpenSLO/OpenSLO, `SPEC.md`; docs/openslo.md).
///
/// Import reads `SLO`, `SLI`, `Service`, `AlertPolicy`, `AlertCondition` and `DataSource`
/// documents (any number per file, `---` separated) and writes one objectives file that
/// `slawatch check` accepts. What slawatch cannot honour is an error naming file, line and key,
/// never dropped: a composite SLO, a `raw` ratio, `RatioTimeslices`, calendar windows that do not
/// start on their period's boundary, a metric source without a slawatch metric.
public enum OpenSLO {
    /// A query of another metric source mapped to a slawatch metric (`--metric-map FILE`: a
    /// YAML list of `{query: "…", metric: NAME, labels: {…}}`, optionally with `type:`, and
    /// `indicator:` and `role:` (`good`, `bad`, `total`, `threshold`) where one query text stands
    /// for several metrics, as the specification's placeholder `Any` does).
    public struct MetricMapping: Sendable, Equatable {
        /// The source type it applies to (`Prometheus`, `Datadog`, `Any`), `nil` for any.
        public var type: String?
        /// The indicator (SLI `metadata.name`) it applies to, `nil` for any.
        public var indicator: String? = nil
        /// The part of the indicator it applies to (`good`, `bad`, `total`, `threshold`), `nil` for any.
        public var role: String? = nil
        /// The source's query text, compared exactly.
        public var query: String
        /// The slawatch metric.
        public var metric: String
        /// Its label matchers.
        public var labels: [String: String]

        /// A mapping.
        public init(type: String? = nil, query: String, metric: String, labels: [String: String] = [:]) {
            self.type = type
            self.query = query
            self.metric = metric
            self.labels = labels
        }
    }

    /// Reads a `--metric-map` file.
    /// - Throws: `ConfigErrors` naming file, line and key of each bad entry.
    public static func metricMap(_ text: String, file: String) throws(ConfigErrors) -> [MetricMapping] {
        var r = YAMLReader(file: file)
        var out: [MetricMapping] = []
        if let root = r.compose(text) {
            for (k, item) in r.sequence(root, "").enumerated() {
                let m = r.mapping(
                    item,
                    "[\(k)]",
                    allowed: ["type", "query", "metric", "labels", "indicator", "role"]
                )
                let query = r.requiredString(m, "query", "[\(k)]", parent: item)
                let metric = r.requiredString(m, "metric", "[\(k)]", parent: item)
                var labels: [String: String] = [:]
                if case .mapping(let lm)? = m["labels"] {
                    for (lk, lv) in lm { if let a = lk.string, let b = lv.string { labels[a] = b } }
                }
                if let query, let metric {
                    var mapping = MetricMapping(type: m["type"]?.string, query: query, metric: metric, labels: labels)
                    mapping.indicator = m["indicator"]?.string
                    mapping.role = m["role"]?.string
                    if let role = mapping.role, !["good", "bad", "total", "threshold"].contains(role) {
                        r.fail(m["role"], "[\(k)].role", "'\(role)' is not good, bad, total or threshold")
                    }
                    out.append(mapping)
                }
            }
        }
        if !r.errors.isEmpty { throw ConfigErrors(r.errors) }
        return out
    }

    /// One document with where it came from.
    struct Document {
        var node: Node
        var file: String
        var kind: String
        var name: String
    }

    /// A metric as slawatch reads it.
    struct Selector {
        var metric: String
        var labels: [String: String]
    }

    /// Imports OpenSLO documents into one objectives file (YAML text): one SLA per `service`,
    /// one objective per SLO objective.
    /// - Parameters:
    ///   - provider, customer: the SLA's parties (OpenSLO has none): default the service's name
    ///     and `users`.
    /// - Throws: `ConfigErrors` with every problem (file, line, key).
    public static func importDocuments(
        _ files: [(text: String, file: String)],
        metricMap: [MetricMapping] = [],
        provider: String? = nil,
        customer: String? = nil
    ) throws(ConfigErrors) -> String {
        try importWithNotes(files, metricMap: metricMap, provider: provider, customer: customer).yaml
    }

    /// `importDocuments`, with the notes on what import chose where the documents leave it
    /// open (`file:line: …`): an SLO without `timeWindow` gets a rolling 30d window, a calendar
    /// window without `timeZone` is in UTC. The notes are also comments at the top of `yaml`.
    /// - Throws: `ConfigErrors` with every problem (file, line, key).
    public static func importWithNotes(
        _ files: [(text: String, file: String)],
        metricMap: [MetricMapping] = [],
        provider: String? = nil,
        customer: String? = nil
    ) throws(ConfigErrors) -> (yaml: String, notes: [String]) {
        var notes: [String] = []
        var errors: [ConfigError] = []
        var docs: [Document] = []
        for (text, file) in files {
            var r = YAMLReader(file: file)
            if let nodes = r.composeAll(text) {
                for node in nodes {
                    guard let m = node.mapping else {
                        r.fail(node, "", "expected an OpenSLO document (apiVersion, kind, metadata, spec)")
                        continue
                    }
                    _ = r.mapping(node, "", allowed: ["apiVersion", "kind", "metadata", "spec"])
                    if let md = m["metadata"] {
                        _ = r.mapping(md, "metadata", allowed: ["name", "displayName", "labels", "annotations"])
                    }
                    if m["apiVersion"]?.string != "openslo/v1" {
                        r.fail(
                            m["apiVersion"] ?? node,
                            "apiVersion",
                            "'\(m["apiVersion"]?.string ?? "")' is not openslo/v1 (the version this import reads)"
                        )
                        continue
                    }
                    let kind = m["kind"]?.string ?? ""
                    let name = m["metadata"]?.mapping?["name"]?.string ?? ""
                    if name.isEmpty { r.fail(m["metadata"] ?? node, "metadata.name", "missing required key") }
                    if name.contains(where: { $0.isWhitespace || $0 == "{" || $0 == "}" }) {
                        r.fail(m["metadata"], "metadata.name", "'\(name)' is not a name (no spaces or braces)")
                    }
                    // One name per kind: which of two would be meant is a guess.
                    if let twin = docs.first(where: { $0.kind == kind && $0.name == name }), !name.isEmpty {
                        r.fail(
                            m["metadata"],
                            "metadata.name",
                            "a \(kind) named '\(name)' is already defined at \(twin.file):\(YAMLReader.line(twin.node))"
                        )
                        continue
                    }
                    docs.append(Document(node: node, file: file, kind: kind, name: name))
                }
            }
            errors += r.errors
        }
        func find(_ kind: String, _ name: String) -> Document? { docs.first { $0.kind == kind && $0.name == name } }
        var slas: [(service: String, description: String?, objectives: [Imported])] = []
        for doc in docs where doc.kind == "SLO" {
            var r = YAMLReader(file: doc.file)
            let spec = doc.node.mapping?["spec"]?.mapping
            let service = spec?["service"]?.string ?? doc.name
            if let n = spec?["service"], n.string == nil || service.isEmpty {
                r.fail(n, "spec.service", "expected the service's name (a non-empty string)")
            }
            var built = slo(doc, spec: spec, find: find, metricMap: metricMap, reader: &r)
            // One objective name in all the imported SLAs (slawatch's names are global).
            built.removeAll { o in
                guard let twin = slas.lazy.flatMap(\.objectives).first(where: { $0.name == o.name }) else {
                    return false
                }
                r.errors.append(
                    ConfigError(
                        file: o.file,
                        line: o.line,
                        key: o.key,
                        message:
                            "the objective would be named '\(o.name)', as the one imported from \(twin.file):\(twin.line) (\(twin.key))"
                    )
                )
                return true
            }
            errors += r.errors
            let at = "\(doc.file):\(YAMLReader.line(doc.node)): SLO \(doc.name)"
            if let spec, spec["timeWindow"] == nil {
                notes.append("\(at) gives no timeWindow (optional in OpenSLO): imported with a rolling 30d window")
            }
            if let calendar = spec?["timeWindow"]?.sequence?.first?.mapping?["calendar"],
                calendar.mapping?["timeZone"] == nil
            {
                notes.append(
                    "\(doc.file):\(YAMLReader.line(calendar)): SLO \(doc.name)'s calendar window gives no timeZone: imported in UTC"
                )
            }
            if let k = slas.firstIndex(where: { $0.service == service }) {
                slas[k].objectives += built
            } else {
                let description = find("Service", service)?.node.mapping?["spec"]?.mapping?["description"]?.string
                slas.append((service, description, built))
            }
        }
        for doc in docs
        where !["SLO", "SLI", "Service", "AlertPolicy", "AlertCondition", "DataSource"].contains(doc.kind) {
            var r = YAMLReader(file: doc.file)
            r.fail(
                doc.node.mapping?["kind"] ?? doc.node,
                "kind",
                "'\(doc.kind)' is not imported (SLO, SLI, Service, AlertPolicy, AlertCondition, DataSource)"
            )
            errors += r.errors
        }
        if docs.allSatisfy({ $0.kind != "SLO" }) && errors.isEmpty {
            errors.append(ConfigError(file: files.first?.file ?? "", line: 0, key: "kind", message: "no SLO document"))
        }
        // A document two SLOs refer to is read twice: its errors are said once.
        var said = Set<String>()
        errors = errors.filter { said.insert($0.description).inserted }
        if !errors.isEmpty { throw ConfigErrors(errors) }
        var slaNodes: [Node] = []
        for s in slas {
            var pairs: [(Node, Node)] = [
                (Node("name"), Node(s.service)), (Node("provider"), Node(provider ?? s.service)),
                (Node("customer"), Node(customer ?? "users")),
            ]
            if let d = s.description { pairs.append((Node("description"), Node(d))) }
            pairs.append((Node("objectives"), .sequence(.init(s.objectives.map(\.node)))))
            slaNodes.append(.mapping(.init(pairs)))
        }
        let root = Node.mapping(.init([(Node("slas"), .sequence(.init(slaNodes)))]))
        let body = (try? Yams.serialize(node: root, sortKeys: false)) ?? ""
        // What import writes must load; what would not is said at the OpenSLO objective it came
        // from (a label matcher that is no regular expression, a burn factor no target allows…).
        do {
            _ = try ObjectivesConfig.parse(body, file: "(imported)")
        } catch {
            throw ConfigErrors(
                error.errors.map { e in
                    guard let (i, j, rest) = Self.objectiveKey(e.key), i < slas.count, j < slas[i].objectives.count
                    else { return e }
                    let origin = slas[i].objectives[j]
                    let tail = rest.isEmpty ? "" : " (slawatch's \(rest))"
                    return ConfigError(file: origin.file, line: origin.line, key: origin.key + tail, message: e.message)
                }
            )
        }
        let header = "# Imported from OpenSLO v1 by slawatch import openslo (docs/openslo.md).\n"
        return (header + notes.map { "# note: \($0)\n" }.joined() + body, notes)
    }

    /// `slas[I].objectives[J].REST` → (I, J, REST without its leading dot); `nil` for any other key.
    static func objectiveKey(_ key: String) -> (Int, Int, String)? {
        let scanner = Scanner(string: key)
        scanner.charactersToBeSkipped = nil
        guard scanner.scanString("slas[") != nil, let i = scanner.scanInt(), scanner.scanString("].objectives[") != nil,
            let j = scanner.scanInt(), scanner.scanString("]") != nil
        else { return nil }
        var rest = String(key[scanner.currentIndex...])
        if rest.hasPrefix(".") { rest.removeFirst() }
        return (i, j, rest)
    }

    /// The slawatch objectives of one SLO document.
    static func slo(
        _ doc: Document,
        spec: Node.Mapping?,
        find: (String, String) -> Document?,
        metricMap: [MetricMapping],
        reader r: inout YAMLReader
    ) -> [Imported] {
        guard let spec else {
            r.fail(doc.node, "spec", "missing required key")
            return []
        }
        let before = r.errors.count
        if let node = doc.node.mapping?["spec"] {
            _ = r.mapping(
                node,
                "spec",
                allowed: [
                    "description", "service", "indicator", "indicatorRef", "timeWindow", "budgetingMethod",
                    "objectives", "alertPolicies",
                ]
            )
        }
        if spec["indicator"] != nil && spec["indicatorRef"] != nil {
            r.fail(spec["indicatorRef"], "spec.indicatorRef", "give indicator or indicatorRef, not both")
        }
        // The indicator: inline, or an SLI document.
        var indicatorSpec: Node?
        var indicatorPath = "spec.indicator.spec"
        var indicatorName = doc.name
        var indicatorFile: String?
        if let inline = spec["indicator"] {
            _ = r.mapping(inline, "spec.indicator", allowed: ["metadata", "spec"])
            if let md = inline.mapping?["metadata"] {
                _ = r.mapping(md, "spec.indicator.metadata", allowed: ["name", "displayName", "labels", "annotations"])
            }
            indicatorSpec = inline.mapping?["spec"]
            indicatorName = inline.mapping?["metadata"]?.mapping?["name"]?.string ?? doc.name
        } else if let ref = spec["indicatorRef"]?.string {
            let sli = find("SLI", ref)
            indicatorSpec = sli?.node.mapping?["spec"]
            indicatorPath = "SLI \(ref).spec"
            indicatorName = ref
            if indicatorSpec == nil {
                r.fail(spec["indicatorRef"], "spec.indicatorRef", "no SLI document is named '\(ref)'")
            }
            // What is wrong inside the SLI document is said in its own file.
            indicatorFile = sli?.file
        } else if spec["objectives"]?.sequence?.contains(where: {
            $0.mapping?["indicator"] != nil || $0.mapping?["indicatorRef"] != nil
        }) == true {
            r.fail(
                spec["objectives"],
                "spec.indicator",
                "a composite SLO (indicators per objective) is not imported: slawatch judges each objective on its own"
            )
        } else {
            r.fail(
                doc.node.mapping?["spec"] ?? doc.node,
                "spec.indicator",
                "missing required key (indicator or indicatorRef)"
            )
        }
        if let ind = indicatorSpec {
            _ = r.mapping(ind, indicatorPath, allowed: ["description", "thresholdMetric", "ratioMetric"])
            if ind.mapping?["thresholdMetric"] != nil && ind.mapping?["ratioMetric"] != nil {
                r.fail(ind, indicatorPath, "give thresholdMetric or ratioMetric, not both")
            }
        }
        let budgeting = spec["budgetingMethod"]?.string ?? "Occurrences"
        if !["Occurrences", "Timeslices", "RatioTimeslices"].contains(budgeting) {
            r.fail(
                spec["budgetingMethod"],
                "spec.budgetingMethod",
                "'\(budgeting)' is not Occurrences, Timeslices or RatioTimeslices"
            )
        }
        let sliced = budgeting != "Occurrences"
        if sliced, let policies = spec["alertPolicies"], policies.null == nil,
            !(policies.sequence?.isEmpty ?? false)
        {
            r.fail(
                policies,
                "spec.alertPolicies",
                "burn-rate alerts on time slices are not supported by slawatch (its burn rates count events)"
            )
        }
        let window = timeWindow(spec["timeWindow"], reader: &r)
        // The SLI's selectors.
        var total: Selector?
        var good: [String: String]?
        var goodMetric: String?
        var threshold = false
        let home = r.file
        r.file = indicatorFile ?? home
        if let ind = indicatorSpec?.mapping {
            if let t = ind["thresholdMetric"] {
                threshold = true
                _ = r.mapping(t, "\(indicatorPath).thresholdMetric", allowed: ["metricSource"])
                total = source(
                    t.mapping?["metricSource"],
                    path: "\(indicatorPath).thresholdMetric.metricSource",
                    indicator: indicatorName,
                    role: "threshold",
                    metricMap: metricMap,
                    find: find,
                    reader: &r
                )
            } else if let ratioNode = ind["ratioMetric"], let ratio = ratioNode.mapping {
                _ = r.mapping(
                    ratioNode,
                    "\(indicatorPath).ratioMetric",
                    allowed: ["counter", "good", "bad", "total", "rawType", "raw"]
                )
                if ratio["good"] != nil && ratio["bad"] != nil {
                    r.fail(ratio["bad"], "\(indicatorPath).ratioMetric.bad", "give good or bad, not both")
                }
                if let c = ratio["counter"]?.string, c != "true" && c != "false" {
                    r.fail(ratio["counter"], "\(indicatorPath).ratioMetric.counter", "'\(c)' is not true or false")
                }
                if ratio["rawType"] != nil && ratio["raw"] == nil {
                    r.fail(ratio["rawType"], "\(indicatorPath).ratioMetric.rawType", "rawType belongs with raw")
                }
                if ratio["raw"] != nil {
                    r.fail(
                        ratio["raw"],
                        "\(indicatorPath).ratioMetric.raw",
                        "a precomputed (raw) ratio is not imported: slawatch computes the ratio from the good and total events"
                    )
                }
                for part in ["good", "bad", "total"] {
                    if let n = ratio[part] {
                        _ = r.mapping(n, "\(indicatorPath).ratioMetric.\(part)", allowed: ["metricSource"])
                    }
                }
                total = source(
                    ratio["total"]?.mapping?["metricSource"],
                    path: "\(indicatorPath).ratioMetric.total.metricSource",
                    indicator: indicatorName,
                    role: "total",
                    metricMap: metricMap,
                    find: find,
                    reader: &r
                )
                if let g = ratio["good"] {
                    let s = source(
                        g.mapping?["metricSource"],
                        path: "\(indicatorPath).ratioMetric.good.metricSource",
                        indicator: indicatorName,
                        role: "good",
                        metricMap: metricMap,
                        find: find,
                        reader: &r
                    )
                    good = s?.labels
                    goodMetric = s?.metric
                } else if let b = ratio["bad"] {
                    // Good is "not bad": one label matcher inverted, on the total's metric.
                    let s = source(
                        b.mapping?["metricSource"],
                        path: "\(indicatorPath).ratioMetric.bad.metricSource",
                        indicator: indicatorName,
                        role: "bad",
                        metricMap: metricMap,
                        find: find,
                        reader: &r
                    )
                    if let s, let total, s.metric == total.metric, let inverted = invert(s.labels, from: total.labels) {
                        good = inverted
                        goodMetric = s.metric
                    } else if s != nil {
                        r.fail(
                            b,
                            "\(indicatorPath).ratioMetric.bad",
                            "bad events are imported only as the total's metric with one more label condition (inverted into good); map a good query instead"
                        )
                    }
                }
            } else if ind["thresholdMetric"] == nil {
                r.fail(indicatorSpec, indicatorPath, "neither thresholdMetric nor ratioMetric")
            }
        }
        r.file = home
        // Burn-rate alerts of the alert policies.
        let burn = alertPolicies(spec["alertPolicies"], find: find, reader: &r)
        var out: [Imported] = []
        let objectives = spec["objectives"].map { r.sequence($0, "spec.objectives") } ?? []
        if spec["objectives"] == nil {
            r.fail(doc.node.mapping?["spec"] ?? doc.node, "spec.objectives", "missing required key")
        } else if objectives.isEmpty {
            r.fail(spec["objectives"], "spec.objectives", "an SLO needs at least one objective")
        }
        if threshold && objectives.count > 1 {
            r.fail(spec["objectives"], "spec.objectives", "a thresholdMetric SLO has one objective")
        }
        var names = Set<String>()
        for (k, o) in objectives.enumerated() {
            let p = "spec.objectives[\(k)]"
            guard let om = o.mapping else {
                r.fail(o, p, "expected a mapping (displayName, target or targetPercent, …)")
                continue
            }
            let known: Set<String> = [
                "displayName", "op", "value", "target", "targetPercent", "timeSliceTarget", "timeSliceWindow",
            ]
            for (key, v) in om {
                guard let name = key.string, !known.contains(name) else { continue }
                r.fail(
                    v,
                    "\(p).\(name)",
                    name == "indicator" || name == "indicatorRef" || name == "compositeWeight"
                        ? "a composite SLO objective is not imported" : "unknown key"
                )
            }
            if om["target"] != nil && om["targetPercent"] != nil {
                r.fail(om["targetPercent"], "\(p).targetPercent", "give target or targetPercent, not both")
            }
            if !sliced {
                for key in ["timeSliceTarget", "timeSliceWindow"] where om[key] != nil {
                    r.fail(om[key], "\(p).\(key)", "\(key) belongs to Timeslices or RatioTimeslices budgeting")
                }
            }
            if !threshold {
                // A ratio objective's op can only say "at least" (as the specification's
                // RatioTimeslices example writes it); a value belongs to a threshold.
                if let op = om["op"]?.string, op != "gt" && op != "gte" {
                    r.fail(om["op"], "\(p).op", "a ratio objective is met at or above its target: op is gt or gte")
                }
                if om["value"] != nil {
                    r.fail(om["value"], "\(p).value", "value belongs to a thresholdMetric objective")
                }
            }
            var target: Double?
            if let t = om["target"]?.string.flatMap(Double.init) {
                target = t
            } else if let t = om["targetPercent"]?.string.flatMap(Double.init) {
                target = t / 100
            }
            guard let target, target > 0, target < 1 else {
                r.fail(
                    om["target"] ?? om["targetPercent"] ?? o,
                    "\(p).target",
                    "a target in (0, 1) or targetPercent in (0, 100) is required"
                )
                continue
            }
            guard r.errors.count == before, let total, let window else { continue }
            let name =
                objectives.count == 1
                ? doc.name : "\(doc.name)-\(slug(om["displayName"]?.string) ?? String(k + 1))"
            guard names.insert(name).inserted else {
                r.fail(
                    om["displayName"] ?? o,
                    "\(p).displayName",
                    "two objectives of this SLO would both be named '\(name)'"
                )
                continue
            }
            var pairs: [(Node, Node)] = [(Node("name"), Node(name))]
            if let d = spec["description"]?.string { pairs.append((Node("description"), Node(d))) }
            pairs.append((Node("metric"), Node(total.metric)))
            if !total.labels.isEmpty { pairs.append((Node("labels"), labelsNode(total.labels))) }
            pairs.append((Node("sli"), Node("ratio")))
            if threshold {
                guard let op = om["op"]?.string, let v = om["value"]?.string.flatMap(Double.init), v.isFinite,
                    let cmp = comparison(op)
                else {
                    r.fail(o, "\(p).op", "a thresholdMetric objective needs op (lt, lte, gt, gte) and a finite value")
                    continue
                }
                pairs.append((Node("good"), .mapping(.init([(Node("value"), Node("\(cmp) \(exact(v))"))]))))
            } else {
                var g: [(Node, Node)] = []
                if let goodMetric, goodMetric != total.metric { g.append((Node("metric"), Node(goodMetric))) }
                if let good, !good.isEmpty { g.append((Node("labels"), labelsNode(good))) }
                if g.isEmpty {
                    r.fail(
                        spec["indicator"] ?? o,
                        "\(indicatorPath).ratioMetric",
                        "good and total select the same events"
                    )
                    continue
                }
                pairs.append((Node("good"), .mapping(.init(g))))
            }
            if sliced {
                guard let sliceText = om["timeSliceWindow"]?.string, let slice = duration(sliceText), slice >= 1 else {
                    r.fail(
                        om["timeSliceWindow"] ?? o,
                        "\(p).timeSliceWindow",
                        "\(budgeting) needs timeSliceWindow, a positive duration (1m, 5m)"
                    )
                    continue
                }
                var rule: [(Node, Node)] = [(Node("slice"), Node(DurationText.format(slice)))]
                if budgeting == "RatioTimeslices" {
                    // The mean of the slices' ratios; a slice is neither good nor bad.
                    if let t = om["timeSliceTarget"] {
                        r.fail(
                            t,
                            "\(p).timeSliceTarget",
                            "timeSliceTarget belongs to Timeslices: RatioTimeslices averages the slices' ratios, none is good or bad"
                        )
                        continue
                    }
                    rule.append((Node("average"), Node("true")))
                } else {
                    guard let t = om["timeSliceTarget"]?.string.flatMap(Double.init), t > 0, t <= 1 else {
                        r.fail(
                            om["timeSliceTarget"] ?? o,
                            "\(p).timeSliceTarget",
                            "Timeslices needs timeSliceTarget in (0, 1]"
                        )
                        continue
                    }
                    rule.append((Node("good"), Node(">= \(exact(t))")))
                }
                pairs.append((Node("timeslices"), .mapping(.init(rule))))
            }
            pairs.append((Node("window"), Node(window.window)))
            if let zone = window.zone { pairs.append((Node("time_zone"), Node(zone))) }
            pairs.append((Node("direction"), Node("at_least")))
            // The target as given, every digit kept (a percentage as a percentage: 99.9 / 100 is
            // not 0.999 in binary).
            let percent = om["target"] == nil ? om["targetPercent"]?.string.flatMap(Double.init) : nil
            pairs.append((Node("baseline"), Node(percent.map { exact($0) + "%" } ?? exact(target))))
            if !burn.isEmpty, !sliced {
                pairs.append((Node("burn_rate_alerts"), .sequence(.init(burn))))
            }
            out.append(
                Imported(node: .mapping(.init(pairs)), name: name, file: doc.file, line: YAMLReader.line(o), key: p)
            )
        }
        return out
    }

    /// A slawatch objective made from an SLO document's objective, and where that is (file,
    /// line, key path), so a check of what import wrote names the OpenSLO source.
    struct Imported {
        var node: Node
        /// The objective's name.
        var name: String
        var file: String
        var line: Int
        var key: String
    }

    /// A number as the shortest text that reads back exactly (`0.999999`, not a rounded `100%`).
    static func exact(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : "\(v)"
    }

    /// `lt` → `<` and so on.
    static func comparison(_ op: String) -> String? {
        ["lt": "<", "lte": "<=", "gt": ">", "gte": ">="][op]
    }

    /// A label map as a flow mapping node.
    static func labelsNode(_ labels: [String: String]) -> Node {
        .mapping(.init(labels.sorted { $0.key < $1.key }.map { (Node($0.key), Node($0.value)) }))
    }

    /// `Good experience` → `good-experience`.
    static func slug(_ s: String?) -> String? {
        guard let s else { return nil }
        let out = s.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
        let trimmed = out.split(separator: "-").joined(separator: "-")
        return trimmed.isEmpty ? nil : trimmed
    }

    /// An OpenSLO duration shorthand in seconds (m, h, d, w; M, Q, Y are calendar units and
    /// have no fixed length), `nil` otherwise; a bare number is minutes (`timeSliceWindow`).
    static func duration(_ s: String) -> Double? {
        if let n = Double(s) { return n * 60 }
        guard let unit = s.last, let n = Double(s.dropLast()), n > 0 else { return nil }
        switch unit {
        case "s": return n
        case "m": return n * 60
        case "h": return n * 3600
        case "d": return n * 86400
        case "w": return n * 7 * 86400
        default: return nil
        }
    }

    /// `timeWindow`: rolling (`duration` in m, h, d, w) or calendar-aligned (1d, 1w, 1M, 1Q
    /// starting on the period's boundary) → slawatch's window and time zone.
    static func timeWindow(_ node: Node?, reader r: inout YAMLReader) -> (window: String, zone: String?)? {
        guard let node else { return ("30d", nil) }
        let items = r.sequence(node, "spec.timeWindow")
        guard items.count == 1, let m = items[0].mapping else {
            r.fail(node, "spec.timeWindow", "exactly one time window is required")
            return nil
        }
        let p = "spec.timeWindow[0]"
        _ = r.mapping(items[0], p, allowed: ["duration", "isRolling", "calendar"])
        if let c = m["calendar"] { _ = r.mapping(c, "\(p).calendar", allowed: ["startTime", "timeZone"]) }
        if let v = m["isRolling"]?.string, v != "true" && v != "false" {
            r.fail(m["isRolling"], "\(p).isRolling", "'\(v)' is not true or false")
            return nil
        }
        if m["isRolling"]?.string == "true" && m["calendar"] != nil {
            r.fail(
                m["calendar"],
                "\(p).calendar",
                "a rolling window has no calendar (isRolling: false for a calendar window)"
            )
            return nil
        }
        guard let text = m["duration"]?.string else {
            r.fail(items[0], "\(p).duration", "missing required key")
            return nil
        }
        let calendar = m["calendar"]?.mapping
        let rolling = m["isRolling"]?.string.map { $0 == "true" } ?? (calendar == nil)
        if rolling {
            guard let seconds = duration(text) else {
                r.fail(
                    m["duration"],
                    "\(p).duration",
                    "a rolling window of '\(text)' has no fixed length (use m, h, d or w)"
                )
                return nil
            }
            return (DurationText.format(seconds), nil)
        }
        let units = ["1d": "day", "1w": "week", "1M": "month", "1Q": "quarter"]
        guard let unit = units[text] else {
            r.fail(
                m["duration"],
                "\(p).duration",
                "a calendar window of '\(text)' is not a slawatch period (1d, 1w, 1M or 1Q)"
            )
            return nil
        }
        let zone = calendar?["timeZone"]?.string ?? "UTC"
        guard let periods = CalendarPeriods(timeZoneIdentifier: zone) else {
            r.fail(calendar?["timeZone"], "\(p).calendar.timeZone", "'\(zone)' is not an IANA time zone")
            return nil
        }
        if let start = calendar?["startTime"]?.string {
            // slawatch's periods start on their boundary: midnight, Monday, the 1st, a quarter.
            let iso = start.replacingOccurrences(of: " ", with: "T")
            let local = RFC3339.parse(iso + "Z").map {
                $0 - Double(periods.timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: $0)))
            }
            let cal = CalendarUnit(rawValue: unit) ?? .day
            if local == nil || periods.period(cal, containing: local!).start != local! {
                r.fail(
                    calendar?["startTime"],
                    "\(p).calendar.startTime",
                    "'\(start)' is not the start of a \(unit) in \(zone): slawatch's calendar windows begin at their period's boundary"
                )
                return nil
            }
        }
        return (unit, zone == "UTC" ? nil : zone)
    }

    /// The slawatch metric of a `metricSource`: type `slawatch` (`spec: {metric, labels}`), or
    /// a query mapped by `--metric-map`.
    static func source(
        _ node: Node?,
        path: String,
        indicator: String = "",
        role: String = "",
        metricMap: [MetricMapping],
        find: (String, String) -> Document? = { _, _ in nil },
        reader r: inout YAMLReader
    ) -> Selector? {
        guard let m = node?.mapping else {
            r.fail(node, path, "missing metricSource")
            return nil
        }
        _ = r.mapping(node!, path, allowed: ["metricSourceRef", "type", "spec"])
        var type = m["type"]?.string ?? ""
        if let ref = m["metricSourceRef"]?.string {
            // The type of the DataSource it names, when it gives none itself.
            if let source = find("DataSource", ref) {
                if type.isEmpty { type = source.node.mapping?["spec"]?.mapping?["type"]?.string ?? "" }
            } else {
                r.fail(m["metricSourceRef"], "\(path).metricSourceRef", "no DataSource document is named '\(ref)'")
                return nil
            }
        }
        let spec = m["spec"]?.mapping
        if type.lowercased() == "slawatch" {
            if let sn = m["spec"] { _ = r.mapping(sn, "\(path).spec", allowed: ["metric", "labels"]) }
            guard let metric = spec?["metric"]?.string else {
                r.fail(m["spec"] ?? node, "\(path).spec.metric", "a slawatch metric source names its metric")
                return nil
            }
            var labels: [String: String] = [:]
            for (k, v) in spec?["labels"]?.mapping ?? [:] {
                guard let a = k.string, let b = v.string, v.scalar != nil else {
                    r.fail(
                        v,
                        "\(path).spec.labels.\(k.string ?? "")",
                        "a label condition is one string (\"=~5..\", \"prod\")"
                    )
                    continue
                }
                labels[a] = b
            }
            return Selector(metric: metric, labels: labels)
        }
        let query = spec?["query"]?.string ?? ""
        if let hit = metricMap.first(where: {
            $0.query == query && ($0.type == nil || $0.type == type)
                && ($0.indicator == nil || $0.indicator == indicator) && ($0.role == nil || $0.role == role)
        }) {
            return Selector(metric: hit.metric, labels: hit.labels)
        }
        r.fail(
            m["spec"] ?? node,
            path,
            "indicator \(indicator) (\(role)): a metric source of type \(type.isEmpty ? "(none)" : type) with query '\(query)' has no slawatch metric: map it with --metric-map, or use type: slawatch"
        )
        return nil
    }

    /// Good labels from a bad selector: `bad` must be `total`'s labels plus one matcher, which
    /// is inverted (`=` ↔ `!=`, `=~` ↔ `!~`).
    static func invert(_ bad: [String: String], from total: [String: String]) -> [String: String]? {
        let extra = bad.filter { total[$0.key] != $0.value }
        // One more label condition: a key the total does not have (one that changes a total's
        // condition selects other events, not a part of the total's).
        guard extra.count == 1, let (k, v) = extra.first, total[k] == nil else { return nil }
        // A literal that itself starts like an operator (`!=!~x`) has no inverse in one matcher.
        let rest = v.hasPrefix("!=") || v.hasPrefix("=~") || v.hasPrefix("!~") ? String(v.dropFirst(2)) : v
        if ["!=", "=~", "!~"].contains(where: { rest.hasPrefix($0) }) { return nil }
        var good = total
        if v.hasPrefix("!=") {
            good[k] = String(v.dropFirst(2))
        } else if v.hasPrefix("=~") {
            good[k] = "!~" + v.dropFirst(2)
        } else if v.hasPrefix("!~") {
            good[k] = "=~" + v.dropFirst(2)
        } else {
            good[k] = "!=" + v
        }
        return good
    }

    /// Burn-rate rules from alert policies (inline or `alertPolicyRef`) whose conditions are
    /// `burnrate` with `gt`/`gte`: factor = threshold, long = lookbackWindow, short = a twelfth.
    static func alertPolicies(_ node: Node?, find: (String, String) -> Document?, reader r: inout YAMLReader) -> [Node]
    {
        guard let node, node.null == nil else { return [] }
        var out: [Node] = []
        // An inline document, or the one its `…Ref` names (with the path errors give and, for a
        // document of its own, its file: what is wrong in it is said there).
        func resolve(_ item: Node, _ refKey: String, _ kind: String, _ path: String) -> (Node, String, String?)? {
            guard item.mapping != nil else {
                r.fail(item, path, "expected a mapping (an inline \(kind) or \(refKey))")
                return nil
            }
            if let n = item.mapping?[refKey], n.scalar == nil || n.string?.isEmpty != false {
                r.fail(n, "\(path).\(refKey)", "expected the name of an \(kind) document")
                return nil
            }
            guard let ref = item.mapping?[refKey]?.string else { return (item, path, nil) }
            guard let doc = find(kind, ref) else {
                r.fail(item, "\(path).\(refKey)", "no \(kind) document is named '\(ref)'")
                return nil
            }
            return (doc.node, "\(kind) \(ref)", doc.file)
        }
        let home = r.file
        defer { r.file = home }
        for (k, item) in r.sequence(node, "spec.alertPolicies").enumerated() {
            r.file = home
            guard
                let (policy, path, policyFile) = resolve(
                    item,
                    "alertPolicyRef",
                    "AlertPolicy",
                    "spec.alertPolicies[\(k)]"
                )
            else {
                continue
            }
            r.file = policyFile ?? home
            if let md = policy.mapping?["metadata"] {
                _ = r.mapping(md, "\(path).metadata", allowed: ["name", "displayName", "labels", "annotations"])
            }
            if policyFile == nil {
                _ = r.mapping(policy, path, allowed: ["apiVersion", "kind", "metadata", "spec", "alertPolicyRef"])
            }
            if let sn = policy.mapping?["spec"] {
                _ = r.mapping(
                    sn,
                    "\(path).spec",
                    allowed: [
                        "description", "alertWhenNoData", "alertWhenResolved", "alertWhenBreaching", "conditions",
                        "notificationTargets",
                    ]
                )
            }
            let spec = policy.mapping?["spec"]?.mapping
            if let kind = policy.mapping?["kind"]?.string, kind != "AlertPolicy" {
                r.fail(policy.mapping?["kind"], "\(path).kind", "'\(kind)' where an AlertPolicy belongs")
                continue
            }
            for key in ["alertWhenBreaching", "alertWhenResolved", "alertWhenNoData"] {
                if let v = spec?[key], v.string != "true" && v.string != "false" {
                    r.fail(v, "\(path).spec.\(key)", "'\(v.string ?? "")' is not true or false")
                }
            }
            if spec?["alertWhenBreaching"]?.string == "false" {
                r.fail(
                    spec?["alertWhenBreaching"],
                    "\(path).spec.alertWhenBreaching",
                    "slawatch's burn-rate alerts are written when they breach; a policy that does not alert then has no slawatch form"
                )
                continue
            }
            guard let conditionsNode = spec?["conditions"] else {
                r.fail(policy.mapping?["spec"] ?? policy, "\(path).spec.conditions", "missing required key")
                continue
            }
            let conditions = r.sequence(conditionsNode, "\(path).spec.conditions")
            if conditions.isEmpty && conditionsNode.sequence != nil {
                r.fail(conditionsNode, "\(path).spec.conditions", "an alert policy needs at least one condition")
            }
            for (c, cond) in conditions.enumerated() {
                r.file = policyFile ?? home
                guard
                    let (condition, cpath, conditionFile) = resolve(
                        cond,
                        "conditionRef",
                        "AlertCondition",
                        "\(path).spec.conditions[\(c)]"
                    )
                else { continue }
                r.file = conditionFile ?? policyFile ?? home
                if let kind = condition.mapping?["kind"]?.string, kind != "AlertCondition" {
                    r.fail(condition.mapping?["kind"], "\(cpath).kind", "'\(kind)' where an AlertCondition belongs")
                    continue
                }
                if let md = condition.mapping?["metadata"] {
                    _ = r.mapping(md, "\(cpath).metadata", allowed: ["name", "displayName", "labels", "annotations"])
                }
                if let sn = condition.mapping?["spec"] {
                    _ = r.mapping(sn, "\(cpath).spec", allowed: ["description", "severity", "condition"])
                }
                let cs = condition.mapping?["spec"]?.mapping
                if let cn = cs?["condition"] {
                    _ = r.mapping(
                        cn,
                        "\(cpath).spec.condition",
                        allowed: ["kind", "op", "threshold", "lookbackWindow", "alertAfter"]
                    )
                }
                let cm = cs?["condition"]?.mapping
                guard (cm?["kind"]?.string ?? "burnrate") == "burnrate" else {
                    r.fail(cs?["condition"], "\(cpath).spec.condition.kind", "only burnrate conditions are imported")
                    continue
                }
                guard let op = cm?["op"]?.string, op == "gt" || op == "gte" else {
                    r.fail(
                        cm?["op"] ?? condition,
                        "\(cpath).spec.condition.op",
                        "a burn-rate alert fires above its threshold (gt or gte)"
                    )
                    continue
                }
                guard cm?["threshold"] != nil, cm?["lookbackWindow"] != nil else {
                    r.fail(
                        cs?["condition"] ?? condition,
                        "\(cpath).spec.condition",
                        "threshold and lookbackWindow are required"
                    )
                    continue
                }
                guard let lookback = cm?["lookbackWindow"]?.string.flatMap(duration), lookback >= 1 else {
                    r.fail(
                        cm?["lookbackWindow"],
                        "\(cpath).spec.condition.lookbackWindow",
                        "'\(cm?["lookbackWindow"]?.string ?? "")' is not a positive duration of m, h, d or w (1h)"
                    )
                    continue
                }
                let thresholdText = cm?["threshold"]?.string ?? ""
                guard let factor = Double(thresholdText), factor.isFinite, factor > 0 else {
                    r.fail(
                        cm?["threshold"],
                        "\(cpath).spec.condition.threshold",
                        "a burn rate threshold is a positive number (14.4: the budget burning 14.4 times too fast)"
                    )
                    continue
                }
                if let after = cm?["alertAfter"]?.string, after != "0m", after != "0" {
                    r.fail(
                        cm?["alertAfter"],
                        "\(cpath).spec.condition.alertAfter",
                        "slawatch's burn-rate alerts fire at once (the short window is their delay); alertAfter '\(after)' cannot be honoured"
                    )
                    continue
                }
                var rule: [(Node, Node)] = [
                    (Node("factor"), Node(exact(factor))),
                    (Node("long"), Node(DurationText.format(lookback))),
                    (Node("short"), Node(DurationText.format(max(1, (lookback / 12).rounded())))),
                ]
                if let sev = cs?["severity"]?.string {
                    let mapped = ["page": "crit", "ticket": "warning"][sev] ?? (Severity(name: sev) != nil ? sev : nil)
                    guard let mapped else {
                        r.fail(
                            cs?["severity"],
                            "\(cpath).spec.severity",
                            "'\(sev)' is not page, ticket or a journal priority (crit, err, warning, …)"
                        )
                        continue
                    }
                    rule.append((Node("severity"), Node(mapped)))
                }
                out.append(.mapping(.init(rule)))
            }
        }
        return out
    }

    /// The objectives as OpenSLO v1 `SLO` documents (`---` separated), each with its SLI inline
    /// and a `slawatch` metric source; objectives OpenSLO cannot express (not ratios: counts,
    /// sums, percentiles, averages…) are returned apart with the reason.
    public static func export(_ objectives: [Objective]) -> (yaml: String, skipped: [(name: String, reason: String)]) {
        var docs: [String] = []
        var skipped: [(String, String)] = []
        for o in objectives where o.instanceOf == nil {
            // What OpenSLO has no field for is not exported rather than changed.
            var missing: [String] = []
            if !o.groupBy.isEmpty { missing.append("group_by") }
            if o.labelBaselines != nil { missing.append("per-label baselines") }
            if o.serviceHours != nil { missing.append("service_hours") }
            if !o.maintenance.isEmpty { missing.append("maintenance") }
            if let g = o.good, g.value != nil, g.metric != o.metric || !g.match.isEmpty {
                missing.append("a threshold on selected good events")
            }
            if o.baseline.value >= 1 { missing.append("a target of 100 % (OpenSLO's is below 1)") }
            if case .rolling(let w) = o.window, w % 60 != 0 { missing.append("a window of seconds") }
            if let t = o.timeslices, t.slice % 60 != 0 { missing.append("a slice of seconds") }
            if let t = o.timeslices, t.sli != .ratio { missing.append("slices judged by \(t.sli.rawValue)") }
            if !missing.isEmpty {
                skipped.append((o.name, "OpenSLO cannot express " + missing.joined(separator: ", ")))
                continue
            }
            guard o.sli == .ratio || o.timeslices != nil, o.direction == .atLeast, case .fixed = o.baseline.kind else {
                skipped.append(
                    (
                        o.name,
                        "OpenSLO objectives are ratios against a fixed target at least met; \(o.name) is \(o.sli.rawValue) \(o.direction.rawValue) \(o.baseline.source)"
                    )
                )
                continue
            }
            func source(_ metric: String, _ labels: [String: String]) -> Node {
                var spec: [(Node, Node)] = [(Node("metric"), Node(metric))]
                if !labels.isEmpty { spec.append((Node("labels"), labelsNode(labels))) }
                return .mapping(
                    .init([
                        (
                            Node("metricSource"),
                            .mapping(.init([(Node("type"), Node("slawatch")), (Node("spec"), .mapping(.init(spec)))]))
                        )
                    ])
                )
            }
            var indicator: [(Node, Node)]
            var objective: [(Node, Node)] = []
            // A time-slice objective's events are selected by its rule's good selector.
            let good = o.timeslices.map { $0.goodSelector } ?? o.good
            if let v = good?.value {
                let op = ["<": "lt", "<=": "lte", ">": "gt", ">=": "gte"][v.comparison.rawValue] ?? "lte"
                indicator = [(Node("thresholdMetric"), source(o.metric, o.match))]
                objective += [(Node("op"), Node(op)), (Node("value"), Node(exact(v.bound)))]
            } else if let g = good {
                var goodLabels = o.match
                for (k, v) in g.match { goodLabels[k] = v }
                indicator = [
                    (
                        "ratioMetric",
                        .mapping(
                            .init([
                                (Node("counter"), Node("false")),
                                (Node("good"), source(g.metric, g.metric == o.metric ? goodLabels : g.match)),
                                (Node("total"), source(o.metric, o.match)),
                            ])
                        )
                    )
                ]
            } else {
                skipped.append((o.name, "its slices are not judged by a ratio"))
                continue
            }
            objective.append((Node("target"), Node(exact(o.baseline.value))))
            var budgeting = "Occurrences"
            if let t = o.timeslices {
                budgeting = t.average ? "RatioTimeslices" : "Timeslices"
                if !t.average { objective.append((Node("timeSliceTarget"), Node(exact(t.good.bound)))) }
                objective.append((Node("timeSliceWindow"), Node(openSLODuration(Double(t.slice)))))
            }
            var window: [(Node, Node)]
            switch o.window {
            case .rolling(let s):
                window = [(Node("duration"), Node(openSLODuration(Double(s)))), (Node("isRolling"), Node("true"))]
            case .calendar(let unit):
                let d = ["day": "1d", "week": "1w", "month": "1M", "quarter": "1Q"][unit.rawValue] ?? "1M"
                window = [
                    (Node("duration"), Node(d)),
                    (
                        Node("calendar"),
                        .mapping(
                            .init([
                                (Node("startTime"), Node("2024-01-01 00:00:00")), (Node("timeZone"), Node(o.timeZone)),
                            ])
                        )
                    ),
                    (Node("isRolling"), Node("false")),
                ]
            }
            var spec: [(Node, Node)] = []
            spec += [
                (Node("service"), Node(o.sla.name)),
                (
                    Node("indicator"),
                    .mapping(
                        .init([
                            (Node("metadata"), .mapping(.init([(Node("name"), Node(o.name + "-sli"))]))),
                            (Node("spec"), .mapping(.init(indicator))),
                        ])
                    )
                ),
                (Node("timeWindow"), .sequence(.init([.mapping(.init(window))]))),
                (Node("budgetingMethod"), Node(budgeting)),
                (Node("objectives"), .sequence(.init([.mapping(.init(objective))]))),
            ]
            // Burn-rate rules as inline alert policies (their short window is a twelfth of the
            // long one in OpenSLO's form; another ratio is said on standard error).
            var policies: [Node] = []
            for (k, rule) in o.burnRateAlerts.enumerated() {
                if rule.short * 12 != rule.long {
                    skipped.append(
                        (
                            o.name,
                            "burn rule \(rule.id): OpenSLO has one lookback window; exported with the long one (imported back with a short window of a twelfth)"
                        )
                    )
                }
                var cspec: [(Node, Node)] = []
                if let sev = rule.severity {
                    cspec.append((Node("severity"), Node("\(sev)")))
                } else {
                    cspec.append((Node("severity"), Node("\(o.severity)")))
                }
                cspec.append(
                    (
                        Node("condition"),
                        .mapping(
                            .init([
                                (Node("kind"), Node("burnrate")), (Node("op"), Node("gte")),
                                (Node("threshold"), Node(exact(rule.factor))),
                                (Node("lookbackWindow"), Node(openSLODuration(Double(rule.long)))),
                                (Node("alertAfter"), Node("0m")),
                            ])
                        )
                    )
                )
                let condition = Node.mapping(
                    .init([
                        (Node("kind"), Node("AlertCondition")),
                        (Node("metadata"), .mapping(.init([(Node("name"), Node("\(o.name)-burn-\(k + 1)"))]))),
                        (Node("spec"), .mapping(.init(cspec))),
                    ])
                )
                policies.append(
                    .mapping(
                        .init([
                            (Node("kind"), Node("AlertPolicy")),
                            (Node("metadata"), .mapping(.init([(Node("name"), Node("\(o.name)-burn-\(k + 1)"))]))),
                            (
                                Node("spec"),
                                .mapping(
                                    .init([
                                        (Node("alertWhenBreaching"), Node("true")),
                                        (Node("conditions"), .sequence(.init([condition]))),
                                        (Node("notificationTargets"), .sequence(.init([]))),
                                    ])
                                )
                            ),
                        ])
                    )
                )
            }
            if !policies.isEmpty { spec.append((Node("alertPolicies"), .sequence(.init(policies)))) }
            let doc = Node.mapping(
                .init([
                    (Node("apiVersion"), Node("openslo/v1")), (Node("kind"), Node("SLO")),
                    (Node("metadata"), .mapping(.init([(Node("name"), Node(o.name))]))),
                    (Node("spec"), .mapping(.init(spec))),
                ])
            )
            docs.append((try? Yams.serialize(node: doc, sortKeys: false)) ?? "")
        }
        return (docs.map { "---\n" + $0 }.joined(), skipped)
    }

    /// Seconds as an OpenSLO duration shorthand (the largest of w, d, h, m that divides it).
    static func openSLODuration(_ s: Double) -> String {
        for (unit, len) in [("w", 604_800.0), ("d", 86400), ("h", 3600), ("m", 60)]
        where s >= len && s.truncatingRemainder(dividingBy: len) == 0 {
            return "\(Int(s / len))\(unit)"
        }
        return "\(Int(max(1, (s / 60).rounded())))m"
    }
}
