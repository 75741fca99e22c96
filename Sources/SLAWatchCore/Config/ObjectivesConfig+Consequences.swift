import Foundation
import Yams

/// `consequences:` of an SLA or an objective (docs/objectives.md, "Consequences of a miss").
extension ObjectivesConfig {
    static let consequenceKeys: Set<String> = [
        "on", "period", "tiers", "fee", "currency", "cap", "penalty", "escalation",
    ]

    /// Whether `text` holds a control character (a newline, an escape): free text (reasons,
    /// penalties, currencies) is one line, in config and at run time alike.
    public static func hasControlCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    /// A number or a percentage (`99.9%` read as `99.9e-2`, exactly the double of 0.999).
    static func numberOrPercent(_ text: String) -> (value: Double, percent: Bool)? {
        let t = text.trimmingCharactersInWhitespace()
        if t.hasSuffix("%") {
            guard let v = Double(String(t.dropLast()).trimmingCharactersInWhitespace() + "e-2"), v.isFinite else {
                return nil
            }
            return (v, true)
        }
        guard let v = Double(t), v.isFinite else { return nil }
        return (v, false)
    }

    /// Parses a `consequences:` mapping at `path`; errors name the file, line and key.
    static func consequences(_ node: Node, path p: String, reader r: inout YAMLReader) -> Consequences? {
        let m = r.mapping(node, p, allowed: consequenceKeys)
        var c = Consequences()
        let before = r.errors.count
        if let n = m["on"], let s = r.string(n, "\(p).on") {
            if let v = Consequences.Reading(rawValue: s) {
                c.on = v
            } else {
                r.fail(
                    n,
                    "\(p).on",
                    "'\(s)' is not what tiers read: sli (the period's SLI) or compliance (share of time met)"
                )
            }
        }
        if let n = m["period"], let s = r.string(n, "\(p).period") {
            if let u = CalendarUnit(rawValue: s) {
                c.period = u
            } else {
                r.fail(n, "\(p).period", "'\(s)' is not a calendar period (day, week, month, quarter)")
            }
        }
        if let n = m["tiers"] {
            for (k, t) in r.sequence(n, "\(p).tiers").enumerated() {
                let tp = "\(p).tiers[\(k)]"
                let tm = r.mapping(t, tp, allowed: ["below", "above", "credit"])
                var bound: (below: Double?, above: Double?) = (nil, nil)
                var percent = false
                for key in ["below", "above"] {
                    guard let bn = tm[key], let s = r.string(bn, "\(tp).\(key)") else { continue }
                    guard let v = numberOrPercent(s) else {
                        r.fail(bn, "\(tp).\(key)", "'\(s)' is not a number or a percentage (99.9%)")
                        continue
                    }
                    percent = v.percent
                    if key == "below" { bound.below = v.value } else { bound.above = v.value }
                }
                if (tm["below"] == nil) == (tm["above"] == nil) {
                    r.fail(t, tp, "a tier has one bound: below (a reading under it) or above (over it)")
                }
                guard let cn = tm["credit"], let s = r.string(cn, "\(tp).credit") else {
                    if tm["credit"] == nil {
                        r.fail(t, "\(tp).credit", "missing required key (a share of the fee, 10%)")
                    }
                    continue
                }
                guard let v = numberOrPercent(s), v.value > 0, v.value <= 1 else {
                    r.fail(cn, "\(tp).credit", "'\(s)' is not a share of the fee above 0 and at most 100% (10% or 0.1)")
                    continue
                }
                c.tiers.append(
                    Consequences.Tier(below: bound.below, above: bound.above, credit: v.value, percent: percent)
                )
            }
            let sides = Set(c.tiers.map { $0.below != nil })
            if sides.count > 1 {
                r.fail(n, "\(p).tiers", "tiers mix below and above: a reading is credited on one side of its bounds")
            }
        }
        if let n = m["fee"], let s = r.string(n, "\(p).fee") {
            if let v = Double(s.trimmingCharactersInWhitespace()), v.isFinite, v >= 0, v <= 1e12 {
                c.fee = v
            } else {
                r.fail(n, "\(p).fee", "'\(s)' is not an amount from 0 to 1e12 (a number, the currency under currency:)")
            }
        }
        if let n = m["currency"], let s = r.string(n, "\(p).currency") {
            let t = s.trimmingCharactersInWhitespace()
            if t.isEmpty || t.count > 12 || hasControlCharacters(t) {
                r.fail(n, "\(p).currency", "'\(s)' is not a currency (EUR, USD, credits)")
            } else if m["fee"] == nil {
                r.fail(n, "\(p).currency", "a currency needs a fee (the amount credits are shares of)")
            } else {
                c.currency = t
            }
        }
        if let n = m["cap"], let s = r.string(n, "\(p).cap") {
            switch numberOrPercent(s) {
            case (let v, true)? where v > 0 && v <= 1: c.cap = .share(v)
            case (let v, false)? where v >= 0:
                c.cap = .amount(v)
                if m["fee"] == nil {
                    r.fail(n, "\(p).cap", "a cap as an amount needs a fee; write a share (30%) without one")
                }
                if let fee = c.fee, v > fee {
                    r.fail(
                        n,
                        "\(p).cap",
                        "a cap of \(s) is more than the fee (\(NumberText.format(fee))): it caps nothing"
                    )
                }
            default: r.fail(n, "\(p).cap", "'\(s)' is not a share of the fee (30%) or an amount (1500)")
            }
        }
        for key in ["penalty", "escalation"] {
            guard let n = m[key], let text = r.string(n, "\(p).\(key)") else { continue }
            if text.trimmingCharactersInWhitespace().isEmpty || hasControlCharacters(text) || text.count > 1000 {
                r.fail(n, "\(p).\(key)", "\(key) is one line of text (1 to 1000 characters, no control characters)")
            }
        }
        c.penalty = r.string(m["penalty"], "\(p).penalty")
        // The tightest tier first (the one a worse reading reaches last): below ascending is
        // not it, so keep the order written and take the largest credit that applies.
        c.escalation = r.string(m["escalation"], "\(p).escalation")
        if c.tiers.isEmpty && c.penalty == nil && c.escalation == nil && r.errors.count == before {
            r.fail(node, p, "consequences need tiers, a penalty or an escalation")
        }
        return r.errors.count == before ? c : nil
    }
}

