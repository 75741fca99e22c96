import Foundation

/// The objectives table of `slawatch status` (docs/reports.md, "`slawatch status`"): grouped by
/// SLA (provider → customer), one row per objective instance with its window, SLI, baseline,
/// state and for how long, and a sparkline of its recent SLI against the baseline; under it,
/// when there is one, what the row cannot hold: a pending objective's time left before it
/// breaches, a baseline's kind when it is not a fixed number (adaptive, expression), a
/// cumulative target's pace, a ratio's error budget left, a metric without events.
///
/// Fits `width` columns (80 by default): the objective column takes what the others leave and
/// a longer name is cut with an ellipsis. `unicode` false (a pipe, a dumb terminal) writes ASCII
/// only (`>=`, `->`, `...`, the sparkline in `_.-=^`); `color` (a terminal, no `NO_COLOR`)
/// colours states and outlooks with ANSI SGR codes.
public struct StatusTable: Sendable {
    /// Columns to fit.
    public var width: Int
    /// Unicode symbols and the sparkline's block characters.
    public var unicode: Bool
    /// ANSI colours.
    public var color: Bool

    /// Creates a renderer.
    public init(width: Int = 80, unicode: Bool = true, color: Bool = false) {
        self.width = max(60, width)
        self.unicode = unicode
        self.color = color
    }

    /// The table of `statuses` at `now` (unix seconds); a line per SLA, a row per instance, and
    /// the detail lines. Every line holds at most `width` characters (escape codes aside).
    public func render(_ statuses: [Engine.Status], now: Double) -> String {
        // Fixed columns: window 7, value 11, baseline 12, state 12, trend 10, 5 gaps.
        let fixed = [7, 11, 12, 12, 10]
        let nameWidth = width - fixed.reduce(0, +) - fixed.count - 2
        var lines: [String] = []
        let header =
            pad("OBJECTIVE", nameWidth + 2) + " " + pad("WINDOW", 7) + " " + lpad("VALUE", 11) + " "
            + pad("BASELINE", 12) + " " + pad("STATE", 12) + " " + "TREND"
        lines.append(paint(header, "1"))
        var sla: String?
        for s in statuses {
            let slaLine =
                s.sla + (s.provider.isEmpty && s.customer.isEmpty ? "" : " (\(s.provider) \(arrow) \(s.customer))")
            if slaLine != sla {
                sla = slaLine
                lines.append(paint(cut(slaLine, width), "1;36"))
            }
            let value: String
            if let invalid = s.invalid {
                value = "invalid"
                _ = invalid
            } else {
                value = s.value.map { NumberText.value($0, sli: s.sli, unit: s.unit) } ?? "no data"
            }
            let baseline =
                (s.direction == .atLeast ? (unicode ? "≥ " : ">= ") : (unicode ? "≤ " : "<= "))
                + NumberText.value(s.baseline, sli: s.sli, unit: s.unit)
            let state = s.state.rawValue + (s.since > 0 ? " " + Self.short(now - s.since) : "")
            var row = "  " + pad(cut(s.objective, nameWidth), nameWidth) + " " + pad(cut(s.window, 7), 7) + " "
            row += lpad(fit(value, s, 11), 11) + " " + pad(fit(baseline, s, 12), 12) + " "
            row += paint(pad(cut(state, 12), 12), stateColor(s.state)) + " " + sparkline(s, points: 10)
            lines.append(trimRight(row))
            var details: [String] = []
            if s.state == .pending, let at = s.breachesAt {
                details.append(at > now ? "breaches in \(Self.short(at - now)) if it stays bad" : "breaching now")
            }
            if s.baselineKind != "fixed" {
                // The baseline's kind: learned or computed, and since when it is in force.
                var text = "baseline: \(s.baselineKind)"
                if let season = s.baselineSeason { text += " (\(season))" }
                if let since = s.baselineSince { text += ", in force for \(Self.short(now - since))" }
                details.append(paint(text, "2"))
            }
            if let invalid = s.invalid { details.append("invalid: \(invalid)") }
            if let why = s.outOfService { details.append(why) }
            if let seen = s.lastSeen {
                if s.value == nil { details.append("last event of \(s.metric) \(Self.short(now - seen)) ago") }
            } else {
                details.append(paint("no event of \(s.metric) yet", "2"))
            }
            if let p = s.pace {
                var text = "pace: " + p.outlook
                if let figures = PeriodReport.paceFigures(p, unit: s.unit.map { " " + $0 } ?? "") {
                    text += ", " + figures
                }
                details.append(paint(text, p.outlook == "at risk" ? "31" : p.outlook == "too early" ? "2" : "32"))
            }
            if let budget = s.errorBudget, let remaining = s.budgetRemaining {
                var text = "error budget: "
                if budget > 0, remaining < 0 {
                    text += NumberText.format(-remaining) + " bad event(s) beyond the budget"
                } else if budget > 0 {
                    text += NumberText.format((remaining / budget * 1000).rounded() / 10) + "% left"
                } else {
                    text += NumberText.format(-remaining) + " bad event(s) against none allowed"
                }
                if let burn = s.burnRate { text += ", burn rate " + NumberText.format((burn * 100).rounded() / 100) }
                details.append(paint(text, remaining < 0 ? "31" : "0"))
            }
            for d in details { lines.append("      " + cutPainted(d, width - 6)) }
        }
        if statuses.isEmpty { lines.append("no objectives match") }
        return lines.joined(separator: "\n")
    }

