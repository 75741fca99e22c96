import SLAWatchCore
import ServiceLifecycle

/// Writes the "input rejected" entries held back by the rate limit (one per source per minute)
/// once they are due, every `every` seconds.
///
/// Failure behaviour: nothing to fail; returns at graceful shutdown (the daemon then flushes
/// what is left, due or not).
struct RejectionFlushService: Service {
    let reporter: RejectionReporter
    let clock: any DaemonClock
    var every: Double = 10

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await clock.sleep(seconds: every) } catch { return }
                reporter.flush(now: clock.now)
            }
        }
    }
}
