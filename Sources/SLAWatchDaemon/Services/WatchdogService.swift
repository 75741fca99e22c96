import Logging
import SLAWatchCore
import ServiceLifecycle
import Synchronization
import Systemd

/// Pings `WATCHDOG=1` every half `WatchdogSec=`, but only while the engine evaluates, the ingest
/// pipeline drains and the journal writer keeps up; a wedged part stops the pings and lets
/// systemd restart the service (sd_watchdog_enabled(3)).
///
/// Failure behaviour: nothing to fail (a withheld ping is logged with the part that is stuck);
/// returns at graceful shutdown.
struct WatchdogService: Service {
    let actor: EngineActor
    let pipeline: IngestPipeline
    let journal: JournalEmitter
    let clock: any DaemonClock
    /// `WatchdogSec=` in seconds.
    let interval: Double
    /// The evaluation interval (an engine is stalled after three missed evaluations).
    let evaluationInterval: Double
    let logger: Logger
    /// Sends `WATCHDOG=1`.
    var ping: @Sendable () -> Void = { Watchdog.ping() }

    func run() async throws {
        await cancelWhenGracefulShutdown { await self.loop() }
    }

    private func loop() async {
        let heartbeat = Heartbeat()
        var sent = clock.now
        let clock = self.clock
        pipeline.submit(.barrier { heartbeat.mark(clock.now) })
        while !Task.isCancelled {
            do { try await clock.sleep(seconds: interval / 2) } catch { return }
            let now = clock.now
            // A wedged actor blocks here, and no ping is sent.
            let lastEvaluation = await actor.lastEvaluation
            let engineOK = now - lastEvaluation < max(interval, 3 * evaluationInterval)
            let pipelineOK = heartbeat.last >= sent
            let journalOK = journal.isProgressing(within: interval)
            if engineOK && pipelineOK && journalOK {
                ping()
            } else {
                logger.warning(
                    "watchdog ping withheld: engine \(engineOK ? "ok" : "stalled"), ingest \(pipelineOK ? "ok" : "stalled"), journal \(journalOK ? "ok" : "stalled")"
                )
            }
            if pipelineOK {
                sent = clock.now
                pipeline.submit(.barrier { heartbeat.mark(clock.now) })
            }
        }
    }
}

/// When the ingest pipeline last processed a watchdog barrier (unix seconds).
final class Heartbeat: Sendable {
    private let time = Mutex(0.0)

    func mark(_ now: Double) { time.withLock { $0 = now } }

    var last: Double { time.withLock { $0 } }
}
