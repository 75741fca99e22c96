/// Constant journal `MESSAGE_ID`s, one per kind of entry (generated once with
/// `systemd-id128 new`; systemd.journal-fields(7): 128-bit, lowercase hex, no dashes).
public enum MessageID {
    /// An objective breached its baseline.
    public static let breach = "4f7c0a6d9b2e4d1c8a3f5e6b7c8d9e01"
    /// A breached objective is back on the good side.
    public static let recovery = "a1b2c3d4e5f64718293a4b5c6d7e8f02"
    /// An objective's window holds no event.
    public static let nodata = "5d3e9f1a2b4c4e6f8a0b1c2d3e4f5a03"
    /// An objective went bad and waits for `for:`.
    public static let pending = "9c8b7a6f5e4d4c3b2a1f0e9d8c7b6a04"
    /// A pending objective went good before breaching.
    public static let pendingCleared = "1e2d3c4b5a694877a6b5c4d3e2f1a005"
    /// Data arrived again for an objective in `nodata` with no open episode.
    public static let dataResumed = "7b6a5f4e3d2c4b1a9f8e7d6c5b4a3f06"
    /// A cumulative calendar period closed: met or missed.
    public static let periodResult = "2c4e6a8b0d1f4e3a5c7b9d1f3e5a7c07"
    /// A drop file or socket line was rejected (summary).
    public static let inputRejected = "6e8d0c2b4a694f1e8d7c6b5a4f3e2d08"
    /// A drop file was ingested.
    public static let fileIngested = "3a5c7e9b1d2f4a6c8e0b2d4f6a8c0e09"
    /// A drop file could not be read at all.
    public static let fileFailed = "8f1e2d3c4b5a4968a7b6c5d4e3f2a10a"
    /// The daemon started (with what it restored).
    public static let started = "0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b0b"
    /// Writing a snapshot to the store failed.
    public static let storeFailure = "b5a4f3e2d1c04b9a8f7e6d5c4b3a2f0c"
    /// Journal entries were dropped because the writer queue was full (summary with count).
    public static let journalDropped = "e4d3c2b1a0f94e8d7c6b5a4f3e2d1c0d"

    /// The id for a transition kind.
    public static func of(_ kind: TransitionKind) -> String {
        switch kind {
        case .breach: return breach
        case .recovery: return recovery
        case .nodata: return nodata
        case .pending: return pending
        case .pendingCleared: return pendingCleared
        case .dataResumed: return dataResumed
        case .periodResult: return periodResult
        }
    }
}

/// Renders a transition as a journal entry: a sentence for `MESSAGE` plus structured
/// `SLAWATCH_*` fields (design §3 "Journal"). Pure; the shell sends the fields.
public enum AlertEntry {
    /// Formats a number for people: integers without decimals, others with up to 3 decimals.
    public static func number(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        var s = String(format3: v)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }

    /// The journal priority of a transition: breaches and missed periods use the objective's
    /// severity, nodata `warning` (or the severity if more urgent), recoveries `notice`, the rest
    /// `info`.
    public static func priority(_ t: Transition, _ o: Objective) -> Int {
        switch t.kind {
        case .breach: return o.severity.rawValue
        case .periodResult: return t.met == true ? Severity.notice.rawValue : o.severity.rawValue
        case .nodata: return min(o.severity.rawValue, Severity.warning.rawValue)
        case .recovery: return Severity.notice.rawValue
        case .pending, .pendingCleared, .dataResumed: return Severity.info.rawValue
        }
    }

    /// Describes the window judged: "this month", "over the last 5m", "in month 2026-10".
    static func windowPhrase(_ t: Transition, _ o: Objective) -> String {
        switch o.window {
        case .rolling(let s): return "over the last \(DurationText.format(Double(s)))"
        case .calendar(let unit):
            if t.kind == .periodResult || o.isCumulative {
                return "in the \(unit.rawValue) starting \(localDate(t.periodStart, o.timeZone))"
            }
            return "this \(unit.rawValue)"
        }
    }

