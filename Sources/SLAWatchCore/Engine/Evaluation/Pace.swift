import Foundation

/// Pace of cumulative targets within their calendar period.
extension Engine {
    /// Pace of a cumulative target: once `min_elapsed` of the period has passed, the count so
    /// far is projected to the period end (`value / elapsed`); a projection below the baseline
    /// writes "pace at risk" (once, until the pace recovers or the period ends), a recovery
    /// "back on pace".
    mutating func checkPace(_ i: Int, now: Double, into out: inout [Transition]) {
        let o = table.objectives[i]
        guard let rule = o.pace, let periods = table.windows[i].periods else { return }
        let period = table.windows[i].period(containing: now)
        var st = table.states[i]
        if st.pacePeriod != Int64(period.start) {
            st.pacePeriod = Int64(period.start)
            st.paceAtRisk = false
        }
        let f = rule.elapsed(start: period.start, end: period.end, now: now, periods: periods)
        if f >= rule.minElapsed && f < 1 {
            let value = o.sliValue(table.windows[i].aggregate(at: now), seconds: now - period.start) ?? 0
            let baseline = o.baseline.value
            let projection = value / f
            let atRisk = o.isBad(projection, baseline: baseline)
            if atRisk != (st.paceAtRisk ?? false) {
                out.append(
                    .of(
                        .init(atRisk ? .paceAtRisk : .paceOnTrack, from: st.state, to: st.state, episode: st.episode),
                        objective: o.name,
                        at: now,
                        value: value,
                        baseline: baseline,
                        period: (period.start, period.end),
                        detail: .pace(.init(expected: baseline * f, projection: projection, elapsed: f))
                    )
                )
                st.paceAtRisk = atRisk
            }
        }
        if st != table.states[i] {
            table.states[i] = st
            dirty.insert(i)
        }
    }
}