    private var arrow: String { unicode ? "→" : "->" }

    /// `42s`, `5m`, `3h`, `2d`: the largest unit, whole.
    static func short(_ seconds: Double) -> String {
        let s = max(0, seconds)
        if s < 60 { return "\(Int(s))s" }
        if s < 3600 { return "\(Int(s / 60))m" }
        if s < 86400 { return "\(Int(s / 3600))h" }
        return "\(Int(s / 86400))d"
    }

    /// The last `points` values of the trend, scaled between their lowest and highest (and the
    /// baseline when it is near), drawn in eight block heights (ASCII: five characters);
    /// values on the bad side of the baseline in red; a gap for a point without a value.
    func sparkline(_ s: Engine.Status, points: Int) -> String {
        let values = Array(s.trend.suffix(points))
        let known = values.compactMap { $0 }
        guard !known.isEmpty else { return "" }
        var lo = known.min()!
        var hi = known.max()!
        // The baseline joins the scale when it lies within the values' span or near it, so the
        // bars say on which side of it the SLI was.
        let span = max(hi - lo, abs(hi) * 1e-9)
        if s.baseline >= lo - span, s.baseline <= hi + span {
            lo = min(lo, s.baseline)
            hi = max(hi, s.baseline)
        }
        let levels: [Character] = unicode ? ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"] : ["_", ".", "-", "=", "^"]
        var out = ""
        for v in values {
            guard let v else {
                out += " "
                continue
            }
            let f = hi > lo ? (v - lo) / (hi - lo) : 0.5
            let c = String(levels[min(levels.count - 1, Int(f * Double(levels.count)))])
            let bad = s.direction == .atLeast ? v < s.baseline : v > s.baseline
            out += bad ? paint(c, "31") : c
        }
        return out
    }

    private func stateColor(_ state: AlertState) -> String {
        switch state {
        case .ok: return "32"
        case .pending: return "33"
        case .breached: return "1;31"
        case .nodata: return "2"
        }
    }

    /// `text` in SGR `code` when colours are on.
    func paint(_ text: String, _ code: String) -> String {
        guard color, code != "0", !text.isEmpty else { return text }
        return "\u{1B}[\(code)m" + text + "\u{1B}[0m"
    }

    /// A value with its unit when both fit in `n` characters, else without the unit (a long
    /// unit such as `failed requests` is in the objective's config), else cut.
    func fit(_ text: String, _ s: Engine.Status, _ n: Int) -> String {
        guard text.count > n, let unit = s.unit, text.hasSuffix(" " + unit) else { return cut(text, n) }
        return cut(String(text.dropLast(unit.count + 1)), n)
    }

    /// The characters of `text` a terminal shows (SGR escape sequences left out).
    public static func visibleWidth(_ text: String) -> Int {
        var n = 0
        var escape = false
        for c in text {
            if escape {
                if c == "m" { escape = false }
            } else if c == "\u{1B}" {
                escape = true
            } else {
                n += 1
            }
        }
        return n
    }

    /// `text` wrapped at spaces to lines of at most `width` characters (a word longer than that
    /// is cut), continuation lines indented by `indent` spaces.
    public func wrap(_ text: String, indent: Int = 2) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            let w = String(word)
            if line.isEmpty {
                line = w
            } else if line.count + 1 + w.count <= width {
                line += " " + w
            } else {
                lines.append(cut(line, width))
                line = String(repeating: " ", count: indent) + w
            }
        }
        if !line.isEmpty { lines.append(cut(line, width)) }
        return lines
    }

    /// `text` cut to `n` characters, the last an ellipsis when cut.
    func cut(_ text: String, _ n: Int) -> String {
        guard text.count > n else { return text }
        let ellipsis = unicode ? "…" : "..."
        return String(text.prefix(max(0, n - ellipsis.count))) + ellipsis
    }

    /// `cut` for a line that may hold SGR codes (cut its text, keep its colour).
    func cutPainted(_ text: String, _ n: Int) -> String {
        guard color, text.hasPrefix("\u{1B}["), let m = text.firstIndex(of: "m") else { return cut(text, n) }
        let code = String(text[text.index(text.startIndex, offsetBy: 2)..<m])
        let plain = String(text[text.index(after: m)...].dropLast(4))
        return paint(cut(plain, n), code)
    }

    private func pad(_ s: String, _ n: Int) -> String {
        s.count >= n ? s : s + String(repeating: " ", count: n - s.count)
    }
    private func lpad(_ s: String, _ n: Int) -> String {
        s.count >= n ? s : String(repeating: " ", count: n - s.count) + s
    }
    private func trimRight(_ s: String) -> String {
        var s = s
        while s.hasSuffix(" ") { s.removeLast() }
        return s
    }
}
