import Foundation
import Yams

/// One objective's mapping, and its adaptive baseline rule, read into an `Objective`.
extension ObjectivesConfig {
    /// `baseline: {adaptive: {statistic, periods, every, season, factor, floor, min_history,
    /// deviations}}`.
    static func adaptiveRule(_ node: Node, path p: String, window: WindowSpec, reader r: inout YAMLReader)
        -> AdaptiveRule?
    {
        guard case .mapping = node else {
            r.fail(
                node,
                p,
                "expected a mapping (statistic, periods, every, season, factor, floor, min_history, deviations, fallback)"
            )
            return nil
        }
        let m = r.mapping(
            node,
            p,
            allowed: [
                "statistic", "periods", "every", "season", "factor", "floor", "min_history", "deviations", "fallback",
            ]
        )
        let before = r.errors.count
        var defaultEvery = 3600.0
        if case .rolling(let w) = window { defaultEvery = Double(w) }
        var rule = AdaptiveRule(every: r.duration(m["every"], "\(p).every", default: defaultEvery, minimum: 1))
        if let n = m["statistic"], let s = r.string(n, "\(p).statistic") {
            if s == "median" {
                rule.statistic = 0.5
            } else if case .percentile(let q) = SLIKind(name: s) {
                rule.statistic = q / 100
            } else {
                r.fail(n, "\(p).statistic", "'\(s)' is not median or a percentile such as p25")
            }
        }
        if let v = r.count(m["periods"], "\(p).periods", 1...1000) { rule.periods = v }
        if let v = r.count(m["min_history"], "\(p).min_history", 1...1000) { rule.minHistory = v }
        if rule.minHistory > rule.periods {
            r.fail(
                m["min_history"],
                "\(p).min_history",
                "min_history (\(rule.minHistory)) exceeds periods (\(rule.periods))"
            )
        }
        if let n = m["season"], let s = r.string(n, "\(p).season") {
            if let v = AdaptiveRule.Season(rawValue: s) {
                rule.season = v
            } else {
                r.fail(n, "\(p).season", "'\(s)' is not none, hour_of_day, hour_of_week or day_of_week")
            }
        }
        for key in ["factor", "floor"] {
            guard let n = m[key], let s = r.string(n, "\(p).\(key)") else { continue }
            guard let v = Double(s), v.isFinite, key == "floor" || v > 0 else {
                r.fail(n, "\(p).\(key)", "'\(s)' is not a \(key == "factor" ? "positive " : "")number")
                continue
            }
            if key == "factor" { rule.factor = v } else { rule.floor = v }
        }
        if let n = m["fallback"], let s = r.string(n, "\(p).fallback") {
            if s == "true" || s == "false" {
                rule.fallback = s == "true"
            } else {
                r.fail(n, "\(p).fallback", "'\(s)' is not true or false")
            }
        }
        if let n = m["deviations"], let s = r.string(n, "\(p).deviations") {
            if let v = Double(s), v.isFinite, v >= 0 {
                rule.deviations = v
                if m["statistic"] != nil || m["factor"] != nil {
                    r.fail(
                        n,
                        "\(p).deviations",
                        "deviations (median ∓ k scaled MADs) replaces statistic and factor: give one form"
                    )
                }
            } else {
                r.fail(n, "\(p).deviations", "'\(s)' is not a number of deviations (0 or more, e.g. 3)")
            }
        }
        return r.errors.count == before ? rule : nil
    }

