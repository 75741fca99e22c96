/// The alert state machine of one objective instance (design §1 "state"): `ok`, `pending`,
/// `breached`, `nodata`, with `for`, `clear_at`, `keep_firing_for`, the `nodata` policies,
/// `nodata_after`, `min_events` and breach episodes. A pure value: the engine hands it one
/// reading per evaluation and turns the actions it returns into transitions; nothing else
/// changes an instance's alert state.
///
/// Its fields are persisted inside `InstanceState` (`InstanceState.alert`), so a restarted
/// engine continues the same episode and the same timers.
public struct AlertStateMachine: Sendable, Equatable {
    /// Current state.
    public var state: AlertState = .ok
    /// Unix seconds of the last state change (or of the first evaluation).
    public var since: Double = 0
    /// When the SLI first went bad in the current pending spell.
    public var pendingSince: Double?
    /// Id of the open breach episode (`"<unix seconds>-<n>"`); its recovery repeats it.
    public var episode: String?
    /// Episodes opened so far (makes episode ids unique per instance; burn-rate alerts count
    /// here too).
    public var episodeCounter = 0
    /// A breach with `keep_firing_for`/`clear_at`: since when the SLI has been past the
    /// recovery threshold.
    public var clearSince: Double?
    /// `nodata_after`: since when the window has been empty.
    public var emptySince: Double?

    /// A fresh machine: `ok`, no episode.
    public init() {}

    /// The parts of an objective the machine applies.
    public struct Rules: Sendable, Equatable {
        /// Which side of the baseline is good.
        public var direction: Direction
        /// `for`: seconds the SLI must stay bad before a breach (0: at once).
        public var forSeconds: Double = 0
        /// `clear_at`: the SLI must be past this (on the good side) before a breach recovers.
        public var clearAt: Double?
        /// `keep_firing_for`: seconds the SLI must stay good before a breach recovers.
        public var keepFiringFor: Double = 0
        /// What an empty window means.
        public var nodata: NodataPolicy = .alert
        /// `nodata_after`: seconds a window may stay empty before `nodata` (policy `alert`).
        public var nodataAfter: Double = 0
        /// `min_events`: fewer events than this in the window are not judged.
        public var minEvents: Int = 0

        /// Rules with the given values.
        public init(
            direction: Direction,
            forSeconds: Double = 0,
            clearAt: Double? = nil,
            keepFiringFor: Double = 0,
            nodata: NodataPolicy = .alert,
            nodataAfter: Double = 0,
            minEvents: Int = 0
        ) {
            self.direction = direction
            self.forSeconds = forSeconds
            self.clearAt = clearAt
            self.keepFiringFor = keepFiringFor
            self.nodata = nodata
            self.nodataAfter = nodataAfter
            self.minEvents = minEvents
        }

        /// The rules of objective `o`.
        public init(_ o: Objective) {
            self.init(
                direction: o.direction,
                forSeconds: o.forSeconds,
                clearAt: o.clearAt,
                keepFiringFor: o.keepFiringFor,
                nodata: o.nodata,
                nodataAfter: o.nodataAfter,
                minEvents: o.minEvents
            )
        }

        /// Whether `value` is on the bad side of `baseline` (`Objective.isBad`).
        public func isBad(_ value: Double, baseline: Double) -> Bool {
            direction == .atLeast ? value < baseline : value > baseline
        }
    }

    /// What one evaluation read from the instance's window.
    public struct Reading: Sendable, Equatable {
        /// The SLI, `nil` for an empty window (no data).
        public var value: Double?
        /// The baseline in force, `nil` while an adaptive or referenced baseline is untrusted.
        public var baseline: Double?
        /// Events in the window `min_events` counts (ratio: total events; others: samples).
        public var events: Double

        /// A reading; `events` defaults to "enough" (no `min_events` question).
        public init(value: Double?, baseline: Double?, events: Double = .infinity) {
            self.value = value
            self.baseline = baseline
            self.events = events
        }
    }

