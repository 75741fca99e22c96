import Logging
import SLAWatchCore
import ServiceLifecycle
import Systemd

/// Evaluates every objective each `evaluation_interval`: commits the new states before it
/// announces them (a restart never re-announces), writes their journal entries, the storm
/// summary and the `max_series` notice, and keeps `STATUS=` (objectives, breaches, ingest rate)
/// up to date for `systemctl status`.
///
/// Failure behaviour: it does not throw; a failed commit is logged and the states are written by
/// the next commit. It returns at graceful shutdown.
struct EvaluationService: Service {
    let actor: EngineActor
    let journal: JournalEmitter
    let clock: any DaemonClock
    /// Seconds between evaluations.
    let interval: Double
    let logger: Logger
    /// Sends `STATUS=` text (the service manager's notify socket).
    var status: @Sendable (String) -> Void = { Notifier.status($0) }

    func run() async throws {
        await cancelWhenGracefulShutdown { await self.loop() }
    }

    private func loop() async {
        var lastStatus = ""
        var lastAccepted = await actor.acceptedTotal
        var lastTime = clock.now
        var rate = 0.0
        while !Task.isCancelled {
            do { try await clock.sleep(seconds: interval) } catch { return }
            let transitions = await actor.evaluate()
            journal.flushStorm(now: clock.now)
            if let limit = await actor.takeSeriesLimitNotice() { journal.emit(DaemonEntry.seriesLimit(limit)) }
            for s in await actor.takeEndedSilences() { journal.emit(DaemonEntry.silenceEnded(s)) }
            for r in await actor.takeReviewReminders() {
                journal.emit(DaemonEntry.reviewDue(sla: r.sla, reviewBy: r.reviewBy, overdueDays: r.overdueDays))
            }
            if !transitions.isEmpty {
                // Persist the new states before announcing them, so a restart does not re-announce.
                do { try await actor.commit() } catch { logger.error("commit after transitions failed: \(error)") }
                journal.emitTransitions(await actor.journalEntries(transitions), now: clock.now)
            }
            // STATUS=: objectives, breaches, and the ingest rate (events/s, smoothed over about
            // ten seconds).
            let now = clock.now
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
                status(text)
                lastStatus = text
            }
        }
    }

    /// `0`, `850`, `1.3 k`, `2.4 M`.
    static func humanRate(_ r: Double) -> String {
        if r < 1000 { return String(Int(r.rounded())) }
        if r < 1_000_000 { return "\(NumberText.format((r / 100).rounded() / 10)) k" }
        return "\(NumberText.format((r / 100_000).rounded() / 10)) M"
    }
}