    /// The `MESSAGE=` sentence, e.g. "qualified-leads-monthly breached: 42 leads in the month
    /// starting 2026-10-01, baseline at least 100 (marketing → sales)".
    public static func message(_ t: Transition, _ o: Objective) -> String {
        let what = o.unit ?? o.sli.rawValue
        let valueText = t.value.map { "\(number($0)) \(what)" } ?? "no data"
        let tail =
            "\(valueText) \(windowPhrase(t, o)), baseline \(o.direction.phrase) \(number(t.baseline)) (\(o.sla.provider) → \(o.sla.customer))"
        switch t.kind {
        case .breach: return "\(o.name) breached: \(tail)"
        case .recovery: return "\(o.name) recovered: \(tail)"
        case .nodata:
            return
                "\(o.name) has no data: no \(o.metric) events \(windowPhrase(t, o)) (\(o.sla.provider) → \(o.sla.customer))"
        case .pending: return "\(o.name) pending (breach after \(DurationText.format(o.forSeconds))): \(tail)"
        case .pendingCleared: return "\(o.name) back to ok before breaching: \(tail)"
        case .dataResumed: return "\(o.name) has data again: \(tail)"
        case .periodResult: return "\(o.name) \(t.met == true ? "met" : "missed") its target: \(tail)"
        }
    }

    /// All fields of the entry, in a fixed order, names valid for journald
    /// (`[A-Z][A-Z0-9_]{0,63}`). `extra` is appended (e.g. a test run id).
    public static func fields(_ t: Transition, _ o: Objective, extra: [(String, String)] = []) -> [(String, String)] {
        var f: [(String, String)] = [
            ("MESSAGE", message(t, o)),
            ("MESSAGE_ID", MessageID.of(t.kind)),
            ("PRIORITY", String(priority(t, o))),
            ("SYSLOG_IDENTIFIER", "slawatch"),
            ("SLAWATCH_OBJECTIVE", o.name),
            ("SLAWATCH_SLA", o.sla.name),
            ("SLAWATCH_PROVIDER", o.sla.provider),
            ("SLAWATCH_CUSTOMER", o.sla.customer),
            ("SLAWATCH_INSTANCE", o.name),
            ("SLAWATCH_STATE", t.to.rawValue),
            ("SLAWATCH_PREVIOUS_STATE", t.from.rawValue),
            ("SLAWATCH_VALUE", t.value.map(number) ?? ""),
            ("SLAWATCH_BASELINE", number(t.baseline)),
            ("SLAWATCH_BASELINE_KIND", o.baseline.kind.rawValue),
            ("SLAWATCH_BASELINE_SOURCE", o.baseline.source),
            ("SLAWATCH_DIRECTION", o.direction.rawValue),
            ("SLAWATCH_SLI", o.sli.rawValue),
            ("SLAWATCH_METRIC", o.metric),
            ("SLAWATCH_WINDOW", o.window.description),
            ("SLAWATCH_WINDOW_START", RFC3339.format(t.periodStart)),
            ("SLAWATCH_WINDOW_END", RFC3339.format(t.periodEnd)),
            ("SLAWATCH_EPISODE", t.episode ?? ""),
            ("SLAWATCH_TRANSITION", t.kind.rawValue),
        ]
        if let met = t.met { f.append(("SLAWATCH_RESULT", met ? "met" : "missed")) }
        f.append(contentsOf: extra)
        return f
    }

    static func localDate(_ t: Double, _ zone: String) -> String {
        guard let periods = CalendarPeriods(timeZoneIdentifier: zone) else { return RFC3339.format(t) }
        let offset = Double(periods.timeZone.secondsFromGMT(for: .init(timeIntervalSince1970: t)))
        return String(RFC3339.format(t + offset).prefix(10))
    }
}

extension String {
    init(format3 v: Double) {
        let scaled = (v * 1000).rounded()
        let neg = scaled < 0
        let a = abs(scaled)
        let whole = Int64(a / 1000)
        let frac = Int64(a.truncatingRemainder(dividingBy: 1000))
        let fracText = String(frac)
        self = (neg ? "-" : "") + "\(whole)." + String(repeating: "0", count: 3 - fracText.count) + fracText
    }
}