    /// One state change (or a period verdict) the engine turns into a `Transition`.
    public struct Action: Sendable, Equatable, CustomStringConvertible {
        /// The entry's kind.
        public var kind: TransitionKind
        /// State before.
        public var from: AlertState
        /// State after.
        public var to: AlertState
        /// The episode the entry belongs to (the one opened by a breach, closed by a recovery).
        public var episode: String?

        /// An action.
        public init(_ kind: TransitionKind, from: AlertState, to: AlertState, episode: String? = nil) {
            self.kind = kind
            self.from = from
            self.to = to
            self.episode = episode
        }

        /// `kind from→to [episode]`, for test failures.
        public var description: String { "\(kind.rawValue) \(from)→\(to)" + (episode.map { " [\($0)]" } ?? "") }
    }

    /// Judges a continuous objective's reading at `now` (unix seconds) and returns the state
    /// changes, at most one. In order of precedence:
    /// - a value with an untrusted baseline, or fewer events than `min_events`: nothing changes;
    /// - an open episode (breached, or `nodata` after a breach) and good again, but not past
    ///   `clear_at` or not for `keep_firing_for`: still breached (`data_resumed` when the data
    ///   came back from `nodata`);
    /// - breached and empty under `nodata: ok`: an empty window counts as good (nothing fails
    ///   `clear_at`), and recovers only after `keep_firing_for` like any good reading;
    /// - empty within `nodata_after` (policy `alert`): nothing changes yet;
    /// - bad: `pending` (with `for`) then `breached`, opening an episode; data coming back bad
    ///   inside an open episode is `data_resumed`, never a second breach of the episode;
    /// - good (or empty under `nodata: ok`): back to `ok` (`recovery` closes the episode,
    ///   `pending_cleared`, `data_resumed`);
    /// - empty (policy `alert`): `nodata`; policy `keep`: nothing changes.
    ///
    /// So every route out of a breach honours `clear_at` and `keep_firing_for`, and one episode
    /// has exactly one `breach` entry and one `recovery`.
    public mutating func judge(_ r: Reading, rules: Rules, now: Double) -> [Action] {
        var out: [Action] = []
        func move(_ to: AlertState, _ kind: TransitionKind) {
            out.append(Action(kind, from: state, to: to, episode: episode))
            state = to
            since = now
        }
        func openEpisode() {
            if episode == nil { episode = newEpisodeID(now: now) }
            pendingSince = nil
            move(.breached, .breach)
        }
        let tooFew = r.value != nil && Double(rules.minEvents) > r.events
        if r.value != nil { emptySince = nil }
        if r.value != nil, r.baseline == nil || tooFew {
            // An adaptive baseline still learning, or fewer events than `min_events`: nothing to
            // judge; the state stays.
        } else if state == .breached || (state == .nodata && episode != nil), let value = r.value,
            let baseline = r.baseline, !rules.isBad(value, baseline: baseline),
            !recovers(value, rules: rules, now: now)
        {
            // Good again, but not yet past `clear_at` or not for `keep_firing_for`: still firing.
            if state == .nodata { move(.breached, .dataResumed) }
        } else if state == .breached, r.value == nil, rules.nodata == .ok, !recoversEmpty(rules: rules, now: now) {
            // Empty under `nodata: ok` counts as good, held for `keep_firing_for`.
        } else if r.value == nil, rules.nodata == .alert, rules.nodataAfter > 0, state != .nodata,
            now - (emptySince ?? now) < rules.nodataAfter
        {
            // An empty window within its `nodata_after` grace: nothing changes yet.
            if emptySince == nil { emptySince = now }
        } else if let value = r.value, let baseline = r.baseline, rules.isBad(value, baseline: baseline) {
            clearSince = nil
            switch state {
            case .breached: break
            case .pending:
                if now - (pendingSince ?? now) >= rules.forSeconds { openEpisode() }
            case .nodata where episode != nil:
                // Data back inside the open episode, still bad: the episode goes on.
                move(.breached, .dataResumed)
            case .ok, .nodata:
                if rules.forSeconds <= 0 {
                    openEpisode()
                } else {
                    pendingSince = now
                    move(.pending, .pending)
                }
            }
        } else if r.value != nil || rules.nodata == .ok {
            pendingSince = nil
            switch state {
            case .ok: break
            case .pending: move(.ok, .pendingCleared)
            case .breached, .nodata:
                if episode != nil {
                    move(.ok, .recovery)
                    episode = nil
                } else {
                    move(.ok, .dataResumed)
                }
            }
        } else if rules.nodata == .alert, state != .nodata {
            pendingSince = nil
            move(.nodata, .nodata)
        }
        return out
    }

