import Foundation

/// One closed calendar period of one objective instance: the verdict `slawatch report` prints
/// (the `period_result` rows of the state file joined with the objectives' config).
public struct PeriodVerdictRow: Sendable, Equatable, Codable {
    /// Instance name: the objective's, or `NAME{label=value,…}` for a `group_by` instance.
    public var instance: String
    /// Objective name (the instance name without its labels).
    public var objective: String
    /// SLA name; empty when the objective is no longer configured.
    public var sla: String
    /// Provider of the SLA; empty when unknown.
    public var provider: String
    /// Customer of the SLA (or the instance's `customer` label); empty when unknown.
    public var customer: String
    /// Unit of the SLI (`leads`, `ms`); `nil` when none is configured.
    public var unit: String?
    /// `at_least` or `at_most`; empty when unknown.
    public var direction: String
    /// The SLI (`count`, `ratio`, `p95`…); `nil` when the objective is no longer configured.
    public var sli: String? = nil
    /// The period's name in the objective's time zone: `2026-11-30` (day), `2026-W48` (ISO
    /// week), `2026-11` (month), `2026-Q4` (quarter), `2026` (year), else `start/end` in RFC 3339.
    public var period: String
    /// Period `[periodStart, periodEnd)`, unix seconds.
    public var periodStart: Double
    /// End of the period, unix seconds (exclusive).
    public var periodEnd: Double
    /// The period's SLI value (a report period's: the value when it closed); `nil` when there
    /// was none.
    public var value: Double?
    /// The baseline in force when the period was judged.
    public var baseline: Double
    /// Whether the target was met; `nil` for a report period with no judged time.
    public var met: Bool?
    /// The kind of period (`day`, `week`, `month`, `quarter`) when known: a report period's
    /// unit, or a cumulative target's calendar window.
    public var calendarUnit: String? = nil
    /// Report periods of objectives judged continuously (`nil` for a cumulative target's
    /// period): the kind of period (`week`, `month`…).
    public var report: String? = nil
    /// The share of the period's judged time that was met (0…1).
    public var compliance: Double? = nil
    /// Seconds in breach.
    public var timeInBreach: Double? = nil
    /// Seconds without a judgement (no data, before the first evaluation).
    public var timeUnjudged: Double? = nil
    /// Breach episodes opened in the period.
    public var episodes: Int? = nil
    /// Ratio objectives: events in all over the period (`nil` for other objectives).
    public var totalEvents: Double? = nil
    /// Ratio objectives: good events over the period.
    public var goodEvents: Double? = nil
    /// Ratio objectives: the share of the period's error budget used (bad events ÷ allowed bad
    /// events; above 1 when overspent); `nil` without events or for a 100 % target.
    public var budgetUsed: Double? = nil
    /// The worst moment: the value furthest on the bad side of its baseline…
    public var worstValue: Double? = nil
    /// … that baseline …
    public var worstBaseline: Double? = nil
    /// … and when (unix seconds).
    public var worstAt: Double? = nil
    /// The period's credit under the objective's consequences (`CreditOutcome`), `nil` without
    /// consequences for this kind of period.
    public var credit: CreditOutcome? = nil
    /// Seconds excluded: outside service hours or in announced maintenance (`nil`: none).
    public var timeExcluded: Double? = nil
    /// The objective's definition changes that took effect inside the period
    /// (`2027-01-01T00:00:00Z: baseline 99.5% → 99.9%`), `nil` for none: the period is judged by
    /// each version while it was in force.
    public var definitionChanges: [String]? = nil

    /// Creates a row.
    public init(
        instance: String,
        objective: String,
        sla: String = "",
        provider: String = "",
        customer: String = "",
        unit: String? = nil,
        direction: String = "",
        period: String,
        periodStart: Double,
        periodEnd: Double,
        value: Double?,
        baseline: Double,
        met: Bool?
    ) {
        self.instance = instance
        self.objective = objective
        self.sla = sla
        self.provider = provider
        self.customer = customer
        self.unit = unit
        self.direction = direction
        self.period = period
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.value = value
        self.baseline = baseline
        self.met = met
    }
}

