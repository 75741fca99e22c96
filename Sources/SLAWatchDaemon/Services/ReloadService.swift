import Logging
import SLAWatchCore
import ServiceLifecycle
import Systemd
import UnixSignals

/// SIGHUP: re-reads the config and the objectives and applies them, or refuses them (the old
/// ones stay; a "config refused" entry names file, line and reason). Around it, `RELOADING=1`
/// with `MONOTONIC_USEC=` in one datagram, then `READY=1` either way (`Type=notify-reload`).
///
/// Failure behaviour: a refused config is an entry, not a failure; the service does not throw
/// and returns at graceful shutdown.
struct ReloadService: Service {
    let actor: EngineActor
    let journal: JournalEmitter
    /// The settings in force (settings other than the objectives take effect at a restart).
    let config: DaemonConfig
    /// The config file, `nil` for the embedded default.
    let configPath: String?
    let logger: Logger

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        for await _ in hangups.cancelOnGracefulShutdown() { await reload() }
    }

    /// One reload.
    func reload() async {
        Notifier.reloading()
        defer { Notifier.ready(status: "configuration reloaded") }
        let path = configPath ?? "embedded default config"
        do {
            let newConfig = try configPath.map { try DaemonConfig.load(path: $0) } ?? config
            let objectives = try ObjectivesConfig.load(directory: newConfig.objectivesDirectory)
            let summary = await actor.reload(objectives: objectives, maxFutureSkew: config.maxFutureSkew)
            do { try await actor.recordVersions() } catch {
                logger.error("recording objective versions failed: \(error)")
            }
            var settings = newConfig
            settings.source = config.source
            settings.objectivesDirectory = config.objectivesDirectory
            let entry = DaemonEntry.reloaded(
                path: path,
                objectives: objectives.count,
                summary: summary,
                restartNeeded: settings != config
            )
            journal.emit(entry)
            logger.info("\(entry.message)")
            do { try await actor.commit() } catch { logger.error("commit after reload failed: \(error)") }
        } catch let e as ConfigErrors {
            journal.emit(DaemonEntry.refused(path: path, errors: e))
            logger.error("reload refused: \(e.description)")
        } catch {
            journal.emit(DaemonEntry.refused(path: path, error: error))
        }
    }
}
