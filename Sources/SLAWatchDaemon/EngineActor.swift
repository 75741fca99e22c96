import Foundation
import SLAWatchCore
import SLAWatchStore

/// The engine's home in the shell: one actor holding the pure `Engine` and the store, so that
/// ingest, evaluation and snapshot commits are serialized. Batches come in whole (never one
/// actor hop per event).
public actor EngineActor {
    private var engine: Engine
    private let store: StateStore
    private let clock: @Sendable () -> Double
    private var pendingPeriodResults: [Transition] = []
    private var needsFullSnapshot = false
    private var pendingGauges: [String: Double] = [:]
    /// Events accepted since start.
    public private(set) var acceptedTotal = 0
    /// Lines or events rejected since start, per reason.
    public private(set) var rejectedByReason: [RejectReason: Int] = [:]
    /// Successful commits since start.
    public private(set) var commits = 0
    /// Unix seconds of the last evaluation (watchdog and status).
    public private(set) var lastEvaluation: Double = 0

    /// Creates the actor around an engine (already restored) and its store.
    /// - Parameter clock: wall-clock time in unix seconds (injected for tests).
    public init(engine: Engine, store: StateStore, clock: @escaping @Sendable () -> Double) {
        self.engine = engine
        self.store = store
        self.clock = clock
    }

    /// Ingests a batch at the current time.
    /// - Returns: the engine's result (indexes of rejected events with reasons).
    public func ingest(_ events: EventBatch) -> Engine.IngestResult {
        let r = engine.ingest(events, now: clock())
        acceptedTotal += r.accepted
        for x in r.rejected { rejectedByReason[x.reason, default: 0] += 1 }
        return r
    }

    /// Counts lines rejected by the parser (before they reach the engine).
    public func countParseRejections(_ reasons: [RejectReason: Int]) {
        for (k, v) in reasons { rejectedByReason[k, default: 0] += v }
    }

    /// Ingests a batch and commits it in the same call: when this returns without throwing the
    /// events are in the store (drop files are moved only after this).
    /// - Throws: the store's error; the events stay in memory and are retried by the next commit.
    public func ingestAndCommit(_ events: EventBatch, ledger: LedgerEntry? = nil) throws -> Engine.IngestResult {
        let r = ingest(events)
        if var entry = ledger {
            entry.accepted = r.accepted
            try commit(ledger: [entry])
        } else {
            try commit()
        }
        return r
    }

    /// Whether the store's ledger already holds this drop file (see `LedgerEntry`).
    public func alreadyIngested(_ e: LedgerEntry) -> Bool {
        (try? store.ledgerContains(
            device: e.device,
            inode: e.inode,
            size: e.size,
            mtimeNanoseconds: e.mtimeNanoseconds,
            contentHash: e.contentHash
        )) ?? false
    }

    /// Evaluates all objectives now. Period results are queued for the next commit.
    public func evaluate() -> [Transition] {
        let now = clock()
        lastEvaluation = now
        let t = engine.evaluate(at: now)
        pendingPeriodResults += t.filter { $0.kind == .periodResult }
        return t
    }

    /// Writes changed state (dirty window buckets, alert states, period results) in one
    /// transaction.
    /// - Throws: the store's error; the same state is written in full by the next commit.
    public func commit(ledger: [LedgerEntry] = []) throws {
        let snapshots = needsFullSnapshot ? engine.allSnapshots() : engine.takeDirtySnapshots()
        if needsFullSnapshot { _ = engine.takeDirtySnapshots() }
        do {
            try store.save(
                snapshots,
                periodResults: pendingPeriodResults,
                gaugeLevels: pendingGauges.merging(engine.takeDirtyGaugeLevels()) { _, n in n },
                ledger: ledger,
                at: clock()
            )
            pendingGauges = [:]
            pendingPeriodResults = []
            needsFullSnapshot = false
            commits += 1
        } catch {
            needsFullSnapshot = true
            pendingGauges = engine.gaugeLevels
            throw error
        }
    }

    /// Every objective's alert state as of the last evaluation (cheap: no SLI computation).
    public func states() -> [AlertState] { engine.status().map { AlertState(rawValue: $0.state) ?? .ok } }

    /// Every objective's standing as of the last evaluation.
    public func status() -> [Engine.Status] { engine.status(at: clock()) }

    /// The objective named `name`.
    public func objective(named name: String) -> Objective? { engine.objective(named: name) }

    /// Journal entries for transitions, rendered with the objectives in force now (an objective
    /// removed by a reload in the meantime is skipped).
    public func journalEntries(_ transitions: [Transition]) -> [[(String, String)]] {
        transitions.compactMap { t in engine.objective(named: t.objective).map { AlertEntry.fields(t, $0) } }
    }

    /// What a reload changed.
    public struct ReloadSummary: Sendable, Equatable {
        /// Objectives new in the config.
        public var added: [String] = []
        /// Objectives no longer in the config (their state is dropped).
        public var removed: [String] = []
        /// Objectives whose definition changed (state kept; window data kept only when metric,
        /// label filter, window and time zone are unchanged).
        public var changed: [String] = []
        /// Objectives identical to before (state and windows kept as they are).
        public var unchanged = 0
    }

    /// Replaces the objectives (SIGHUP). Unchanged objectives keep their state and windows;
    /// edited ones keep their alert state and, when their data fingerprint is unchanged, their
    /// windows; the next evaluation judges them by the new definition.
    public func reload(objectives: [Objective], maxFutureSkew: Double) -> ReloadSummary {
        var summary = ReloadSummary()
        let old = Dictionary(uniqueKeysWithValues: engine.objectives.map { ($0.name, $0) })
        let newNames = Set(objectives.map(\.name))
        for o in objectives {
            if let before = old[o.name] {
                if before == o { summary.unchanged += 1 } else { summary.changed.append(o.name) }
            } else {
                summary.added.append(o.name)
            }
        }
        summary.removed = engine.objectives.map(\.name).filter { !newNames.contains($0) }
        var next = Engine(objectives: objectives, maxFutureSkew: maxFutureSkew)
        next.tracksGaugeLevels = engine.tracksGaugeLevels
        next.restore(engine.allSnapshots())
        next.restoreGaugeLevels(engine.gaugeLevels)
        engine = next
        needsFullSnapshot = true
        return summary
    }

    /// Fault injection for tests (`debug wedge-engine SECONDS` on the control socket, only with
    /// `SLAWATCH_DEBUG_COMMANDS=1`): blocks the actor like a stuck evaluation would.
    public func wedge(seconds: Double) {
        Thread.sleep(forTimeInterval: seconds)
    }

    /// Number of configured objectives.
    public var objectiveCount: Int { engine.objectives.count }
}