/// Output formats of `slawatch report`.
public enum ReportFormat: String, Sendable, CaseIterable {
    /// Aligned plain text, one table per objective instance.
    case text
    /// GitHub-flavoured Markdown tables, for pasting into a ticket.
    case markdown
    /// One JSON object `{"periods": [PeriodVerdictRow…]}` (keys sorted), for scripts.
    case json
    /// RFC 4180 CSV with a header row, for a spreadsheet.
    case csv
    /// One self-contained HTML page with a chart per objective (`HTMLReport`).
    case html

    /// The file extension of a report in this format: `txt`, `md`, `json`, `csv`, `html`.
    public var fileExtension: String {
        switch self {
        case .text: return "txt"
        case .markdown: return "md"
        case .json: return "json"
        case .csv: return "csv"
        case .html: return "html"
        }
    }
}

/// Rendering of closed period verdicts (`slawatch report`, docs/reports.md).
public enum PeriodReport {
    /// The name of calendar period `[start, end)` (unix seconds) in `zone`: a day
    /// `2026-11-30`, an ISO week `2026-W48`, a month `2026-11`, a quarter `2026-Q4`, a year
    /// `2026`; any other span as `start/end` in RFC 3339.
    public static func label(start: Double, end: Double, zone: TimeZone) -> String {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = zone
        let a = Date(timeIntervalSince1970: start)
        let b = Date(timeIntervalSince1970: end)
        let c = cal.dateComponents([.year, .month, .day], from: a)
        let (y, m, d) = (c.year ?? 0, c.month ?? 0, c.day ?? 0)
        func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        func adds(_ unit: Calendar.Component, _ n: Int) -> Bool { cal.date(byAdding: unit, value: n, to: a) == b }
        let midnight = cal.startOfDay(for: a) == a
        if midnight, adds(.day, 1) { return "\(y)-\(pad(m))-\(pad(d))" }
        if midnight, adds(.day, 7), cal.component(.weekday, from: a) == 2 {
            var iso = Calendar(identifier: .iso8601)
            iso.timeZone = zone
            let w = iso.dateComponents([.yearForWeekOfYear, .weekOfYear], from: a)
            return "\(w.yearForWeekOfYear ?? y)-W\(pad(w.weekOfYear ?? 0))"
        }
        if midnight, d == 1, adds(.month, 1) { return "\(y)-\(pad(m))" }
        if midnight, d == 1, (m - 1) % 3 == 0, adds(.month, 3) { return "\(y)-Q\((m - 1) / 3 + 1)" }
        if midnight, d == 1, m == 1, adds(.year, 1) { return "\(y)" }
        return RFC3339.format(start) + "/" + RFC3339.format(end)
    }