extension ObjectivesConfig {
    /// Checks consequences in force for objective `o` (its own at `node`, else the SLA's):
    /// tiers on the period SLI need an SLI that has one per period, and the period must be one
    /// the objective is judged over.
    static func checkConsequences(_ o: Objective, node: Node?, path p: String, reader r: inout YAMLReader) {
        guard let c = o.consequencesInForce else { return }
        let site = o.consequences != nil ? "\(p).consequences" : "\(p) (consequences of SLA \(o.sla.name))"
        if c.reading(for: o) == .sli, o.sli != .ratio, !o.isCumulative {
            r.fail(
                node,
                site,
                "tiers on the period SLI need a ratio objective or a cumulative target; \(o.name) is judged by compliance (on: compliance)"
            )
        }
        // Tiers must be able to apply, on the side a miss lies: a share reading (compliance,
        // a ratio) between 0 and 100 %, below its bounds when more is better.
        let reading = c.reading(for: o)
        let share = reading == .compliance || o.sli == .ratio
        let higherIsBetter = reading == .compliance || o.direction == .atLeast
        for t in c.tiers {
            let side = t.below != nil ? "below" : "above"
            if share && (t.bound < 0 || t.bound > 1) {
                r.fail(
                    node,
                    site,
                    "a tier \(side) \(NumberText.format(t.bound)) can never or always apply: \(o.name)'s \(reading.rawValue) is a share from 0 to 100% (write 99.9%)"
                )
            } else if !share && t.percent {
                r.fail(
                    node,
                    site,
                    "a tier bound in percent needs a share; \(o.name)'s period SLI is in its own unit (\(o.unit ?? o.sli.rawValue))"
                )
            } else if higherIsBetter != (t.below != nil) {
                r.fail(
                    node,
                    site,
                    "\(o.name) is judged by \(reading.rawValue) where \(higherIsBetter ? "more" : "less") is better: its credits lie \(higherIsBetter ? "below" : "above") a bound, not \(side)"
                )
            }
        }
        if o.isCumulative {
            if case .calendar(let unit) = o.window, unit != c.period {
                r.fail(
                    node,
                    site,
                    "credits per \(c.period.rawValue), but \(o.name) is a target per \(unit.rawValue) (period: \(unit.rawValue))"
                )
            }
        } else if !o.sla.reportPeriods.contains(c.period) {
            r.fail(
                node,
                site,
                "credits per \(c.period.rawValue), but SLA \(o.sla.name) reports no \(c.period.rawValue) (add it to report_periods)"
            )
        }
    }
}

