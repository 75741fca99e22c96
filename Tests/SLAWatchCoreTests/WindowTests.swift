import Foundation
import Testing

@testable import SLAWatchCore

/// A plain list model of a window: what `Window` documents, computed the slow way.
private struct Reference {
    var events: [(t: Double, e: Event)] = []

    func aggregate(where keep: (Double) -> Bool) -> Aggregate {
        var a = Aggregate()
        for (t, e) in events where keep(t) {
            let w = 1 / e.sampleRate
            a.samples += 1
            a.count += e.kind == .counter ? e.value * w : w
            a.sum += e.value * w
            a.valueSum += e.value
            a.min = Swift.min(a.min ?? e.value, e.value)
            a.max = Swift.max(a.max ?? e.value, e.value)
        }
        return a
    }
}

private func randomEvent(_ rng: inout SplitMix64) -> Event {
    let kind = [MetricKind.counter, .gauge, .distribution].randomElement(using: &rng)!  // sets: see setMembers
    let value = Double(Int.random(in: -50...50, using: &rng))
    let rate = [1.0, 1.0, 0.5, 0.25].randomElement(using: &rng)!
    return Event(metric: "m", value: value, kind: kind, sampleRate: rate)
}

@Suite struct AggregateTests {
    @Test func addScalesBySampleRate() {
        var a = Aggregate()
        a.add(Event(metric: "m", value: 3, kind: .counter, sampleRate: 0.5))
        a.add(Event(metric: "m", value: 10, kind: .gauge, sampleRate: 0.25))
        a.add(Event(metric: "m", value: -2, kind: .distribution))
        #expect(a.samples == 3)
        #expect(a.count == 6 + 4 + 1)
        #expect(a.sum == 6 + 40 - 2)
        #expect(a.valueSum == 3 + 10 - 2)
        #expect(a.min == -2)
        #expect(a.max == 10)
        #expect(!a.isEmpty)
        #expect(Aggregate().isEmpty)
        #expect(Aggregate().min == nil)
    }

    /// Sample counts restored from a damaged state row may be anything: a merge saturates
    /// instead of trapping (the `state` fuzz target's find).
    @Test func mergeSaturatesTheSampleCount() {
        var a = Aggregate()
        a.samples = .max - 1
        var b = Aggregate()
        b.samples = 5
        a.merge(b)
        #expect(a.samples == .max)
        var c = Aggregate()
        c.samples = .min + 1
        var d = Aggregate()
        d.samples = -5
        c.merge(d)
        #expect(c.samples == .min)
    }

    @Test func mergeEqualsAddingEverything() {
        var rng = SplitMix64(seed: 11)
        for _ in 0..<50 {
            let events = (0..<Int.random(in: 0...30, using: &rng)).map { _ in randomEvent(&rng) }
            let cut = Int.random(in: 0...events.count, using: &rng)
            var whole = Aggregate()
            var left = Aggregate()
            var right = Aggregate()
            for (i, e) in events.enumerated() {
                whole.add(e)
                if i < cut { left.add(e) } else { right.add(e) }
            }
            var merged = right
            merged.merge(left)
            #expect(merged == whole)
            left.merge(right)
            #expect(left == whole)
        }
    }
}

@Suite struct RollingWindowTests {
    @Test(arguments: [
        (60, 1, 60), (45, 1, 45), (90, 1, 90), (125, 2, 63), (300, 5, 60), (3600, 60, 60), (86400, 1440, 60),
    ])
    func resolutionAndBucketCount(seconds: Int, resolution: Int, count: Int) {
        let w = Window(spec: .rolling(seconds: seconds), periods: nil)
        #expect(w.resolution == resolution)
        #expect(w.bucketCount == count)
    }

