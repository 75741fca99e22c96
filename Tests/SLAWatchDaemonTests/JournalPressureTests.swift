import Foundation
import SLAWatchCore
import SLAWatchTestSupport
import Systemd
import Testing

/// The journal under pressure: alert storms are summarized with exact counts, and a stalled
/// journald never blocks ingestion.
@Suite(.serialized)
struct JournalPressureTests {
    @Test(.enabled(if: TestJournal.isAvailable))
    func alertStormIsSummarizedWithExactCounts() throws {
        let id = runID()
        var yaml = "slas:\n  - name: storm-\(id)\n    provider: p\n    customer: storm-\(id)\n    objectives:\n"
        for i in 0..<20 {
            yaml +=
                "      - {name: s\(i)-\(id), metric: s.\(id).m\(i), sli: count, window: 10m, direction: at_most, baseline: 0, nodata: ok}\n"
        }
        let daemon = try TestDaemon(objectivesYAML: yaml, extraConfig: "max_alerts_per_minute: 5\n")
        try daemon.start()
        #expect(try daemon.push((0..<20).map { "s.\(id).m\($0):1|c" }).0 == 0)
        // All 20 breach in the engine at once.
        #expect(
            waitUntil(5) {
                ((try? daemon.status()["objectives"] as? [[String: Any]]) ?? []).filter {
                    $0["state"] as? String == "breached"
                }
                .count == 20
            }
        )
        #expect(daemon.stop() == 0)
        let breaches = try journalEntries(["SLAWATCH_CUSTOMER=storm-\(id)", "MESSAGE_ID=\(MessageID.breach)"])
        #expect(breaches.count == 5)
        let summaries = try journalEntries([
            "MESSAGE_ID=\(MessageID.alertsSuppressed)", "_PID=\(try #require(daemon.lastPID))",
        ])
        #expect(summaries.count == 1)
        #expect(summaries.first?["SLAWATCH_SUPPRESSED"] == "15")
        #expect(summaries.first?["SLAWATCH_SUPPRESSED_BREACH"] == "15")
        #expect(summaries.first?["SLAWATCH_WRITTEN"] == "5")
    }

    @Test(.enabled(if: getuid() == 0 && ExternalProgram.unshare.isInstalled))
    func stalledJournaldNeverBlocksIngestionAndDropsAreCounted() throws {
        let id = runID()
        let daemon = try TestDaemon(
            objectivesYAML: """
                slas:
                  - name: j-\(id)
                    provider: p
                    customer: c
                    objectives:
                      - {name: j-\(id), metric: j.\(id), sli: count, window: 10m, direction: at_most, baseline: 1000000, nodata: ok}
                """,
            extraConfig: "journal_queue_size: 8\n"
        )
        let received = daemon.root.appendingPathComponent("journal-received").path
        let go = daemon.root.appendingPathComponent("journal-go").path
        // A private mount namespace with a fake journald that reads nothing until `go` exists.
        let fake = """
            import os, socket, time, sys
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.bind("/run/systemd/journal/socket")
            open(sys.argv[1] + ".ready", "w").close()
            while not os.path.exists(sys.argv[2]):
                time.sleep(0.05)
            s.settimeout(3)
            with open(sys.argv[1], "wb") as out:
                try:
                    while True:
                        out.write(s.recv(1 << 20) + b"\\0\\n")
                        out.flush()
                except socket.timeout:
                    pass
            """
        let script = daemon.root.appendingPathComponent("fake-journald.py").path
        try fake.write(toFile: script, atomically: true, encoding: .utf8)
        let wrapper = """
            mount -t tmpfs tmpfs /run/systemd/journal && \
            (python3 '\(script)' '\(received)' '\(go)' &) && \
            while [ ! -e '\(received).ready' ]; do sleep 0.05; done && \
            exec "$@"
            """
        try daemon.start(wrapper: [
            try ExternalProgram.unshare.path(), "-m", "--propagation", "private", try ExternalProgram.sh.path(), "-c",
            wrapper,
            "sh",
        ])
        defer { daemon.stop() }
        // 30 producers with one bad line each: 30 "input rejected" entries (one per source), far
        // more than the fake journald's socket queue and the writer's 8 slots hold.
        let t0 = Date()
        for i in 0..<30 {
            let (rc, _, _) = try daemon.push(["j.\(id):1|c", "bad line \(i)"])
            #expect(rc == 1)  // the bad line is reported; the good one is committed
        }
        let elapsed = Date().timeIntervalSince(t0)
        #expect(elapsed < 15, "ingestion stalled behind the journal: \(elapsed) s for 30 pushes")
        let status = try daemon.status()
        let dropped = try #require(status["journalDropped"] as? Int)
        #expect(dropped > 0)
        #expect((status["objectives"] as? [[String: Any]])?.first?["value"] as? Double == 30)
        // journald drains: the summary with the exact count follows.
        _ = FileManager.default.createFile(atPath: go, contents: nil)
        let summarized = waitUntil(10) {
            let data = FileManager.default.contents(atPath: received) ?? Data()
            return String(decoding: data, as: UTF8.self).contains("SLAWATCH_DROPPED=\(dropped)\n")
        }
        #expect(summarized, "no summary with SLAWATCH_DROPPED=\(dropped)")
        let text = String(decoding: FileManager.default.contents(atPath: received) ?? Data(), as: UTF8.self)
        #expect(text.contains("MESSAGE_ID=\(MessageID.journalDropped)"))
    }
}