    /// Judges a closed calendar period of a cumulative target: the period verdict first
    /// (`period_result`, to `ok` when met, to `breached` with the episode when missed), then the
    /// state change it causes, if any (`recovery` or `data_resumed` to `ok`, `breach`).
    public mutating func judgePeriod(met: Bool, now: Double) -> [Action] {
        var out: [Action] = []
        func move(_ to: AlertState, _ kind: TransitionKind) {
            out.append(Action(kind, from: state, to: to, episode: episode))
            state = to
            since = now
        }
        if met {
            out.append(Action(.periodResult, from: state, to: .ok, episode: episode))
            if state != .ok {
                move(.ok, episode != nil ? .recovery : .dataResumed)
                episode = nil
            }
        } else {
            if episode == nil { episode = newEpisodeID(now: now) }
            out.append(Action(.periodResult, from: state, to: .breached, episode: episode))
            if state != .breached { move(.breached, .breach) }
        }
        return out
    }

    /// A new episode id, unique for the instance: `"<unix seconds>-<n>"` (`prefix` before it,
    /// e.g. `burn-` for burn-rate alerts).
    public mutating func newEpisodeID(prefix: String = "", now: Double) -> String {
        episodeCounter += 1
        return "\(prefix)\(Int64(now))-\(episodeCounter)"
    }

    /// Whether a breached instance whose window is empty under `nodata: ok` recovers now: an
    /// empty window counts as a good reading past `clear_at`, which must last `keep_firing_for`
    /// (the clear timer of a good spell before it goes on).
    private mutating func recoversEmpty(rules: Rules, now: Double) -> Bool { keptGood(rules: rules, now: now) }

    /// Whether the good spell that started `clearSince` (now, when none) has lasted
    /// `keep_firing_for`; ends the spell when it has.
    private mutating func keptGood(rules: Rules, now: Double) -> Bool {
        if rules.keepFiringFor <= 0 { return true }
        if clearSince == nil { clearSince = now }
        if now - clearSince! >= rules.keepFiringFor {
            clearSince = nil
            return true
        }
        return false
    }

    /// Whether a breached instance whose SLI is good again recovers now: the SLI must be past
    /// `clear_at` (when set), and have stayed so for `keep_firing_for`.
    private mutating func recovers(_ value: Double, rules: Rules, now: Double) -> Bool {
        if let clear = rules.clearAt, rules.direction == .atLeast ? value < clear : value > clear {
            clearSince = nil
            return false
        }
        return keptGood(rules: rules, now: now)
    }
}

extension InstanceState {
    /// The alert state machine's fields of this instance (stored flat, as state files hold
    /// them).
    public var alert: AlertStateMachine {
        get {
            var m = AlertStateMachine()
            m.state = state
            m.since = since
            m.pendingSince = pendingSince
            m.episode = episode
            m.episodeCounter = episodeCounter
            m.clearSince = clearSince
            m.emptySince = emptySince
            return m
        }
        set {
            state = newValue.state
            since = newValue.since
            pendingSince = newValue.pendingSince
            episode = newValue.episode
            episodeCounter = newValue.episodeCounter
            clearSince = newValue.clearSince
            emptySince = newValue.emptySince
        }
    }
}
