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

/// The control socket's protocol (`control.sock`).
extension Daemon {
    /// The control protocol: `status` → `StatusReply` as JSON.
    static func answer(
        _ request: String,
        actor: EngineActor,
        limiter: ConnectionLimiter,
        controlLimiter: ConnectionLimiter,
        descriptorLimit: Int,
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
                queued: pipeline.queued,
                limits: StatusReply.Limits(
                    descriptors: descriptorLimit,
                    connections: limiter.limit,
                    controlConnections: controlLimiter.limit,
                    controlRefused: controlLimiter.counts.refused,
                    acceptBackoffs: limiter.acceptBackoffs + controlLimiter.acceptBackoffs
                )
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