    @Test(arguments: [(45, 1 as UInt64), (60, 2), (300, 3), (3600, 4), (125, 5), (60, 6), (300, 7), (3600, 8)])
    func bruteForce(windowSeconds: Int, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let W = Double(windowSeconds)
        let r = Double(max(1, windowSeconds / 60))
        let n = (Double(windowSeconds) / r).rounded(.up)
        func bucket(_ t: Double) -> Double { floor(t / r) }

        var window = Window(spec: .rolling(seconds: windowSeconds), periods: nil)
        var model = Reference()
        var now = 1_700_000_000.0 + Double(Int.random(in: 0..<3600, using: &rng))
        var rejectedSome = false
        var acceptedSome = false
        for step in 0..<600 {
            now += Double(Int.random(in: 0...Int(W / 8), using: &rng)) + [0, 0.25, 0.5].randomElement(using: &rng)!
            let burst = Int.random(in: 0...3, using: &rng)
            for _ in 0..<burst {
                let e = randomEvent(&rng)
                // Mostly recent, some late beyond the window, a few slightly in the future.
                let offset =
                    Double(Int.random(in: -Int(W * 1.5)...Int(W / 10) + 1, using: &rng))
                    + [0, 0.5, 0.999].randomElement(using: &rng)!
                let t = now + offset
                let kept = window.add(e, at: t, now: now)
                let expectKept = bucket(t) >= bucket(now) - n + 1
                #expect(kept == expectKept, "step \(step) t \(t) now \(now)")
                if kept {
                    model.events.append((t, e))
                    acceptedSome = true
                } else {
                    rejectedSome = true
                }
            }
            if Int.random(in: 0..<10, using: &rng) == 0 {
                window.evict(now: now)
                model.events.removeAll { bucket($0.t) < bucket(now) - n + 1 }
                #expect(window.buckets.keys.allSatisfy { Double($0) >= bucket(now) - n + 1 })
            }
            for _ in 0..<2 {
                let at =
                    now + Double(Int.random(in: -Int(W)...Int(W / 2), using: &rng))
                    + [0, 0.5].randomElement(using: &rng)!
                let got = window.aggregate(at: at)
                let want = model.aggregate { bucket($0) >= bucket(at) - n + 1 && bucket($0) <= bucket(at) }
                #expect(got == want, "step \(step) at \(at)")
                #expect(got.samples == want.samples)
                #expect(got.count == want.count)
                #expect(got.sum == want.sum)
                #expect(got.min == want.min)
                #expect(got.max == want.max)
            }
        }
        #expect(acceptedSome && rejectedSome)
    }

    @Test func aggregateDoesNotDependOnDictionaryLayout() {
        // Regression: merging buckets in dictionary order summed doubles in an order that differs
        // between instances, so a restored window disagreed with the original in the last bit.
        var rng = SplitMix64(seed: 42)
        var w = Window(spec: .rolling(seconds: 3600), periods: nil)
        let now = 1_700_003_600.0
        for _ in 0..<500 {
            let t = now - Double(Int.random(in: 0..<3600, using: &rng))
            let v = Double(Int.random(in: 0...100_000, using: &rng)) / 1000
            _ = w.add(Event(metric: "m", value: v, kind: .gauge, sampleRate: 0.3), at: t, now: now)
        }
        let original = w.aggregate(at: now)
        // Expected: the buckets merged oldest to newest, written out independently.
        var ordered = Aggregate()
        for id in w.buckets.keys.sorted() { ordered.merge(w.buckets[id]!) }
        #expect(original == ordered)
        for _ in 0..<20 {
            var copy = Window(spec: .rolling(seconds: 3600), periods: nil)
            copy.restore(buckets: Dictionary(uniqueKeysWithValues: w.buckets.shuffled(using: &rng)), closedBefore: nil)
            let restored = copy.aggregate(at: now)
            #expect(restored == original)
        }
    }

    /// The store's replica, rebuilt from `takeChanges()` alone (as commits write it), equals the
    /// window after every commit, whatever mix of events, evaluations, evictions and clock steps
    /// came between: no change is ever left out (the newest bucket's fast path included).
    @Test(arguments: [(1 as UInt64, false), (2, false), (3, true), (4, true)])
    func takenChangesReplicateTheWindow(seed: UInt64, quantiles: Bool) {
        var rng = SplitMix64(seed: seed)
        var w = Window(spec: .rolling(seconds: 300), periods: nil)
        w.tracksQuantiles = quantiles
        var replica: [Int64: Aggregate] = [:]
        var now = 1_000_000.0
        var commits = 0
        for _ in 0..<4000 {
            switch Int.random(in: 0..<20, using: &rng) {
            case 0..<12:
                // Mostly now, sometimes late, sometimes a little ahead.
                let t = now - [0, 0, 0, 1, 7, 60, 290, 320, -3].randomElement(using: &rng)!
                _ = w.add(randomEvent(&rng), at: t, now: now)
            case 12, 13: _ = w.aggregate(at: now)
            case 14, 15: now += Double(Int.random(in: 0...9, using: &rng))
            case 16: w.evict(now: now)
            default:
                let (buckets, droppedBefore) = w.takeChanges()
                if let d = droppedBefore { replica = replica.filter { $0.key >= d } }
                for (id, a) in buckets { replica[id] = a }
                #expect(replica == w.buckets)
                commits += 1
            }
        }
        #expect(commits > 100)
    }

