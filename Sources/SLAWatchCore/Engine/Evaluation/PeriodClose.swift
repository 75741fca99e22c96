import Foundation

/// Period verdicts of cumulative targets when their calendar period closes.
extension Engine {
    mutating func evaluateCumulative(_ i: Int, now: Double, into out: inout [Transition]) {
        let o = table.objectives[i]
        let current = table.windows[i].period(containing: now)
        table.lastValues[i] = o.sliValue(table.windows[i].aggregate(at: now), seconds: now - current.start) ?? 0
        var st = table.states[i]
        guard let tracked = st.trackedPeriodStart else {
            st.trackedPeriodStart = Int64(current.start)
            st.since = now
            table.states[i] = st
            dirty.insert(i)
            return
        }
        let trackedPeriod = table.windows[i].period(containing: Double(tracked))
        guard Double(tracked) < current.start, now >= trackedPeriod.end + o.lateTolerance else { return }
        let value = o.sliValue(table.windows[i].aggregate(periodStarting: tracked), seconds: 0) ?? 0
        let baseline = baselineInForce(i) ?? o.baseline.value
        let met = !o.isBad(value, baseline: baseline)
        for a in st.alert.judgePeriod(met: met, now: now) {
            out.append(
                .of(
                    a,
                    objective: o.name,
                    at: now,
                    value: value,
                    baseline: baseline,
                    period: (trackedPeriod.start, trackedPeriod.end),
                    met: a.kind == .periodResult ? met : nil
                )
            )
        }
        // Periods between the tracked one and the current one had no evaluation (the daemon was
        // down); they are skipped, not judged.
        st.trackedPeriodStart = Int64(current.start)
        table.windows[i].close(before: Int64(current.start))
        table.states[i] = st
        dirty.insert(i)
    }
}
