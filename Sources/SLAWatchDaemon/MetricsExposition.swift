import Foundation
import SLAWatchCore

/// The Prometheus text exposition (format 0.0.4, what node_exporter's textfile collector and
/// every Prometheus scrape read) of a `StatusReply`: every instance's SLI, baseline, state, time
/// in state, error budget, burn rate (over the window and per burn-rate rule), pace and last
/// closed period, and the daemon's own counters (input, journal, store commits and failures,
/// evaluation time).
///
/// Metric and label names follow the Prometheus naming rules (`slawatch_` prefix, base units,
/// `_total` for counters, `_timestamp_seconds` for times); the state is one gauge per state
/// (`slawatch_objective_state{state="breached"} 1`), the way an OpenMetrics state set reads in
/// the text format. Instances carry `sla`, `objective`, `provider`, `customer` and their
/// `group_by` labels (a group label named `customer` is the instance's customer; others keep
/// their name, made a valid label name, or get a `group_` prefix when they collide with these,
/// the labels of other families (`state`, `direction`, `rule`, `window`, `window_seconds`,
/// `period`), or Prometheus's own `instance` and `job`).
///
/// swift-prometheus was weighed: its registry holds process-lifetime metrics, where this is a
/// snapshot of instances that come and go with reloads, rendered whole each time.
public enum MetricsExposition {
    /// The exposition of `reply`, with `# HELP` and `# TYPE` for every family, families in a
    /// fixed order, samples in instance order. A value without data is left out (no sample),
    /// not written as NaN.
    public static func render(_ reply: StatusReply) -> String {
        var out = Families()
        let states: [AlertState] = [.ok, .pending, .breached, .nodata]
        var periods: [String: [StatusReply.LastPeriod]] = [:]
        for p in reply.lastPeriods ?? [] { periods[p.objective, default: []].append(p) }
        for s in reply.objectives {
            let labels = instanceLabels(s)
            if let v = s.value { out.add("slawatch_objective_sli", labels, v) }
            out.add("slawatch_objective_baseline", labels + [("direction", s.direction.rawValue)], s.baseline)
            for st in states {
                out.add("slawatch_objective_state", labels + [("state", st.rawValue)], s.state == st ? 1 : 0)
            }
            out.add("slawatch_objective_state_since_timestamp_seconds", labels, s.since)
            if let b = s.errorBudget { out.add("slawatch_objective_error_budget", labels, b) }
            if let b = s.budgetRemaining { out.add("slawatch_objective_error_budget_remaining", labels, b) }
            if let b = s.errorBudget, b > 0, let r = s.budgetRemaining {
                out.add("slawatch_objective_error_budget_remaining_ratio", labels, r / b)
            }
            if let r = s.burnRate { out.add("slawatch_objective_burn_rate", labels, r) }
            for rule in s.burnRules {
                let ruleLabels = labels + [("rule", rule.rule)]
                for (window, seconds, rate) in [
                    ("long", rule.long, rule.longRate), ("short", rule.short, rule.shortRate),
                ] {
                    guard let rate else { continue }
                    out.add(
                        "slawatch_objective_burn_rule_rate",
                        ruleLabels + [("window", window), ("window_seconds", String(seconds))],
                        rate
                    )
                }
                out.add("slawatch_objective_burn_rule_factor", ruleLabels, rule.factor)
                out.add("slawatch_objective_burn_rule_firing", ruleLabels, rule.firing ? 1 : 0)
            }
            if let p = s.pace {
                out.add("slawatch_objective_pace_expected", labels, p.expected)
                if let projection = p.projection { out.add("slawatch_objective_pace_projection", labels, projection) }
            }
            if let t = s.lastSeen { out.add("slawatch_objective_last_event_timestamp_seconds", labels, t) }
            for p in periods[s.objective] ?? [] {
                let periodLabels = labels + [("period", p.period)]
                if let c = p.compliance { out.add("slawatch_objective_last_period_compliance_ratio", periodLabels, c) }
                if let v = p.value { out.add("slawatch_objective_last_period_sli", periodLabels, v) }
                if let met = p.met { out.add("slawatch_objective_last_period_met", periodLabels, met ? 1 : 0) }
                out.add("slawatch_objective_last_period_end_timestamp_seconds", periodLabels, p.end)
            }
        }
        out.add("slawatch_build_info", [("version", reply.version)], 1)
        if let t = RFC3339.parse(reply.startedAt) { out.add("slawatch_start_time_seconds", [], t) }
        if let last = reply.lastEvaluation, let t = RFC3339.parse(last) {
            out.add("slawatch_last_evaluation_timestamp_seconds", [], t)
        }
        for (source, c) in reply.sources.sorted(by: { $0.key < $1.key }) {
            out.add("slawatch_events_accepted_total", [("source", source)], Double(c.accepted))
            out.add("slawatch_input_ignored_total", [("source", source)], Double(c.ignored))
            for (reason, n) in c.rejectedByReason.sorted(by: { $0.key < $1.key }) {
                out.add("slawatch_input_rejected_total", [("source", source), ("reason", reason)], Double(n))
            }
        }
        out.add("slawatch_store_commits_total", [], Double(reply.commits))
        if let e = reply.engine {
            out.add("slawatch_store_commit_failures_total", [], Double(e.storeFailures))
            out.add("slawatch_evaluations_total", [], Double(e.evaluations))
            out.add("slawatch_evaluation_seconds_total", [], e.evaluationSeconds)
            out.add("slawatch_last_evaluation_duration_seconds", [], e.lastEvaluationSeconds)
        }
        out.add("slawatch_journal_entries_written_total", [], Double(reply.journalWritten))
        out.add("slawatch_journal_entries_dropped_total", [], Double(reply.journalDropped))
        out.add("slawatch_queued_events", [], Double(reply.queuedEvents))
        out.add("slawatch_stream_connections", [], Double(reply.connections))
        out.add("slawatch_stream_connections_refused_total", [], Double(reply.connectionsRefused))
        out.add("slawatch_datagrams_received_total", [], Double(reply.datagrams))
        out.add("slawatch_datagrams_too_long_total", [], Double(reply.datagramsTooLong))
        let f = reply.files
        for (outcome, n) in [
            ("processed", f.processed), ("failed", f.failed), ("recovered", f.recovered), ("repeated", f.repeats),
            ("vanished", f.vanished),
        ] {
            out.add("slawatch_drop_files_total", [("outcome", outcome)], Double(n))
        }
        return out.text
    }

