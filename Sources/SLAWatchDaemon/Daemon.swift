import CLinux
import Foundation
import Logging
import NIOCore
import NIOPosix
import SLAWatchCore
import SLAWatchStore
import ServiceLifecycle
import Systemd
import UnixSignals

/// The imperative shell: loads config, restores state, listens on the sockets, scans the drop
/// directory, evaluates on a tick, snapshots on a tick, writes journal entries, and shuts down
/// gracefully (a final snapshot) when swift-service-lifecycle signals SIGTERM/SIGINT.
public final class Daemon: Service, Sendable {
    /// The daemon's settings.
    public let config: DaemonConfig
    /// The objectives watched.
    public let objectives: [Objective]
    private let logger: Logger
    private let journal: JournalEmitter
    private let clock: @Sendable () -> Double
    private let activated: ActivatedSockets
    private let configPath: String?
    private let fileCounts = FileCounts()
    private let counters = IngestCounters()
    /// Why the daemon is stopping, set by whoever asks it to stop (the command's signal handler);
    /// written in the "stopped" journal entry.
    public let stopReason = StopReason()

    /// Path of the ingest stream socket (`runtime_directory/ingest.sock`).
    public var ingestSocketPath: String { config.runtimeDirectory + "/ingest.sock" }
    /// Path of the control socket (`runtime_directory/control.sock`).
    public var controlSocketPath: String { config.runtimeDirectory + "/control.sock" }
    /// Path of the ingest datagram socket (`runtime_directory/ingest.dgram`).
    public var datagramSocketPath: String { config.runtimeDirectory + "/ingest.dgram" }

    /// Prepares a daemon (nothing is opened until `run()`).
    public init(
        config: DaemonConfig,
        objectives: [Objective],
        logger: Logger,
        journal: JournalEmitter,
        activated: ActivatedSockets = ActivatedSockets(),
        configPath: String? = nil,
        clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.activated = activated
        self.configPath = configPath
        self.config = config
        self.objectives = objectives
        self.logger = logger
        self.journal = journal
        self.clock = clock
    }

