import Foundation

/// Adaptive baselines: the SLI's own history per season slot.
extension Engine {
    /// Adaptive baselines: records the SLI at every `every` boundary since the last sample (at
    /// most `periods × slots` of them after a long gap), then sets the baseline in force now
    /// from the history of the current slot.
    mutating func learn(_ i: Int, _ rule: AdaptiveRule, now: Double) {
        let o = table.objectives[i]
        var st = table.states[i]
        let zone = table.windows[i].periods?.timeZone ?? TimeZone(identifier: "UTC")!
        let k = Int64((now / rule.every).rounded(.down))
        var history = st.history ?? [:]
        let nearest = (now / rule.every).rounded() * rule.every
        // The baseline moves only with new samples or a new nearest boundary.
        if st.lastSample == k, adaptiveComputedAt[i] == nearest { return }
        if let last = st.lastSample, last < k {
            let slots: Int64 =
                rule.season == .hourOfWeek ? 168 : rule.season == .hourOfDay ? 24 : rule.season == .dayOfWeek ? 7 : 1
            let first = max(last + 1, k - Int64(rule.periods) * slots)
            for b in first...k {
                let boundary = Double(b) * rule.every
                let agg = table.windows[i].aggregate(at: boundary)
                let span = table.windows[i].period(containing: boundary)
                let seconds: Double
                if case .calendar = o.window {
                    seconds = boundary - span.start
                } else {
                    seconds = span.end - span.start
                }
                guard let v = o.sliValue(agg, seconds: seconds) else { continue }
                let slot = rule.slot(boundary - rule.every / 2, zone: zone)
                var h = history[slot] ?? []
                h.append(v)
                if h.count > rule.periods { h.removeFirst(h.count - rule.periods) }
                history[slot] = h
            }
        }
        st.lastSample = k
        st.history = history
        // The window judged now is compared with the windows that ended at the nearest boundary
        // in earlier seasons.
        adaptiveComputedAt[i] = nearest
        let (current, season) = rule.baseline(
            history,
            slot: rule.slot(nearest - rule.every / 2, zone: zone),
            direction: o.direction
        )
        st.baselineSeason = season?.rawValue
        if current != st.baselineValue {
            st.baselineValue = current
            st.baselineSince = now
        }
        if st != table.states[i] {
            table.states[i] = st
            dirty.insert(i)
        }
    }
}