    /// What each family means and its type (`gauge` unless the name ends in `_total`).
    static let help: [String: String] = [
        "slawatch_objective_sli": "The SLI of the instance over its window, in the SLI's unit (ratios as 0-1).",
        "slawatch_objective_baseline": "The baseline in force: at least (direction at_least) or at most this.",
        "slawatch_objective_state": "1 for the instance's current state (ok, pending, breached, nodata), else 0.",
        "slawatch_objective_state_since_timestamp_seconds": "When the instance entered its current state.",
        "slawatch_objective_error_budget": "Ratio SLIs: bad events the window's target allows.",
        "slawatch_objective_error_budget_remaining":
            "Ratio SLIs: allowed bad events not yet spent (negative: overspent).",
        "slawatch_objective_error_budget_remaining_ratio": "Ratio SLIs: the share of the error budget left.",
        "slawatch_objective_burn_rate":
            "Ratio SLIs: how many times faster than allowed the budget burns over the window.",
        "slawatch_objective_burn_rule_rate":
            "Burn-rate rules: the burn rate over the rule's long or short window (window_seconds).",
        "slawatch_objective_burn_rule_factor": "Burn-rate rules: the burn rate at which the rule fires.",
        "slawatch_objective_burn_rule_firing": "Burn-rate rules: 1 while the rule fires (both windows at the factor).",
        "slawatch_objective_last_period_compliance_ratio":
            "Report periods: the share of the last closed period's judged time that was met.",
        "slawatch_objective_last_period_sli": "The SLI of the last closed period of this kind.",
        "slawatch_objective_last_period_met": "1 when the last closed period of this kind met its target, else 0.",
        "slawatch_objective_last_period_end_timestamp_seconds": "When the last closed period of this kind ended.",
        "slawatch_objective_pace_expected": "Cumulative targets: what the target expects by now.",
        "slawatch_objective_pace_projection": "Cumulative targets: the count so far projected to the period end.",
        "slawatch_objective_last_event_timestamp_seconds": "Event time of the newest event counted for the instance.",
        "slawatch_build_info": "The running slawatch's version.",
        "slawatch_start_time_seconds": "When the daemon started.",
        "slawatch_last_evaluation_timestamp_seconds": "When the daemon last evaluated every objective.",
        "slawatch_events_accepted_total": "Events accepted, per source (stream, datagram, drop).",
        "slawatch_input_ignored_total": "Harmless input ignored, per source.",
        "slawatch_input_rejected_total": "Input items rejected, per source and reason.",
        "slawatch_store_commits_total": "Successful commits of the state file.",
        "slawatch_store_commit_failures_total": "Commits of the state file that failed (retried with the next).",
        "slawatch_evaluations_total": "Evaluations of every objective.",
        "slawatch_evaluation_seconds_total": "Seconds spent evaluating every objective, in all.",
        "slawatch_last_evaluation_duration_seconds": "Seconds the last evaluation took.",
        "slawatch_journal_entries_written_total": "Journal entries written.",
        "slawatch_journal_entries_dropped_total": "Journal entries dropped because the writer's queue was full.",
        "slawatch_queued_events": "Events parsed and waiting for the engine.",
        "slawatch_stream_connections": "Stream connections open.",
        "slawatch_stream_connections_refused_total": "Stream connections refused (max_connections).",
        "slawatch_datagrams_received_total": "Datagrams received.",
        "slawatch_datagrams_too_long_total": "Datagrams dropped whole for exceeding max_datagram_bytes.",
        "slawatch_drop_files_total": "Drop-directory files by outcome.",
    ]

