import Testing

@testable import SLAWatchCore

/// The alert state machine alone: a state and one input → the actions and the state after
/// (in the style of postgres-nio's `ConnectionStateMachineTests`). Baseline 10, "at most"
/// unless a case says otherwise: 20 is bad, 5 is good, `nil` is an empty window.
@Suite struct AlertStateMachineTests {
    typealias Machine = AlertStateMachine
    typealias Action = AlertStateMachine.Action

    /// A machine in `state`, with the optional timers and episode set.
    static func machine(
        _ state: AlertState,
        episode: String? = nil,
        counter: Int = 0,
        pendingSince: Double? = nil,
        clearSince: Double? = nil,
        emptySince: Double? = nil,
        since: Double = 0
    ) -> Machine {
        var m = Machine()
        m.state = state
        m.since = since
        m.episode = episode
        m.episodeCounter = counter
        m.pendingSince = pendingSince
        m.clearSince = clearSince
        m.emptySince = emptySince
        return m
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var start: Machine
        var rules = Machine.Rules(direction: .atMost)
        var reading: Machine.Reading
        var now: Double = 100
        var actions: [Action]
        /// The machine after the input.
        var end: Machine
        var testDescription: String { name }
    }

    static let continuous: [Case] = [
        Case(
            name: "ok, bad, no for: breach opens episode <now>-<n>",
            start: machine(.ok),
            reading: .init(value: 20, baseline: 10),
            actions: [Action(.breach, from: .ok, to: .breached, episode: "100-1")],
            end: machine(.breached, episode: "100-1", counter: 1, since: 100)
        ),
        Case(
            name: "ok, bad, for 60: pending",
            start: machine(.ok),
            rules: .init(direction: .atMost, forSeconds: 60),
            reading: .init(value: 20, baseline: 10),
            actions: [Action(.pending, from: .ok, to: .pending)],
            end: machine(.pending, pendingSince: 100, since: 100)
        ),
        Case(
            name: "pending since 100, still bad at 130 of for 60: nothing",
            start: machine(.pending, pendingSince: 100),
            rules: .init(direction: .atMost, forSeconds: 60),
            reading: .init(value: 20, baseline: 10),
            now: 130,
            actions: [],
            end: machine(.pending, pendingSince: 100)
        ),
        Case(
            name: "pending since 100, bad at 160 of for 60: breach",
            start: machine(.pending, counter: 2, pendingSince: 100),
            rules: .init(direction: .atMost, forSeconds: 60),
            reading: .init(value: 20, baseline: 10),
            now: 160,
            actions: [Action(.breach, from: .pending, to: .breached, episode: "160-3")],
            end: machine(.breached, episode: "160-3", counter: 3, since: 160)
        ),
        Case(
            name: "pending, good: pending cleared",
            start: machine(.pending, pendingSince: 90),
            rules: .init(direction: .atMost, forSeconds: 60),
            reading: .init(value: 5, baseline: 10),
            actions: [Action(.pendingCleared, from: .pending, to: .ok)],
            end: machine(.ok, since: 100)
        ),
        Case(
            name: "breached, good, no hysteresis: recovery repeats the episode",
            start: machine(.breached, episode: "50-1", counter: 1),
            reading: .init(value: 5, baseline: 10),
            actions: [Action(.recovery, from: .breached, to: .ok, episode: "50-1")],
            end: machine(.ok, counter: 1, since: 100)
        ),
        Case(
            name: "breached, good, keep_firing_for 20: still firing, clear timer starts",
            start: machine(.breached, episode: "50-1", counter: 1),
            rules: .init(direction: .atMost, keepFiringFor: 20),
            reading: .init(value: 5, baseline: 10),
            actions: [],
            end: machine(.breached, episode: "50-1", counter: 1, clearSince: 100)
        ),
        Case(
            name: "breached, good since 100, at 120 of keep_firing_for 20: recovery",
            start: machine(.breached, episode: "50-1", counter: 1, clearSince: 100),
            rules: .init(direction: .atMost, keepFiringFor: 20),
            reading: .init(value: 5, baseline: 10),
            now: 120,
            actions: [Action(.recovery, from: .breached, to: .ok, episode: "50-1")],
            end: machine(.ok, counter: 1, since: 120)
        ),
        Case(
            name: "breached, good but not past clear_at 4: still firing, clear timer reset",
            start: machine(.breached, episode: "50-1", counter: 1, clearSince: 90),
            rules: .init(direction: .atMost, clearAt: 4, keepFiringFor: 20),
            reading: .init(value: 5, baseline: 10),
            actions: [],
            end: machine(.breached, episode: "50-1", counter: 1)
        ),
        Case(
            name: "breached, past clear_at 4: recovery",
            start: machine(.breached, episode: "50-1", counter: 1),
            rules: .init(direction: .atMost, clearAt: 4),
            reading: .init(value: 3, baseline: 10),
            actions: [Action(.recovery, from: .breached, to: .ok, episode: "50-1")],
            end: machine(.ok, counter: 1, since: 100)
        ),
        Case(
            name: "breached, bad again during keep_firing_for: clear timer reset",
            start: machine(.breached, episode: "50-1", counter: 1, clearSince: 95),
            rules: .init(direction: .atMost, keepFiringFor: 20),
            reading: .init(value: 20, baseline: 10),
            actions: [],
            end: machine(.breached, episode: "50-1", counter: 1)
        ),
        Case(
            name: "ok, empty, nodata alert: nodata",
            start: machine(.ok),
            reading: .init(value: nil, baseline: 10),
            actions: [Action(.nodata, from: .ok, to: .nodata)],
            end: machine(.nodata, since: 100)
        ),
        Case(
            name: "ok, empty, nodata ok: nothing",
            start: machine(.ok),
            rules: .init(direction: .atMost, nodata: .ok),
            reading: .init(value: nil, baseline: 10),
            actions: [],
            end: machine(.ok)
        ),
        Case(
            name: "breached, empty, nodata keep_state: still breached",
            start: machine(.breached, episode: "50-1", counter: 1),
            rules: .init(direction: .atMost, nodata: .keepState),
            reading: .init(value: nil, baseline: 10),
            actions: [],
            end: machine(.breached, episode: "50-1", counter: 1)
        ),
        Case(
            name: "breached, empty, nodata ok, no hysteresis: recovery",
            start: machine(.breached, episode: "50-1", counter: 1),
            rules: .init(direction: .atMost, nodata: .ok),
            reading: .init(value: nil, baseline: 10),
            actions: [Action(.recovery, from: .breached, to: .ok, episode: "50-1")],
            end: machine(.ok, counter: 1, since: 100)
        ),
        Case(
            name: "breached, empty, nodata ok, keep_firing_for 20: still firing, clear timer starts",
            start: machine(.breached, episode: "50-1", counter: 1),
            rules: .init(direction: .atMost, keepFiringFor: 20, nodata: .ok),
            reading: .init(value: nil, baseline: 10),
            actions: [],
            end: machine(.breached, episode: "50-1", counter: 1, clearSince: 100)
        ),
        Case(
            name: "breached, empty since 90 under nodata ok, at 110 of keep_firing_for 20: recovery",
            start: machine(.breached, episode: "50-1", counter: 1, clearSince: 90),
            rules: .init(direction: .atMost, keepFiringFor: 20, nodata: .ok),
            reading: .init(value: nil, baseline: 10),
            now: 110,
            actions: [Action(.recovery, from: .breached, to: .ok, episode: "50-1")],
            end: machine(.ok, counter: 1, since: 110)
        ),
        Case(
            name: "nodata inside an episode, data back bad: data resumed, the same episode, no breach",
            start: machine(.nodata, episode: "50-1", counter: 1),
            reading: .init(value: 20, baseline: 10),
            actions: [Action(.dataResumed, from: .nodata, to: .breached, episode: "50-1")],
            end: machine(.breached, episode: "50-1", counter: 1, since: 100)
        ),
        Case(
            name: "nodata inside an episode, data back good, keep_firing_for 20: data resumed, still firing",
            start: machine(.nodata, episode: "50-1", counter: 1),
            rules: .init(direction: .atMost, keepFiringFor: 20),
            reading: .init(value: 5, baseline: 10),
            actions: [Action(.dataResumed, from: .nodata, to: .breached, episode: "50-1")],
            end: machine(.breached, episode: "50-1", counter: 1, clearSince: 100, since: 100)
        ),
        Case(
            name: "nodata inside an episode, data back good but not past clear_at 4: data resumed, still firing",
            start: machine(.nodata, episode: "50-1", counter: 1),
            rules: .init(direction: .atMost, clearAt: 4),
            reading: .init(value: 5, baseline: 10),
            actions: [Action(.dataResumed, from: .nodata, to: .breached, episode: "50-1")],
            end: machine(.breached, episode: "50-1", counter: 1, since: 100)
        ),
        Case(
            name: "nodata inside an episode, data back past clear_at: recovery closes it",
            start: machine(.nodata, episode: "50-1", counter: 1),
            rules: .init(direction: .atMost, clearAt: 4),
            reading: .init(value: 3, baseline: 10),
            actions: [Action(.recovery, from: .nodata, to: .ok, episode: "50-1")],
            end: machine(.ok, counter: 1, since: 100)
        ),
        Case(
            name: "nodata, good, no episode: data resumed",
            start: machine(.nodata),
            reading: .init(value: 5, baseline: 10),
            actions: [Action(.dataResumed, from: .nodata, to: .ok)],
            end: machine(.ok, since: 100)
        ),
        Case(
            name: "nodata, bad: breach opens an episode",
            start: machine(.nodata, counter: 7),
            reading: .init(value: 20, baseline: 10),
            actions: [Action(.breach, from: .nodata, to: .breached, episode: "100-8")],
            end: machine(.breached, episode: "100-8", counter: 8, since: 100)
        ),
        Case(
            name: "ok, empty at 100 with nodata_after 30: grace starts",
            start: machine(.ok),
            rules: .init(direction: .atMost, nodataAfter: 30),
            reading: .init(value: nil, baseline: 10),
            actions: [],
            end: machine(.ok, emptySince: 100)
        ),
        Case(
            name: "ok, empty since 100, at 129 of nodata_after 30: nothing yet",
            start: machine(.ok, emptySince: 100),
            rules: .init(direction: .atMost, nodataAfter: 30),
            reading: .init(value: nil, baseline: 10),
            now: 129,
            actions: [],
            end: machine(.ok, emptySince: 100)
        ),
        Case(
            name: "ok, empty since 100, at 130 of nodata_after 30: nodata",
            start: machine(.ok, emptySince: 100),
            rules: .init(direction: .atMost, nodataAfter: 30),
            reading: .init(value: nil, baseline: 10),
            now: 130,
            actions: [Action(.nodata, from: .ok, to: .nodata)],
            end: machine(.nodata, emptySince: 100, since: 130)
        ),
        Case(
            name: "ok, empty since 100, data again: grace ends",
            start: machine(.ok, emptySince: 100),
            rules: .init(direction: .atMost, nodataAfter: 30),
            reading: .init(value: 5, baseline: 10),
            now: 110,
            actions: [],
            end: machine(.ok)
        ),
        Case(
            name: "ok, bad but the baseline is untrusted (adaptive, learning): nothing",
            start: machine(.ok),
            reading: .init(value: 20, baseline: nil),
            actions: [],
            end: machine(.ok)
        ),
        Case(
            name: "ok, bad with 3 events of min_events 5: nothing",
            start: machine(.ok),
            rules: .init(direction: .atMost, minEvents: 5),
            reading: .init(value: 20, baseline: 10, events: 3),
            actions: [],
            end: machine(.ok)
        ),
        Case(
            name: "ok, bad with 5 events of min_events 5: breach",
            start: machine(.ok),
            rules: .init(direction: .atMost, minEvents: 5),
            reading: .init(value: 20, baseline: 10, events: 5),
            actions: [Action(.breach, from: .ok, to: .breached, episode: "100-1")],
            end: machine(.breached, episode: "100-1", counter: 1, since: 100)
        ),
        Case(
            name: "at least 10: 9.5 is bad",
            start: machine(.ok),
            rules: .init(direction: .atLeast),
            reading: .init(value: 9.5, baseline: 10),
            actions: [Action(.breach, from: .ok, to: .breached, episode: "100-1")],
            end: machine(.breached, episode: "100-1", counter: 1, since: 100)
        ),
        Case(
            name: "at least 10: exactly 10 is good",
            start: machine(.breached, episode: "1-1", counter: 1),
            rules: .init(direction: .atLeast),
            reading: .init(value: 10, baseline: 10),
            actions: [Action(.recovery, from: .breached, to: .ok, episode: "1-1")],
            end: machine(.ok, counter: 1, since: 100)
        ),
    ]