    /// The report of `rows` in `format`. Rows are grouped by SLA and instance (in that order),
    /// periods oldest first; each period after the first shows its change against the one
    /// before (the trend). An empty report says so in text and Markdown.
    ///
    /// With `standing` (the scheduled reports), text and Markdown start with where every
    /// objective stands now (`standingTable`), and JSON is `{"generated", "standing",
    /// "periods"}`; `title` heads a Markdown report then.
    public static func render(
        _ rows: [PeriodVerdictRow],
        format: ReportFormat,
        standing: [Engine.Status] = [],
        title: String = "SLA report",
        generated: Double = 0
    ) -> String {
        guard !standing.isEmpty else { return render(rows, format: format) }
        switch format {
        case .json:
            struct Scheduled: Encodable {
                var generated: String
                var title: String
                var standing: [Engine.Status]
                var periods: [PeriodVerdictRow]
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let body = Scheduled(
                generated: RFC3339.format(generated),
                title: title,
                standing: standing,
                periods: ordered(rows)
            )
            let data = (try? encoder.encode(body)) ?? Data("{}".utf8)
            return String(decoding: data, as: UTF8.self) + "\n"
        case .markdown:
            return "# \(title)\n\n## Where things stand at \(RFC3339.format(generated))\n\n"
                + standingTable(standing, markdown: true) + "\n## Closed periods\n\n" + render(rows, format: .markdown)
        case .text:
            return "Where things stand at \(RFC3339.format(generated))\n" + standingTable(standing, markdown: false)
                + "\nClosed periods\n" + render(rows, format: .text)
        case .csv, .html:
            return render(rows, format: format)
        }
    }

    /// The report of `rows` in `format` (see above), without the standing.
    public static func render(_ rows: [PeriodVerdictRow], format: ReportFormat) -> String {
        let sorted = ordered(rows)
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = (try? encoder.encode(["periods": sorted])) ?? Data("{\"periods\":[]}".utf8)
            return String(decoding: data, as: UTF8.self) + "\n"
        case .csv:
            var out =
                "sla,provider,customer,objective,instance,period,period_start,period_end,value,unit,direction,baseline,verdict,"
                + "report,compliance,time_in_breach,time_unjudged,episodes,worst_value,worst_baseline,worst_at,"
                + "good_events,total_events,budget_used,credit,credit_amount,currency,consequence,time_excluded,"
                + "definition_changes\r\n"
            func n(_ v: Double?) -> String { v.map(csvNumber) ?? "" }
            for r in sorted {
                let fields = [
                    r.sla, r.provider, r.customer, r.objective, r.instance, r.period, RFC3339.format(r.periodStart),
                    RFC3339.format(r.periodEnd), n(r.value), r.unit ?? "",
                    r.direction, csvNumber(r.baseline), verdict(r.met), r.report ?? "", n(r.compliance),
                    n(r.timeInBreach), n(r.timeUnjudged), r.episodes.map(String.init) ?? "", n(r.worstValue),
                    n(r.worstBaseline), r.worstAt.map(RFC3339.format) ?? "", n(r.goodEvents), n(r.totalEvents),
                    n(r.budgetUsed), n(r.credit?.credit), n(r.credit?.amount), r.credit?.currency ?? "",
                    r.credit?.consequence ?? "", n(r.timeExcluded), (r.definitionChanges ?? []).joined(separator: "; "),
                ]
                out += fields.map(csvField).joined(separator: ",") + "\r\n"
            }
            return out
        case .text, .markdown:
            return table(sorted, markdown: format == .markdown)
        case .html:
            return HTMLReport.render(sorted, history: [:], generated: Date().timeIntervalSince1970)
        }
    }

    /// What an objective's standing says beyond its state: a cumulative target's outlook and
    /// pace (`at risk: 36.7 leads expected by now, 120 projected`), a ratio's error budget left
    /// (`50% of the error budget left`), else nothing.
    public static func outlook(_ s: Engine.Status) -> String {
        let unit = s.unit.map { " " + $0 } ?? ""
        if let p = s.pace {
            return paceFigures(p, unit: unit).map { p.outlook + ": " + $0 } ?? p.outlook
        }
        if let budget = s.errorBudget, budget > 0, let remaining = s.budgetRemaining {
            return NumberText.format((remaining / budget * 1000).rounded() / 10) + "% of the error budget left"
        }
        return ""
    }

    /// `36.7 leads expected by now, 31.1 leads projected` (rounded to a tenth; `unit` with its
    /// leading space); `nil` when the outlook is `met` or `too early` and the figures say nothing.
    public static func paceFigures(_ p: Engine.Status.Pace, unit: String) -> String? {
        guard p.outlook != "met" && p.outlook != "too early" else { return nil }
        var out = NumberText.format((p.expected * 10).rounded() / 10) + unit + " expected by now"
        if let projection = p.projection {
            out += ", " + NumberText.format((projection * 10).rounded() / 10) + unit + " projected"
        }
        return out
    }

    /// Rows in report order: by SLA, instance and kind of period, periods oldest first.
    public static func ordered(_ rows: [PeriodVerdictRow]) -> [PeriodVerdictRow] {
        rows.sorted {
            ($0.sla, $0.instance, $0.report ?? "", $0.periodStart) < (
                $1.sla, $1.instance, $1.report ?? "", $1.periodStart
            )
        }
    }

