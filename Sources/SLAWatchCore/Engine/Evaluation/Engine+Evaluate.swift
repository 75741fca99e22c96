import Foundation

/// Evaluation: every instance judged at `now`, in config order.
extension Engine {
    /// Evaluates every objective at `now` and returns the transitions (and period results), in
    /// objective order. Calling it twice at the same time returns nothing the second time.
    public mutating func evaluate(at now: Double) -> [Transition] {
        if nextVersionChange != nil, staged == nil { applyVersions(at: now) }
        var out: [Transition] = []
        for i in table.judged {
            if table.objectives[i].isCumulative {
                // Judge before evicting: after a gap of more than one period the tracked period
                // is older than the oldest live bucket, and evicting first would judge it as 0.
                evaluateCumulative(i, now: now, into: &out)
                if table.objectives[i].pace != nil { checkPace(i, now: now, into: &out) }
                if table.windows[i].evict(now: now) { dirty.insert(i) }
            } else {
                if table.sliceWindows[i] != nil { judgeSlices(i, now: now) }
                // Adaptive baselines sample the window at each boundary before old buckets go.
                if let rule = table.objectives[i].baseline.adaptive { learn(i, rule, now: now) }
                if table.windows[i].evict(now: now) { dirty.insert(i) }
                evaluateContinuous(i, now: now, into: &out)
                // A rebuilt sealed merge of a percentile window is stored for the next start-up.
                if table.windows[i].hasSummaryChange { dirty.insert(i) }
                if table.burnWindows[i] != nil, table.exclusions[i]?.exclusion(at: now) == nil {
                    evaluateBurn(i, now: now, into: &out)
                }
            }
            recordHistory(i, now: now)
            if !runningDirty.isEmpty, runningFlushBoundaryPassed(i, now: now), runningDirty.remove(i) != nil {
                runningDue.insert(i)
                dirty.insert(i)
            }
        }
        lastEvaluatedAt = now
        for i in table.ids where (table.isBurnWindow(i) || table.isSliceSource(i)) && table.windows[i].evict(now: now) {
            dirty.insert(i)
        }
        for (p, keys) in refusedInstances.sorted(by: { $0.key < $1.key }) where !capReported.contains(p) {
            let o = table.objectives[p]
            capReported.insert(p)
            out.append(
                .of(
                    .init(.instanceLimit, from: .ok, to: .ok),
                    objective: o.name,
                    at: now,
                    value: Double(table.members[p]?.count ?? 0),
                    baseline: Double(o.maxInstances),
                    period: (now, now),
                    detail: .instanceLimit(refused: keys.sorted().first)
                )
            )
        }
        refusedInstances = [:]
        if hasLevels { applyInhibition(&out, now: now) }
        return out
    }

    /// How often an instance's running figures (`InstanceState.differsOnlyInRunningFigures(from:)`)
    /// are written at most, seconds.
    static let runningFlushInterval: Double = 300

    /// Whether instance `i`'s flush boundary of running figures lies in `(lastEvaluatedAt, now]`.
    /// Boundaries are `runningFlushInterval` apart, each instance at its own phase (its index
    /// modulo the interval, in seconds), so a thousand busy instances are written a few each
    /// second, not all in one commit.
    func runningFlushBoundaryPassed(_ i: Int, now: Double) -> Bool {
        guard let last = lastEvaluatedAt else { return false }
        let step = Self.runningFlushInterval
        let phase = Double(i % Int(step))
        return ((now + phase) / step).rounded(.down) > ((last + phase) / step).rounded(.down)
    }

    /// Whether a ratio window holds more good events than events in all (beyond the rounding of
    /// sampled counts): its SLI would be above 1, which no ratio can be.
    static func ratioIsInvalid(_ a: Aggregate) -> Bool { ratioIsInvalid(total: a.count, good: a.good) }

    /// `ratioIsInvalid(_:)` on counts.
    static func ratioIsInvalid(total: Double, good: Double) -> Bool { good > total * (1 + 1e-9) + 1e-9 }

    /// How much of rolling window `i` history covers at `now`: from the instance's first
    /// evaluation (`historySince`; a fresh instance at `now`), or from the start of its oldest
    /// bucket when that bucket ended before the history began (events written earlier: a
    /// backfill), up to the window's length. `covered` once that is the whole window; calendar
    /// windows always are.
    func coverage(_ i: Int, now: Double) -> (seconds: Double, covered: Bool) {
        guard case .rolling(let w) = table.objectives[i].window else { return (0, true) }
        var from = table.states[i].historySince ?? now
        if let oldest = table.windows[i].oldestBucketStart, oldest + Double(table.windows[i].resolution) <= from {
            from = oldest
        }
        let seconds = now - from
        // Buckets are the window's grain: its live buckets span the window less up to one.
        let covered = seconds >= Double(w - table.windows[i].resolution)
        return covered ? (Double(w), true) : (max(seconds, 0), false)
    }

