import Foundation
import SLAWatchCore
import SLAWatchStore

/// The engine's home in the shell: one actor holding the pure `Engine` and the store, so that
/// ingest, evaluation and snapshot commits are serialized. Batches come in whole (never one
/// actor hop per event).
public actor EngineActor {
    private var engine: Engine
    private let store: StateStore
    /// Writes batches on its own thread (group commit).
    public let writer: StoreWriter
    private let clock: @Sendable () -> Double
    private var pendingPeriodResults: [Transition] = []
    private var needsFullSnapshot = false
    /// `Engine.versionChanges` as of the last take.
    private var knownVersionChanges = 0
    /// Drop files whose ledger entries were taken into a commit that has not succeeded yet
    /// (with the take's sequence number), so a repeat is recognized before the write lands.
    private var unconfirmedLedger: [(take: Int, entry: LedgerEntry)] = []
    private var takes = 0
    private var confirmedTake = 0
    /// Events accepted since start.
    public private(set) var acceptedTotal = 0
    /// Lines or events rejected since start, per reason.
    public private(set) var rejectedByReason: [RejectReason: Int] = [:]
    /// Successful commits since start.
    public var commits: Int { writer.commits }
    /// Unix seconds of the last evaluation (watchdog and status).
    public private(set) var lastEvaluation: Double = 0

    /// Creates the actor around an engine (already restored) and its store.
    /// - Parameter clock: wall-clock time in unix seconds (injected for tests).
    public init(engine: Engine, store: StateStore, clock: @escaping @Sendable () -> Double) {
        self.engine = engine
        self.store = store
        self.clock = clock
        self.writer = StoreWriter(store: store, clock: clock)
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

    // MARK: - Drop files

    /// A drop file's staging ended under it: a reload replaced the engine while the file was
    /// read. Nothing of the file counts; it is read again from the start.
    public struct FileInterrupted: Error, CustomStringConvertible {
        /// Why.
        public var description: String { "the objectives were reloaded while the file was read" }
    }

    private var fileGeneration = 0
    private var openFile: Int?
    private var stagedAccepted = 0

    /// Opens a drop file: until `commitFile` or `abortFile`, `stage` puts its events where
    /// evaluation, status and snapshots do not see them (`Engine.beginStaging()`), so the file
    /// counts all at once or not at all. One file at a time; opening another discards the first.
    /// - Returns: a token for `stage`, `commitFile` and `abortFile`.
    public func beginFile() -> Int {
        engine.beginStaging()
        fileGeneration += 1
        openFile = fileGeneration
        stagedAccepted = 0
        return fileGeneration
    }

    /// Stages a batch of the open file's events (checked against the live windows at the current
    /// time: a too-late or future event is rejected now, per line).
    /// - Throws: `FileInterrupted` when the staging is gone (a reload, or another file opened).
    public func stage(_ events: EventBatch, file: Int) throws -> Engine.IngestResult {
        guard openFile == file, engine.isStaging else { throw FileInterrupted() }
        let r = engine.ingest(events, now: clock(), staged: true)
        stagedAccepted += r.accepted
        for x in r.rejected { rejectedByReason[x.reason, default: 0] += 1 }
        return r
    }

    /// Commits the open file's staged events together with its ledger entry, in one transaction
    /// of their own, and only then merges them into the live windows: evaluation and `status`
    /// never see a file's events before they are durable, and a write that fails leaves nothing
    /// of the file anywhere (memory, store or ledger), so it is simply read again.
    ///
    /// The file's write waits for a write in flight to end and holds the store meanwhile
    /// (`#sync`s wait behind it and are answered by the next write); socket traffic keeps flowing
    /// into the live windows.
    /// - Returns: how many staged events turned too late while the file was read (not counted).
    /// - Throws: `FileInterrupted` (nothing merged, nothing recorded); or the store's error
    ///   (nothing merged, nothing recorded: read the file again later).
    public func commitFile(_ entry: LedgerEntry, file: Int) async throws -> Int {
        guard openFile == file, engine.isStaging else { throw FileInterrupted() }
        fileCommitsInFlight += 1
        defer {
            fileCommitsInFlight -= 1
            if fileCommitsInFlight == 0 {
                let waiters = fileCommitWaiters
                fileCommitWaiters = []
                for w in waiters { w.resume() }
            }
        }
        if writeInFlight {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in storeHandoffs.append(c) }
        } else {
            writeInFlight = true
        }
        // This task holds the store now (`writeInFlight`): a reload waits for the file's commit.
        guard openFile == file, engine.isStaging else {
            releaseStore()
            throw FileInterrupted()
        }
        openFile = nil
        let now = clock()
        let preview = engine.stagedCommitPreview(now: now)
        var e = entry
        e.accepted = max(0, e.accepted - preview.late)
        takes += 1
        let take = takes
        unconfirmedLedger.append((take, e))
        let batch = StoreBatch(
            instances: preview.changes,
            full: false,
            periodResults: [],
            gaugeLevels: preview.levels,
            ledger: [e]
        )
        let failure: Error? = await withCheckedContinuation { (c: CheckedContinuation<Error?, Never>) in
            writer.submit(batch, keepOnFailure: false) { error in c.resume(returning: error) }
        }
        if let failure {
            engine.discardStaging()
            unconfirmedLedger.removeAll { $0.take == take }
            noteWrite(take, ok: false)
            releaseStore()
            throw failure
        }
        let late = engine.commitStaging(now: now)
        acceptedTotal += stagedAccepted - late
        if late > 0 { rejectedByReason[.tooLate, default: 0] += late }
        noteWrite(take, ok: true)
        releaseStore()
        return late
    }

    /// Drop-file commits waiting for the store (each resumed holding it).
    private var storeHandoffs: [CheckedContinuation<Void, Never>] = []

    /// Ends a hold of the store: the next waiting drop file takes it over, or it is free and the
    /// `#sync`s that came meanwhile start their write.
    private func releaseStore() {
        if !storeHandoffs.isEmpty {
            storeHandoffs.removeFirst().resume()
            return
        }
        writeInFlight = false
        startWriteIfIdle()
    }

    /// Drops the open file's staged events (a read error, shutdown halfway through a file).
    public func abortFile(_ file: Int) {
        guard openFile == file else { return }
        engine.discardStaging()
        openFile = nil
    }

    /// The ledger entry of this very file (same device, inode, size, mtime and content), also
    /// when its commit is still pending; `nil` when it was never ingested.
    /// - Throws: the store's read error: the caller must not take it for "never ingested".
    public func ledgerEntry(sameFileAs e: LedgerEntry) throws -> LedgerEntry? {
        if let p = unconfirmedLedger.map(\.entry).first(where: {
            $0.device == e.device && $0.inode == e.inode && $0.size == e.size
                && $0.mtimeNanoseconds == e.mtimeNanoseconds && $0.contentHash == e.contentHash
        }) {
            return p
        }
        return try store.ledgerEntry(
            device: e.device,
            inode: e.inode,
            size: e.size,
            mtimeNanoseconds: e.mtimeNanoseconds,
            contentHash: e.contentHash
        )
    }

    /// The earliest ingested file with this content, `nil` when none.
    /// - Throws: the store's read error (never taken for "none").
    public func ledgerEntry(contentHash: String) throws -> LedgerEntry? {
        try store.ledgerEntry(contentHash: contentHash)
            ?? unconfirmedLedger.map(\.entry).first { $0.contentHash == contentHash }
    }

    /// Deletes ledger entries older than `seconds`.
    /// - Returns: the entries deleted.
    /// - Throws: the store's error (nothing is deleted).
    @discardableResult
    public func pruneLedger(olderThan seconds: Double) throws -> Int {
        try store.pruneLedger(before: clock() - seconds)
    }

    /// Queues the open SLI history steps for the next commit (before the final one at shutdown):
    /// that commit takes every point still pending.
    public func closeOpenHistorySteps() {
        engine.closeOpenHistorySteps()
        drainHistory = true
    }

    /// Every pending history point goes with the next take (shutdown).
    private var drainHistory = false
    /// When history points were last taken (monotonic).
    private var lastHistoryTake: ContinuousClock.Instant?

    /// History points are not acknowledged data (they are derived from evaluations), and at
    /// each 5-minute boundary every judged instance closes one: taken all at once they would
    /// put a thousand upserts on the `#sync` answered by that commit. Each take carries its
    /// share of what is pending instead, `historySpreadSeconds` of pending per second since the
    /// last take (at least `minHistoryTake` points), so the boundary's points go out over about
    /// that many seconds of commits whatever their cadence, and never pile up (each take drains
    /// a fixed share of the queue).
    private func takeHistoryShare() -> [HistoryPoint] {
        let pending = engine.pendingHistoryCount
        let now = ContinuousClock.now
        defer { lastHistoryTake = now }
        guard !drainHistory, let last = lastHistoryTake else {
            drainHistory = false
            return engine.takeHistory()
        }
        let elapsed = (now - last).seconds
        let share = Int((Double(pending) * min(1, elapsed / Self.historySpreadSeconds)).rounded(.up))
        return engine.takeHistory(limit: max(Self.minHistoryTake, share))
    }

    /// Seconds over which a boundary's history points are spread across commits.
    static let historySpreadSeconds: Double = 30
    /// The fewest history points a take carries (when that many are pending).
    static let minHistoryTake = 100

    /// Records the versions of the objectives (`StateStore.recordVersions`): at start, after a
    /// reload, and when a dated version takes effect.
    /// - Returns: the objectives whose version in force was recorded anew.
    /// - Throws: the store's error.
    @discardableResult
    public func recordVersions() throws -> [String] {
        recordedVersionChanges = engine.versionChanges
        return try store.recordVersions(engine.versions, at: clock())
    }

    /// `Engine.versionChanges` as of the last `recordVersions()`.
    private var recordedVersionChanges = 0

    /// Every stored version of the objectives.
    /// - Throws: the store's error.
    public func objectiveVersions() throws -> [ObjectiveVersion] { try store.objectiveVersions() }

    /// Evaluates all objectives now. Period results are queued for the next commit.
    public func evaluate() -> [Transition] {
        let now = clock()
        lastEvaluation = now
        let started = ContinuousClock.now
        let t = engine.evaluate(at: now)
        let seconds = (ContinuousClock.now - started).seconds
        counters.evaluations += 1
        counters.evaluationSeconds += seconds
        counters.lastEvaluationSeconds = seconds
        if engine.versionChanges != recordedVersionChanges { _ = try? recordVersions() }
        let periods = t.filter { $0.kind == .periodResult || $0.kind == .periodReport }
        pendingPeriodResults += periods
        for p in periods { notePeriod(p) }
        return t
    }

    /// The evaluator's and the store's own counters.
    public private(set) var counters = StatusReply.EngineCounters()

    /// The last closed period of each instance and kind of period, by instance and kind.
    private var lastPeriods: [String: StatusReply.LastPeriod] = [:]

    /// Every instance's last closed periods, by instance then kind of period.
    public func closedPeriods() -> [StatusReply.LastPeriod] {
        lastPeriods.values.sorted { ($0.objective, $0.period) < ($1.objective, $1.period) }
    }

    /// Reads the newest closed period of each instance and kind from the store (at start).
    /// - Throws: the store's read error.
    public func loadClosedPeriods() throws {
        for r in try store.latestPeriods() {
            keepPeriod(r.objective, r.start, r.end, value: r.value.isNaN ? nil : r.value, met: r.met, report: r.report)
        }
    }

    /// Keeps a period result or report transition as its instance's last period of its kind.
    private func notePeriod(_ t: Transition) {
        var report: PeriodTally?
        if case .periodReport(let tally) = t.detail { report = tally }
        keepPeriod(t.objective, t.periodStart, t.periodEnd, value: t.value, met: t.met, report: report)
    }

    /// Keeps a closed period as `objective`'s last of its kind, unless a later one is known: a
    /// report period's unit, or the objective's calendar window (a period result).
    private func keepPeriod(
        _ objective: String,
        _ start: Double,
        _ end: Double,
        value: Double?,
        met: Bool?,
        report: PeriodTally?
    ) {
        let unit: String
        if let report {
            unit = report.unit.rawValue
        } else if let o = engine.objective(named: objective), case .calendar(let u) = o.window {
            unit = u.rawValue
        } else {
            return
        }
        keepPeriod(
            .init(
                objective: objective,
                period: unit,
                start: start,
                end: end,
                value: value,
                compliance: report?.compliance,
                met: met
            )
        )
    }

    private func keepPeriod(_ p: StatusReply.LastPeriod) {
        let key = p.objective + "\u{0}" + p.period
        if let known = lastPeriods[key], known.start > p.start { return }
        lastPeriods[key] = p
    }

    /// Takes what changed since the last take (changed buckets, dropped buckets, changed states,
    /// period results, gauge levels, ledger entries of committed drop files) as one batch.
    private func takeBatch() -> (batch: StoreBatch, take: Int) {
        // A version that took effect rebuilt the instance table: everything is written.
        let full = needsFullSnapshot || engine.versionChanges != knownVersionChanges
        needsFullSnapshot = false
        knownVersionChanges = engine.versionChanges
        takes += 1
        var batch = StoreBatch(
            instances: engine.takeChanges(full: full),
            full: full,
            periodResults: pendingPeriodResults,
            gaugeLevels: full ? engine.persistedLevels : engine.takeDirtyGaugeLevels(),
            ledger: []
        )
        batch.history = takeHistoryShare()
        if full { _ = engine.takeDirtyGaugeLevels() }
        pendingPeriodResults = []
        return (batch, takes)
    }

    private func confirm(_ take: Int) {
        confirmedTake = max(confirmedTake, take)
        unconfirmedLedger.removeAll { $0.take <= confirmedTake }
    }

    /// Commits what changed and waits until it is durable; see `requestCommit(_:)`.
    /// - Throws: the store's error; the changes are kept and written with the next commit.
    public func commit() async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
            commitWaiters.append { error in
                if let error { c.resume(throwing: error) } else { c.resume() }
            }
            startWriteIfIdle()
        }
    }

    /// Requests a commit of everything ingested so far and returns at once; `completion` runs on
    /// the store writer's thread once it is durable (`true`) or failed (`false`), in request
    /// order (`#sync`).
    ///
    /// Group commit: while a write is in flight, requests only wait; when it ends, one take of
    /// everything changed meanwhile serves all of them in one transaction. So a producer with a
    /// `#sync` every 1,000 events costs one take per write, not one per request.
    public func requestCommit(_ completion: @escaping @Sendable (Bool) -> Void) {
        commitWaiters.append { error in completion(error == nil) }
        startWriteIfIdle()
    }

    private var commitWaiters: [StoreWriter.Completion] = []
    private var writeInFlight = false
    /// When the last write was taken (monotonic); until when the next one waits, and whether
    /// its start is scheduled.
    private var lastWriteStart: ContinuousClock.Instant?
    private var throttledUntil: ContinuousClock.Instant?
    private var startScheduled = false
    /// Under a sustained stream of `#sync`s (more arrived while a write was in flight), writes
    /// start at most this often: one take and one transaction then answer every sync of the
    /// interval, instead of one write per few thousand events (each a take of every changed
    /// window and an upsert per bucket, and on two cores a store thread that evicts the
    /// parser's and the engine's caches). A sync that finds the store idle is written at once,
    /// so producers that sync now and then see no delay; one behind a busy store waits at most
    /// this long more (a bounded group-commit delay, as PostgreSQL's `commit_delay`).
    static let minWriteInterval: Duration = .milliseconds(50)
    /// Under that sustained stream, the interval also keeps commits to a tenth of the CPU: a
    /// write whose take (on the engine actor) and transaction (on the writer thread) used `c`
    /// of CPU is followed by the next no sooner than `writeDutyFactor × c` after its start (a
    /// commit of 1,000 changed windows takes ~5 ms of the two cores the parser and the engine
    /// need), never later than `maxWriteInterval`, which bounds how long a sync behind a busy
    /// store waits. CPU, not wall time: a write's wall time also holds the disk's flush and the
    /// time the writer waited for a core, neither of which a longer interval gives back, while
    /// every sync behind it waits the longer (the last of a stream, for nothing).
    static let writeDutyFactor = 10.0
    /// See `writeDutyFactor`.
    static let maxWriteInterval: Duration = .milliseconds(250)

    /// The interval before the next write after one whose take and transaction used `cpu`:
    /// `minWriteInterval`, or `writeDutyFactor` times `cpu`, at most `maxWriteInterval`.
    static func writeInterval(cpu: Duration) -> Duration {
        min(maxWriteInterval, max(minWriteInterval, cpu * writeDutyFactor))
    }

    /// The CPU time the last write's take used on the engine actor.
    private var lastTakeCPUTime: Duration = .zero

    private func startWriteIfIdle() {
        guard !writeInFlight, !commitWaiters.isEmpty else { return }
        let now = ContinuousClock.now
        if let until = throttledUntil, now < until {
            guard !startScheduled else { return }
            startScheduled = true
            Task {
                try? await Task.sleep(until: until, clock: .continuous)
                self.scheduledStart()
            }
            return
        }
        throttledUntil = nil
        lastWriteStart = now
        writeInFlight = true
        let waiters = commitWaiters
        commitWaiters = []
        let cpu = threadCPUTime()
        let (batch, take) = takeBatch()
        lastTakeCPUTime = threadCPUTime() - cpu
        writer.submit(batch) { [self] error in
            for w in waiters { w(error) }
            Task { await self.writeFinished(take, ok: error == nil) }
        }
    }

    private func scheduledStart() {
        startScheduled = false
        startWriteIfIdle()
    }

    /// Failed writes since the last one that succeeded (count, time of the first), and the
    /// recovery not yet reported.
    private var failingWrites: (count: Int, since: Double)?
    private var recovery: (failures: Int, since: Double)?

    /// Once after writes succeed again following failures: how many failed and since when
    /// (unix seconds); `nil` otherwise.
    public func takeStoreRecovery() -> (failures: Int, since: Double)? {
        defer { recovery = nil }
        return recovery
    }

    /// Counts a write's outcome: a success confirms its take and ends a run of failures.
    private func noteWrite(_ take: Int, ok: Bool) {
        if ok {
            confirm(take)
            if let f = failingWrites { recovery = (f.count, f.since) }
            failingWrites = nil
        } else {
            counters.storeFailures += 1
            if let f = failingWrites { failingWrites = (f.count + 1, f.since) } else { failingWrites = (1, clock()) }
        }
    }

    private func writeFinished(_ take: Int, ok: Bool) {
        noteWrite(take, ok: ok)
        // Syncs came while the write was in flight: the producer syncs faster than the store
        // writes, so the next write waits out the interval and answers more of them at once.
        if !commitWaiters.isEmpty, let start = lastWriteStart {
            throttledUntil = start + Self.writeInterval(cpu: lastTakeCPUTime + writer.lastWriteCPUTime)
        }
        releaseStore()
    }

    /// `max_series` once, the first time it refused a series.
    public func takeSeriesLimitNotice() -> Int? { engine.takeSeriesLimitNotice() }

    /// Every objective's alert state as of the last evaluation (cheap: no SLI computation).
    public func states() -> [AlertState] { engine.alertStates }

    /// Every objective's standing as of the last evaluation. While a drop file's commit is in
    /// flight (its events are merged into the live windows, the transaction not yet durable),
    /// the answer waits for it: status never shows a file's events before its commit.
    public func status() async -> [Engine.Status] {
        while fileCommitsInFlight > 0 {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in fileCommitWaiters.append(c) }
        }
        return engine.status(at: clock())
    }

    /// Drop-file commits under way, and the status requests waiting for them.
    private var fileCommitsInFlight = 0
    private var fileCommitWaiters: [CheckedContinuation<Void, Never>] = []

    /// The objective named `name`.
    public func objective(named name: String) -> Objective? { engine.objective(named: name) }

    /// The objectives in force, in config order.
    public func objectives() -> [Objective] { engine.objectives }

    /// Journal entries for transitions, rendered with the objectives in force now (an objective
    /// removed by a reload in the meantime is skipped).
    public func journalEntries(_ transitions: [Transition]) -> [JournalEntry] {
        var mutedAny = Set<Int>()
        let entries: [JournalEntry] = transitions.compactMap { t in
            guard let o = engine.objective(named: t.objective) else { return nil }
            // A silence mutes the entry (counted), never the numbers.
            if let k = silences.firstIndex(where: { $0.mutes(t, o) }) {
                silences[k].muted += 1
                mutedAny.insert(k)
                return nil
            }
            return AlertEntry.entry(t, o)
        }
        for k in mutedAny { try? store.updateSilence(silences[k]) }
        return entries
    }

    /// Silences, as stored.
    private var silences: [Silence] = []

    /// Review reminders written: SLA → (its review_by, its definition then, the last due time).
    private var reviews: [String: (reviewBy: Double, fingerprint: String, lastDue: Double)] = [:]

    /// Loads the review reminders written before (at start).
    /// - Throws: the store's read error.
    public func loadReviewReminders() throws { reviews = try store.reviewReminders() }

    /// The SLAs due for review now (`review_by:`): on that date and each week after, one
    /// reminder per due time, until the SLA is edited (its definition differs from the one the
    /// reminders began with); a new `review_by` starts a new cycle. Returns (SLA, review_by,
    /// days overdue), each recorded in the store so a restart does not repeat it.
    public func takeReviewReminders() -> [(sla: String, reviewBy: Double, overdueDays: Int)] {
        let now = clock()
        var out: [(String, Double, Int)] = []
        let bySLA = Dictionary(grouping: engine.objectives, by: { $0.sla.name })
        for (sla, objectives) in bySLA.sorted(by: { $0.key < $1.key }) {
            guard let reviewBy = objectives.first?.sla.reviewBy, reviewBy <= now else { continue }
            let week = 7 * 86_400.0
            let due = reviewBy + ((now - reviewBy) / week).rounded(.down) * week
            let fingerprint = Objective.definitionText(objectives)
            if let r = reviews[sla], r.reviewBy == reviewBy {
                // Edited since the reminders began: reviewed, no more reminders for this date.
                if r.fingerprint != fingerprint || due <= r.lastDue { continue }
            }
            let first = reviews[sla].map { $0.reviewBy != reviewBy } ?? true
            let kept = first ? fingerprint : reviews[sla]!.fingerprint
            reviews[sla] = (reviewBy, kept, due)
            try? store.setReviewReminder(sla: sla, reviewBy: reviewBy, fingerprint: kept, lastDue: due)
            out.append((sla, reviewBy, Int(((now - reviewBy) / 86_400).rounded(.down))))
        }
        return out
    }

    /// Loads the silences from the store (at start).
    /// - Throws: the store's read error.
    public func loadSilences() throws { silences = try store.silences() }

    /// Adds a silence of SLA `sla` and/or objective (or instance) `objective` from `from` to `to`.
    /// - Throws: `MaintenanceRefused` (its text says why) for neither scope given, an unknown SLA
    ///   or objective, an end not after its start or already past, no reason; the store's error.
    public func addSilence(sla: String?, objective: String?, from: Double, to: Double, reason: String) throws
        -> Silence
    {
        let now = clock()
        guard sla != nil || objective != nil else {
            throw MaintenanceRefused(description: "a silence names an SLA, an objective, or both")
        }
        if let sla, !engine.objectives.contains(where: { $0.sla.name == sla }) {
            let known = Set(engine.objectives.map(\.sla.name)).sorted().joined(separator: ", ")
            throw MaintenanceRefused(description: "no SLA named '\(sla)' (SLAs: \(known))")
        }
        if let objective {
            let base = objective.split(separator: "{", maxSplits: 1).first.map(String.init) ?? objective
            guard let o = engine.objectives.first(where: { $0.name == base }), sla == nil || o.sla.name == sla else {
                throw MaintenanceRefused(
                    description:
                        "no objective named '\(base)'\(sla.map { " in SLA \($0)" } ?? "") (see slawatch status)"
                )
            }
        }
        guard to > from else { throw MaintenanceRefused(description: "a silence must end after it starts") }
        guard to > now else { throw MaintenanceRefused(description: "a silence ending in the past mutes nothing") }
        try Self.checkReason(reason, what: "a silence")
        let stored = try store.addSilence(
            Silence(sla: sla, objective: objective, from: from, to: to, reason: reason, createdAt: now)
        )
        silences.append(stored)
        return stored
    }

    /// Ends silence `id` now (its summary entry follows at the next evaluation).
    /// - Returns: the silence, `nil` when none with that id is running or ahead.
    /// - Throws: the store's error.
    public func endSilence(id: Int) throws -> Silence? {
        let now = clock()
        guard let k = silences.firstIndex(where: { $0.id == id && $0.endedAt == nil && $0.to > now }) else {
            return nil
        }
        silences[k].to = max(silences[k].from, now)
        try store.updateSilence(silences[k])
        return silences[k]
    }

    /// Every silence, in id order.
    public func listSilences() -> [Silence] { silences }

    /// The silences that ended since the last call (their summary entries are due), marked
    /// ended in the store.
    public func takeEndedSilences() -> [Silence] {
        let now = clock()
        var ended: [Silence] = []
        for k in silences.indices where silences[k].endedAt == nil && silences[k].to <= now {
            silences[k].endedAt = now
            try? store.updateSilence(silences[k])
            ended.append(silences[k])
        }
        return ended
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
    /// A drop file's commit under way is waited for first (its events are merged into the
    /// engine this replaces once durable).
    public func reload(objectives: [Objective], maxFutureSkew: Double) async -> ReloadSummary {
        while fileCommitsInFlight > 0 {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in fileCommitWaiters.append(c) }
        }
        var summary = ReloadSummary()
        let old = Dictionary(uniqueKeysWithValues: engine.objectives.map { ($0.name, $0) })
        // Compared as in force now (versions dated ahead take over later).
        let inForce = Objective.inForce(objectives, at: clock())
        let newNames = Set(inForce.map(\.name))
        for o in inForce {
            if let before = old[o.name] {
                if before == o { summary.unchanged += 1 } else { summary.changed.append(o.name) }
            } else {
                summary.added.append(o.name)
            }
        }
        summary.removed = engine.objectives.map(\.name).filter { !newNames.contains($0) }
        engine.maxFutureSkew = maxFutureSkew
        engine = engine.replacing(objectives: objectives, at: clock())
        needsFullSnapshot = true
        return summary
    }

    /// Maintenance announced at run time, as stored.
    private var runtimeMaintenance: [RuntimeMaintenance] = []

    /// Loads the maintenance announced at run time from the store and applies it (at start).
    /// - Throws: the store's read error.
    public func loadRuntimeMaintenance() throws {
        runtimeMaintenance = try store.runtimeMaintenance()
        engine.setRuntimeMaintenance(runtimeMaintenance)
    }

    /// Why a maintenance cannot be announced.
    public struct MaintenanceRefused: Error, CustomStringConvertible {
        /// What is wrong.
        public var description: String
    }

    /// Announces maintenance of SLA `sla` (or one objective of it) from `from` to `to` (unix
    /// seconds), stored and applied from the next evaluation.
    /// - Throws: `MaintenanceRefused` for an unknown SLA or objective, an end not after its
    ///   start or already past, or too short a notice (`maintenance_notice` of the SLA: the
    ///   start must be that far after now); the store's error when it cannot be stored.
    public func addMaintenance(sla: String, objective: String?, from: Double, to: Double, reason: String) throws
        -> RuntimeMaintenance
    {
        let now = clock()
        let ofSLA = engine.objectives.filter { $0.sla.name == sla }
        guard let first = ofSLA.first else {
            let known = Set(engine.objectives.map(\.sla.name)).sorted().joined(separator: ", ")
            throw MaintenanceRefused(description: "no SLA named '\(sla)' (SLAs: \(known))")
        }
        if let objective, !ofSLA.contains(where: { $0.name == objective }) {
            throw MaintenanceRefused(
                description: "SLA \(sla) has no objective '\(objective)' (\(ofSLA.map(\.name).joined(separator: ", ")))"
            )
        }
        guard to > from else { throw MaintenanceRefused(description: "maintenance must end after it starts") }
        // Time already judged stays judged: maintenance is announced, not applied backwards.
        guard from >= now - 60 else {
            throw MaintenanceRefused(
                description:
                    "maintenance cannot start in the past (\(DurationText.format((now - from).rounded())) ago): time already judged stays judged; start it now or later"
            )
        }
        try Self.checkReason(reason, what: "a maintenance")
        let notice = first.sla.maintenanceNotice
        if notice > 0, from - now < notice - 1 {
            throw MaintenanceRefused(
                description:
                    "SLA \(sla) requires maintenance to be announced \(DurationText.format(notice)) ahead (maintenance_notice); this one starts in \(DurationText.format(max(0, (from - now).rounded())))"
            )
        }
        let stored = try store.addMaintenance(
            RuntimeMaintenance(
                sla: sla,
                objective: objective,
                window: MaintenanceWindow(from: from, to: to, reason: reason),
                announcedAt: now
            )
        )
        runtimeMaintenance.append(stored)
        engine.setRuntimeMaintenance(runtimeMaintenance)
        return stored
    }

    /// Refuses a reason that is empty, longer than 1,000 characters, or holds control
    /// characters (it is shown in terminals and journal lines).
    static func checkReason(_ reason: String, what: String) throws {
        if reason.trimmingCharacters(in: .whitespaces).isEmpty {
            throw MaintenanceRefused(description: "\(what) needs its reason")
        }
        if reason.count > 1000 {
            throw MaintenanceRefused(description: "the reason is \(reason.count) characters long; at most 1000")
        }
        if ObjectivesConfig.hasControlCharacters(reason) {
            throw MaintenanceRefused(description: "the reason is one line of text: no newlines or control characters")
        }
    }

    /// Ends maintenance `id` now.
    /// - Returns: the ended maintenance, `nil` when there is none with that id that still runs
    ///   or is still ahead.
    /// - Throws: the store's error.
    public func endMaintenance(id: Int) throws -> RuntimeMaintenance? {
        let now = clock()
        guard let k = runtimeMaintenance.firstIndex(where: { $0.id == id && $0.endedAt == nil && $0.window.to > now })
        else { return nil }
        guard try store.endMaintenance(id: id, at: now) else { return nil }
        runtimeMaintenance[k].endedAt = now
        engine.setRuntimeMaintenance(runtimeMaintenance)
        return runtimeMaintenance[k]
    }

    /// Every maintenance announced at run time, in id order.
    public func listMaintenance() -> [RuntimeMaintenance] { runtimeMaintenance }

    /// Fault injection for tests (`debug wedge-engine SECONDS` on the control socket, only with
    /// `SLAWATCH_DEBUG_COMMANDS=1`): blocks the actor like a stuck evaluation would.
    public func wedge(seconds: Double) {
        Thread.sleep(forTimeInterval: seconds)
    }

    /// Number of configured objectives.
    public var objectiveCount: Int { engine.objectives.count }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