    /// One row per objective instance: SLA and instance, window, SLI, baseline, state and
    /// outlook (`outlook(_:)`), aligned text or a Markdown table.
    public static func standingTable(_ standing: [Engine.Status], markdown: Bool) -> String {
        var cells = [["objective", "window", "value", "baseline", "state", "outlook"]]
        for s in standing {
            let value = s.value.map { NumberText.value($0, sli: s.sli, unit: s.unit) } ?? "no data"
            cells.append([
                (s.sla.isEmpty ? "" : s.sla + ": ") + s.objective, s.window, value,
                s.direction.phrase + " " + NumberText.value(s.baseline, sli: s.sli, unit: s.unit), s.state.rawValue,
                outlook(s),
            ])
        }
        if markdown {
            var out = "| " + cells[0].joined(separator: " | ") + " |\n|" + String(repeating: " --- |", count: 6) + "\n"
            for c in cells.dropFirst() {
                out += "| " + c.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n"
            }
            return out
        }
        let widths = (0..<6).map { k in cells.map { $0[k].count }.max() ?? 0 }
        var out = ""
        for c in cells {
            var line = "  "
            for k in 0..<6 { line += c[k] + String(repeating: " ", count: widths[k] - c[k].count) + "  " }
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
        }
        return out
    }

    /// A number for CSV: integers without decimals, others in the shortest form that reads
    /// back exactly (`0.9995`, `194.44`).
    static func csvNumber(_ v: Double) -> String {
        if v.isFinite, v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }

    /// A value of `r`'s SLI as people read it: a ratio as a percentage, others with the unit.
    public static func shown(_ v: Double?, _ r: PeriodVerdictRow) -> String {
        guard let v else { return "–" }
        if r.sli == "ratio", v.isFinite { return NumberText.format((v * 100_000).rounded() / 1000) + "%" }
        return NumberText.format(v) + (r.unit.map { " " + $0 } ?? "")
    }

    /// The change of `r`'s SLI from the period before: `+24 (+30%)` for a count, `−0.072 pp`
    /// (percentage points) for a ratio, `−3.85 ms` for other values with a unit.
    public static func change(from p: Double, to v: Double, _ r: PeriodVerdictRow) -> String {
        let d = v - p
        let sign = d > 0 ? "+" : d < 0 ? "−" : "±"
        if r.sli == "ratio" {
            // Signed after rounding: a change too small to show is ±0.
            let pp = (abs(d) * 100_000).rounded() / 1000
            return (pp == 0 ? "±" : sign) + NumberText.format(pp) + " pp"
        }
        var out = sign + NumberText.format(abs(d)) + (r.unit.map { " " + $0 } ?? "")
        if r.sli == "count" || r.sli == "sum", p != 0 {
            out =
                sign + NumberText.format(abs(d))
                + " (\(d >= 0 ? "+" : "−")\(NumberText.format((abs(d) / abs(p) * 1000).rounded() / 10))%)"
        }
        return out
    }

    /// `met`, `missed`, or `no data` for a period with no judged time.
    static func verdict(_ met: Bool?) -> String { met.map { $0 ? "met" : "missed" } ?? "no data" }