    /// A window restored from packed buckets (as the store reads them, in any order) holds
    /// the same buckets, judges the same p99, and takes new events into its newest bucket.
    @Test(arguments: [false, true])
    func restoredFromPackedBucketsEqualsTheOriginal(shuffled: Bool) throws {
        var rng = SplitMix64(seed: 9)
        var w = Window(spec: .rolling(seconds: 300), periods: nil)
        w.tracksQuantiles = true
        let now = 1_000_000.0
        for k in 0..<3000 {
            _ = w.add(
                Event(metric: "m", value: Double.random(in: 1...500, using: &rng), kind: .distribution),
                at: now - Double(k % 290),
                now: now
            )
        }
        var packed = PackedBuckets()
        var entries = w.buckets.sorted { $0.key < $1.key }
        if shuffled { entries.shuffle(using: &rng) }
        for (id, a) in entries {
            let bytes = BucketCodec.encode(a)
            let (fields, sketch) = try bytes.withUnsafeBytes { try BucketCodec.decodeKeepingSketchPacked($0) }
            packed.append(id: id, aggregate: fields, sketch: sketch)
        }
        #expect(packed.count == 59)
        var restored = Window(spec: .rolling(seconds: 300), periods: nil)
        restored.tracksQuantiles = true
        restored.restore(packedBuckets: packed, closedBefore: nil)
        #expect(restored.buckets == w.buckets)
        let p99 = restored.aggregate(at: now).sketch?.quantile(0.99)
        #expect(p99 != nil)
        #expect(p99 == w.aggregate(at: now).sketch?.quantile(0.99))
        let added = restored.add(Event(metric: "m", value: 7, kind: .distribution), at: now, now: now)
        #expect(added)
        let after = restored.aggregate(at: now)
        #expect(after.samples == 3001)
    }

    @Test func windowCoversLastWSecondsAtBucketGranularity() {
        // 300 s window: 60 buckets of 5 s. At t = 1000 (bucket 200) the window is buckets 141…200,
        // i.e. event times [705, 1005).
        var w = Window(spec: .rolling(seconds: 300), periods: nil)
        var kept: [Bool] = []
        for t in [705, 999, 1004.9, 704.9, 600] {
            kept.append(w.add(Event(metric: "m", value: t, kind: .gauge), at: t, now: 1000))
        }
        #expect(kept == [true, true, true, false, false])
        let a = w.aggregate(at: 1000)
        #expect(a.samples == 3)
        #expect(a.min == 705)
        #expect(a.max == 1004.9)
        let oldest = w.oldestLiveBucket(now: 1000)
        #expect(oldest == 141)
        let id = w.bucketID(for: 704.9)
        #expect(id == 140)
        let later = w.aggregate(at: 1005)
        #expect(later.samples == 2)  // bucket 141 (705) fell out
        let earlier = w.aggregate(at: 704)
        #expect(earlier.isEmpty)  // buckets 81…140 hold nothing
        let span = w.period(containing: 1000)
        #expect(span == (700, 1000))
    }
}

/// Start of the calendar period containing `t`, computed with Foundation's own interval API on an
/// ISO-8601-style Gregorian calendar (independently of `CalendarPeriods`).
private func expectedPeriod(_ unit: CalendarUnit, _ t: Double, _ zone: String) -> (start: Double, end: Double) {
    var cal = Calendar(identifier: .gregorian)
    cal.timeZone = TimeZone(identifier: zone)!
    cal.firstWeekday = 2
    cal.minimumDaysInFirstWeek = 4
    let date = Date(timeIntervalSince1970: t)
    switch unit {
    case .day:
        let i = cal.dateInterval(of: .day, for: date)!
        return (i.start.timeIntervalSince1970, i.end.timeIntervalSince1970)
    case .week:
        let i = cal.dateInterval(of: .weekOfYear, for: date)!
        return (i.start.timeIntervalSince1970, i.end.timeIntervalSince1970)
    case .month:
        let i = cal.dateInterval(of: .month, for: date)!
        return (i.start.timeIntervalSince1970, i.end.timeIntervalSince1970)
    case .quarter:
        let c = cal.dateComponents([.year, .month], from: date)
        let first = ((c.month! - 1) / 3) * 3 + 1
        let start = cal.date(from: DateComponents(year: c.year, month: first, day: 1))!
        let next = first == 10 ? (c.year! + 1, 1) : (c.year!, first + 3)
        let end = cal.date(from: DateComponents(year: next.0, month: next.1, day: 1))!
        return (start.timeIntervalSince1970, end.timeIntervalSince1970)
    }
}

