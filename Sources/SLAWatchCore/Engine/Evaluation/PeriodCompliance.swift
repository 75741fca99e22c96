import Foundation

/// Report periods of objectives judged continuously: compliance, time in breach, episodes and
/// the worst moment per calendar period of the SLA's `report_periods` (docs/reports.md).
extension Engine {
    /// Accounts instance `i`'s evaluation at `now` into its report periods: the time since the
    /// last state change goes to the state it was in (`previous`) when the state changes or a
    /// period ends, or when it starts or stops being judged (time while its baseline is untrusted,
    /// an adaptive one still learning or a young window's, is not judged); a breach action opens an episode; a value further on the bad side of its
    /// baseline than any before is the worst moment. A period that ended is closed into a
    /// `period_report` transition and the next one starts; periods that passed while the daemon
    /// was down are not reported, and their time is not counted. Changes the tallies only at
    /// state changes, period ends and new worst moments, so a steady instance is not rewritten
    /// at every evaluation.
    mutating func tallyReportPeriods(
        _ i: Int,
        state st: inout InstanceState,
        previous: AlertState,
        value: Double?,
        baseline: Double?,
        breaches: Int,
        inService: Bool = true,
        now: Double,
        into out: inout [Transition]
    ) {
        let shared = table.shared[i]
        let units = shared.objective.sla.reportPeriods
        if units.isEmpty {
            if st.tallies != nil { st.tallies = nil }
            return
        }
        var tallies = st.tallies ?? []
        if tallies.count != units.count || zip(tallies, units).contains(where: { $0.unit != $1 }) {
            // First evaluation, or report_periods changed: keep what matches, start the rest.
            tallies = units.compactMap { u in
                tallies.first { $0.unit == u } ?? newTally(shared.objective, u, at: now, from: now)
            }
        }
        for k in tallies.indices {
            var t = tallies[k]
            if now >= t.end {
                t.account(previous, until: t.end)
                sumRatioBuckets(i, into: &t, now: now, closing: true)
                var met = t.isMet(target: shared.objective.sla.complianceTarget)
                // A ratio objective's period is judged by its own events: good/total over the
                // period against the baseline (the error budget spent or not), not by time.
                if t.summedThrough != nil, t.total > 0 {
                    let ratio = t.good / t.total
                    let b = baseline ?? t.worstBaseline ?? shared.objective.baseline.value
                    met = shared.objective.direction == .atLeast ? ratio >= b : ratio <= b
                }
                out.append(
                    Transition(
                        objective: shared.objective.name,
                        kind: .periodReport,
                        from: previous,
                        to: previous,
                        at: now,
                        value: t.summedThrough != nil ? (t.total > 0 ? t.good / t.total : nil) : table.lastValues[i],
                        baseline: baseline ?? t.worstBaseline ?? shared.objective.baseline.value,
                        episode: nil,
                        periodStart: t.start,
                        periodEnd: t.end,
                        met: met,
                        detail: .periodReport(t)
                    )
                )
                guard var next = newTally(shared.objective, t.unit, at: now, from: nil) else { continue }
                next.judging = t.judging
                if case .calendar = shared.objective.window, shared.objective.sli == .ratio {
                    // The window's events seen so far belong to the closed period.
                    next.summedThrough = t.summedThrough
                    next.windowTotal = t.windowTotal
                    next.windowGood = t.windowGood
                    sumRatioBuckets(i, into: &next, now: now, closing: false)
                }
                t = next
            }
            // Judged now: a value against a trusted baseline (no data is a state of its own).
            let judging = value == nil || baseline != nil
            if st.state != previous || judging != t.judging || inService != t.inService {
                t.account(previous, until: now)
                t.judging = judging
                t.inService = inService
            }
            sumRatioBuckets(i, into: &t, now: now, closing: false)
            t.episodes += breaches
            if inService, let value, let baseline {
                let badness = shared.objective.direction == .atLeast ? baseline - value : value - baseline
                let worst = t.worstValue.flatMap { w in
                    t.worstBaseline.map { shared.objective.direction == .atLeast ? $0 - w : w - $0 }
                }
                if worst == nil || badness > worst! {
                    t.worstValue = value
                    t.worstBaseline = baseline
                    t.worstAt = now
                }
            }
            tallies[k] = t
        }
        if st.tallies != tallies { st.tallies = tallies }
    }

    /// Ratio objectives: adds the period's events to the tally's `total` and `good`.
    ///
    /// A rolling window: the events of the window's buckets that completed since the last call
    /// and start inside the tally's period (`closing`: every bucket starting before the period's
    /// end, complete or not). A calendar window (one bucket per period of its own): what its
    /// events grew by since the last evaluation (all of them when the window's period turned;
    /// at the tally's first sight, all when the window's period starts inside the tally's,
    /// else none), so events are put in report periods by evaluation time, to within one
    /// evaluation interval.
    mutating func sumRatioBuckets(_ i: Int, into t: inout PeriodTally, now: Double, closing: Bool) {
        guard table.objectives[i].sli == .ratio else { return }
        if case .calendar = table.objectives[i].window {
            let span = table.windows[i].period(containing: now)
            let a = table.windows[i].aggregate(at: now)
            let key = Int64(span.start)
            // A window period that starts after the tally's ends holds none of its events.
            if span.start >= t.end { return }
            if t.summedThrough == key {
                t.total += max(0, a.count - t.windowTotal)
                t.good += max(0, a.good - t.windowGood)
            } else if t.summedThrough != nil || span.start >= t.start {
                t.total += a.count
                t.good += a.good
            }
            t.summedThrough = key
            t.windowTotal = a.count
            t.windowGood = a.good
            return
        }
        let r = Double(table.windows[i].resolution)
        let first = Int64((t.start / r).rounded(.up))
        let lastInPeriod = Int64((t.end / r).rounded(.up)) - 1
        let complete = Int64((now / r).rounded(.down)) - 1
        let from = max(first, (t.summedThrough ?? first - 1) + 1)
        let through = closing ? lastInPeriod : min(lastInPeriod, complete)
        guard from <= through else {
            if t.summedThrough == nil { t.summedThrough = first - 1 }
            return
        }
        let a = table.windows[i].sum(from: from, through: through)
        t.total += a.count
        t.good += a.good
        t.summedThrough = through
    }

    /// The tally of the `unit` period holding `now` in `o`'s time zone, accounting from `from`
    /// (default: the period's start); `nil` for an unknown time zone.
    func newTally(_ o: Objective, _ unit: CalendarUnit, at now: Double, from: Double?) -> PeriodTally? {
        guard let periods = CalendarPeriods(timeZoneIdentifier: o.timeZone) else { return nil }
        let p = periods.period(unit, containing: now)
        var t = PeriodTally(unit: unit, start: p.start, end: p.end, from: max(p.start, from ?? p.start))
        // Before the instance's first evaluation nothing was judged.
        t.unjudged = t.accountedTo - p.start
        return t
    }
}