    /// A CSV field, quoted when it holds a comma, quote, CR or LF (RFC 4180).
    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func table(_ rows: [PeriodVerdictRow], markdown: Bool) -> String {
        if rows.isEmpty {
            return markdown
                ? "_No closed period yet._\n" : "No closed period yet: verdicts appear once a calendar period ends.\n"
        }
        var out = ""
        var groups: [(String, [PeriodVerdictRow])] = []
        for r in rows {
            let key = r.instance + "\u{0}" + r.sla + "\u{0}" + (r.report ?? "")
            if groups.last?.0 == key {
                groups[groups.count - 1].1.append(r)
            } else {
                groups.append((key, [r]))
            }
        }
        for (n, (_, g)) in groups.enumerated() {
            let first = g[0]
            let parties = first.provider.isEmpty ? "" : " (\(first.provider) → \(first.customer))"
            let slaText = first.sla.isEmpty ? "" : "\(first.sla)\(parties): "
            let target = first.direction.isEmpty ? "" : ", \(first.direction.replacingOccurrences(of: "_", with: " "))"
            let met = g.filter { $0.met == true }.count
            let kind = first.report.map { " — \($0)ly compliance" } ?? ""
            let head = "\(slaText)\(first.instance)\(target)\(kind) — met \(met) of \(g.count) period(s)"
            var cells: [[String]]
            var numeric: Set<Int>
            let budgets = g.contains { $0.budgetUsed != nil }
            let credits = g.contains { $0.credit != nil }
            let excluded = g.contains { $0.timeExcluded != nil }
            if first.report != nil {
                cells = [["period", "value", "compliance", "in breach", "episodes", "worst", "verdict"]]
                numeric = [1, 2, 3, 4]
                if budgets {
                    cells[0].insert("budget used", at: 5)
                    numeric.insert(5)
                }
                if excluded {
                    cells[0].insert("excluded", at: 4)
                    numeric.insert(4)
                }
                if credits { cells[0].append("credit") }
                for r in g {
                    var worst = ""
                    if let w = r.worstValue, let at = r.worstAt {
                        worst = shown(w, r) + " at " + RFC3339.format(at)
                    }
                    var row = [
                        r.period, shown(r.value, r),
                        r.compliance.map { AlertEntry.number(($0 * 100_000).rounded() / 1000) + "%" } ?? "–",
                        DurationText.format((r.timeInBreach ?? 0).rounded()), String(r.episodes ?? 0), worst,
                        r.met.map { $0 ? "met" : "MISSED" } ?? "no data",
                    ]
                    if budgets {
                        row.insert(
                            r.budgetUsed.map { AlertEntry.number(($0 * 1000).rounded() / 10) + "%" } ?? "–",
                            at: 5
                        )
                    }
                    if excluded { row.insert(DurationText.format((r.timeExcluded ?? 0).rounded()), at: 4) }
                    if credits { row.append(r.credit.map(\.cell) ?? "–") }
                    cells.append(row)
                }
            } else {
                cells = [["period", "value", "baseline", "verdict", "change"]]
                numeric = [1, 2, 4]
                var previous: Double?
                for r in g {
                    var change = ""
                    if let p = previous, let v = r.value { change = Self.change(from: p, to: v, r) }
                    previous = r.value
                    cells.append([
                        r.period, shown(r.value, r), shown(r.baseline, r),
                        r.met.map { $0 ? "met" : "MISSED" } ?? "no data", change,
                    ])
                    if credits { cells[cells.count - 1].append(r.credit.map(\.cell) ?? "–") }
                }
                if credits { cells[0].append("credit") }
            }
            let columns = cells[0].count
            if n > 0 { out += "\n" }
            if markdown {
                out += "### " + head + "\n\n"
                out += "| " + cells[0].joined(separator: " | ") + " |\n"
                out += "|" + (0..<columns).map { numeric.contains($0) ? " ---: |" : " --- |" }.joined() + "\n"
                for c in cells.dropFirst() {
                    out +=
                        "| " + c.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n"
                }
            } else {
                out += head + "\n"
                let widths = (0..<columns).map { k in cells.map { $0[k].count }.max() ?? 0 }
                for c in cells {
                    var line = "  "
                    for k in 0..<columns {
                        let cell = c[k]
                        let padding = String(repeating: " ", count: widths[k] - cell.count)
                        // Numbers right-aligned, words left-aligned.
                        line += (numeric.contains(k) ? padding + cell : cell + padding) + "  "
                    }
                    while line.hasSuffix(" ") { line.removeLast() }
                    out += line + "\n"
                }
            }
            // Definition changes inside a period: each version judged its own time.
            let changes = g.flatMap { r in (r.definitionChanges ?? []).map { "\(r.period): changed \($0)" } }
            if !changes.isEmpty {
                if markdown { out += "\n" }
                for c in changes { out += (markdown ? "- " : "  ") + c + "\n" }
            }
        }
        return out
    }

