import Foundation

/// The HTML form of `slawatch report` (docs/reports.md): one self-contained file, inline CSS and
/// SVG, no script and nothing loaded from the network, readable when printed.
///
/// Per SLA and objective instance: the latest period's verdict (value, baseline, compliance,
/// time in breach, episodes, worst moment, error budget used), a chart of the SLI over that
/// period from the SLI history (the value as a line, the worst value of each step as a faint
/// line, the baseline as a dashed line, breached steps shaded; for a cumulative target the
/// period-to-date total against an even pace line from 0 to the target), and every period of
/// the report side by side (the trend).
public enum HTMLReport {
    /// The report of `rows` (as `PeriodReport.rows` gives them) with the SLI history of each
    /// instance (`StateStore.history`: instance name → points, any step, oldest first).
    /// - Parameters:
    ///   - title: the page's title and heading.
    ///   - generated: when the report was made, unix seconds (shown in UTC).
    public static func render(
        _ rows: [PeriodVerdictRow],
        history: [String: [HistoryPoint]],
        standing: [Engine.Status] = [],
        title: String = "SLA report",
        generated: Double
    ) -> String {
        var out = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title))</title>
            <style>\(css)</style>
            </head>
            <body>
            <header><h1>\(escape(title))</h1>
            <p class="meta">Generated \(escape(RFC3339.format(generated))) by slawatch \(escape(SLAWatchVersion.current)). \
            Periods are named in each objective's time zone.</p></header>

            """
        let sorted = PeriodReport.ordered(rows)
        if !standing.isEmpty { out += standingSection(standing, history: history, generated: generated) }
        if sorted.isEmpty {
            out += "<p class=\"empty\">No closed period yet: verdicts appear once a calendar period ends.</p>\n"
        }
        var groups: [[PeriodVerdictRow]] = []
        for r in sorted {
            if let last = groups.last?.last, last.sla == r.sla, last.instance == r.instance, last.report == r.report {
                groups[groups.count - 1].append(r)
            } else {
                groups.append([r])
            }
        }
        var currentSLA: String?
        for g in groups {
            let first = g[0]
            if first.sla != currentSLA {
                if currentSLA != nil { out += "</section>\n" }
                currentSLA = first.sla
                let parties =
                    first.provider.isEmpty
                    ? "" : " <span class=\"parties\">\(escape(first.provider)) → \(escape(first.customer))</span>"
                out +=
                    "<section class=\"sla\">\n<h2>\(escape(first.sla.isEmpty ? "objectives no longer configured" : first.sla))\(parties)</h2>\n"
            }
            out += objective(g, history: history[first.instance] ?? [])
        }
        if currentSLA != nil { out += "</section>\n" }
        out += "</body>\n</html>\n"
        return out
    }

    static let css = """
        body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1d2430;\
        max-width:60rem;margin:2rem auto;padding:0 1rem}
        h1{font-size:1.6rem;margin:0}h2{font-size:1.3rem;border-bottom:2px solid #d6dbe3;padding-bottom:.2rem;\
        margin-top:2rem}h3{font-size:1.05rem;margin:1.4rem 0 .3rem}.meta,.parties,.target{color:#5b6574;\
        font-weight:normal}.parties{font-size:1rem;margin-left:.5rem}
        .verdict{display:inline-block;padding:.05rem .5rem;border-radius:.7rem;font-size:.85rem;font-weight:600}
        .met{background:#dcf2e1;color:#13612e}.missed{background:#fbe0de;color:#9b1c14}.nodata{background:#eceff3;\
        color:#4a5361}
        dl.summary{display:grid;grid-template-columns:repeat(auto-fill,minmax(9.5rem,1fr));gap:.3rem 1rem;margin:.4rem 0}
        dl.summary div{margin:0}dt{font-size:.78rem;color:#5b6574;text-transform:uppercase;letter-spacing:.03em}
        dd{margin:0;font-weight:600}
        svg.chart{width:100%;height:auto;border:1px solid #e3e7ee;border-radius:4px;background:#fff}
        table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0 1rem}
        th,td{text-align:left;padding:.2rem .5rem;border-bottom:1px solid #e3e7ee}th{color:#5b6574;font-weight:600}
        td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
        .legend{font-size:.8rem;color:#5b6574;margin:.2rem 0}.legend span{margin-right:1rem}
        .key{display:inline-block;width:1.4rem;height:.6rem;vertical-align:middle;margin-right:.3rem}
        article{break-inside:avoid;page-break-inside:avoid}
        @media print{body{margin:0;max-width:none;font-size:11pt}h2{break-after:avoid}\
        svg.chart{border:none}}
        """

    /// Where every objective stands now: a table, and for each cumulative target the period
    /// so far against its even pace.
    static func standingSection(_ standing: [Engine.Status], history: [String: [HistoryPoint]], generated: Double)
        -> String
    {
        var out = "<section class=\"standing\">\n<h2>Where things stand at \(escape(RFC3339.format(generated)))</h2>\n"
        out += "<table>\n<thead><tr><th>objective</th><th>window</th><th class=\"num\">value</th>"
        out += "<th class=\"num\">baseline</th><th>state</th><th>outlook</th></tr></thead>\n<tbody>\n"
        for s in standing {
            let value = s.value.map { NumberText.value($0, sli: s.sli, unit: s.unit) } ?? "no data"
            let outlook = PeriodReport.outlook(s)
            let cls =
                outlook.hasPrefix("at risk") || s.state == .breached
                ? "missed"
                : (outlook.hasPrefix("met") || outlook.hasPrefix("on track") || s.state == .ok ? "met" : "nodata")
            out +=
                "<tr><td>\(escape((s.sla.isEmpty ? "" : s.sla + ": ") + s.objective))</td><td>\(escape(s.window))</td>"
            out += "<td class=\"num\">\(escape(value))</td>"
            out +=
                "<td class=\"num\">\(escape(s.direction.phrase + " " + NumberText.value(s.baseline, sli: s.sli, unit: s.unit)))</td>"
            out +=
                "<td><span class=\"verdict \(cls)\">\(escape(s.state.rawValue))</span></td><td>\(escape(outlook))</td></tr>\n"
        }
        out += "</tbody>\n</table>\n"
        for s in standing {
            guard let p = s.pace else { continue }
            var row = PeriodVerdictRow(
                instance: s.objective,
                objective: s.objective,
                sla: s.sla,
                provider: s.provider,
                customer: s.customer,
                unit: s.unit,
                direction: s.direction.rawValue,
                period: PeriodReport.label(start: p.periodStart, end: p.periodEnd, zone: TimeZone(identifier: "UTC")!)
                    + " so far",
                periodStart: p.periodStart,
                periodEnd: p.periodEnd,
                value: s.value,
                baseline: s.baseline,
                met: nil
            )
            row.sli = s.sli.name
            out += "<article>\n<h3>\(escape(s.objective)) <span class=\"target\">\(escape(row.period)): "
            out += "\(escape(PeriodReport.outlook(s)))</span></h3>\n"
            out += chart(row, history: history[s.objective] ?? [])
            out += "</article>\n"
        }
        out += "</section>\n"
        return out
    }

    /// One instance: heading, the latest period's summary, its chart, the periods table.
    static func objective(_ g: [PeriodVerdictRow], history: [HistoryPoint]) -> String {
        let latest = g[g.count - 1]
        let direction = latest.direction.replacingOccurrences(of: "_", with: " ")
        let kind = latest.report.map { "\($0)ly compliance" } ?? (latest.calendarUnit.map { "\($0)ly target" } ?? "")
        let verdictClass = latest.met.map { $0 ? "met" : "missed" } ?? "nodata"
        var out = "<article>\n<h3>\(escape(latest.instance)) <span class=\"target\">\(escape(direction)) "
        out += "\(escape(PeriodReport.shown(latest.baseline, latest)))"
        out += kind.isEmpty ? "" : " · \(escape(kind))"
        out += "</span></h3>\n"
        var facts: [(String, String)] = [
            ("period", latest.period),
            ("value", PeriodReport.shown(latest.value, latest)),
            ("baseline", PeriodReport.shown(latest.baseline, latest)),
        ]
        if let c = latest.compliance { facts.append(("compliance", percent(c, digits: 3))) }
        if let b = latest.timeInBreach { facts.append(("time in breach", DurationText.format(b.rounded()))) }
        if let e = latest.episodes { facts.append(("episodes", String(e))) }
        if let w = latest.worstValue, let at = latest.worstAt {
            facts.append(("worst", PeriodReport.shown(w, latest) + " at " + RFC3339.format(at)))
        }
        if let used = latest.budgetUsed { facts.append(("error budget used", percent(used, digits: 1))) }
        if let good = latest.goodEvents, let total = latest.totalEvents {
            facts.append(("good / total", AlertEntry.number(good) + " / " + AlertEntry.number(total)))
        }
        out += "<p><span class=\"verdict \(verdictClass)\">\(escape(PeriodReport.verdict(latest.met)))</span></p>\n"
        out += "<dl class=\"summary\">"
        for (k, v) in facts { out += "<div><dt>\(escape(k))</dt><dd>\(escape(v))</dd></div>" }
        out += "</dl>\n"
        out += chart(latest, history: history)
        out += periodsTable(g)
        out += "</article>\n"
        return out
    }

    /// The periods of one instance, oldest first, with the change against the period before.
    static func periodsTable(_ g: [PeriodVerdictRow]) -> String {
        let compliance = g[0].report != nil
        let budgets = g.contains { $0.budgetUsed != nil }
        var out = "<table>\n<thead><tr><th>period</th><th class=\"num\">value</th><th class=\"num\">baseline</th>"
        if compliance {
            out += "<th class=\"num\">compliance</th><th class=\"num\">in breach</th><th class=\"num\">episodes</th>"
        }
        if budgets { out += "<th class=\"num\">budget used</th>" }
        out += "<th>verdict</th><th class=\"num\">change</th></tr></thead>\n<tbody>\n"
        var previous: Double?
        for r in g {
            var change = ""
            if let p = previous, let v = r.value { change = PeriodReport.change(from: p, to: v, r) }
            previous = r.value
            out += "<tr><td>\(escape(r.period))</td><td class=\"num\">\(escape(PeriodReport.shown(r.value, r)))</td>"
            out += "<td class=\"num\">\(escape(PeriodReport.shown(r.baseline, r)))</td>"
            if compliance {
                out += "<td class=\"num\">\(escape(r.compliance.map { percent($0, digits: 3) } ?? "–"))</td>"
                out += "<td class=\"num\">\(escape(DurationText.format((r.timeInBreach ?? 0).rounded())))</td>"
                out += "<td class=\"num\">\(r.episodes ?? 0)</td>"
            }
            if budgets { out += "<td class=\"num\">\(escape(r.budgetUsed.map { percent($0, digits: 1) } ?? "–"))</td>" }
            let cls = r.met.map { $0 ? "met" : "missed" } ?? "nodata"
            out += "<td><span class=\"verdict \(cls)\">\(escape(PeriodReport.verdict(r.met)))</span></td>"
            out += "<td class=\"num\">\(escape(change))</td></tr>\n"
        }
        out += "</tbody>\n</table>\n"
        return out
    }

    /// The SVG chart of `row`'s period: history points with a start inside the period.
    static func chart(_ row: PeriodVerdictRow, history: [HistoryPoint]) -> String {
        let (w, h) = (720.0, 220.0)
        let (left, right, top, bottom) = (64.0, 12.0, 12.0, 28.0)
        let span = max(row.periodEnd - row.periodStart, 1)
        // 5-minute points up to a week (2,016 points), hourly ones beyond (a month: 720), so a
        // year's report stays small; whichever was recorded when only one was.
        let inPeriod = history.filter { Double($0.start) >= row.periodStart && Double($0.start) < row.periodEnd }
        let steps = Set(inPeriod.map(\.step))
        let step = span > 8 * 86400 && steps.contains(3600) ? 3600 : steps.min()
        let points = inPeriod.filter { $0.step == step }
        let cumulative = row.report == nil
        let label = "SLI of \(row.instance) over \(row.period)"
        var svg =
            "<svg class=\"chart\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" role=\"img\" aria-label=\"\(escape(label))\">\n"
        svg += "<title>\(escape(label))</title>\n"
        var values: [Double] = [row.baseline]
        for p in points {
            if let v = p.value { values.append(v) }
            if let v = p.worst { values.append(v) }
            if let b = p.baseline { values.append(b) }
        }
        if cumulative { values.append(0) }
        var lo = values.min() ?? 0
        var hi = values.max() ?? 1
        if hi - lo < 1e-12 {
            lo -= max(abs(lo) * 0.1, 1)
            hi += max(abs(hi) * 0.1, 1)
        }
        let pad = (hi - lo) * 0.08
        lo = cumulative ? min(lo, 0) : lo - pad
        hi += pad
        func x(_ t: Double) -> Double { left + (t - row.periodStart) / span * (w - left - right) }
        func y(_ v: Double) -> Double { top + (hi - v) / (hi - lo) * (h - top - bottom) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        // Breached steps, shaded.
        let stepSeconds = Double(step ?? 300)
        for p in points where p.breached {
            let x0 = x(Double(p.start))
            let x1 = x(min(Double(p.start) + stepSeconds, row.periodEnd))
            svg +=
                "<rect x=\"\(f(x0))\" y=\"\(f(top))\" width=\"\(f(max(x1 - x0, 0.8)))\" height=\"\(f(h - top - bottom))\" fill=\"#f6c9c4\"/>\n"
        }
        // Axes: 4 value ticks, 5 time ticks labelled in UTC dates.
        for k in 0...4 {
            let v = lo + (hi - lo) * Double(k) / 4
            svg +=
                "<line x1=\"\(f(left))\" x2=\"\(f(w - right))\" y1=\"\(f(y(v)))\" y2=\"\(f(y(v)))\" stroke=\"#eef1f5\"/>"
            svg +=
                "<text x=\"\(f(left - 6))\" y=\"\(f(y(v) + 4))\" font-size=\"11\" text-anchor=\"end\" fill=\"#5b6574\">\(escape(row.sli == "ratio" ? tickNumber(v * 100, range: (hi - lo) * 100) + "%" : tickNumber(v, range: hi - lo)))</text>\n"
        }
        for k in 0...4 {
            let t = row.periodStart + span * Double(k) / 4
            let anchor = k == 0 ? "start" : k == 4 ? "end" : "middle"
            svg +=
                "<text x=\"\(f(x(t)))\" y=\"\(f(h - 8))\" font-size=\"11\" text-anchor=\"\(anchor)\" fill=\"#5b6574\">\(escape(String(RFC3339.format(t).prefix(16)).replacingOccurrences(of: "T", with: " ")))</text>\n"
        }
        svg +=
            "<line x1=\"\(f(left))\" x2=\"\(f(left))\" y1=\"\(f(top))\" y2=\"\(f(h - bottom))\" stroke=\"#9aa3b0\"/>"
        svg +=
            "<line x1=\"\(f(left))\" x2=\"\(f(w - right))\" y1=\"\(f(h - bottom))\" y2=\"\(f(h - bottom))\" stroke=\"#9aa3b0\"/>\n"
        if cumulative {
            // An even pace from 0 at the period's start to the target at its end.
            svg +=
                "<line x1=\"\(f(x(row.periodStart)))\" y1=\"\(f(y(0)))\" x2=\"\(f(x(row.periodEnd)))\" y2=\"\(f(y(row.baseline)))\" stroke=\"#8a6d1f\" stroke-width=\"1.2\" stroke-dasharray=\"2 3\"/>\n"
        }
        // The baseline: the recorded one per step, else the period's.
        var baselinePath = ""
        if points.contains(where: { $0.baseline != nil }) {
            var open = false
            for p in points {
                guard let b = p.baseline else {
                    open = false
                    continue
                }
                let x0 = x(Double(p.start))
                let x1 = x(min(Double(p.start) + stepSeconds, row.periodEnd))
                baselinePath += (open ? "L" : "M") + "\(f(x0)) \(f(y(b)))L\(f(x1)) \(f(y(b)))"
                open = true
            }
        } else {
            baselinePath =
                "M\(f(x(row.periodStart))) \(f(y(row.baseline)))L\(f(x(row.periodEnd))) \(f(y(row.baseline)))"
        }
        svg +=
            "<path d=\"\(baselinePath)\" fill=\"none\" stroke=\"#c0392b\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n"
        func line(_ value: (HistoryPoint) -> Double?) -> String {
            var d = ""
            var open = false
            for p in points {
                guard let v = value(p) else {
                    open = false
                    continue
                }
                d += (open ? "L" : "M") + "\(f(x(Double(p.start) + stepSeconds / 2))) \(f(y(v)))"
                open = true
            }
            return d
        }
        if !cumulative {
            let worst = line(\.worst)
            if !worst.isEmpty {
                svg += "<path d=\"\(worst)\" fill=\"none\" stroke=\"#9bb7e0\" stroke-width=\"1\"/>\n"
            }
        }
        let value = line(\.value)
        if !value.isEmpty {
            svg += "<path d=\"\(value)\" fill=\"none\" stroke=\"#1f5fbf\" stroke-width=\"1.8\"/>\n"
        } else {
            svg +=
                "<text x=\"\(f((left + w - right) / 2))\" y=\"\(f((top + h - bottom) / 2))\" font-size=\"13\" text-anchor=\"middle\" fill=\"#5b6574\">no SLI history recorded for this period</text>\n"
        }
        svg += "</svg>\n"
        var legend = "<p class=\"legend\"><span><i class=\"key\" style=\"background:#1f5fbf;height:.2rem\"></i>SLI"
        legend += step.map { " (\($0 / 60)-minute points)" } ?? ""
        legend += "</span>"
        if !cumulative {
            legend += "<span><i class=\"key\" style=\"background:#9bb7e0;height:.15rem\"></i>worst in each point</span>"
        }
        legend += "<span><i class=\"key\" style=\"border-top:2px dashed #c0392b;height:0\"></i>baseline</span>"
        if cumulative {
            legend += "<span><i class=\"key\" style=\"border-top:2px dotted #8a6d1f;height:0\"></i>even pace</span>"
        }
        legend += "<span><i class=\"key\" style=\"background:#f6c9c4\"></i>breached</span></p>\n"
        return svg + legend
    }

    /// A percentage of a share (0.995 → `99.5%`), rounded to `digits` decimals.
    static func percent(_ share: Double, digits: Int) -> String {
        let scale = pow(10, Double(digits))
        return AlertEntry.number((share * 100 * scale).rounded() / scale) + "%"
    }

    /// A tick label: numbers with as many decimals as the axis' range needs.
    static func tickNumber(_ v: Double, range: Double) -> String {
        let decimals = range >= 10 ? 0 : range >= 1 ? 1 : range >= 0.1 ? 2 : range >= 0.01 ? 3 : 5
        return String(format: "%.\(decimals)f", v)
    }

    /// Text escaped for HTML content and attribute values.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
