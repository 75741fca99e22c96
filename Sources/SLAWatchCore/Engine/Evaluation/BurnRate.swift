import Foundation

/// Multi-window burn-rate alerts of ratio objectives.
extension Engine {
    /// The burn rate over a window's totals: `(bad / total) / allowed` (0 without events), bad
    /// events as `direction` reads them (`Transition.badEvents(total:good:direction:)`).
    static func burnRate(_ a: Aggregate, direction: Direction, allowed: Double) -> Double {
        a.count > 0 ? Transition.badEvents(total: a.count, good: a.good, direction: direction) / a.count / allowed : 0
    }

    /// Multi-window burn-rate alerts of ratio objective `i` (SRE workbook): the burn rate over a
    /// window is `(bad / total) / allowed bad share`, bad events and share as the objective's
    /// direction reads them (`Transition.errorBudget(total:good:target:direction:)`); a rule fires while both of its windows burn at
    /// least `factor` and the long one holds `min_events`, and stops when either drops below.
    mutating func evaluateBurn(_ i: Int, now: Double, into out: inout [Transition]) {
        let o = table.objectives[i]
        let allowed = Transition.allowedBadShare(target: o.baseline.value, direction: o.direction)
        guard let windowsOf = table.burnWindows[i], allowed > 0 else { return }
        var st = table.states[i]
        var firing = st.burnFiring ?? [:]
        for rule in o.burnRateAlerts {
            guard let l = windowsOf[rule.long], let s = windowsOf[rule.short] else { continue }
            let long = table.windows[l].aggregate(at: now)
            let short = table.windows[s].aggregate(at: now)
            // No valid SLI in either window (more good than total): nothing is judged.
            if Self.ratioIsInvalid(long) || Self.ratioIsInvalid(short) { continue }
            let bl = Self.burnRate(long, direction: o.direction, allowed: allowed)
            let bs = Self.burnRate(short, direction: o.direction, allowed: allowed)
            let fires = bl >= rule.factor && bs >= rule.factor && long.count >= Double(max(1, o.minEvents))
            let episode = firing[rule.id]
            guard fires != (episode != nil) else { continue }
            if fires { firing[rule.id] = st.alert.newEpisodeID(prefix: "burn-", now: now) }
            out.append(
                .of(
                    .init(
                        fires ? .burnRate : .burnRateResolved,
                        from: st.state,
                        to: st.state,
                        episode: firing[rule.id]
                    ),
                    objective: o.name,
                    at: now,
                    value: o.sliValue(long, seconds: Double(rule.long)),
                    baseline: o.baseline.value,
                    period: (now - Double(rule.long), now),
                    detail: .burn(
                        .init(rule: rule, long: bl, short: bs, counts: .init(total: long.count, good: long.good))
                    )
                )
            )
            if !fires { firing[rule.id] = nil }
        }
        st.burnFiring = firing.isEmpty ? nil : firing
        if st != table.states[i] {
            table.states[i] = st
            dirty.insert(i)
        }
    }
}