    /// Joins stored period results with the objectives they belong to (matched by instance name,
    /// or by the objective name before `{` for a `group_by` instance; an instance's `customer`
    /// label names its customer). `objectives` are the configured objectives; results of
    /// objectives no longer configured keep empty SLA fields and are named in UTC.
    ///
    /// With versions (`effective_from`), each period is joined with the version in force at its
    /// end; `changes` (objective, effective time, what changed) inside a period are listed with
    /// it (`PeriodVerdictRow.definitionChanges`).
    public static func rows(
        _ results: [(instance: String, start: Double, end: Double, value: Double, baseline: Double, met: Bool?)],
        reports: [PeriodTally?] = [],
        objectives: [Objective],
        changes: [(objective: String, at: Double, changes: [String])] = []
    ) -> [PeriodVerdictRow] {
        let dated = objectives.contains { $0.effectiveFrom != nil }
        let byName = Dictionary(
            Objective.inForce(objectives, at: .infinity).map { ($0.name, $0) },
            uniquingKeysWith: { a, _ in a }
        )
        let versionsOf = Dictionary(grouping: objectives, by: \.name)
        let changesOf = Dictionary(grouping: changes, by: \.objective)
        return results.enumerated().map { n, r in
            let base = r.instance.split(separator: "{", maxSplits: 1).first.map(String.init) ?? r.instance
            let o =
                dated
                ? versionsOf[base].flatMap { Objective.inForce($0, at: r.end - 1).first } ?? byName[base]
                : byName[base]
            var customer = o?.sla.customer ?? ""
            if let brace = r.instance.firstIndex(of: "{"), r.instance.hasSuffix("}") {
                let labels = r.instance[r.instance.index(after: brace)..<r.instance.index(before: r.instance.endIndex)]
                for pair in labels.split(separator: ",") where pair.hasPrefix("customer=") {
                    customer = String(pair.dropFirst("customer=".count))
                }
            }
            let zone = o.flatMap { TimeZone(identifier: $0.timeZone) } ?? TimeZone(identifier: "UTC")!
            var row = PeriodVerdictRow(
                instance: r.instance,
                objective: base,
                sla: o?.sla.name ?? "",
                provider: o?.sla.provider ?? "",
                customer: customer,
                unit: o?.unit,
                direction: o?.direction.rawValue ?? "",
                period: label(start: r.start, end: r.end, zone: zone),
                periodStart: r.start,
                periodEnd: r.end,
                value: r.value.isNaN ? nil : r.value,
                baseline: r.baseline,
                met: r.met
            )
            row.sli = o?.sli.name
            if case .calendar(let unit)? = o?.window { row.calendarUnit = unit.rawValue }
            if n < reports.count, let t = reports[n] {
                row.calendarUnit = t.unit.rawValue
                row.report = t.unit.rawValue
                row.compliance = t.compliance
                row.timeInBreach = t.breached
                row.timeUnjudged = t.unjudged
                row.timeExcluded = t.excluded > 0 ? t.excluded : nil
                row.episodes = t.episodes
                row.worstValue = t.worstValue
                row.worstBaseline = t.worstBaseline
                row.worstAt = t.worstAt
                if t.summedThrough != nil {
                    row.totalEvents = t.total
                    row.goodEvents = t.good
                    let direction = o?.direction ?? .atLeast
                    if let b = Transition.errorBudget(
                        total: t.total,
                        good: t.good,
                        target: r.baseline,
                        direction: direction
                    ),
                        b.budget > 0
                    {
                        row.budgetUsed = (b.budget - b.remaining) / b.budget
                    }
                }
            }
            if let o {
                let c = o.consequencesInForce
                if let unit = row.report.flatMap(CalendarUnit.init(rawValue:)) {
                    row.credit = c?.outcome(
                        for: o,
                        unit: unit,
                        sli: row.value,
                        compliance: row.compliance,
                        met: row.met
                    )
                } else if case .calendar(let unit) = o.window, o.isCumulative {
                    row.credit = c?.outcome(for: o, unit: unit, sli: row.value, compliance: nil, met: row.met)
                }
            }
            let inside = (changesOf[base] ?? []).filter { $0.at > r.start && $0.at < r.end }.sorted { $0.at < $1.at }
            if !inside.isEmpty {
                row.definitionChanges = inside.map { "\(RFC3339.format($0.at)): \($0.changes.joined(separator: "; "))" }
            }
            return row
        }
    }
}