    static func objective(_ node: Node, path p: String, sla: SLA, reader r: inout YAMLReader) -> Objective? {
        let m = r.mapping(node, p, allowed: objectiveKeys)
        if m.isEmpty { return nil }
        let name = r.requiredString(m, "name", p, parent: node)
        if let name, name.contains(where: { $0.isWhitespace || $0.isNewline }) {
            r.fail(m["name"], "\(p).name", "must not contain whitespace")
        } else if let name,
            name.contains("{") || name.contains("}") || name.contains("/burn:")
                || name.contains("/slice:")
        {
            // Reserved: a group_by instance is NAME{k=v}, a hidden window NAME/burn:1h.
            r.fail(
                m["name"],
                "\(p).name",
                "must not contain '{', '}', '/burn:' or '/slice:' (they name group_by instances and hidden windows)"
            )
        }
        let metric = r.requiredString(m, "metric", p, parent: node)
        var match: [String: String] = [:]
        if let ln = m["labels"] {
            if case .mapping(let lm) = ln {
                for (k, v) in lm {
                    guard let ks = k.string, !ks.isEmpty, let vs = r.string(v, "\(p).labels.\(k.string ?? "")") else {
                        r.fail(k, "\(p).labels", "labels must map names to values")
                        continue
                    }
                    match[ks] = vs
                }
            } else {
                r.fail(ln, "\(p).labels", "expected a mapping of label name to value")
            }
        }
        var sli = SLIKind.count
        if let s = r.requiredString(m, "sli", p, parent: node) {
            if let k = SLIKind(name: s) {
                sli = k
            } else {
                r.fail(
                    m["sli"],
                    "\(p).sli",
                    "'\(s)' is not an SLI (count, sum, avg, min, max, rate, ratio, or a percentile such as p95 or p99.9)"
                )
            }
        }
        var window = WindowSpec.rolling(seconds: 300)
        if let s = r.requiredString(m, "window", p, parent: node) {
            if let w = WindowSpec(s) {
                window = w
            } else {
                r.fail(
                    m["window"],
                    "\(p).window",
                    "'\(s)' is not a window (day, week, month, quarter, or a duration such as 5m, 1h, 7d)"
                )
            }
        }
        var zone = "UTC"
        if let n = m["time_zone"], let s = r.string(n, "\(p).time_zone") {
            if CalendarPeriods(timeZoneIdentifier: s) != nil {
                zone = s
            } else {
                r.fail(n, "\(p).time_zone", "'\(s)' is not an IANA time zone (e.g. Europe/Paris, UTC)")
            }
        }
        var effectiveFrom: Double?
        if let n = m["effective_from"], let s = r.string(n, "\(p).effective_from") {
            effectiveFrom = effectiveDate(s, zone: zone)
            if effectiveFrom == nil {
                r.fail(
                    n,
                    "\(p).effective_from",
                    "'\(s)' is not a date (YYYY-MM-DD, midnight in the objective's time_zone) or an RFC 3339 time"
                )
            }
        }
        var direction = Direction.atLeast
        if let s = r.requiredString(m, "direction", p, parent: node) {
            if let d = Direction(rawValue: s) {
                direction = d
            } else {
                r.fail(m["direction"], "\(p).direction", "'\(s)' is not a direction (at_least, at_most)")
            }
        }
        var baseline = Baseline(value: 0, kind: .fixed, source: "0")
        if let bn = m["baseline"] {
            if case .scalar(let s) = bn {
                let text = s.string.trimmingCharactersInWhitespace()
                // `99.9%` parsed as `99.9e-2`: exactly the double of 0.999 (99.9 / 100 is not).
                let percent =
                    text.hasSuffix("%") ? Double(String(text.dropLast()).trimmingCharactersInWhitespace() + "e-2") : nil
                if let v = Double(text), v.isFinite {
                    baseline = Baseline(value: v, kind: .fixed, source: text)
                } else if let v = percent, v.isFinite {
                    // `99.9%`: a ratio's share as people write it in an SLA (a time-slice
                    // objective's baseline is the share of good slices).
                    if sli == .ratio || m["timeslices"] != nil {
                        baseline = Baseline(value: v, kind: .fixed, source: text)
                    } else {
                        r.fail(
                            bn,
                            "\(p).baseline",
                            "'\(text)' is a percentage, which only a ratio SLI takes; write the number in the SLI's unit"
                        )
                    }
                } else if text == "adaptive" {
                    // The documented default setting (AdaptiveRule.standard).
                    let rule = AdaptiveRule.standard
                    baseline = Baseline(value: 0, kind: .adaptive, source: rule.description, adaptive: rule)
                } else {
                    do {
                        let refs = BaselineExpression.references(text)
                        // With references, check the syntax with placeholder values; the number
                        // is computed at every evaluation.
                        let v = try BaselineExpression.evaluate(text) { _ in refs.isEmpty ? nil : 1 }
                        baseline = Baseline(value: refs.isEmpty ? v : 0, kind: .expression, source: text)
                        baseline.references = refs
                    } catch {
                        r.fail(bn, "\(p).baseline", "'\(text)' is not a number or an arithmetic expression: \(error)")
                    }
                }
            } else if case .mapping = bn, let a = r.mapping(bn, "\(p).baseline", allowed: ["adaptive"])["adaptive"] {
                if let rule = adaptiveRule(a, path: "\(p).baseline.adaptive", window: window, reader: &r) {
                    baseline = Baseline(value: 0, kind: .adaptive, source: rule.description, adaptive: rule)
                }
            } else {
                r.fail(
                    bn,
                    "\(p).baseline",
                    "expected a number, an arithmetic expression such as 10000 / 500 / 0.20, adaptive, or {adaptive: {…}}"
                )
            }
        } else if !labelBaselinesHaveDefault(m["baselines"]) {
            r.fail(node, "\(p).baseline", "missing required key")
        }
        if baseline.kind == .adaptive, case .calendar = window, sli == .count || sli == .sum, direction == .atLeast {
            r.fail(
                m["baseline"],
                "\(p).baseline",
                "an adaptive baseline needs an objective judged continuously; a calendar count or sum at_least target is judged at period close"
            )
        }
        let keepFiringFor = r.duration(m["keep_firing_for"], "\(p).keep_firing_for", default: 0)
        let nodataAfter = r.duration(m["nodata_after"], "\(p).nodata_after", default: 0)
        var clearAt: Double?
        if let n = m["clear_at"], let s = r.string(n, "\(p).clear_at") {
            if let v = Double(s.trimmingCharactersInWhitespace()), v.isFinite {
                clearAt = v
                if baseline.kind != .adaptive, direction == .atLeast ? v < baseline.value : v > baseline.value {
                    r.fail(
                        n,
                        "\(p).clear_at",
                        "clear_at \(s) is on the bad side of the baseline (\(direction.phrase) \(AlertEntry.number(baseline.value))): recovery would come before the breach ends"
                    )
                }
            } else {
                r.fail(n, "\(p).clear_at", "'\(s)' is not a number")
            }
        }
        var pace: PaceRule?
        if let n = m["pace"] {
            let pm = r.mapping(n, "\(p).pace", allowed: ["by", "holidays", "min_elapsed"])
            var rule = PaceRule()
            if let bn = pm["by"], let s = r.string(bn, "\(p).pace.by") {
                if let v = PaceRule.Spread(rawValue: s) {
                    rule.spread = v
                } else {
                    r.fail(bn, "\(p).pace.by", "'\(s)' is not linear or business_days")
                }
            }
            if let hn = pm["holidays"] {
                for h in r.sequence(hn, "\(p).pace.holidays") {
                    guard let s = r.string(h, "\(p).pace.holidays") else { continue }
                    if RFC3339.parse(s + "T00:00:00Z") != nil {
                        rule.holidays.insert(s)
                    } else {
                        r.fail(h, "\(p).pace.holidays", "'\(s)' is not a date (YYYY-MM-DD)")
                    }
                }
            }
            if let en = pm["min_elapsed"], let s = r.string(en, "\(p).pace.min_elapsed") {
                let text = s.hasSuffix("%") ? String(s.dropLast()) : s
                if let v = Double(text), v >= 0, v <= (s.hasSuffix("%") ? 100 : 1) {
                    rule.minElapsed = s.hasSuffix("%") ? v / 100 : v
                } else {
                    r.fail(en, "\(p).pace.min_elapsed", "'\(s)' is not a fraction (0.25) or a percentage (25%)")
                }
            }
            let cumulative: Bool = {
                guard case .calendar = window else { return false }
                return (sli == .count || sli == .sum) && direction == .atLeast
            }()
            if !cumulative {
                r.fail(n, "\(p).pace", "pace applies to calendar count or sum targets with direction at_least")
            }
            pace = rule
        }
        var burnRules: [BurnRateRule] = []
        if let list = m["burn_rate_alerts"] {
            if sli != .ratio {
                r.fail(list, "\(p).burn_rate_alerts", "burn-rate alerts apply to sli: ratio (an error budget)")
            }
            for (k, item) in r.sequence(list, "\(p).burn_rate_alerts").enumerated() {
                let bp = "\(p).burn_rate_alerts[\(k)]"
                let bm = r.mapping(item, bp, allowed: ["factor", "long", "short", "severity"])
                let before = r.errors.count
                var factor = 0.0
                if let fs = r.requiredString(bm, "factor", bp, parent: item) {
                    if let v = Double(fs), v.isFinite, v > 0 {
                        factor = v
                    } else {
                        r.fail(bm["factor"], "\(bp).factor", "'\(fs)' is not a positive number")
                    }
                }
                let long = r.duration(bm["long"], "\(bp).long", default: 3600, minimum: 1)
                let short = r.duration(bm["short"], "\(bp).short", default: long / 12, minimum: 1)
                if bm["long"] == nil { r.fail(item, "\(bp).long", "missing required key (the long window, e.g. 1h)") }
                if short >= long {
                    r.fail(bm["short"], "\(bp).short", "the short window must be shorter than the long one")
                }
                var severity: Severity?
                if let n = bm["severity"], let sv = r.string(n, "\(bp).severity") {
                    if let v = Severity(name: sv) {
                        severity = v
                    } else {
                        r.fail(n, "\(bp).severity", "'\(sv)' is not a journal priority")
                    }
                }
                let allowed = Transition.allowedBadShare(target: baseline.value, direction: direction)
                // Per-label baselines without a baseline: checked against each of them below.
                let perLabel = m["baseline"] == nil && m["baselines"] != nil
                if !perLabel, sli == .ratio, baseline.kind != .adaptive, allowed <= 0, k == 0 {
                    r.fail(
                        list,
                        "\(p).burn_rate_alerts",
                        "a target of \(direction == .atMost ? "0%" : "100%") leaves no error budget to burn: every bad event breaches the objective at once (remove burn_rate_alerts, or allow some bad events)"
                    )
                } else if !perLabel, sli == .ratio, baseline.kind != .adaptive, allowed > 0,
                    factor > 1 / allowed + 1e-9
                {
                    r.fail(
                        bm["factor"],
                        "\(bp).factor",
                        "a burn rate of \(AlertEntry.number(factor)) can never happen for a target of \(direction == .atMost ? "at most" : "at least") \(AlertEntry.number(baseline.value)): even 100% bad events burn at most \(AlertEntry.number(1 / allowed))×"
                    )
                }
                if r.errors.count == before {
                    burnRules.append(
                        BurnRateRule(factor: factor, long: Int(long), short: Int(short), severity: severity)
                    )
                }
            }
        }
        var groupBy: [String] = []
        if let n = m["group_by"] {
            for item in r.sequence(n, "\(p).group_by") {
                guard let l = r.string(item, "\(p).group_by"), !l.isEmpty else { continue }
                if groupBy.contains(l) { r.fail(item, "\(p).group_by", "label '\(l)' is listed twice") }
                groupBy.append(l)
            }
        }
        let maxInstances = r.count(m["max_instances"], "\(p).max_instances", 1...100_000) ?? 100
        let minEvents = r.count(m["min_events"], "\(p).min_events", 0...1_000_000_000) ?? 0
        let forSeconds = r.duration(m["for"], "\(p).for", default: 0)
        let late = r.duration(m["late_tolerance"], "\(p).late_tolerance", default: 0)
        var severity = Severity.warning
        if let n = m["severity"], let s = r.string(n, "\(p).severity") {
            if let v = Severity(name: s) {
                severity = v
            } else {
                r.fail(
                    n,
                    "\(p).severity",
                    "'\(s)' is not a journal priority (emerg, alert, crit, err, warning, notice, info, debug)"
                )
            }
        }
        var nodata = NodataPolicy.alert
        if let n = m["nodata"], let s = r.string(n, "\(p).nodata") {
            if let v = NodataPolicy(rawValue: s) {
                nodata = v
            } else {
                r.fail(n, "\(p).nodata", "'\(s)' is not a no-data policy (alert, ok, keep_state)")
            }
        }
        let unit = r.string(m["unit"], "\(p).unit")
        for (k, v) in match {
            do { _ = try LabelMatcher(name: k, text: v) } catch {
                r.fail(m["labels"], "\(p).labels.\(k)", "\(error)")
            }
        }
        var good: GoodSelector?
        if let gn = m["good"] {
            let gm = r.mapping(gn, "\(p).good", allowed: ["metric", "labels", "value"])
            var selector = GoodSelector(metric: r.string(gm["metric"], "\(p).good.metric") ?? metric ?? "")
            if let vn = gm["value"], vn.null != nil {
                r.fail(vn, "\(p).good.value", "expected a threshold such as \"<= 300\"")
            }
            if let vn = gm["value"], let text = r.string(vn, "\(p).good.value") {
                do {
                    selector.value = try ValueThreshold(parsing: text)
                } catch {
                    r.fail(vn, "\(p).good.value", "\(error)")
                }
                // A threshold alone judges the objective's own events: the same labels.
                if gm["metric"] == nil && gm["labels"] == nil { selector.match = match }
            }
            if let ln = gm["labels"] {
                if case .mapping(let lm) = ln {
                    for (k, v) in lm {
                        guard let ks = k.string, !ks.isEmpty, let vs = r.string(v, "\(p).good.labels.\(k.string ?? "")")
                        else {
                            r.fail(k, "\(p).good.labels", "labels must map names to values")
                            continue
                        }
                        do {
                            _ = try LabelMatcher(name: ks, text: vs)
                            selector.match[ks] = vs
                        } catch {
                            r.fail(v, "\(p).good.labels.\(ks)", "\(error)")
                        }
                    }
                } else {
                    r.fail(ln, "\(p).good.labels", "expected a mapping of label name to value")
                }
            }
            if gm["metric"] == nil && gm["labels"] == nil && gm["value"] == nil {
                r.fail(gn, "\(p).good", "a good selector needs a metric, labels or a value threshold")
            }
            good = selector
            if sli != .ratio { r.fail(gn, "\(p).good", "'good' applies only to sli: ratio") }
        } else if sli == .ratio {
            r.fail(m["sli"], "\(p).good", "sli: ratio needs a 'good' selector (metric and/or labels)")
        }
        if sli == .ratio, case .fixed = baseline.kind, baseline.value < 0 || baseline.value > 1 {
            r.fail(m["baseline"], "\(p).baseline", "a ratio is between 0 and 1 (write 0.999 for 99.9%)")
        }
        guard let name, let metric else { return nil }
        var o = Objective(
            name: name,
            sla: sla,
            metric: metric,
            match: match,
            sli: sli,
            window: window,
            timeZone: zone,
            direction: direction,
            baseline: baseline,
            forSeconds: forSeconds,
            lateTolerance: late,
            severity: severity,
            nodata: nodata,
            unit: unit,
            good: good
        )
        o.effectiveFrom = effectiveFrom
        o.keepFiringFor = keepFiringFor
        o.clearAt = clearAt
        o.nodataAfter = nodataAfter
        o.minEvents = minEvents
        o.pace = pace
        o.burnRateAlerts = burnRules
        o.groupBy = groupBy
        o.maxInstances = maxInstances
        if let n = m["baselines"] {
            labelBaselines(n, path: "\(p).baselines", into: &o, hasBaseline: m["baseline"] != nil, reader: &r)
            if m["baseline"] == nil, sli == .ratio, let b = o.labelBaselines {
                // Each burn rule must be able to fire for every instance's own target.
                for (k, rule) in burnRules.enumerated() {
                    for (value, target) in [("default", o.baseline.value)] + b.values.sorted(by: { $0.key < $1.key }) {
                        let allowed = Transition.allowedBadShare(target: target, direction: direction)
                        guard allowed <= 0 || rule.factor > 1 / allowed + 1e-9 else { continue }
                        r.fail(
                            n,
                            "\(p).burn_rate_alerts[\(k)].factor",
                            allowed <= 0
                                ? "\(b.label)=\(value)'s target leaves no error budget to burn"
                                : "a burn rate of \(AlertEntry.number(rule.factor)) can never happen for \(b.label)=\(value) (target \(AlertEntry.number(target))): even 100% bad events burn at most \(AlertEntry.number(1 / allowed))×"
                        )
                        break
                    }
                }
            }
        }
        if let n = m["timeslices"] { timeslices(n, path: "\(p).timeslices", into: &o, reader: &r) }
        o.serviceHours =
            m["service_hours"].flatMap { serviceHours($0, path: "\(p).service_hours", reader: &r) } ?? sla.serviceHours
        o.maintenance =
            sla.maintenance + (m["maintenance"].map { maintenance($0, path: "\(p).maintenance", reader: &r) } ?? [])
        if let n = m["consequences"] { o.consequences = consequences(n, path: "\(p).consequences", reader: &r) }
        checkConsequences(o, node: m["consequences"] ?? node, path: p, reader: &r)
        return o
    }
}

