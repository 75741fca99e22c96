import Foundation

/// Inhibition across SLA levels (Alertmanager's `inhibit_rules`, by level): while an objective
/// that lower levels inherit is breached, the breach and burn-rate entries of the objectives
/// inheriting it are not written (one problem, one page: the corporate level's), and are
/// counted; when it recovers, one `inhibition_ended` entry gives the count, and each inherited
/// instance still breached has its breach entry written then.
extension Engine {
    /// The instance of the highest ancestor of instance `i` that is breached now, if any (the
    /// highest: its own breach entry was written, so its recovery will say what it inhibited);
    /// for a `group_by` member the ancestor's member with the same labels, else the ancestor.
    func breachedAncestor(of i: Int) -> Int? {
        let o = table.shared[i].objective
        let group = table.keys[i].groupText
        for name in o.ancestors.reversed() {
            var a = group.flatMap { table.id(named: name + "{" + $0 + "}") }
            if a == nil, let plain = table.id(named: name) {
                if table.roles[plain] == .judged {
                    a = plain
                } else if table.roles[plain] == .groupParent {
                    // A grouped ancestor over an instance its labels pin (`customer: acme`):
                    // the ancestor's instance for those values.
                    let by = table.objectives[plain].groupBy
                    let values = by.compactMap { l in
                        o.match[l].flatMap { (try? LabelMatcher(name: l, text: $0))?.op == .equal ? $0 : nil }
                    }
                    if values.count == by.count {
                        a = table.id(
                            named: name + "{" + zip(by, values).map { "\($0)=\($1)" }.joined(separator: ",") + "}"
                        )
                    }
                }
            }
            if let a, table.states[a].state == .breached { return a }
        }
        return nil
    }

    /// Applies inhibition to one evaluation's transitions (in order), using the states after
    /// it: an opening entry (breach, burn rate) of an inherited instance whose ancestor is
    /// breached is dropped and counted on the ancestor; the closing entry of an episode so
    /// dropped is dropped too; an ancestor's recovery is followed by its `inhibition_ended`
    /// entry and the breach entries of inherited instances still breached.
    mutating func applyInhibition(_ out: inout [Transition], now: Double) {
        var kept: [Transition] = []
        kept.reserveCapacity(out.count)
        for t in out {
            guard let i = table.id(named: t.objective) else {
                kept.append(t)
                continue
            }
            if !table.shared[i].objective.ancestors.isEmpty, let episode = t.episode {
                switch t.kind {
                case .breach, .burnRate:
                    if let a = breachedAncestor(of: i) {
                        table.states[a].inhibited = (table.states[a].inhibited ?? 0) + 1
                        table.states[i].inhibitedEpisodes = (table.states[i].inhibitedEpisodes ?? []) + [episode]
                        dirty.insert(a)
                        dirty.insert(i)
                        continue
                    }
                case .recovery, .burnRateResolved:
                    if var episodes = table.states[i].inhibitedEpisodes, let k = episodes.firstIndex(of: episode) {
                        episodes.remove(at: k)
                        table.states[i].inhibitedEpisodes = episodes.isEmpty ? nil : episodes
                        dirty.insert(i)
                        let a = breachedAncestor(of: i)
                        if let a {
                            table.states[a].inhibited = (table.states[a].inhibited ?? 0) + 1
                            dirty.insert(a)
                        }
                        // A recovery not written cannot say what it inhibited: its ancestor does.
                        if t.kind == .recovery, let n = table.states[i].inhibited {
                            table.states[i].inhibited = nil
                            if let a { table.states[a].inhibited = (table.states[a].inhibited ?? 0) + n }
                        }
                        continue
                    }
                default: break
                }
            }
            kept.append(t)
            // Any recovery of an objective others inherit may free their inhibited breaches
            // (a service's, held while its customer was breached, the count on the corporate).
            if t.kind == .recovery, isInherited(i) {
                let count = table.states[i].inhibited ?? 0
                if count > 0 {
                    table.states[i].inhibited = nil
                    dirty.insert(i)
                }
                kept += endInhibition(by: i, count: count, at: t, now: now)
            }
        }
        out = kept
    }

    /// Whether some objective inherits instance `i`'s objective.
    func isInherited(_ i: Int) -> Bool {
        let name = table.shared[i].objective.instanceOf?.objective ?? table.shared[i].objective.name
        return inheritedNames.contains(name)
    }

    /// The `inhibition_ended` entry of ancestor instance `a` (which recovered in `recovery`)
    /// when it inhibited any, then a breach entry for each inheriting instance whose breach was
    /// inhibited and that is still breached with no ancestor breached now.
    private mutating func endInhibition(by a: Int, count: Int, at recovery: Transition, now: Double) -> [Transition] {
        let name = table.shared[a].objective.instanceOf?.objective ?? table.shared[a].objective.name
        let group = table.keys[a].groupText
        var released: [Transition] = []
        for d in table.judged where table.shared[d].objective.ancestors.contains(name) {
            if let group, let own = table.keys[d].groupText, own != group { continue }
            var st = table.states[d]
            guard st.state == .breached, let episode = st.episode,
                let episodes = st.inhibitedEpisodes, let k = episodes.firstIndex(of: episode),
                breachedAncestor(of: d) == nil
            else { continue }
            var rest = episodes
            rest.remove(at: k)
            st.inhibitedEpisodes = rest.isEmpty ? nil : rest
            table.states[d] = st
            dirty.insert(d)
            let o = table.shared[d].objective
            let span = table.windows[d].period(containing: now)
            released.append(
                Transition(
                    objective: o.name,
                    kind: .breach,
                    from: .breached,
                    to: .breached,
                    at: now,
                    value: table.lastValues[d],
                    baseline: table.lastBaselines[d] ?? o.baseline.value,
                    episode: episode,
                    periodStart: span.start,
                    periodEnd: span.end,
                    met: nil,
                    detail: .released(by: table.shared[a].objective.name, since: st.since)
                )
            )
        }
        guard count > 0 else { return released }
        var ended = recovery
        ended.kind = .inhibitionEnded
        ended.episode = recovery.episode
        ended.detail = .inhibition(count: count, stillBreached: released.map(\.objective))
        return [ended] + released
    }
}