    @Test(arguments: continuous)
    func judge(_ c: Case) {
        var m = c.start
        let actions = m.judge(c.reading, rules: c.rules, now: c.now)
        #expect(actions == c.actions)
        #expect(m == c.end)
    }

    struct PeriodCase: Sendable, CustomTestStringConvertible {
        var name: String
        var start: Machine
        var met: Bool
        var actions: [Action]
        var end: Machine
        var testDescription: String { name }
    }

    static let periods: [PeriodCase] = [
        PeriodCase(
            name: "ok, met: a verdict only",
            start: machine(.ok),
            met: true,
            actions: [Action(.periodResult, from: .ok, to: .ok)],
            end: machine(.ok)
        ),
        PeriodCase(
            name: "ok, missed: verdict with a new episode, then breach",
            start: machine(.ok, counter: 2),
            met: false,
            actions: [
                Action(.periodResult, from: .ok, to: .breached, episode: "100-3"),
                Action(.breach, from: .ok, to: .breached, episode: "100-3"),
            ],
            end: machine(.breached, episode: "100-3", counter: 3, since: 100)
        ),
        PeriodCase(
            name: "breached, missed again: the same episode, no new breach",
            start: machine(.breached, episode: "40-1", counter: 1),
            met: false,
            actions: [Action(.periodResult, from: .breached, to: .breached, episode: "40-1")],
            end: machine(.breached, episode: "40-1", counter: 1)
        ),
        PeriodCase(
            name: "breached, met: verdict and recovery close the episode",
            start: machine(.breached, episode: "40-1", counter: 1),
            met: true,
            actions: [
                Action(.periodResult, from: .breached, to: .ok, episode: "40-1"),
                Action(.recovery, from: .breached, to: .ok, episode: "40-1"),
            ],
            end: machine(.ok, counter: 1, since: 100)
        ),
        PeriodCase(
            name: "nodata, met: data resumed",
            start: machine(.nodata),
            met: true,
            actions: [
                Action(.periodResult, from: .nodata, to: .ok),
                Action(.dataResumed, from: .nodata, to: .ok),
            ],
            end: machine(.ok, since: 100)
        ),
    ]