extension ObjectivesConfig {
    /// `service_hours: mon-fri 08:00-20:00`, a list of such spans, or `{hours: […], holidays:
    /// [YYYY-MM-DD, …]}`.
    static func serviceHours(_ node: Node, path p: String, reader r: inout YAMLReader) -> ServiceHours? {
        var spans: [(Node, String)] = []
        var holidays: Set<String> = []
        switch node {
        case .scalar:
            if let s = r.string(node, p) { spans = [(node, s)] }
        case .sequence:
            for item in r.sequence(node, p) { if let s = r.string(item, p) { spans.append((item, s)) } }
        case .mapping:
            let m = r.mapping(node, p, allowed: ["hours", "holidays"])
            if let h = m["hours"] {
                if case .scalar = h {
                    if let s = r.string(h, "\(p).hours") { spans = [(h, s)] }
                } else {
                    for item in r.sequence(h, "\(p).hours") {
                        if let s = r.string(item, "\(p).hours") { spans.append((item, s)) }
                    }
                }
            } else {
                r.fail(node, "\(p).hours", "missing required key (spans such as mon-fri 08:00-20:00)")
            }
            if let hn = m["holidays"] {
                for h in r.sequence(hn, "\(p).holidays") {
                    guard let s = r.string(h, "\(p).holidays") else { continue }
                    if s.count == 10, RFC3339.parse(s + "T00:00:00Z") != nil {
                        holidays.insert(s)
                    } else {
                        r.fail(h, "\(p).holidays", "'\(s)' is not a date (YYYY-MM-DD)")
                    }
                }
            }
        default:
            r.fail(node, p, "expected spans such as mon-fri 08:00-20:00")
        }
        var texts: [String] = []
        for (n, s) in spans {
            do {
                _ = try ServiceHours.span(s)
                texts.append(s)
            } catch {
                r.fail(n, p, "\(error)")
            }
        }
        if spans.isEmpty, r.errors.isEmpty || !(r.errors.last?.key.hasPrefix(p) ?? false) {
            r.fail(node, p, "no spans: write at least one, as mon-fri 08:00-20:00 (leave service_hours out for always)")
        }
        guard !texts.isEmpty, texts.count == spans.count else { return nil }
        return try? ServiceHours(parsing: texts, holidays: holidays)
    }

    /// `maintenance: [{from: RFC3339, to: RFC3339, reason: TEXT}, …]`.
    static func maintenance(_ node: Node, path p: String, reader r: inout YAMLReader) -> [MaintenanceWindow] {
        var out: [MaintenanceWindow] = []
        for (k, item) in r.sequence(node, p).enumerated() {
            let ip = "\(p)[\(k)]"
            let m = r.mapping(item, ip, allowed: ["from", "to", "reason"])
            var ends: [Double] = []
            for key in ["from", "to"] {
                guard let n = m[key] else {
                    r.fail(item, "\(ip).\(key)", "missing required key (RFC 3339 time with its offset)")
                    continue
                }
                guard let s = r.string(n, "\(ip).\(key)") else { continue }
                if let t = RFC3339.parse(s) {
                    ends.append(t)
                } else {
                    r.fail(n, "\(ip).\(key)", "'\(s)' is not an RFC 3339 time with its offset (2026-11-14T22:00:00Z)")
                }
            }
            let reason = r.string(m["reason"], "\(ip).reason") ?? ""
            if m["reason"] == nil {
                r.fail(item, "\(ip).reason", "missing required key (why, as announced)")
            } else if reason.trimmingCharactersInWhitespace().isEmpty || hasControlCharacters(reason)
                || reason.count > 1000
            {
                r.fail(
                    m["reason"],
                    "\(ip).reason",
                    "a reason is one line of text (1 to 1000 characters, no control characters)"
                )
            }
            guard ends.count == 2 else { continue }
            guard ends[0] < ends[1] else {
                r.fail(m["to"], "\(ip).to", "maintenance must end after it starts")
                continue
            }
            out.append(MaintenanceWindow(from: ends[0], to: ends[1], reason: reason))
        }
        return out
    }
}
