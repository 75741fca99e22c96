import Foundation
import Logging
import SLAWatchCore
import ServiceLifecycle

/// Writes the Prometheus exposition (`MetricsExposition`) into `metrics_textfile` every
/// `interval` seconds and once at start, for node_exporter's textfile collector: written to a
/// hidden file beside it (`.NAME.tmp`, which the collector does not read), flushed, then
/// renamed over it, so a scrape never reads half a file. Works under `PrivateNetwork=yes`.
///
/// Failure behaviour: a write that fails (directory missing, not writable, disk full) is logged
/// once per distinct reason and retried at the next interval; the service never stops the
/// daemon, and returns at graceful shutdown.
struct MetricsTextfileService: Service {
    let path: String
    let clock: any DaemonClock
    let interval: Double
    let logger: Logger
    let exposition: @Sendable () async -> String

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var lastError: String?
            while !Task.isCancelled {
                let text = await exposition()
                do {
                    try Self.write(text, to: path)
                    if lastError != nil { logger.notice("metrics textfile \(path) written again") }
                    lastError = nil
                } catch {
                    let reason = "\(error)"
                    if reason != lastError { logger.error("cannot write the metrics textfile \(path): \(reason)") }
                    lastError = reason
                }
                do { try await clock.sleep(seconds: interval) } catch { return }
            }
        }
    }

    /// Writes `text` to `path` atomically (`AtomicFile`), mode 0644: node_exporter runs as
    /// another user.
    /// - Throws: `POSIXError` of the failing call.
    static func write(_ text: String, to path: String) throws {
        try AtomicFile.write(Array(text.utf8), to: path, mode: 0o644)
    }
}