extension ObjectivesConfig {
    /// `effective_from:`: a date (`2027-01-01`, local midnight in `zone`) or an RFC 3339 time,
    /// as unix seconds; `nil` when it is neither.
    static func effectiveDate(_ text: String, zone: String) -> Double? {
        let t = text.trimmingCharactersInWhitespace()
        if t.count == 10, let utc = RFC3339.parse(t + "T00:00:00Z") {
            guard let periods = CalendarPeriods(timeZoneIdentifier: zone) else { return utc }
            let offset = Double(periods.timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: utc)))
            // Noon of that local date lies in it whatever the offset; its day starts at midnight.
            return periods.period(.day, containing: utc - offset + 43_200).start
        }
        return RFC3339.parse(t)
    }

    /// Whether a `baselines:` node holds a `default` under its label.
    static func labelBaselinesHaveDefault(_ node: Node?) -> Bool {
        guard case .mapping(let m)? = node, m.count == 1, case .mapping(let values)? = m.first?.value else {
            return false
        }
        return values.contains { $0.key.string == "default" }
    }

    /// `baselines: {LABEL: {VALUE: BASELINE, …, default: BASELINE}}`: fixed baselines by the
    /// value of one `group_by` label; `default` replaces `baseline`.
    static func labelBaselines(
        _ node: Node,
        path p: String,
        into o: inout Objective,
        hasBaseline: Bool,
        reader r: inout YAMLReader
    ) {
        guard case .mapping(let m) = node, m.count == 1,
            let (labelNode, valuesNode) = m.first.map({ ($0.key, $0.value) }),
            let label = labelNode.string, case .mapping(let values) = valuesNode
        else {
            r.fail(
                node,
                p,
                "expected one group_by label mapping its values to baselines: {customer: {acme: 99.95%, default: 99.5%}}"
            )
            return
        }
        guard o.groupBy.contains(label) else {
            r.fail(
                labelNode,
                "\(p).\(label)",
                "'\(label)' is not a group_by label of \(o.name) (group_by: [\(o.groupBy.joined(separator: ", "))])"
            )
            return
        }
        if o.baseline.kind != .fixed {
            r.fail(
                node,
                p,
                "per-label baselines take the place of a fixed baseline; \(o.name)'s is \(o.baseline.kind.rawValue)"
            )
            return
        }
        if values.isEmpty {
            r.fail(valuesNode, "\(p).\(label)", "no values: map label values to baselines, as {acme: 99.95%}")
            return
        }
        var b = LabelBaselines(label: label)
        for (k, v) in values {
            guard let key = k.string else {
                r.fail(k, "\(p).\(label)", "expected label values mapping to baselines")
                continue
            }
            guard let text = r.string(v, "\(p).\(label).\(key)") else {
                if v.null != nil { r.fail(v, "\(p).\(label).\(key)", "expected a baseline, as 99.95%") }
                continue
            }
            let t = text.trimmingCharactersInWhitespace()
            guard let parsed = numberOrPercent(t), !parsed.percent || o.sli == .ratio else {
                r.fail(
                    v,
                    "\(p).\(label).\(key)",
                    "'\(t)' is not a number\(o.sli == .ratio ? " or a percentage (99.95%)" : " in the SLI's unit")"
                )
                continue
            }
            if o.sli == .ratio, parsed.value < 0 || parsed.value > 1 {
                r.fail(v, "\(p).\(label).\(key)", "a ratio is between 0 and 1 (write 0.9995 or 99.95%)")
                continue
            }
            if key == "default" {
                if hasBaseline {
                    r.fail(
                        v,
                        "\(p).\(label).default",
                        "the objective has a baseline already: write it or default, not both"
                    )
                }
                o.baseline = Baseline(value: parsed.value, kind: .fixed, source: t)
            } else {
                b.values[key] = parsed.value
                b.sources[key] = t
            }
        }
        o.labelBaselines = b
    }
}