    /// Runs until graceful shutdown.
    /// - Throws: start-up errors (store cannot be opened, sockets cannot be bound, drop directory
    ///   cannot be created); each names the path involved.
    public func run() async throws {
        // Ingest batches are arrays of a few hundred KiB; above glibc's default 128 KiB mmap
        // threshold each would be a fresh mmap/munmap with page faults. Keep them on the heap.
        _ = clinux_keep_allocations_on_heap(8 << 20)
        let startedAt = clock()
        let fm = FileManager.default
        for (dir, what) in [(config.stateDirectory, "state"), (config.runtimeDirectory, "runtime")] {
            if let reason = StartupError.makeDirectories(dir) {
                throw StartupError("cannot create the \(what) directory \(dir): \(reason)")
            }
        }
        try SocketPath.lockStateDirectory(config.stateDirectory)
        let store = try StateStore(path: config.stateDirectory + "/state.sqlite")
        var engine = Engine(objectives: objectives, maxFutureSkew: config.maxFutureSkew)
        let restored = try store.loadSnapshots(keepingSketchesPacked: true)
        let restoredCount = restored.count
        // Handed over (`consume`): the windows take the snapshots' arrays without copying them.
        engine.restore(consume restored)
        engine.tracksGaugeLevels = config.gaugeDeltas || config.gaugeDeltasDatagram
        engine.maxSeries = config.maxSeries
        engine.restoreGaugeLevels(try store.loadGaugeLevels())
        let actor = EngineActor(engine: engine, store: store, clock: clock)
        // Settle: evaluate every restored instance once; only real changes are written (after the
        // "started" entry below).
        let settled = await actor.evaluate()
        try await actor.commit()
        let drop = try DropDirectory(path: config.dropDirectory, settings: config.drop)

        let pipeline = IngestPipeline(counters: counters, limit: config.maxQueuedEvents)
        let group = MultiThreadedEventLoopGroup.singleton
        let policy = PeerPolicy(config.authorization)
        let limiter = ConnectionLimiter(limit: config.maxConnections)
        let journal = self.journal
        let reporter = RejectionReporter { journal.emit($0) }
        let ingestChannel = try await startStreamIngest(
            group: group,
            config: config,
            path: ingestSocketPath,
            activatedFD: activated.ingest,
            pipeline: pipeline,
            policy: policy,
            limiter: limiter
        )
        let datagramFD =
            try activated.ingestDatagram
            ?? DatagramListener.bind(path: datagramSocketPath, mode: config.socketMode)
        let datagrams = DatagramListener(
            fd: datagramFD,
            path: activated.ingestDatagram == nil ? datagramSocketPath : "fd \(datagramFD)",
            maxDatagramBytes: config.maxDatagramBytes,
            options: ParserOptions(gaugeDeltas: config.gaugeDeltasDatagram),
            pipeline: pipeline,
            policy: policy
        )
        datagrams.start()
        let controlChannel = try await startControl(
            group: group,
            config: config,
            path: controlSocketPath,
            activatedFD: activated.control
        ) { request in
            await Self.answer(
                request,
                actor: actor,
                limiter: limiter,
                datagrams: datagrams,
                reporter: reporter,
                counters: self.counters,
                pipeline: pipeline,
                files: self.fileCounts,
                journal: journal,
                startedAt: startedAt
            )
        }

        journal.emit(
            DaemonEntry.started(objectives: objectives.count, restored: restoredCount, socket: ingestSocketPath)
        )
        stopReason.started(at: startedAt)
        logger.info(
            "listening",
            metadata: [
                "socket": "\(activated.ingest.map { "fd \($0)" } ?? ingestSocketPath)",
                "datagram": "\(datagrams.path)", "control": "\(controlSocketPath)", "drop": "\(config.dropDirectory)",
            ]
        )
        await emit(settled, actor: actor)
        Notifier.ready(status: "watching \(objectives.count) objectives")

        // The pipeline is not cancelled at shutdown: it drains what the listeners already queued.
        let consumer = Task { await pipeline.run(engine: actor, reporter: reporter) }
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await self.evaluationLoop(actor) }
            tasks.addTask { await self.snapshotLoop(actor) }
            tasks.addTask { await self.dropLoop(drop, actor: actor, policy: policy) }
            tasks.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sighup) { await self.reload(actor) }
            }
            if let interval = Watchdog.interval() {
                tasks.addTask { await self.watchdogLoop(actor, pipeline: pipeline, interval: interval) }
            }
            tasks.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(10))
                    reporter.flush(now: Date().timeIntervalSince1970)
                }
            }
            try? await gracefulShutdown()
            Notifier.stopping()
            logger.info("shutting down")
            try? await ingestChannel.close()
            try? await controlChannel.close()
            datagrams.stop()
            tasks.cancelAll()
        }
        pipeline.finish()
        await consumer.value
        reporter.flush(now: Date().timeIntervalSince1970, force: true)
        journal.flushStorm(now: clock(), force: true)
        do {
            try await actor.commit()
        } catch {
            logger.error("final snapshot failed: \(error)")
        }
        actor.writer.stop()
        if activated.ingest == nil { try? fm.removeItem(atPath: ingestSocketPath) }
        if activated.control == nil { try? fm.removeItem(atPath: controlSocketPath) }
        if activated.ingestDatagram == nil {
            close(datagramFD)
            try? fm.removeItem(atPath: datagramSocketPath)
        }
        journal.emit(DaemonEntry.stopped(stopReason.reason ?? .signal("SIGTERM"), uptime: clock() - startedAt))
        journal.flush()
        Notifier.flush()
    }

    /// The "stopped" journal entry: why, after how long, which version (for the command, which
    /// writes it when the daemon failed before writing its own).
    public static func stoppedEntry(_ reason: StopReason.Reason, uptime: Double) -> JournalEntry {
        DaemonEntry.stopped(reason, uptime: uptime)
    }

    /// The control protocol: `status` → `StatusReply` as JSON.
    static func answer(
        _ request: String,
        actor: EngineActor,
        limiter: ConnectionLimiter,
        datagrams: DatagramListener,
        reporter: RejectionReporter,
        counters: IngestCounters,
        pipeline: IngestPipeline,
        files: FileCounts,
        journal: JournalEmitter,
        startedAt: Double
    ) async -> String {
        switch request {
        case "status":
            let last = await actor.lastEvaluation
            return StatusReply(
                pid: getpid(),
                startedAt: startedAt,
                lastEvaluation: last > 0 ? last : nil,
                commits: await actor.commits,
                objectives: await actor.status(),
                sources: counters.snapshot,
                rejectedBySource: reporter.totals,
                connections: limiter.counts.open,
                connectionsRefused: limiter.counts.refused,
                datagrams: datagrams.counts.datagrams,
                datagramsTooLong: datagrams.counts.tooLong,
                journalWritten: journal.writtenCount,
                journalDropped: journal.droppedCount,
                files: files.snapshot,
                queued: pipeline.queued
            ).json
        case let r
        where r.hasPrefix("debug wedge-engine ")
            && ProcessInfo.processInfo.environment["SLAWATCH_DEBUG_COMMANDS"] == "1":
            let seconds = Double(r.dropFirst("debug wedge-engine ".count)) ?? 1
            Task { await actor.wedge(seconds: min(seconds, 60)) }
            return "{\"wedged\": \(seconds)}"
        default:
            return "{\"error\": \"unknown request (expected: status)\"}"
        }
    }

    // MARK: - Loops

    private func emit(_ transitions: [Transition], actor: EngineActor) async {
        let now = clock()
        if transitions.isEmpty {
            journal.flushStorm(now: now)
            return
        }
        journal.emitTransitions(await actor.journalEntries(transitions), now: now)
    }

    /// SIGHUP: `RELOADING=1` with `MONOTONIC_USEC=` in one datagram, re-read the config and the
    /// objectives, apply them or refuse them (the old ones stay, a "config refused" entry names
    /// file, line and reason), then `READY=1` either way.
    func reload(_ actor: EngineActor) async {
        Notifier.reloading()
        defer { Notifier.ready(status: "configuration reloaded") }
        let path = configPath ?? "embedded default config"
        do {
            let newConfig = try configPath.map { try DaemonConfig.load(path: $0) } ?? config
            let objectives = try ObjectivesConfig.load(directory: newConfig.objectivesDirectory)
            let summary = await actor.reload(objectives: objectives, maxFutureSkew: config.maxFutureSkew)
            var settings = newConfig
            settings.source = config.source
            settings.objectivesDirectory = config.objectivesDirectory
            let restartNeeded = settings != config
            let entry = DaemonEntry.reloaded(
                path: path,
                objectives: objectives.count,
                summary: summary,
                restartNeeded: restartNeeded
            )
            journal.emit(entry)
            logger.info("\(entry.message)")
            try? await actor.commit()
        } catch let e as ConfigErrors {
            journal.emit(DaemonEntry.refused(path: path, errors: e))
            logger.error("reload refused: \(e.description)")
        } catch {
            journal.emit(DaemonEntry.refused(path: path, error: error))
        }
    }

    private func evaluationLoop(_ actor: EngineActor) async {
        var lastStatus = ""
        var lastAccepted = await actor.acceptedTotal
        var lastTime = clock()
        var rate = 0.0
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(config.evaluationInterval))
            if Task.isCancelled { break }
            let transitions = await actor.evaluate()
            journal.flushStorm(now: clock())
            if let limit = await actor.takeSeriesLimitNotice() {
                journal.emit(DaemonEntry.seriesLimit(limit))
            }
            if !transitions.isEmpty {
                // Persist the new states before announcing them, so a restart does not re-announce.
                do { try await actor.commit() } catch { logger.error("commit after transitions failed: \(error)") }
                await emit(transitions, actor: actor)
            }
            // STATUS= for systemctl status: objectives, breaches, and the ingest rate (events/s,
            // smoothed over about ten seconds).
            let now = clock()
            let accepted = await actor.acceptedTotal
            if now > lastTime {
                let instant = Double(accepted - lastAccepted) / (now - lastTime)
                rate += (instant - rate) * min(1, (now - lastTime) / 10)
            }
            (lastAccepted, lastTime) = (accepted, now)
            let states = await actor.states()
            let text =
                "watching \(states.count) objectives, \(states.filter { $0 == .breached }.count) breached, "
                + "\(states.filter { $0 == .nodata }.count) without data, \(Self.humanRate(rate)) events/s"
            if text != lastStatus {
                Notifier.status(text)
                lastStatus = text
            }
        }
    }

    /// `0`, `850`, `1.3 k`, `2.4 M`.
    static func humanRate(_ r: Double) -> String {
        if r < 1000 { return String(Int(r.rounded())) }
        if r < 1_000_000 { return "\(AlertEntry.number((r / 100).rounded() / 10)) k" }
        return "\(AlertEntry.number((r / 100_000).rounded() / 10)) M"
    }

    /// Pings `WATCHDOG=1` every half interval, but only while the engine evaluates, the ingest
    /// pipeline drains and the journal writer keeps up; a wedged loop stops the pings and lets
    /// systemd restart the service (sd_watchdog_enabled(3)).
    private func watchdogLoop(_ actor: EngineActor, pipeline: IngestPipeline, interval: Double) async {
        let heartbeat = Heartbeat()
        var sent = Date().timeIntervalSince1970
        pipeline.submit(.barrier { heartbeat.mark() })
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(interval / 2))
            if Task.isCancelled { break }
            let now = Date().timeIntervalSince1970
            // A wedged actor blocks here, and no ping is sent.
            let lastEvaluation = await actor.lastEvaluation
            let engineOK = now - lastEvaluation < max(interval, 3 * config.evaluationInterval)
            let pipelineOK = heartbeat.last >= sent
            let journalOK = journal.isProgressing(within: interval)
            if engineOK && pipelineOK && journalOK {
                Watchdog.ping()
            } else {
                logger.warning(
                    "watchdog ping withheld: engine \(engineOK ? "ok" : "stalled"), ingest \(pipelineOK ? "ok" : "stalled"), journal \(journalOK ? "ok" : "stalled")"
                )
            }
            if pipelineOK {
                sent = Date().timeIntervalSince1970
                pipeline.submit(.barrier { heartbeat.mark() })
            }
        }
    }

    private func snapshotLoop(_ actor: EngineActor) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(config.snapshotInterval))
            if Task.isCancelled { break }
            do {
                try await actor.commit()
            } catch {
                logger.error("snapshot failed: \(error)")
                journal.emit(DaemonEntry.storeFailure(error))
            }
        }
    }

    private func dropLoop(_ drop: DropDirectory, actor: EngineActor, policy: PeerPolicy) async {
        let settings = drop.settings
        var scheduler = DropScheduler(settle: settings.settle, staleWriting: max(60, settings.rescanInterval))
        // Files already ingested that could not be moved away: never read them twice.
        var stuck: [String: DropDirectory.FileIdentity] = [:]
        let changes = Changes()
        var watcher: DropWatcher?
        do {
            let w = try DropWatcher(directory: drop.path)
            watcher = w
            Task {
                for await change in w.events { changes.append(change) }
            }
        } catch {
            logger.warning("drop directory: \(error); polling every \(config.dropScanInterval) s instead")
        }
        defer { watcher?.stop() }
        drop.recoverTaken()
        let rescanEvery = watcher == nil ? config.dropScanInterval : settings.rescanInterval
        var lastScan = -Double.infinity
        var lastPrune = -Double.infinity
        while !Task.isCancelled {
            let now = Date().timeIntervalSince1970
            var rescan = now - lastScan >= rescanEvery
            for change in changes.take() {
                if change == .overflow {
                    rescan = true
                    logger.warning("drop directory: inotify queue overflowed; rescanning")
                }
                if change == .invalidName { rescan = true }
                scheduler.apply(change, now: now)
            }
            if rescan {
                lastScan = now
                var failed: [(name: String, outcome: DropDirectory.Outcome)] = []
                let files = drop.scan(failingInvalidNames: &failed).filter { f in
                    stuck[f.name].map { $0 != f.identity } ?? true
                }
                for (name, outcome) in failed { report(outcome, original: name, drop: drop) }
                stuck = stuck.filter { s in files.contains { $0.name == s.key } || drop.identity(of: s.key) == s.value }
                scheduler.scanned(files, now: now)
            }
            scheduler.tick(now: now) { name in
                if let s = stuck[name], drop.identity(of: name) == s { return nil }
                return drop.identity(of: name)
            }
            if now - lastPrune >= min(3600, max(1, settings.processedRetention / 4)) {
                lastPrune = now
                let pruned = drop.pruneProcessed(now: now)
                if pruned > 0 {
                    logger.info("drop directory: pruned \(pruned) processed file(s) past processed_retention")
                }
                await actor.pruneLedger(olderThan: settings.ledgerRetention)
            }
            while let name = scheduler.next() {
                if Task.isCancelled { return }
                if let s = stuck[name], drop.identity(of: name) == s { continue }
                let outcome = await drop.process(name, actor: actor, policy: policy)
                switch outcome {
                case .stuck(_, let identity, _): stuck[name] = identity
                case .retry: scheduler.retryLater(name, now: Date().timeIntervalSince1970)
                default: break
                }
                report(outcome, original: name, drop: drop)
                for change in changes.take() { scheduler.apply(change, now: Date().timeIntervalSince1970) }
            }
            try? await Task.sleep(for: .milliseconds(watcher == nil ? Int(config.dropScanInterval * 1000) : 100))
        }
    }

    private func report(_ outcome: DropDirectory.Outcome, original: String, drop: DropDirectory) {
        let file = drop.path + "/" + original
        fileCounts.count(outcome)
        if case .processed(let r) = outcome {
            counters.add(.drop, accepted: r.accepted, rejectedByReason: r.rejections)
            counters.addIgnored(.drop, r.ignored, since: ParseStats())
        }
        if case .retry(let reason) = outcome { logger.warning("drop file \(original) left for retry: \(reason)") }
        if let entry = DaemonEntry.dropFile(outcome, original: original, file: file) { journal.emit(entry) }
    }
}