    @Test(arguments: periods)
    func judgePeriod(_ c: PeriodCase) {
        var m = c.start
        #expect(m.judgePeriod(met: c.met, now: 100) == c.actions)
        #expect(m == c.end)
    }

    /// A `for` spell, a breach and a held recovery, input after input: the episode id stays the
    /// same from breach to recovery, and the next breach gets a new one.
    @Test func aWholeEpisode() {
        let rules = Machine.Rules(direction: .atMost, forSeconds: 10, keepFiringFor: 5)
        var m = Machine()
        var log: [String] = []
        for (t, v) in [(0.0, 5.0), (1, 20), (5, 20), (11, 20), (12, 5), (16, 5), (17, 5), (20, 20), (30, 20)] {
            log += m.judge(.init(value: v, baseline: 10), rules: rules, now: t).map { "\(Int(t)) \($0)" }
        }
        #expect(
            log == [
                "1 pending ok→pending", "11 breach pending→breached [11-1]", "17 recovery breached→ok [11-1]",
                "20 pending ok→pending", "30 breach pending→breached [30-2]",
            ]
        )
    }

    /// The reported case: `keep_firing_for` 20 s under `nodata: ok`, the window empties 5 s after
    /// the last bad sample: recovery comes 20 s after the breach's last bad reading, not at once;
    /// and breached → nodata → bad again is one episode with one breach.
    @Test func everyRouteOutOfABreachHonoursTheHysteresis() {
        let ok = Machine.Rules(direction: .atMost, keepFiringFor: 20, nodata: .ok)
        var m = Machine()
        var log: [String] = []
        for (t, v) in [(0.0, 20.0 as Double?), (5, nil), (10, nil), (24, nil), (25, nil), (30, nil)] {
            log += m.judge(.init(value: v, baseline: 10), rules: ok, now: t).map { "\(Int(t)) \($0)" }
        }
        #expect(log == ["0 breach ok→breached [0-1]", "25 recovery breached→ok [0-1]"])
        let alert = Machine.Rules(direction: .atMost)
        var n = Machine()
        log = []
        for (t, v) in [(0.0, 20.0 as Double?), (5, nil), (10, 20), (15, 5)] {
            log += n.judge(.init(value: v, baseline: 10), rules: alert, now: t).map { "\(Int(t)) \($0)" }
        }
        #expect(
            log == [
                "0 breach ok→breached [0-1]", "5 nodata breached→nodata [0-1]",
                "10 data_resumed nodata→breached [0-1]", "15 recovery breached→ok [0-1]",
            ]
        )
    }

    /// Persisted flat in `InstanceState`: reading and writing the machine keeps every field.
    @Test func roundTripsThroughInstanceState() {
        var st = InstanceState()
        let m = Self.machine(.breached, episode: "9-2", counter: 2, pendingSince: 3, clearSince: 4, emptySince: 5)
        st.alert = m
        #expect(st.state == .breached)
        #expect(st.episode == "9-2")
        #expect(st.clearSince == 4)
        #expect(st.alert == m)
    }
}
