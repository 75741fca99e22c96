/// Constant journal `MESSAGE_ID`s, one per kind of entry (generated once with
/// `systemd-id128 new`; systemd.journal-fields(7): 128-bit, lowercase hex, no dashes).
public enum MessageID {
    /// An objective breached its baseline.
    public static let breach = "d03b73f39f6845398b064ba39a9de3d1"
    /// A breached objective is back on the good side.
    public static let recovery = "d8228992dbe54767b191bfba707d39b9"
    /// An objective's window holds no event.
    public static let nodata = "ca4aa3bcfad54dbe9619ed80c4b3981a"
    /// An objective went bad and waits for `for:`.
    public static let pending = "16e1436a36eb442b87335f426ad01a01"
    /// A pending objective went good before breaching.
    public static let pendingCleared = "6dd6a40805784ba9829b3657ac9001a0"
    /// Data arrived again for an objective in `nodata` with no open episode.
    public static let dataResumed = "02b1daf99f2e4736afc92bc3e0e81bd9"
    /// A cumulative calendar period closed: met or missed.
    public static let periodResult = "44b623953a8a43d48c76776e689f0483"
    /// A drop file or socket line was rejected (summary).
    public static let inputRejected = "79b212cc2e7e410bbedad7cf51a58315"
    /// A drop file was ingested.
    public static let fileIngested = "586bccbbb66644bbb3e8882b5d7ae612"
    /// A drop file could not be read at all.
    public static let fileFailed = "ff40387b0c2040e38a555351235daede"
    /// The daemon started (with what it restored).
    public static let started = "93b48843133d463e9754cfea9831d5f5"
    /// `max_series` refused a new gauge or cumulative series (once per run).
    public static let seriesLimit = "94f91916f427446e8283436205c832f4"
    /// The daemon stopped, and why (SIGTERM, SIGINT, a fatal error); pairs with `started`.
    public static let stopped = "02114f350b4a4ed9b2b5a8b06af8de9a"
    /// Writing a snapshot to the store failed.
    public static let storeFailure = "75fc0dcc855349e8b41df840901c8b18"
    /// Journal entries were dropped because the writer queue was full (summary with count).
    public static let journalDropped = "730668d3285d42d4aa05cd4dbfe7004c"
    /// SIGHUP: the new configuration was applied (what changed).
    public static let configReloaded = "7056babaefa64f879a1c0b82f1267034"
    /// SIGHUP: the new configuration was refused (file, line, reason); the old one stays.
    public static let configRefused = "3e0b4609f0a0413c9a3da8065e0d80e0"
    /// An alert storm: transitions beyond `max_alerts_per_minute` were counted, not written.
    public static let alertsSuppressed = "b9b5dace85a74ab3bbe58df0d06b4d4d"
    /// A cumulative target is off pace for its period.
    public static let paceAtRisk = "9191729741074ed5928929b05d2d856e"
    /// A cumulative target is back on pace.
    public static let paceOnTrack = "32122f71d0e14a9283b3ac2ce97fa1f2"
    /// A burn-rate alert fired on a ratio objective's error budget.
    public static let burnRate = "585073d3c61d4010a292b182eb743540"
    /// A burn-rate alert stopped.
    public static let burnRateResolved = "b56b49f32cba446da144563220cd031f"
    /// A `group_by` objective reached `max_instances`.
    public static let instanceLimit = "3bf8bbc29b844704b59372de030e2cff"

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
        case .paceAtRisk: return paceAtRisk
        case .paceOnTrack: return paceOnTrack
        case .burnRate: return burnRate
        case .burnRateResolved: return burnRateResolved
        case .instanceLimit: return instanceLimit
        }
    }
}

/// Renders a transition as a journal entry: a sentence for `MESSAGE` plus structured
/// `SLAWATCH_*` fields (design §3 "Journal"). Pure; the shell sends the fields.
public enum AlertEntry {
    /// Formats a number for people: integers without decimals, others with up to 3 decimals.
    public static func number(_ v: Double) -> String {
        if !v.isFinite { return v.isNaN ? "NaN" : (v < 0 ? "-Inf" : "+Inf") }
        if abs(v) >= 1e15 || (abs(v) < 1e-3 && v != 0) { return "\(v)" }
        if v == v.rounded() { return String(Int64(v)) }
        var s = String(format3: v)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }

    /// A value of an SLI as people read it: a ratio as a percentage (`0.995` → `99.5 %`, with
    /// up to three decimals), anything else as `number(_:)` followed by `unit` when given.
    public static func value(_ v: Double, sli: SLIKind, unit: String? = nil) -> String {
        if sli == .ratio && v.isFinite { return "\(number(v * 100)) %" }
        return unit.map { "\(number(v)) \($0)" } ?? number(v)
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
        case .pending, .pendingCleared, .dataResumed, .paceOnTrack: return Severity.info.rawValue
        case .paceAtRisk: return max(o.severity.rawValue, Severity.warning.rawValue)
        case .burnRate: return (t.burn?.rule.severity ?? o.severity).rawValue
        case .burnRateResolved: return Severity.notice.rawValue
        case .instanceLimit: return Severity.warning.rawValue
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
        let valueText = t.value.map { value($0, sli: o.sli, unit: o.unit ?? o.sli.rawValue) } ?? "no data"
        let baselineText = value(t.baseline, sli: o.sli)
        let tail =
            "\(valueText) \(windowPhrase(t, o)), baseline \(o.direction.phrase) \(baselineText) (\(o.sla.provider) → \(o.sla.customer))"
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
        case .instanceLimit:
            return
                "\(o.name) reached max_instances (\(number(t.baseline))): events for \(t.refusedInstance ?? "a new label value") and any further new \(o.groupBy.joined(separator: ", ")) are refused (\(o.sla.provider) → \(o.sla.customer))"
        case .burnRate, .burnRateResolved:
            let b = t.burn ?? (BurnRateRule(factor: 0, long: 0, short: 0), 0, 0)
            let long = DurationText.format(Double(b.rule.long))
            let short = DurationText.format(Double(b.rule.short))
            let rates = "\(number(b.long))× over \(long) and \(number(b.short))× over \(short)"
            if t.kind == .burnRateResolved {
                return
                    "\(o.name) burn-rate alert \(b.rule.id) stopped: \(rates) (\(o.sla.provider) → \(o.sla.customer))"
            }
            var lasts = ""
            if case .rolling(let w) = o.window, b.long > 0 {
                lasts =
                    "; at this rate the \(DurationText.format(Double(w))) budget lasts \(DurationText.format((Double(w) / b.long).rounded()))"
            }
            return
                "\(o.name) is burning its error budget \(rates) (alert at \(number(b.rule.factor))×)\(lasts) (\(o.sla.provider) → \(o.sla.customer))"
        case .paceAtRisk, .paceOnTrack:
            let p = t.pace ?? (0, 0, 0)
            let head = t.kind == .paceAtRisk ? "is off pace" : "is back on pace"
            return
                "\(o.name) \(head): \(valueText) so far \(windowPhrase(t, o)), \(number(p.expected)) expected by now "
                + "(\(Int((p.elapsed * 100).rounded()))% of the period), on track for \(number(p.projection)); "
                + "baseline \(o.direction.phrase) \(number(t.baseline)) (\(o.sla.provider) → \(o.sla.customer))"
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
            ("SLAWATCH_OBJECTIVE", o.instanceOf?.objective ?? o.name),
            ("SLAWATCH_SLA", o.sla.name),
            ("SLAWATCH_PROVIDER", o.sla.provider),
            ("SLAWATCH_CUSTOMER", o.sla.customer),
            ("SLAWATCH_INSTANCE", o.instanceOf?.key ?? o.name),
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
        if let since = t.baselineSince { f.append(("SLAWATCH_BASELINE_SINCE", RFC3339.format(since))) }
        if t.kind == .instanceLimit {
            f.append(("SLAWATCH_MAX_INSTANCES", number(t.baseline)))
            f.append(("SLAWATCH_REFUSED_INSTANCE", t.refusedInstance ?? ""))
        }
        if let b = t.burn {
            f.append(("SLAWATCH_BURN_RULE", b.rule.id))
            f.append(("SLAWATCH_BURN_FACTOR", number(b.rule.factor)))
            f.append(("SLAWATCH_BURN_RATE_LONG", number(b.long)))
            f.append(("SLAWATCH_BURN_RATE_SHORT", number(b.short)))
        }
        if let p = t.pace {
            f.append(("SLAWATCH_EXPECTED", number(p.expected)))
            f.append(("SLAWATCH_PROJECTION", number(p.projection)))
            f.append(("SLAWATCH_ELAPSED", number(p.elapsed)))
        }
        if let e = t.errorBudget {
            f.append(("SLAWATCH_ERROR_BUDGET", number(e.budget)))
            f.append(("SLAWATCH_BUDGET_REMAINING", number(e.remaining)))
            f.append(("SLAWATCH_BURN_RATE", number(e.burnRate)))
        }
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