/// A start-up failure the daemon cannot go on after, said in words (no Foundation error dump).
public struct StartupError: Error, CustomStringConvertible {
    /// What failed and why: "cannot create the state directory /x: Permission denied".
    public var description: String

    /// Creates the error.
    public init(_ description: String) { self.description = description }

    /// `mkdir -p` (mode 0755 less the umask): `nil` when `path` is a directory afterwards, else
    /// `strerror(errno)` of the step that failed ("Not a directory", "Permission denied").
    public static func makeDirectories(_ path: String) -> String? {
        var st = stat()
        if stat(path, &st) == 0 { return st.st_mode & S_IFMT == S_IFDIR ? nil : String(cString: strerror(ENOTDIR)) }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty && parent != path, let reason = makeDirectories(parent) { return reason }
        if mkdir(path, 0o755) != 0 && errno != EEXIST { return String(cString: strerror(errno)) }
        return nil
    }
}

/// Why the daemon stops: set once by the command that stops it (a signal) or fails (a fatal
/// error), read when the "stopped" entry is written. Thread-safe.
public final class StopReason: @unchecked Sendable {
    /// What made the daemon stop.
    public enum Reason: Sendable, Equatable {
        /// A signal asked for a graceful stop: `SIGTERM`, `SIGINT`.
        case signal(String)
        /// An error the daemon cannot go on after.
        case fatalError(String)
    }