extension ObjectivesConfig {
    /// `timeslices: {slice: DURATION, good: "OP BOUND"}`: the objective's SLI becomes the share
    /// of good slices (a ratio), each slice judged by the SLI as written.
    static func timeslices(_ node: Node, path p: String, into o: inout Objective, reader r: inout YAMLReader) {
        let m = r.mapping(node, p, allowed: ["slice", "good", "average"])
        let before = r.errors.count
        var average = false
        if let n = m["average"], let s = r.string(n, "\(p).average") {
            switch s {
            case "true", "yes": average = true
            case "false", "no": average = false
            default: r.fail(n, "\(p).average", "'\(s)' is not true or false")
            }
            if average && o.sli != .ratio {
                r.fail(n, "\(p).average", "the mean of the slices' ratios needs sli: ratio")
            }
            if average && m["good"] != nil {
                r.fail(m["good"], "\(p).good", "with average: true a slice is not good or bad: leave good out")
            }
        }
        var slice = 0
        if let n = m["slice"], let s = r.string(n, "\(p).slice") {
            if let v = DurationText.seconds(s), v >= 1, v == v.rounded(), v <= 86_400 {
                slice = Int(v)
                // The slice source keeps two slices in buckets of max(1, 2·slice/60) seconds: a
                // slice must be a whole number of them.
                if slice % max(1, 2 * slice / 60) != 0 {
                    r.fail(
                        n,
                        "\(p).slice",
                        "'\(s)' does not cut into whole buckets: use 1s to 30s or a multiple of 30s"
                    )
                }
            } else {
                r.fail(n, "\(p).slice", "'\(s)' is not a slice length from 1s to 1d (1m, 5m)")
            }
        } else if m["slice"] == nil {
            r.fail(node, "\(p).slice", "missing required key (a duration such as 1m)")
        }
        var good: ValueThreshold?
        if let n = m["good"], let s = r.string(n, "\(p).good") {
            // A ratio slice may be written as a percentage: ">= 99%".
            var text = s.trimmingCharactersInWhitespace()
            if text.hasSuffix("%") {
                if o.sli == .ratio {
                    text = String(text.dropLast()).trimmingCharactersInWhitespace() + "e-2"
                } else {
                    r.fail(n, "\(p).good", "'\(s)' is a percentage, which only a ratio slice takes")
                }
            }
            do {
                good = try ValueThreshold(parsing: text)
            } catch {
                // Quote what was written (a percentage was read as e-2).
                r.fail(
                    n,
                    "\(p).good",
                    "'\(s)' is no slice threshold: write an operator (<=, <, >=, >) and a number, as \">= 99%\" or \"<= 300\""
                )
            }
            if let g = good, o.sli == .ratio,
                g.bound < 0 || g.bound > 1 || (g.comparison == .above && g.bound >= 1)
                    || (g.comparison == .below && g.bound <= 0)
            {
                r.fail(
                    n,
                    "\(p).good",
                    "'\(s)': a ratio slice is from 0 to 100%, so no slice or every slice would be good"
                )
                good = nil
            }
        } else if m["good"] == nil, !average {
            r.fail(node, "\(p).good", "missing required key (when a slice is good, as \">= 99%\" or \"<= 300\")")
        }
        if average { good = ValueThreshold(.atLeast, 0) }
        if !o.groupBy.isEmpty { r.fail(node, p, "timeslices cannot be combined with group_by yet") }
        if !o.burnRateAlerts.isEmpty { r.fail(node, p, "timeslices cannot be combined with burn_rate_alerts yet") }
        if o.isCumulative { r.fail(node, p, "a cumulative target (count or sum over a calendar window) has no slices") }
        if o.direction != .atLeast {
            r.fail(node, p, "a time-slice objective promises a share of good slices at least (direction: at_least)")
        }
        if case .rolling(let w) = o.window, slice > 0, w < slice {
            r.fail(
                node,
                "\(p).slice",
                "a slice longer than the window (\(DurationText.format(Double(w)))) never fits in it"
            )
        }
        if case .fixed = o.baseline.kind, o.baseline.value < 0 || o.baseline.value > 1 {
            r.fail(
                node,
                String(p.dropLast(".timeslices".count)) + ".baseline",
                "a time-slice objective judges the share of good slices: a baseline between 0 and 1 (99.9%)"
            )
        }
        guard r.errors.count == before, let good else { return }
        o.timeslices = TimesliceRule(slice: slice, sli: o.sli, goodSelector: o.good, good: good, average: average)
        o.sli = .ratio
        o.good = nil
    }
}
