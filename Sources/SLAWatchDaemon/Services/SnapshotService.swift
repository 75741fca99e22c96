import Logging
import SLAWatchCore
import ServiceLifecycle

/// Commits what changed each `snapshot_interval`, so at most that much unacknowledged data is
/// lost to a crash (acknowledged data is committed before its `#sync` answer).
///
/// Failure behaviour: a failed commit is logged, journaled ("could not write its snapshot") and
/// retried at the next tick with everything since (the engine keeps the changes); the first tick
/// after commits succeed again writes one "writes its state again" entry. The service does not
/// throw. It returns at graceful shutdown (the daemon writes the final snapshot).
struct SnapshotService: Service {
    let actor: EngineActor
    let journal: JournalEmitter
    let clock: any DaemonClock
    /// Seconds between commits.
    let interval: Double
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown { await self.loop() }
    }

    private func loop() async {
        while !Task.isCancelled {
            do { try await clock.sleep(seconds: interval) } catch { return }
            do {
                try await actor.commit()
            } catch {
                logger.error("snapshot failed: \(error)")
                journal.emit(DaemonEntry.storeFailure(error))
            }
            // Commits (this one, or a #sync's) succeed again after failures: said once.
            if let r = await actor.takeStoreRecovery() {
                logger.notice("state writes recovered after \(r.failures) failure(s)")
                journal.emit(DaemonEntry.storeRecovered(failures: r.failures, since: r.since))
            }
        }
    }
}
