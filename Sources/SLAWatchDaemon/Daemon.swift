import Foundation
import Logging
import NIOCore
import NIOPosix
import SLAWatchCore
import SLAWatchStore
import ServiceLifecycle
import Systemd

/// The imperative shell: loads config, restores state, listens on the sockets, scans the drop
/// directory, evaluates on a tick, snapshots on a tick, writes journal entries, and shuts down
/// gracefully (a final snapshot) when swift-service-lifecycle signals SIGTERM/SIGINT.
public final class Daemon: Service, Sendable {
    /// The daemon's settings.
    public let config: DaemonConfig
    /// The objectives watched.
    public let objectives: [Objective]
    private let logger: Logger
    private let journal: JournalWriter
    private let clock: @Sendable () -> Double

    /// Path of the ingest stream socket (`runtime_directory/ingest.sock`).
    public var ingestSocketPath: String { config.runtimeDirectory + "/ingest.sock" }
    /// Path of the control socket (`runtime_directory/control.sock`).
    public var controlSocketPath: String { config.runtimeDirectory + "/control.sock" }

    /// Prepares a daemon (nothing is opened until `run()`).
    public init(
        config: DaemonConfig,
        objectives: [Objective],
        logger: Logger,
        journal: JournalWriter,
        clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
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
        let fm = FileManager.default
        for dir in [config.stateDirectory, config.runtimeDirectory] {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        try SocketPath.lockStateDirectory(config.stateDirectory)
        let store = try StateStore(path: config.stateDirectory + "/state.sqlite")
        var engine = Engine(objectives: objectives, maxFutureSkew: config.maxFutureSkew)
        let restored = try store.loadSnapshots()
        engine.restore(restored)
        engine.restoreGaugeLevels(try store.loadGaugeLevels())
        let actor = EngineActor(engine: engine, store: store, clock: clock)
        // Settle: evaluate every restored instance once; only real changes are written.
        emit(await actor.evaluate(), actor: actor)
        try await actor.commit()
        let drop = try DropDirectory(path: config.dropDirectory, maxLineBytes: config.maxLineBytes)

        let pipeline = IngestPipeline()
        let group = MultiThreadedEventLoopGroup.singleton
        let ingestChannel = try await bindIngest(group: group, pipeline: pipeline)
        let controlChannel = try await bindControl(group: group, actor: actor)

        journal.enqueue([
            (
                "MESSAGE",
                "slawatch started: watching \(objectives.count) objective(s), restored state of \(restored.count), listening on \(ingestSocketPath)"
            ),
            ("MESSAGE_ID", MessageID.started), ("PRIORITY", "6"), ("SYSLOG_IDENTIFIER", "slawatch"),
            ("SLAWATCH_OBJECTIVES", String(objectives.count)), ("SLAWATCH_RESTORED", String(restored.count)),
            ("SLAWATCH_SOCKET", ingestSocketPath),
        ])
        logger.info(
            "listening",
            metadata: [
                "socket": "\(ingestSocketPath)", "control": "\(controlSocketPath)", "drop": "\(config.dropDirectory)",
            ]
        )
        Notifier.ready(status: "watching \(objectives.count) objectives")

        // The pipeline is not cancelled at shutdown: it drains what the listeners already queued.
        let consumer = Task { await pipeline.run(engine: actor) }
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await self.evaluationLoop(actor) }
            tasks.addTask { await self.snapshotLoop(actor) }
            tasks.addTask { await self.dropLoop(drop, actor: actor) }
            try? await gracefulShutdown()
            Notifier.stopping()
            logger.info("shutting down")
            try? await ingestChannel.close()
            try? await controlChannel.close()
            tasks.cancelAll()
        }
        pipeline.finish()
        await consumer.value
        do {
            try await actor.commit()
        } catch {
            logger.error("final snapshot failed: \(error)")
        }
        try? fm.removeItem(atPath: ingestSocketPath)
        try? fm.removeItem(atPath: controlSocketPath)
        journal.flush()
    }

    // MARK: - Sockets

    private func bindIngest(group: EventLoopGroup, pipeline: IngestPipeline) async throws -> Channel {
        let maxLine = config.maxLineBytes
        let journal = self.journal
        let path = ingestSocketPath
        try SocketPath.prepare(path)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { ch in
                peerCredentials(ch).flatMapThrowing { peer in
                    let source = "socket \(path) peer \(peer)"
                    try ch.pipeline.syncOperations.addHandler(
                        StreamIngestHandler(pipeline: pipeline, maxLineBytes: maxLine, source: source) { tally in
                            Self.reportRejections(tally, journal: journal)
                        }
                    )
                }
            }
            .bind(unixDomainSocketPath: path).get()
        chmod(path, mode_t(config.socketMode))
        return channel
    }

    private func bindControl(group: EventLoopGroup, actor: EngineActor) async throws -> Channel {
        let path = controlSocketPath
        try SocketPath.prepare(path)
        let channel = try await ServerBootstrap(group: group)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(
                        ControlHandler { request in await Self.answer(request, actor: actor) }
                    )
                }
            }
            .bind(unixDomainSocketPath: path).get()
        chmod(path, mode_t(config.socketMode))
        return channel
    }

    /// The control protocol: `status` → JSON `{"objectives": [...], "accepted": N, "rejected": {...}}`.
    static func answer(_ request: String, actor: EngineActor) async -> String {
        switch request {
        case "status":
            struct Reply: Encodable {
                var objectives: [Engine.Status]
                var accepted: Int
                var rejected: [String: Int]
                var commits: Int
                var lastEvaluation: Double
            }
            let reply = Reply(
                objectives: await actor.status(),
                accepted: await actor.acceptedTotal,
                rejected: Dictionary(
                    uniqueKeysWithValues: await actor.rejectedByReason.map { ($0.key.rawValue, $0.value) }
                ),
                commits: await actor.commits,
                lastEvaluation: await actor.lastEvaluation
            )
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(
                positiveInfinity: "+Inf",
                negativeInfinity: "-Inf",
                nan: "NaN"
            )
            return (try? String(decoding: encoder.encode(reply), as: UTF8.self)) ?? "{}"
        default:
            return "{\"error\": \"unknown request (expected: status)\"}"
        }
    }

    /// One journal entry per connection or file that had rejected lines: counts per reason and the
    /// first offending line.
    static func reportRejections(_ tally: SourceTally, journal: JournalWriter) {
        let s = tally.snapshot
        guard s.rejected > 0, let first = s.first else { return }
        let reasons = s.byReason.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }
            .joined(separator: " ")
        journal.enqueue([
            (
                "MESSAGE",
                "rejected \(s.rejected) line(s) from \(tally.source) (accepted \(s.accepted)); first at line \(first.line): \(first.reason)"
            ),
            ("MESSAGE_ID", MessageID.inputRejected), ("PRIORITY", "4"), ("SYSLOG_IDENTIFIER", "slawatch"),
            ("SLAWATCH_SOURCE", tally.source), ("SLAWATCH_ACCEPTED", String(s.accepted)),
            ("SLAWATCH_REJECTED", String(s.rejected)), ("SLAWATCH_REJECT_REASONS", reasons),
            ("SLAWATCH_FIRST_ERROR_LINE", String(first.line)), ("SLAWATCH_FIRST_ERROR", first.excerpt),
        ])
    }

    // MARK: - Loops

    private func emit(_ transitions: [Transition], actor: EngineActor) {
        for t in transitions {
            guard let o = objectives.first(where: { $0.name == t.objective }) else { continue }
            journal.enqueue(AlertEntry.fields(t, o))
        }
    }

    private func evaluationLoop(_ actor: EngineActor) async {
        var lastStatus = ""
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(config.evaluationInterval))
            if Task.isCancelled { break }
            let transitions = await actor.evaluate()
            if !transitions.isEmpty {
                // Persist the new states before announcing them, so a restart does not re-announce.
                do { try await actor.commit() } catch { logger.error("commit after transitions failed: \(error)") }
                emit(transitions, actor: actor)
            }
            let status = await actor.status()
            let text =
                "watching \(status.count) objectives, \(status.filter { $0.state == "breached" }.count) breached, \(status.filter { $0.state == "nodata" }.count) without data"
            if text != lastStatus {
                Notifier.status(text)
                lastStatus = text
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
                journal.enqueue([
                    ("MESSAGE", "slawatch could not write its snapshot: \(error)"),
                    ("MESSAGE_ID", MessageID.storeFailure),
                    ("PRIORITY", "3"), ("SYSLOG_IDENTIFIER", "slawatch"),
                ])
            }
        }
    }

    private func dropLoop(_ drop: DropDirectory, actor: EngineActor) async {
        // Files already ingested that could not be moved away: never read them twice.
        var stuck: [String: DropDirectory.FileIdentity] = [:]
        while !Task.isCancelled {
            let names = drop.candidates()
            stuck = stuck.filter { names.contains($0.key) && drop.identity(of: $0.key) == $0.value }
            for name in names where stuck[name] == nil {
                if Task.isCancelled { return }
                let outcome = await drop.process(name) { events in try await actor.ingestAndCommit(events) }
                if case .processed(_, _, _, _, _, let parseRejections) = outcome, !parseRejections.isEmpty {
                    await actor.countParseRejections(parseRejections)
                }
                if case .stuck(_, let identity, _) = outcome { stuck[name] = identity }
                report(outcome, original: name, drop: drop)
            }
            try? await Task.sleep(for: .seconds(config.dropScanInterval))
        }
    }

    private func report(_ outcome: DropDirectory.Outcome, original: String, drop: DropDirectory) {
        switch outcome {
        case .processed(let name, let lines, let accepted, let rejected, let firstError, _):
            journal.enqueue([
                (
                    "MESSAGE",
                    "ingested \(original): \(accepted) event(s) from \(lines) line(s), \(rejected) rejected; moved to processed/\(name)"
                ),
                ("MESSAGE_ID", MessageID.fileIngested), ("PRIORITY", rejected > 0 ? "4" : "6"),
                ("SYSLOG_IDENTIFIER", "slawatch"), ("SLAWATCH_FILE", drop.path + "/" + original),
                ("SLAWATCH_LINES", String(lines)), ("SLAWATCH_ACCEPTED", String(accepted)),
                ("SLAWATCH_REJECTED", String(rejected)),
                ("SLAWATCH_FIRST_ERROR_LINE", firstError.map(String.init) ?? ""),
            ])
        case .failed(let name, let reason):
            journal.enqueue([
                ("MESSAGE", "could not read \(original): \(reason); moved to failed/\(name)"),
                ("MESSAGE_ID", MessageID.fileFailed), ("PRIORITY", "3"), ("SYSLOG_IDENTIFIER", "slawatch"),
                ("SLAWATCH_FILE", drop.path + "/" + original), ("SLAWATCH_ERROR", reason),
            ])
        case .stuck(_, _, let reason):
            journal.enqueue([
                ("MESSAGE", "\(original): \(reason); it stays in the drop directory and will not be read again"),
                ("MESSAGE_ID", MessageID.fileFailed), ("PRIORITY", "3"), ("SYSLOG_IDENTIFIER", "slawatch"),
                ("SLAWATCH_FILE", drop.path + "/" + original), ("SLAWATCH_ERROR", reason),
            ])
        case .retry(let reason):
            logger.warning("drop file \(original) left for retry: \(reason)")
        }
    }
}

/// `pid=… uid=… gid=…` of a Unix-socket peer, read with `SO_PEERCRED` (unix(7)); `unknown`
/// when the option is not available.
func peerCredentials(_ channel: Channel) -> EventLoopFuture<String> {
    guard let provider = channel as? SocketOptionProvider else {
        return channel.eventLoop.makeSucceededFuture("unknown")
    }
    let future: EventLoopFuture<PeerCredentials> = provider.unsafeGetSocketOption(
        level: .socket,
        name: NIOBSDSocket.Option(rawValue: SO_PEERCRED)
    )
    return future.map { "pid=\($0.pid) uid=\($0.uid) gid=\($0.gid)" }.recover { _ in "unknown" }
}

/// Layout of Linux `struct ucred` (pid, uid, gid), which Glibc only declares under `_GNU_SOURCE`.
struct PeerCredentials {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}