    private let lock = NSLock()
    private var value: Reason?
    private var startTime: Double?

    /// Nothing recorded yet.
    public init() {}

    /// The first reason recorded, if any.
    public var reason: Reason? {
        lock.lock()
        defer { lock.unlock() }
        return value
    }

    /// When the daemon wrote its "started" entry (`nil` before: a fatal error then needs its own
    /// "stopped" entry from the caller).
    public var startedAt: Double? {
        lock.lock()
        defer { lock.unlock() }
        return startTime
    }

    /// Records the reason unless one was recorded already (a second Ctrl-C keeps the first).
    public func record(_ reason: Reason) {
        lock.lock()
        defer { lock.unlock() }
        if value == nil { value = reason }
    }

    func started(at t: Double) {
        lock.lock()
        defer { lock.unlock() }
        startTime = t
    }
}

/// Drop files by outcome since start, for `slawatch status` (`files`).
public final class FileCounts: @unchecked Sendable {
    /// The counts as `status` reports them.
    public struct Snapshot: Sendable, Codable {
        /// Files ingested and moved to `processed/` (repeats included).
        public var processed = 0
        /// Files moved to `failed/`.
        public var failed = 0
        /// Files found in the ledger after a restart and moved without a recount.
        public var recovered = 0
        /// Files that repeated an earlier file's content.
        public var repeats = 0
        /// Files ingested but stuck in the drop directory (could not be moved).
        public var stuck = 0
        /// Reads interrupted and retried (reload, changed while read, store error).
        public var retried = 0
    }