    /// The labels of an instance: its SLA and parties, the objective, and its `group_by` labels.
    static func instanceLabels(_ s: Engine.Status) -> [(String, String)] {
        let key = InstanceKey(storageName: s.objective)
        // No `instance` label: Prometheus sets that one to the scraped target.
        var labels: [(String, String)] = [
            ("sla", s.sla), ("objective", key?.objective ?? s.objective), ("provider", s.provider),
            ("customer", s.customer),
        ]
        let reserved: Set<String> = [
            "sla", "objective", "instance", "provider", "state", "direction", "job", "rule", "window", "window_seconds",
            "period",
        ]
        for g in key?.group ?? [] {
            if g.name == "customer" {
                labels[3].1 = g.value
                continue
            }
            var name = labelName(g.name)
            if reserved.contains(name) || labels.contains(where: { $0.0 == name }) { name = "group_" + name }
            labels.append((name, g.value))
        }
        return labels
    }

    /// `name` as a valid label name (`[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`): every
    /// other character becomes `_`, a leading digit gets a `_` in front.
    static func labelName(_ name: String) -> String {
        var s = String(
            name.unicodeScalars.map { c -> Character in
                (c.isASCII && (CharacterSet.alphanumerics.contains(c) || c == "_")) ? Character(c) : "_"
            }
        )
        if s.isEmpty || s.first!.isNumber { s = "_" + s }
        while s.hasPrefix("__") { s.removeFirst() }
        return s
    }

    /// A label value escaped for the text format: `\`, `"` and newline.
    static func escape(_ v: String) -> String {
        var out = ""
        for c in v {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    /// A sample value: `+Inf`, `-Inf`, `NaN`, or the shortest text that reads back exactly.
    static func number(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }

    /// Samples grouped by family, families in the order first added.
    struct Families {
        var order: [String] = []
        var samples: [String: [String]] = [:]

        mutating func add(_ family: String, _ labels: [(String, String)], _ value: Double) {
            if samples[family] == nil { order.append(family) }
            let text =
                labels.isEmpty ? "" : "{" + labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
            samples[family, default: []].append(family + text + " " + number(value))
        }

        var text: String {
            var out = ""
            for f in order {
                out += "# HELP \(f) \(help[f] ?? f)\n"
                out += "# TYPE \(f) \(f.hasSuffix("_total") ? "counter" : "gauge")\n"
                for s in samples[f] ?? [] { out += s + "\n" }
            }
            return out
        }
    }
}
