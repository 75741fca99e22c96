import Foundation

/// Time-slice budgeting (`timeslices:`): time is cut into slices of `slice` seconds, each slice
/// with events is good when its own SLI passes `good` (a minute whose requests succeeded at least
/// 99 %, a minute whose p99 stayed under 300 ms), and the objective judges the share of good
/// slices: availability as contracts define it, "good minutes" (OpenSLO `Timeslices`). With
/// `average: true` (OpenSLO `RatioTimeslices`) a ratio objective judges the mean of its slices'
/// ratios instead, every slice weighing the same whatever its traffic. Slices without events
/// are not counted.
public struct TimesliceRule: Sendable, Hashable, Codable {
    /// The slice length, seconds (`slice: 1m`).
    public var slice: Int
    /// The SLI of one slice (the objective's `sli:` as written: `ratio`, `p99`, `avg`, …).
    public var sli: SLIKind
    /// A ratio slice SLI's good selector (the objective's `good:` as written).
    public var goodSelector: GoodSelector?
    /// When a slice is good: its SLI against this (`>= 99%`, `<= 300`); unused when `average`.
    public var good: ValueThreshold
    /// OpenSLO `RatioTimeslices`: the objective is the mean of the slices' ratios.
    public var average: Bool = false

    /// A rule from its parts.
    public init(slice: Int, sli: SLIKind, goodSelector: GoodSelector?, good: ValueThreshold, average: Bool = false) {
        self.slice = slice
        self.sli = sli
        self.goodSelector = goodSelector
        self.good = good
        self.average = average
    }
}

extension Objective {
    /// The hidden objective that keeps the slices of a time-slice objective: its metric,
    /// selectors and slice SLI over a rolling window of two slices (the slice just completed
    /// is judged whole). Stored like any other instance, as `NAME/slice:<duration>`.
    public func sliceSource() -> Objective? {
        guard let rule = timeslices else { return nil }
        var o = self
        o.name = name + "/slice:" + DurationText.format(Double(rule.slice))
        o.sli = rule.sli
        o.good = rule.goodSelector
        o.window = .rolling(seconds: 2 * rule.slice)
        o.timeslices = nil
        o.burnRateAlerts = []
        o.pace = nil
        o.consequences = nil
        return o
    }
}

extension Engine {
    /// Judges the slices of time-slice objective `i` completed by `now` and not yet judged:
    /// each with events adds one slice to `i`'s window (its total), and one good slice when
    /// its SLI passes the rule. Slices are judged one second after they end (events of their
    /// last second are in); after a gap only the slices the source still holds are judged.
    mutating func judgeSlices(_ i: Int, now: Double) {
        guard let rule = table.shared[i].objective.timeslices, let s = table.sliceWindows[i] else { return }
        let length = Double(rule.slice)
        let lastComplete = Int64(((now - 1) / length).rounded(.down)) - 1
        var st = table.states[i]
        // The first evaluation: nothing before it is judged (a partial slice would count).
        let from = (st.slicedThrough ?? lastComplete) + 1
        defer {
            if st.slicedThrough != lastComplete {
                st.slicedThrough = max(st.slicedThrough ?? lastComplete, lastComplete)
                table.states[i] = st
                dirty.insert(i)
            }
        }
        guard from <= lastComplete else { return }
        let source = table.shared[s].objective
        let resolution = Int64(table.windows[s].resolution)
        let oldest = table.windows[i].oldestLiveBucket(now: now)
        for k in max(from, lastComplete - 1)...lastComplete {
            let start = k * Int64(rule.slice)
            let first = start / resolution
            let last = (start + Int64(rule.slice)) / resolution - 1
            let agg = table.windows[s].sum(from: first, through: last)
            guard let value = source.sliValue(agg, seconds: length), value.isFinite else { continue }
            // One slice counted; good as a whole, or (average) by its own ratio.
            let added = table.windows[i].addRatio(
                value: 1,
                kind: .counter,
                sampleRate: 1,
                at: Double(start),
                oldest: oldest,
                good: !rule.average && rule.good.admits(value),
                total: true
            )
            if added, rule.average, value > 0 {
                _ = table.windows[i].addRatio(
                    value: min(1, value),
                    kind: .counter,
                    sampleRate: 1,
                    at: Double(start),
                    oldest: oldest,
                    good: true,
                    total: false
                )
            }
            if added {
                dirty.insert(i)
                if Double(start) > table.lastSeen[i] { table.lastSeen[i] = Double(start) }
            }
        }
    }
}