@Suite struct CalendarPeriodTests {
    let paris = CalendarPeriods(timeZoneIdentifier: "Europe/Paris")!
    let newYork = CalendarPeriods(timeZoneIdentifier: "America/New_York")!
    let utcPeriods = CalendarPeriods(timeZoneIdentifier: "UTC")!

    @Test func unknownZoneIsNil() {
        #expect(CalendarPeriods(timeZoneIdentifier: "Mars/Olympus_Mons") == nil)
    }

    @Test func parisSpringForwardDayIs23Hours() {
        let p = paris.period(.day, containing: local(2026, 3, 29, 12, offset: 2))
        #expect(p.start == 1_774_738_800)  // 2026-03-29T00:00:00+01:00
        #expect(p.end == 1_774_821_600)  // 2026-03-30T00:00:00+02:00
        #expect(p.end - p.start == 23 * 3600)
    }

    @Test func parisFallBackDayIs25Hours() {
        let p = paris.period(.day, containing: local(2026, 10, 25, 2, 30, offset: 1))
        #expect(p.start == 1_792_879_200)  // 2026-10-25T00:00:00+02:00
        #expect(p.end == 1_792_969_200)  // 2026-10-26T00:00:00+01:00
        #expect(p.end - p.start == 25 * 3600)
        // Both 02:30s of that night belong to it.
        #expect(paris.period(.day, containing: local(2026, 10, 25, 2, 30, offset: 2)).start == p.start)
    }

    @Test func newYorkDSTDays() {
        let spring = newYork.period(.day, containing: local(2026, 3, 8, 12, offset: -4))
        #expect(spring.start == local(2026, 3, 8, offset: -5))
        #expect(spring.end == local(2026, 3, 9, offset: -4))
        #expect(spring.end - spring.start == 23 * 3600)
        let fall = newYork.period(.day, containing: local(2026, 11, 1, 12, offset: -5))
        #expect(fall.start == local(2026, 11, 1, offset: -4))
        #expect(fall.end == local(2026, 11, 2, offset: -5))
        #expect(fall.end - fall.start == 25 * 3600)
    }

    @Test func parisMonthAcrossDSTAndBoundary() {
        let oct = paris.period(.month, containing: local(2026, 10, 15, offset: 2))
        #expect(oct.start == 1_790_805_600)  // 2026-10-01T00:00:00+02:00
        #expect(oct.end == 1_793_487_600)  // 2026-11-01T00:00:00+01:00
        #expect(oct.end - oct.start == 31 * 86400 + 3600)
        // The boundary instant belongs to November; one second before is October.
        #expect(paris.period(.month, containing: oct.end).start == oct.end)
        #expect(paris.period(.month, containing: oct.end - 1).start == oct.start)
        #expect(paris.period(.month, containing: oct.start).start == oct.start)
        let nov = paris.period(.month, containing: oct.end)
        #expect(nov.end == local(2026, 12, 1, offset: 1))
        // February, not "30 days".
        let feb = paris.period(.month, containing: local(2026, 2, 14, offset: 1))
        #expect(feb.start == local(2026, 2, 1, offset: 1))
        #expect(feb.end == local(2026, 3, 1, offset: 1))
        #expect(feb.end - feb.start == 28 * 86400)
    }

