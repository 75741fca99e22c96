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
    /// Path of the metrics socket (`runtime_directory/metrics.sock`): HTTP, `GET /metrics`.
    public var metricsSocketPath: String { config.runtimeDirectory + "/metrics.sock" }
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
        // One descriptor per connection: take the hard limit (LimitNOFILE=), not select(2)'s 1,024.
        DescriptorBudget.raiseSoftLimit()
        let startedAt = clock.now
        let fm = FileManager.default
        for (dir, what) in [(config.stateDirectory, "state"), (config.runtimeDirectory, "runtime")] {
            if let reason = StartupError.makeDirectories(dir) {
                throw StartupError("cannot create the \(what) directory \(dir): \(reason)")
            }
        }
        try SocketPath.lockStateDirectory(config.stateDirectory)
        let statePath = config.stateDirectory + "/state.sqlite"
        let store: StateStore
        do {
            store = try StateStore(path: statePath, periodRetention: config.periodRetention)
        } catch let e as StateStore.NewerSchema {
            journal.emit(DaemonEntry.stateRefused(e))
            throw StartupError(e.description, exitCode: 78)
        }
        // The state holds every producer's events: the daemon's user alone reads it, whatever
        // the umask it was created under (its WAL and shared-memory files too).
        for file in [statePath, statePath + "-wal", statePath + "-shm"] { Self.makePrivate(file) }
        // The versions in force now (a definition dated ahead takes over at its effective_from).
        var engine = Engine(objectives: objectives, maxFutureSkew: config.maxFutureSkew, at: clock.now)
        // A row that cannot be decoded costs its instance (it starts empty), not the start: the
        // file is copied aside first as evidence, and each such row gets an entry.
        let (restored, damaged, evidence) = try store.loadSnapshotsSkippingDamaged(
            keepingSketchesPacked: true,
            now: clock.now
        )
        for row in damaged.prefix(20) {
            journal.emit(DaemonEntry.damagedState(row, path: statePath, evidence: evidence ?? "", total: damaged.count))
        }
        let restoredCount = restored.count
        // Handed over (`consume`): the windows take the snapshots' arrays without copying them.
        engine.restore(consume restored)
        engine.tracksGaugeLevels = config.gaugeDeltas || config.gaugeDeltasDatagram
        engine.maxSeries = config.maxSeries
        engine.restoreGaugeLevels(try store.loadGaugeLevels())
        let clock = self.clock
        let actor = EngineActor(engine: engine, store: store, clock: { clock.now })
        // Maintenance announced at run time before this start (the settle below honours it).
        try await actor.loadRuntimeMaintenance()
        try await actor.loadSilences()
        try await actor.loadReviewReminders()
        try await actor.loadClosedPeriods()
        try await actor.recordVersions()
        // Settle: evaluate every restored instance once; only real changes are written (after the
        // "started" entry below).
        let settled = await actor.evaluate()
        try await actor.commit()
        let drop = try DropDirectory(path: config.dropDirectory, settings: config.drop)
        for dir in [drop.processedPath, drop.failedPath] { Self.makePrivate(dir) }
        if let warning = drop.permissionWarning { logger.warning("\(warning)") }

        let pipeline = IngestPipeline(counters: counters, limit: config.maxQueuedEvents, clock: clock)
        let group = MultiThreadedEventLoopGroup.singleton
        let policy = PeerPolicy(config.authorization, clock: clock)
        // Connection caps within the descriptors the daemon has (every connection is one).
        let budget = DescriptorBudget.current(maxConnections: config.maxConnections)
        if let note = budget.lowered(from: config.maxConnections) { logger.warning("\(note)") }
        let limiter = ConnectionLimiter(limit: budget.streamConnections)
        let controlLimiter = ConnectionLimiter(limit: budget.controlConnections)
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
        ) { source, pending, seconds in
            journal.emit(DaemonEntry.stalledConnection(source: source, pendingBytes: pending, seconds: seconds))
        }
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
        let answer: @Sendable (String) async -> String = { request in
            await Self.answer(
                request,
                actor: actor,
                limiter: limiter,
                controlLimiter: controlLimiter,
                descriptorLimit: budget.limit,
                datagrams: datagrams,
                reporter: reporter,
                counters: self.counters,
                pipeline: pipeline,
                files: self.fileCounts,
                journal: journal,
                startedAt: startedAt
            )
        }
        let controlChannel = try await startControl(
            group: group,
            config: config,
            path: controlSocketPath,
            activatedFD: activated.control,
            limiter: controlLimiter,
            respond: answer
        )

        let metricsChannel = try await startMetricsHTTP(
            group: group,
            config: config,
            path: metricsSocketPath,
            activatedFD: activated.metrics,
            limiter: ConnectionLimiter(limit: 16)
        ) { await answer("metrics") }

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
                service: ReportService(
                    actor: actor,
                    journal: journal,
                    clock: clock,
                    schedule: config.reports,
                    directory: config.reports.directory ?? config.stateDirectory + "/reports",
                    statePath: statePath,
                    logger: logger
                ),
                successTerminationBehavior: .ignore,
                failureTerminationBehavior: .ignore
            ),
            .init(
                service: RejectionFlushService(reporter: reporter, clock: clock),
                successTerminationBehavior: .ignore,
                failureTerminationBehavior: .ignore
            ),
        ]
        if let path = config.metricsTextfile {
            services.append(
                .init(
                    service: MetricsTextfileService(
                        path: path,
                        clock: clock,
                        interval: config.metricsInterval,
                        logger: logger,
                        exposition: { await answer("metrics") }
                    ),
                    successTerminationBehavior: .ignore,
                    failureTerminationBehavior: .ignore
                )
            )
        }
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
        try? await metricsChannel.close()
        datagrams.stop()
        pipeline.finish()
        await consumer.value
        reporter.flush(now: clock.now, force: true)
        journal.flushStorm(now: clock.now, force: true)
        await actor.closeOpenHistorySteps()
        do {
            try await actor.commit()
        } catch {
            logger.error("final snapshot failed: \(error)")
        }
        actor.writer.stop()
        if activated.ingest == nil { try? fm.removeItem(atPath: ingestSocketPath) }
        if activated.control == nil { try? fm.removeItem(atPath: controlSocketPath) }
        if activated.metrics == nil { try? fm.removeItem(atPath: metricsSocketPath) }
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

    /// Clears the group and other bits of `path` (a file or directory the daemon alone reads);
    /// a path that does not exist or is not the daemon's is left as it is.
    static func makePrivate(_ path: String) {
        var st = stat()
        guard stat(path, &st) == 0, st.st_uid == geteuid(), st.st_mode & 0o077 != 0 else { return }
        chmod(path, st.st_mode & 0o7700)
    }
}