    mutating func evaluateContinuous(_ i: Int, now: Double, into out: inout [Transition]) {
        let shared = table.shared[i]
        var baseline = baselineInForce(i)
        table.lastBaselines[i] = baseline
        let agg = table.windows[i].aggregate(at: now)
        let span = table.windows[i].period(containing: now)
        if table.states[i].historySince == nil {
            table.states[i].historySince = now
            dirty.insert(i)
        }
        // A rolling window younger than its length (the daemon or the objective is): a rate
        // divides by the span history covers, and an "at least" count or sum, which can only
        // grow as the window fills, is not judged yet.
        let cover = coverage(i, now: now)
        let seconds: Double
        if case .calendar = shared.objective.window { seconds = now - span.start } else { seconds = cover.seconds }
        if !cover.covered, shared.objective.direction == .atLeast,
            shared.objective.sli == .count || shared.objective.sli == .sum
        {
            baseline = nil
        }
        var st = table.states[i]
        let before = st
        // A ratio window with more good events than events has no valid SLI: one entry, then
        // no judgement (neither met nor breached) until it is valid again.
        if shared.objective.sli == .ratio, Self.ratioIsInvalid(agg) {
            table.lastValues[i] = nil
            if st.ratioInvalidSince == nil {
                st.ratioInvalidSince = now
                out.append(
                    .of(
                        .init(.ratioInvalid, from: st.state, to: st.state),
                        objective: shared.objective.name,
                        at: now,
                        value: agg.good / agg.count,
                        baseline: baseline ?? shared.objective.baseline.value,
                        period: (span.start, span.end),
                        detail: .ratio(.init(total: agg.count, good: agg.good))
                    )
                )
            }
            if st != before {
                table.states[i] = st
                dirty.insert(i)
            }
            return
        }
        st.ratioInvalidSince = nil
        // A percentile of an idle rolling window is remembered by the window, not re-read from
        // its sketch at every evaluation.
        let value: Double?
        if case .percentile(let p) = shared.objective.sli {
            value = table.windows[i].quantile(p / 100, at: now)
        } else {
            value = shared.objective.sliValue(agg, seconds: seconds)
        }
        table.lastValues[i] = value
        // effective_from: a baseline that changed (learned, recomputed from other objectives,
        // or edited and reloaded) is recorded with the time it took effect.
        if let baseline, st.baselineValue != baseline {
            st.baselineValue = baseline
            st.baselineSince = now
        }
        // `min_events`: too few events to judge (one failure on a quiet service is no breach).
        let events = shared.objective.sli == .ratio ? agg.count : Double(agg.samples)
        // Outside service hours and in maintenance nothing is judged (no breach opens, none
        // recovers); maintenance says when it starts and ends.
        let exclusion = table.exclusions[i]?.exclusion(at: now)
        noteMaintenance(i, exclusion, state: &st, now: now, into: &out)
        let actions =
            exclusion == nil
            ? st.alert.judge(.init(value: value, baseline: baseline, events: events), rules: shared.rules, now: now)
            : []
        for a in actions {
            out.append(
                .of(
                    a,
                    objective: shared.objective.name,
                    at: now,
                    value: value,
                    baseline: baseline ?? shared.objective.baseline.value,
                    period: (span.start, span.end),
                    baselineSince: st.baselineSince,
                    baselineSeason: st.baselineSeason,
                    detail: shared.objective.sli == .ratio ? .ratio(.init(total: agg.count, good: agg.good)) : .none
                )
            )
        }
        tallyReportPeriods(
            i,
            state: &st,
            previous: before.state,
            value: value,
            baseline: baseline,
            breaches: actions.filter { $0.kind == .breach }.count,
            inService: exclusion == nil,
            now: now,
            into: &out
        )
        if st != before {
            table.states[i] = st
            if st.differsOnlyInRunningFigures(from: before) { runningDirty.insert(i) } else { dirty.insert(i) }
        }
    }
}

extension Engine {
    /// Writes "maintenance started" when instance `i` enters announced maintenance and
    /// "maintenance ended" when it leaves it (or one maintenance follows another), and keeps
    /// which one is in progress in its state.
    mutating func noteMaintenance(
        _ i: Int,
        _ exclusion: Exclusion?,
        state st: inout InstanceState,
        now: Double,
        into out: inout [Transition]
    ) {
        var reason: String?
        if case .maintenance(let r)? = exclusion { reason = r }
        guard reason != st.maintenance else { return }
        // One maintenance following another without a gap is one spell: no "ended" and
        // "started" between them, only the reason in force changes.
        if st.maintenance != nil, reason != nil {
            st.maintenance = reason
            return
        }
        func entry(_ kind: TransitionKind, _ why: String, from: Double, to: Double) -> Transition {
            Transition(
                objective: table.shared[i].objective.name,
                kind: kind,
                from: st.state,
                to: st.state,
                at: now,
                value: table.lastValues[i],
                baseline: table.lastBaselines[i] ?? table.shared[i].objective.baseline.value,
                episode: nil,
                periodStart: from,
                periodEnd: to,
                met: nil,
                detail: .maintenance(reason: why)
            )
        }
        if let ended = st.maintenance { out.append(entry(.maintenanceEnded, ended, from: now, to: now)) }
        if let reason {
            // Its end: that of the whole covered span (overlapping or adjoining windows).
            let windows = maintenanceWindows(i)
            let window = windows.first { now >= $0.from && now < $0.to }
            var end = window?.to ?? now
            while let next = windows.first(where: { $0.from <= end && $0.to > end }) { end = next.to }
            out.append(entry(.maintenanceStarted, reason, from: window?.from ?? now, to: end))
        }
        st.maintenance = reason
    }
}

extension Engine {
    /// Maintenance announced at run time (`slawatch maintenance add`, kept in the state file):
    /// each applies to the instances of its SLA (or of one objective of it), as announced
    /// maintenance in the config does, from the next evaluation on.
    public mutating func setRuntimeMaintenance(_ list: [RuntimeMaintenance]) {
        table.setRuntimeMaintenance(list)
    }

    /// The maintenance windows in force for instance `i` (config and run time), for
    /// `maintenance_started` entries.
    func maintenanceWindows(_ i: Int) -> [MaintenanceWindow] { table.exclusions[i]?.maintenance ?? [] }
}
