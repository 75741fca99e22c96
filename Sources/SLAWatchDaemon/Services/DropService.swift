import Logging
import SLAWatchCore
import ServiceLifecycle
import Synchronization

/// The drop directory: files renamed into it are noticed (inotify, or a scan every
/// `drop_scan_interval` without it), left to settle, read whole into staged windows and counted
/// at their commit exactly once (the ledger), then moved to `processed/` or `failed/`; one
/// journal entry per file. Processed files and ledger rows past their retention are pruned.
///
/// Failure behaviour: a file that cannot be read is moved to `failed/` with an entry; one that
/// cannot be moved stays and is never read twice; an interrupted read is retried. The service
/// does not throw; it returns at graceful shutdown, between two files.
struct DropService: Service {
    let drop: DropDirectory
    let actor: EngineActor
    let policy: PeerPolicy
    let journal: JournalEmitter
    let files: FileCounts
    let counters: IngestCounters
    let clock: any DaemonClock
    /// Seconds between scans when inotify is not available.
    let scanInterval: Double
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown { await self.loop() }
    }

    private func loop() async {
        let settings = drop.settings
        var scheduler = DropScheduler(settle: settings.settle, staleWriting: max(60, settings.rescanInterval))
        // Files already ingested that could not be moved away: never read them twice.
        var stuck: [String: DropDirectory.FileIdentity] = [:]
        let changes = Changes()
        var watcher: DropWatcher?
        do {
            let w = try DropWatcher(directory: drop.path)
            watcher = w
            Task {
                for await change in w.events { changes.append(change) }
            }
        } catch {
            logger.warning("drop directory: \(error); polling every \(scanInterval) s instead")
        }
        defer { watcher?.stop() }
        drop.recoverTaken()
        let rescanEvery = watcher == nil ? scanInterval : settings.rescanInterval
        var lastScan = -Double.infinity
        var lastPrune = -Double.infinity
        while !Task.isCancelled {
            let now = clock.now
            var rescan = now - lastScan >= rescanEvery
            for change in changes.take() {
                if change == .overflow {
                    rescan = true
                    logger.warning("drop directory: inotify queue overflowed; rescanning")
                }
                if change == .invalidName { rescan = true }
                scheduler.apply(change, now: now)
            }
            if rescan {
                lastScan = now
                var failed: [(name: String, outcome: DropDirectory.Outcome)] = []
                let files = drop.scan(failingInvalidNames: &failed).filter { f in
                    stuck[f.name].map { $0 != f.identity } ?? true
                }
                for (name, outcome) in failed { report(outcome, original: name) }
                stuck = stuck.filter { s in files.contains { $0.name == s.key } || drop.identity(of: s.key) == s.value }
                scheduler.scanned(files, now: now)
            }
            scheduler.tick(now: now) { name in
                if let s = stuck[name], drop.identity(of: name) == s { return nil }
                return drop.identity(of: name)
            }
            if now - lastPrune >= min(3600, max(1, settings.processedRetention / 4)) {
                lastPrune = now
                let pruned = drop.pruneProcessed(now: now)
                if pruned > 0 {
                    logger.info("drop directory: pruned \(pruned) processed file(s) past processed_retention")
                }
                do {
                    try await actor.pruneLedger(olderThan: settings.ledgerRetention)
                } catch {
                    logger.warning("drop directory: could not prune the ledger (retried later): \(error)")
                }
            }
            for name in scheduler.takeVanished() { report(.vanished, original: name) }
            while let name = scheduler.next() {
                if Task.isCancelled { return }
                if let s = stuck[name], drop.identity(of: name) == s { continue }
                let outcome = await drop.process(name, actor: actor, policy: policy)
                switch outcome {
                case .stuck(_, let identity, _): stuck[name] = identity
                case .retry: scheduler.retryLater(name, now: clock.now)
                default: break
                }
                report(outcome, original: name)
                for change in changes.take() { scheduler.apply(change, now: clock.now) }
            }
            do { try await clock.sleep(seconds: watcher == nil ? scanInterval : 0.1) } catch { return }
        }
    }

    private func report(_ outcome: DropDirectory.Outcome, original: String) {
        let file = drop.path + "/" + original
        files.count(outcome)
        if case .processed(let r) = outcome {
            counters.add(.drop, accepted: r.accepted, rejectedByReason: r.rejections)
            counters.addIgnored(.drop, r.ignored, since: ParseStats())
        }
        if case .retry(let reason) = outcome { logger.warning("drop file \(original) left for retry: \(reason)") }
        if let entry = DaemonEntry.dropFile(outcome, original: original, file: file) { journal.emit(entry) }
    }
}

/// inotify changes handed from the watcher's stream to the drop loop.
final class Changes: Sendable {
    private let items = Mutex<[DropWatcher.Change]>([])

    func append(_ c: DropWatcher.Change) { items.withLock { $0.append(c) } }

    func take() -> [DropWatcher.Change] {
        items.withLock { items in
            defer { items = [] }
            return items
        }
    }
}
