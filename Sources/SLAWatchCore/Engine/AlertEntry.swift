import Foundation

/// Renders a transition as a journal entry: a sentence for `MESSAGE` plus structured
/// `SLAWATCH_*` fields (design §3 "Journal"). Pure; the shell sends the fields.
public enum AlertEntry {
    /// `NumberText.format(_:)` (kept for callers of the entry renderer).
    public static func number(_ v: Double) -> String { NumberText.format(v) }

    /// `NumberText.value(_:sli:unit:)`.
    public static func value(_ v: Double, sli: SLIKind, unit: String? = nil) -> String {
        NumberText.value(v, sli: sli, unit: unit)
    }

    /// The journal priority of a transition: breaches and missed periods use the objective's
    /// severity, nodata `warning` (or the severity if more urgent), recoveries `notice`, the rest
    /// `info`.
    public static func priority(_ t: Transition, _ o: Objective) -> Int {
        switch t.kind {
        case .breach: return o.severity.rawValue
        case .periodResult: return t.met == true ? Severity.notice.rawValue : o.severity.rawValue
        case .periodReport:
            return t.met == false ? max(o.severity.rawValue, Severity.warning.rawValue) : Severity.notice.rawValue
        case .nodata: return min(o.severity.rawValue, Severity.warning.rawValue)
        case .recovery: return Severity.notice.rawValue
        case .pending, .pendingCleared, .dataResumed, .paceOnTrack: return Severity.info.rawValue
        case .paceAtRisk: return max(o.severity.rawValue, Severity.warning.rawValue)
        case .burnRate: return (t.burn?.rule.severity ?? o.severity).rawValue
        case .burnRateResolved: return Severity.notice.rawValue
        case .instanceLimit, .ratioInvalid: return Severity.warning.rawValue
        case .maintenanceStarted, .maintenanceEnded, .inhibitionEnded: return Severity.notice.rawValue
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
        let sentence = baseMessage(t, o)
        guard let c = t.creditOutcome(o) else { return sentence }
        var s = sentence + "; " + c.phrase
        if let text = c.consequence { s += "; \(text)" }
        if let text = c.escalation { s += "; escalate to \(text)" }
        return s
    }

    /// `message(_:_:)` without the period's consequences.
    static func baseMessage(_ t: Transition, _ o: Objective) -> String {
        let valueText = t.value.map { value($0, sli: o.sli, unit: o.unit ?? o.sli.rawValue) } ?? "no data"
        let baselineText = value(t.baseline, sli: o.sli)
        let tail =
            "\(valueText) \(windowPhrase(t, o)), baseline \(o.direction.phrase) \(baselineText) (\(o.sla.provider) → \(o.sla.customer))"
        switch t.kind {
        case .breach:
            if let r = t.released {
                return
                    "\(o.name) breached (since \(RFC3339.format(r.since)), inhibited while \(r.by) was breached): \(tail)"
            }
            return "\(o.name) breached: \(tail)"
        case .inhibitionEnded:
            let i = t.inhibition ?? (0, [])
            var s =
                "\(o.name) recovered: \(i.count) entr\(i.count == 1 ? "y" : "ies") of the SLA levels inheriting it were inhibited while it was breached"
            if !i.stillBreached.isEmpty { s += "; still breached: \(i.stillBreached.joined(separator: ", "))" }
            return s + " (\(o.sla.provider) → \(o.sla.customer))"
        case .recovery: return "\(o.name) recovered: \(tail)"
        case .nodata:
            return
                "\(o.name) has no data: no \(o.metric) events \(windowPhrase(t, o)) (\(o.sla.provider) → \(o.sla.customer))"
        case .pending: return "\(o.name) pending (breach after \(DurationText.format(o.forSeconds))): \(tail)"
        case .pendingCleared: return "\(o.name) back to ok before breaching: \(tail)"
        case .ratioInvalid:
            let c = t.counts ?? (0, 0)
            return
                "\(o.name) cannot be judged: its window holds \(number(c.good)) good events but only \(number(c.total)) in all \(windowPhrase(t, o)); good and total come from different producers, or good events arrived that total never counted (\(o.sla.provider) → \(o.sla.customer))"
        case .dataResumed:
            // Back inside an open breach episode (still bad, or good but not yet recovered).
            if t.to == .breached { return "\(o.name) has data again, its breach goes on: \(tail)" }
            return "\(o.name) has data again: \(tail)"
        case .maintenanceStarted:
            return
                "\(o.name) maintenance started: \(t.maintenanceReason ?? "announced maintenance") until \(RFC3339.format(t.periodEnd)); not judged, its time and events excluded (\(o.sla.provider) → \(o.sla.customer))"
        case .maintenanceEnded:
            return
                "\(o.name) maintenance ended: \(t.maintenanceReason ?? "announced maintenance"); judged again (\(o.sla.provider) → \(o.sla.customer))"
        case .periodResult: return "\(o.name) \(t.met == true ? "met" : "missed") its target: \(tail)"
        case .periodReport:
            let r = t.report ?? PeriodTally(unit: .month, start: t.periodStart, end: t.periodEnd, from: t.periodStart)
            let name = PeriodReport.label(
                start: r.start,
                end: r.end,
                zone: CalendarPeriods(timeZoneIdentifier: o.timeZone)?.timeZone ?? TimeZone(identifier: "UTC")!
            )
            let verdict = t.met.map { $0 ? "met" : "missed" } ?? "not judged (no data)"
            guard let c = r.compliance else {
                return "\(o.name) \(r.unit.rawValue) \(name): \(verdict) (\(o.sla.provider) → \(o.sla.customer))"
            }
            let target = o.sla.complianceTarget.map { " (target \(number($0 * 100))%)" } ?? ""
            var s =
                "\(o.name) \(r.unit.rawValue) \(name) \(verdict): met \(number((c * 100_000).rounded() / 1000))% of the time\(target), \(DurationText.format(r.breached.rounded())) in breach over \(r.episodes) episode(s)"
            if r.excluded > 0 {
                s += ", \(DurationText.format(r.excluded.rounded())) excluded (outside service hours or in maintenance)"
            }
            if let c = t.counts, let b = t.errorBudget(o.direction) {
                let bad = Transition.badEvents(total: c.total, good: c.good, direction: o.direction)
                s += "; \(number(bad)) of \(number(c.total)) events bad"
                if b.budget > 0 { s += ", \(number((bad / b.budget * 1000).rounded() / 10))% of the error budget used" }
            }
            if let w = r.worstValue, let b = r.worstBaseline, let at = r.worstAt {
                s +=
                    "; worst \(value(w, sli: o.sli, unit: o.unit ?? o.sli.rawValue)) against \(o.direction.phrase) \(value(b, sli: o.sli)) at \(RFC3339.format(at))"
            }
            return s + " (\(o.sla.provider) → \(o.sla.customer))"
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

    /// The journal entry of transition `t` of objective `o`: `MESSAGE_ID` per kind, the
    /// priority of `priority(_:_:)`, the sentence of `message(_:_:)` and every `SLAWATCH_*`
    /// field in a fixed order (names valid for journald). `extra` is appended (e.g. a test run
    /// id).
    public static func entry(_ t: Transition, _ o: Objective, extra: [(String, String)] = []) -> JournalEntry {
        var e = JournalEntry(
            MessageID.of(t.kind),
            priority: Severity(rawValue: priority(t, o)) ?? .info,
            message: message(t, o),
            fields: [
                "SLAWATCH_OBJECTIVE": o.instanceOf?.objective ?? o.name,
                "SLAWATCH_SLA": o.sla.name,
                "SLAWATCH_PROVIDER": o.sla.provider,
                "SLAWATCH_CUSTOMER": o.sla.customer,
                "SLAWATCH_INSTANCE": o.instanceOf?.key ?? o.name,
                "SLAWATCH_STATE": t.to.rawValue,
                "SLAWATCH_PREVIOUS_STATE": t.from.rawValue,
                "SLAWATCH_VALUE": t.value.map(number) ?? "",
                "SLAWATCH_BASELINE": number(t.baseline),
                "SLAWATCH_BASELINE_KIND": o.baseline.kind.rawValue,
                "SLAWATCH_BASELINE_SOURCE": o.baseline.source,
                "SLAWATCH_DIRECTION": o.direction.rawValue,
                "SLAWATCH_SLI": o.sli.rawValue,
                "SLAWATCH_METRIC": o.metric,
                "SLAWATCH_WINDOW": o.window.description,
                "SLAWATCH_WINDOW_START": RFC3339.format(t.periodStart),
                "SLAWATCH_WINDOW_END": RFC3339.format(t.periodEnd),
                "SLAWATCH_EPISODE": t.episode ?? "",
                .transition: t.kind.rawValue,
            ],
            transition: t.kind
        )
        if let met = t.met { e.append("SLAWATCH_RESULT", met ? "met" : "missed") }
        if let since = t.baselineSince { e.append("SLAWATCH_BASELINE_SINCE", RFC3339.format(since)) }
        if let season = t.baselineSeason { e.append("SLAWATCH_BASELINE_SEASON", season) }
        if t.kind == .instanceLimit {
            e.append("SLAWATCH_MAX_INSTANCES", number(t.baseline))
            e.append("SLAWATCH_REFUSED_INSTANCE", t.refusedInstance ?? "")
        }
        if let b = t.burn {
            e.append("SLAWATCH_BURN_RULE", b.rule.id)
            e.append("SLAWATCH_BURN_FACTOR", number(b.rule.factor))
            e.append("SLAWATCH_BURN_RATE_LONG", number(b.long))
            e.append("SLAWATCH_BURN_RATE_SHORT", number(b.short))
        }
        if let p = t.pace {
            e.append("SLAWATCH_EXPECTED", number(p.expected))
            e.append("SLAWATCH_PROJECTION", number(p.projection))
            e.append("SLAWATCH_ELAPSED", number(p.elapsed))
        }
        if let r = t.report {
            e.append("SLAWATCH_PERIOD", r.unit.rawValue)
            e.append("SLAWATCH_COMPLIANCE", r.compliance.map(number) ?? "")
            e.append("SLAWATCH_TIME_MET", number(r.met.rounded()))
            e.append("SLAWATCH_TIME_IN_BREACH", number(r.breached.rounded()))
            e.append("SLAWATCH_TIME_UNJUDGED", number(r.unjudged.rounded()))
            if r.excluded > 0 { e.append("SLAWATCH_TIME_EXCLUDED", number(r.excluded.rounded())) }
            e.append("SLAWATCH_EPISODES", String(r.episodes))
            if let w = r.worstValue, let b = r.worstBaseline, let at = r.worstAt {
                e.append("SLAWATCH_WORST_VALUE", number(w))
                e.append("SLAWATCH_WORST_BASELINE", number(b))
                e.append("SLAWATCH_WORST_AT", RFC3339.format(at))
            }
            if let target = o.sla.complianceTarget { e.append("SLAWATCH_COMPLIANCE_TARGET", number(target)) }
        }
        if t.kind == .ratioInvalid, let c = t.counts {
            e.append("SLAWATCH_GOOD_EVENTS", number(c.good))
            e.append("SLAWATCH_TOTAL_EVENTS", number(c.total))
        }
        if t.kind == .periodReport, let c = t.counts {
            e.append("SLAWATCH_GOOD_EVENTS", number(c.good))
            e.append("SLAWATCH_TOTAL_EVENTS", number(c.total))
        }
        if t.kind != .ratioInvalid, let b = t.errorBudget(o.direction) {
            e.append("SLAWATCH_ERROR_BUDGET", number(b.budget))
            e.append("SLAWATCH_BUDGET_REMAINING", number(b.remaining))
            // Unbounded (a bad event against a target that allows none): the field says so.
            e.append("SLAWATCH_BURN_RATE", b.burnRate.map(number) ?? "inf")
        }
        if let reason = t.maintenanceReason {
            e.append("SLAWATCH_MAINTENANCE_REASON", reason)
        }
        if let i = t.inhibition {
            e.append("SLAWATCH_INHIBITED", String(i.count))
            e.append("SLAWATCH_STILL_BREACHED", i.stillBreached.joined(separator: ","))
        }
        if let r = t.released {
            e.append("SLAWATCH_INHIBITED_BY", r.by)
            e.append("SLAWATCH_BREACHED_SINCE", RFC3339.format(r.since))
        }
        if let c = t.creditOutcome(o) {
            e.append("SLAWATCH_CREDIT", number(c.credit))
            if let a = c.amount { e.append("SLAWATCH_CREDIT_AMOUNT", number((a * 100).rounded() / 100)) }
            if let cur = c.currency { e.append("SLAWATCH_CREDIT_CURRENCY", cur) }
            e.append("SLAWATCH_CREDIT_READING", c.reading.rawValue)
            if let text = c.consequence { e.append("SLAWATCH_CONSEQUENCE", text) }
            if let text = c.escalation { e.append("SLAWATCH_ESCALATION", text) }
        }
        for (name, value) in extra { e.append(JournalField(rawValue: name), value) }
        return e
    }

    /// `entry(t, o, extra:)` rendered as journald's pairs (`JournalEntry.journalFields`).
    public static func fields(_ t: Transition, _ o: Objective, extra: [(String, String)] = []) -> [(String, String)] {
        entry(t, o, extra: extra).journalFields
    }

    static func localDate(_ t: Double, _ zone: String) -> String {
        guard let periods = CalendarPeriods(timeZoneIdentifier: zone) else { return RFC3339.format(t) }
        let offset = Double(periods.timeZone.secondsFromGMT(for: .init(timeIntervalSince1970: t)))
        return String(RFC3339.format(t + offset).prefix(10))
    }
}
