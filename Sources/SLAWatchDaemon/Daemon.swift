import CLinux
import Foundation
import Logging
import NIOCore
import NIOPosix
import SLAWatchCore
import SLAWatchStore
import ServiceLifecycle
import Synchronization
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
    private let clock: any DaemonClock
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
        clock: any DaemonClock = SystemClock()
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
        let startedAt = clock.now
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
        let clock = self.clock
        let actor = EngineActor(engine: engine, store: store, clock: { clock.now })
        // Settle: evaluate every restored instance once; only real changes are written (after the
        // "started" entry below).
        let settled = await actor.evaluate()
        try await actor.commit()
        let drop = try DropDirectory(path: config.dropDirectory, settings: config.drop)

        let pipeline = IngestPipeline(counters: counters, limit: config.maxQueuedEvents, clock: clock)
        let group = MultiThreadedEventLoopGroup.singleton
        let policy = PeerPolicy(config.authorization, clock: clock)
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
        journal.emitTransitions(await actor.journalEntries(settled), now: clock.now)
        Notifier.ready(status: "watching \(objectives.count) objectives")

        // The pipeline is not cancelled at shutdown: it drains what the listeners already queued.
        let consumer = Task { await pipeline.run(engine: actor, reporter: reporter) }
        // The daemon's loops, each a service on the clock, in one group: at graceful shutdown
        // they stop (in reverse order), then the listeners close, the pipeline drains what they
        // queued and the final snapshot is written. A loop that returns or throws on its own
        // shuts the group down gracefully (the daemon stops with a "stopped" entry and systemd
        // restarts it), except the drop directory and the rejection flush, which the sockets do
        // not need.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(
                service: EvaluationService(
                    actor: actor,
                    journal: journal,
                    clock: clock,
                    interval: config.evaluationInterval,
                    logger: logger
                ),
                successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup
            ),
            .init(
                service: SnapshotService(
                    actor: actor,
                    journal: journal,
                    clock: clock,
                    interval: config.snapshotInterval,
                    logger: logger
                ),
                successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup
            ),
            .init(
                service: DropService(
                    drop: drop,
                    actor: actor,
                    policy: policy,
                    journal: journal,
                    files: fileCounts,
                    counters: counters,
                    clock: clock,
                    scanInterval: config.dropScanInterval,
                    logger: logger
                ),
                successTerminationBehavior: .ignore,
                failureTerminationBehavior: .ignore
            ),
            .init(
                service: ReloadService(
                    actor: actor,
                    journal: journal,
                    config: config,
                    configPath: configPath,
                    logger: logger
                ),
                successTerminationBehavior: .ignore,
                failureTerminationBehavior: .gracefullyShutdownGroup
            ),
            .init(
                service: RejectionFlushService(reporter: reporter, clock: clock),
                successTerminationBehavior: .ignore,
                failureTerminationBehavior: .ignore
            ),
        ]
        if let interval = Watchdog.interval() {
            services.append(
                .init(
                    service: WatchdogService(
                        actor: actor,
                        pipeline: pipeline,
                        journal: journal,
                        clock: clock,
                        interval: interval,
                        evaluationInterval: config.evaluationInterval,
                        logger: logger
                    ),
                    successTerminationBehavior: .gracefullyShutdownGroup,
                    failureTerminationBehavior: .gracefullyShutdownGroup
                )
            )
        }
        let loops = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: services, logger: logger)
        )
        try? await withGracefulShutdownHandler {
            try await loops.run()
        } onGracefulShutdown: {
            Task { await loops.triggerGracefulShutdown() }
        }
        Notifier.stopping()
        logger.info("shutting down")
        try? await ingestChannel.close()
        try? await controlChannel.close()
        datagrams.stop()
        pipeline.finish()
        await consumer.value
        reporter.flush(now: clock.now, force: true)
        journal.flushStorm(now: clock.now, force: true)
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
        journal.emit(DaemonEntry.stopped(stopReason.reason ?? .signal("SIGTERM"), uptime: clock.now - startedAt))
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
public final class StopReason: Sendable {
    /// What made the daemon stop.
    public enum Reason: Sendable, Equatable {
        /// A signal asked for a graceful stop: `SIGTERM`, `SIGINT`.
        case signal(String)
        /// An error the daemon cannot go on after.
        case fatalError(String)
    }

    private struct State {
        var reason: Reason?
        var startedAt: Double?
    }
    private let state = Mutex(State())

    /// Nothing recorded yet.
    public init() {}

    /// The first reason recorded, if any.
    public var reason: Reason? { state.withLock { $0.reason } }

    /// When the daemon wrote its "started" entry (`nil` before: a fatal error then needs its own
    /// "stopped" entry from the caller).
    public var startedAt: Double? { state.withLock { $0.startedAt } }

    /// Records the reason unless one was recorded already (a second Ctrl-C keeps the first).
    public func record(_ reason: Reason) {
        state.withLock { s in if s.reason == nil { s.reason = reason } }
    }

    func started(at t: Double) { state.withLock { $0.startedAt = t } }
}

/// Drop files by outcome since start, for `slawatch status` (`files`).
public final class FileCounts: Sendable {
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

    private let counts = Mutex(Snapshot())

    func count(_ outcome: DropDirectory.Outcome) {
        counts.withLock { counts in
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
    }

    var snapshot: Snapshot { counts.withLock { $0 } }
}