    @Test func isoWeeksStartMonday() {
        // Sunday 2026-10-25 (the 25 h day) is in the week of Monday 2026-10-19.
        let w = paris.period(.week, containing: local(2026, 10, 25, 23, 59, offset: 1))
        #expect(w.start == local(2026, 10, 19, offset: 2))
        #expect(w.end == local(2026, 10, 26, offset: 1))
        #expect(w.end - w.start == 7 * 86400 + 3600)
        // Monday 00:00 starts a new week.
        #expect(paris.period(.week, containing: w.end).start == w.end)
        #expect(paris.period(.week, containing: w.start).start == w.start)
        // Spring-forward week in Paris: 167 hours.
        let s = paris.period(.week, containing: local(2026, 3, 29, 12, offset: 2))
        #expect(s.start == local(2026, 3, 23, offset: 1))
        #expect(s.end == local(2026, 3, 30, offset: 2))
        // Weeks across a new year (2026-01-01 is a Thursday, 2027-01-01 a Friday).
        #expect(utcPeriods.period(.week, containing: utc(2026, 1, 1, 9)) == (utc(2025, 12, 29), utc(2026, 1, 5)))
        #expect(utcPeriods.period(.week, containing: utc(2027, 1, 1, 9)) == (utc(2026, 12, 28), utc(2027, 1, 4)))
        // New York: the week holding the fall-back Sunday 2026-11-01.
        let ny = newYork.period(.week, containing: local(2026, 11, 1, 20, offset: -5))
        #expect(ny.start == local(2026, 10, 26, offset: -4))
        #expect(ny.end == local(2026, 11, 2, offset: -5))
    }

    @Test func quarters() {
        let q4 = paris.period(.quarter, containing: local(2026, 11, 15, offset: 1))
        #expect(q4.start == 1_790_805_600)  // 2026-10-01T00:00:00+02:00
        #expect(q4.end == local(2027, 1, 1, offset: 1))
        let q1 = newYork.period(.quarter, containing: local(2026, 3, 31, 23, 59, offset: -4))
        #expect(q1.start == local(2026, 1, 1, offset: -5))
        #expect(q1.end == local(2026, 4, 1, offset: -4))
        #expect(newYork.period(.quarter, containing: q1.end).start == q1.end)
        let q3 = utcPeriods.period(.quarter, containing: utc(2026, 9, 30, 23, 59, 59))
        #expect(q3 == (utc(2026, 7, 1), utc(2026, 10, 1)))
    }

    @Test(arguments: ["Europe/Paris", "America/New_York", "UTC", "Australia/Lord_Howe"])
    func sweepAgainstFoundationIntervals(zone: String) {
        let periods = CalendarPeriods(timeZoneIdentifier: zone)!
        var rng = SplitMix64(seed: UInt64(zone.utf8.count))
        var t = utc(2025, 12, 20)
        let stop = utc(2027, 1, 10)
        while t < stop {
            for unit in CalendarUnit.allCases {
                let got = periods.period(unit, containing: t)
                let want = expectedPeriod(unit, t, zone)
                #expect(got == want, "\(zone) \(unit) at \(RFC3339.format(t))")
                #expect(got.start <= t && t < got.end)
            }
            t += Double(Int.random(in: 1_800...30_000, using: &rng))
        }
    }
}

@Suite struct CalendarWindowTests {
    @Test(arguments: [
        (CalendarUnit.day, "Europe/Paris", UInt64(21)), (.day, "America/New_York", 22), (.week, "Europe/Paris", 23),
        (.month, "Europe/Paris", 24), (.month, "America/New_York", 25), (.quarter, "Europe/Paris", 26),
        (.week, "America/New_York", 27),
    ])
    func bruteForce(unit: CalendarUnit, zone: String, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let periods = CalendarPeriods(timeZoneIdentifier: zone)!
        var window = Window(spec: .calendar(unit), periods: periods)
        var model = Reference()
        var closedBefore: Double?
        let typical: Double
        switch unit {
        case .day: typical = 86400
        case .week: typical = 7 * 86400
        case .month: typical = 30 * 86400
        case .quarter: typical = 91 * 86400
        }
        func start(_ t: Double) -> Double { expectedPeriod(unit, t, zone).start }
        // Start before the spring DST change and run past the autumn one.
        var now = local(2026, 3, 20, offset: 1) + Double(Int.random(in: 0..<86400, using: &rng))
        let steps = unit == .day ? 500 : 300
        let stride = unit == .quarter ? typical / 8 : typical / 3
        for step in 0..<steps {
            now += Double(Int.random(in: 0...Int(stride), using: &rng))
            for _ in 0..<Int.random(in: 0...3, using: &rng) {
                let e = randomEvent(&rng)
                let t = now - Double(Int.random(in: 0...Int(typical * 2.5), using: &rng)) + 0.5
                let previousStart = start(start(now) - 1)
                let expectKept = start(t) >= max(previousStart, closedBefore ?? -.infinity)
                let kept = window.add(e, at: t, now: now)
                #expect(kept == expectKept, "step \(step) t \(RFC3339.format(t)) now \(RFC3339.format(now))")
                if kept { model.events.append((t, e)) }
                let id = window.bucketID(for: t)
                #expect(id == Int64(start(t)))
            }
            if Int.random(in: 0..<6, using: &rng) == 0 {
                let id = start(now)
                window.close(before: Int64(id))
                closedBefore = max(closedBefore ?? id, id)
                model.events.removeAll { start($0.t) < id }
                #expect(window.closedBefore == Int64(closedBefore!))
            }
            if Int.random(in: 0..<7, using: &rng) == 0 {
                window.evict(now: now)
                let live = max(start(start(now) - 1), closedBefore ?? -.infinity)
                model.events.removeAll { start($0.t) < live }
            }
            for _ in 0..<2 {
                let at = now - Double(Int.random(in: 0...Int(typical * 2), using: &rng))
                let want = model.aggregate { start($0) == start(at) }
                let got = window.aggregate(at: at)
                #expect(got == want, "step \(step) at \(RFC3339.format(at))")
                #expect(window.aggregate(periodStarting: Int64(start(at))) == want)
            }
            let current = model.aggregate { start($0) == start(now) }
            let gotCurrent = window.aggregate(at: now)
            #expect(gotCurrent == current)
            let span = window.period(containing: now)
            #expect(span == expectedPeriod(unit, now, zone))
        }
    }