    private let lock = NSLock()
    private var counts = Snapshot()

    func count(_ outcome: DropDirectory.Outcome) {
        lock.lock()
        defer { lock.unlock() }
        switch outcome {
        case .processed(let r):
            counts.processed += 1
            if r.duplicateOf != nil { counts.repeats += 1 }
        case .failed: counts.failed += 1
        case .alreadyIngested: counts.recovered += 1
        case .stuck: counts.stuck += 1
        case .retry: counts.retried += 1
        case .vanished: break
        }
    }

    var snapshot: Snapshot {
        lock.lock()
        defer { lock.unlock() }
        return counts
    }
}

/// inotify changes handed from the watcher's stream to the drop loop.
final class Changes: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [DropWatcher.Change] = []

    func append(_ c: DropWatcher.Change) {
        lock.lock()
        items.append(c)
        lock.unlock()
    }

    func take() -> [DropWatcher.Change] {
        lock.lock()
        defer { lock.unlock() }
        let out = items
        items = []
        return out
    }
}

/// When the ingest pipeline last processed a watchdog barrier.
final class Heartbeat: @unchecked Sendable {
    private let lock = NSLock()
    private var time = 0.0

    func mark() {
        lock.lock()
        time = Date().timeIntervalSince1970
        lock.unlock()
    }

    var last: Double {
        lock.lock()
        defer { lock.unlock() }
        return time
    }
}
