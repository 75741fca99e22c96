import Foundation
import SLAWatchCore
import SLAWatchTestSupport
import Systemd
import Testing

/// SIGHUP reload with the sd_notify protocol of Type=notify-reload (sd_notify(3)).
@Suite(.serialized)
struct ReloadTests {
    private static func yaml(_ id: String, baseline: Int, extra: String = "") -> String {
        """
        slas:
          - name: r-\(id)
            provider: p
            customer: c
            objectives:
              - {name: keep-\(id), metric: r.\(id).errors, sli: count, window: 10m, direction: at_most, baseline: 1, nodata: ok}
              - {name: edit-\(id), metric: r.\(id).errors, sli: count, window: 10m, direction: at_most, baseline: \(baseline), nodata: ok}
        \(extra)
        """
    }

    private func objectiveStates(_ daemon: TestDaemon) -> [String: String] {
        guard let s = try? daemon.status(), let list = s["objectives"] as? [[String: Any]] else { return [:] }
        var out: [String: String] = [:]
        for o in list { out[o["objective"] as? String ?? ""] = o["state"] as? String }
        return out
    }

    @Test(.enabled(if: TestJournal.isAvailable))
    func reloadAppliesGoodConfigAndRefusesBadOneWithReadyEachTime() throws {
        let id = runID()
        let daemon = try TestDaemon(objectivesYAML: Self.yaml(id, baseline: 100))
        let notify = try FakeNotifySocket(path: daemon.root.appendingPathComponent("notify.sock").path)
        // SIGHUPs while the daemon starts must not kill it.
        try daemon.start(notifySocket: notify.path, waitForControl: false)
        defer { daemon.stop() }
        usleep(30_000)  // exec and the dynamic loader; from then on SIGHUP is ignored until handled
        for _ in 0..<5 {
            if let p = daemon.process { kill(p.processIdentifier, SIGHUP) }
            usleep(20_000)
        }
        #expect(waitUntil(20) { (try? daemon.status()) != nil }, "\(daemon.log)")
        #expect(daemon.process?.isRunning == true)
        let pid = try #require(daemon.process?.processIdentifier)
        #expect(try daemon.push(["r.\(id).errors:5|c"]).0 == 0)
        #expect(
            waitUntil(5) { objectiveStates(daemon)["keep-\(id)"] == "breached" },
            "\((try? daemon.status()) ?? [:]) \(daemon.log)"
        )
        _ = notify.drain()
        let before = notify.messages.count

        // 1. A good edit: one objective changed, one added; the untouched one keeps its breach.
        let file = daemon.root.appendingPathComponent("objectives.d/test.yaml")
        try Self.yaml(
            id,
            baseline: 3,
            extra: """
                  - name: r2-\(id)
                    provider: p
                    customer: c
                    objectives:
                      - {name: new-\(id), metric: r.\(id).other, sli: count, window: 5m, direction: at_most, baseline: 1, nodata: ok}
                """
        ).write(to: file, atomically: true, encoding: .utf8)
        kill(pid, SIGHUP)
        #expect(waitUntil(10) { objectiveStates(daemon)["new-\(id)"] != nil }, "\(daemon.log)")
        #expect(waitUntil(5) { notify.drain().dropFirst(before).contains { $0.contains("READY=1") } })
        let reloading = notify.messages.dropFirst(before).filter { $0.contains("RELOADING=1") }
        #expect(reloading.count == 1)
        // RELOADING=1 and MONOTONIC_USEC= travel in one datagram.
        #expect(reloading.first?.contains("MONOTONIC_USEC=") == true)
        let states = objectiveStates(daemon)
        #expect(states["keep-\(id)"] == "breached")
        // The edited objective keeps its window data (5 errors) and is judged by its new baseline.
        #expect(waitUntil(5) { objectiveStates(daemon)["edit-\(id)"] == "breached" })
        // (The SIGHUPs sent during start-up may have been handled as reloads too, once the
        // handler was in place: those found nothing to change.)
        let reloaded = try journalEntries([
            "MESSAGE_ID=\(MessageID.configReloaded)", "SLAWATCH_CONFIG=\(daemon.configPath)",
        ])
        let applied = reloaded.filter { $0["SLAWATCH_ADDED"] == "new-\(id)" }
        #expect(applied.count == 1)
        #expect(applied.first?["SLAWATCH_CHANGED"] == "edit-\(id)")
        #expect(reloaded.allSatisfy { $0 == applied.first || $0["SLAWATCH_ADDED"] == "" })

        // 2. A broken edit: refused, the old objectives stay, READY=1 still follows.
        let mark = notify.messages.count
        try
            "slas:\n  - name: broken\n    provider: p\n    customer: c\n    objectives:\n      - {name: x, metric: m, sli: count, window: fortnight, direction: at_least, baseline: 1}\n"
            .write(to: file, atomically: true, encoding: .utf8)
        kill(pid, SIGHUP)
        var refused: [[String: String]] = []
        let gotRefusal = try waitUntil(10) {
            refused = try journalEntries([
                "MESSAGE_ID=\(MessageID.configRefused)", "SLAWATCH_CONFIG=\(daemon.configPath)",
            ])
            return refused.count == 1
        }
        #expect(gotRefusal, "\(daemon.log)")
        #expect(refused.first?["SLAWATCH_ERROR_FILE"] == file.path)
        #expect(refused.first?["SLAWATCH_ERROR_LINE"] == "6")
        #expect(refused.first?["SLAWATCH_ERROR_KEY"] == "slas[0].objectives[0].window")
        #expect(waitUntil(5) { notify.drain().dropFirst(mark).contains { $0.contains("READY=1") } })
        #expect(
            notify.messages.dropFirst(mark).contains { $0.contains("RELOADING=1") && $0.contains("MONOTONIC_USEC=") }
        )
        #expect(objectiveStates(daemon)["new-\(id)"] != nil)
        #expect(objectiveStates(daemon)["x"] == nil)
        #expect(daemon.process?.isRunning == true)
    }
}