    @Test func closedPeriodRejectsLateEvents() {
        let periods = CalendarPeriods(timeZoneIdentifier: "Europe/Paris")!
        var w = Window(spec: .calendar(.day), periods: periods)
        let dayStart = local(2026, 10, 25, offset: 2)
        let nextDay = local(2026, 10, 26, offset: 1)
        let e = Event(metric: "m", value: 1, kind: .counter)
        let a1 = w.add(e, at: dayStart + 3600, now: nextDay + 60)  // previous period still open
        let a2 = w.add(e, at: nextDay + 30, now: nextDay + 60)
        let a3 = w.add(e, at: dayStart - 1, now: nextDay + 60)  // two periods back
        #expect([a1, a2, a3] == [true, true, false])
        #expect(w.aggregate(periodStarting: Int64(dayStart)).count == 1)
        w.close(before: Int64(nextDay))
        let a4 = w.add(e, at: dayStart + 7200, now: nextDay + 120)
        #expect(!a4)
        #expect(w.aggregate(periodStarting: Int64(dayStart)).isEmpty)
        let today = w.aggregate(at: nextDay + 5)
        #expect(today.count == 1)
        // close never moves backwards
        w.close(before: Int64(dayStart))
        #expect(w.closedBefore == Int64(nextDay))
    }

    @Test func restoreReplacesContents() {
        var w = Window(spec: .calendar(.month), periods: CalendarPeriods(timeZoneIdentifier: "UTC")!)
        var agg = Aggregate()
        agg.add(Event(metric: "m", value: 4, kind: .counter))
        let id = Int64(utc(2026, 10, 1))
        w.restore(buckets: [id: agg], closedBefore: id)
        let october = w.aggregate(at: utc(2026, 10, 20))
        #expect(october.count == 4)
        let late = w.add(Event(metric: "m", value: 1, kind: .counter), at: utc(2026, 9, 30), now: utc(2026, 10, 20))
        #expect(!late)
    }
}

@Suite struct WindowSpecTests {
    @Test func parses() {
        #expect(WindowSpec("5m") == .rolling(seconds: 300))
        #expect(WindowSpec("1h30m") == .rolling(seconds: 5400))
        #expect(WindowSpec("7d") == .rolling(seconds: 604_800))
        #expect(WindowSpec("1s") == .rolling(seconds: 1))
        #expect(WindowSpec("day") == .calendar(.day))
        #expect(WindowSpec("week") == .calendar(.week))
        #expect(WindowSpec("month") == .calendar(.month))
        #expect(WindowSpec("quarter") == .calendar(.quarter))
        for bad in ["", "0s", "500ms", "1.5s", "fortnight", "Month", "-5m", "5 m"] {
            #expect(WindowSpec(bad) == nil, "\(bad)")
        }
    }

    @Test func describes() {
        #expect(WindowSpec.rolling(seconds: 300).description == "5m")
        #expect(WindowSpec.rolling(seconds: 90).description == "1m30s")
        #expect(WindowSpec.calendar(.quarter).description == "quarter")
        for text in ["45s", "5m", "1h", "1d", "2d3h", "month"] {
            #expect(WindowSpec(text)?.description == text)
        }
    }
}
