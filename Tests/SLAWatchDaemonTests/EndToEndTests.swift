import Foundation
import SLAWatchCore
import SLAWatchTestSupport
import Systemd
import Testing

/// The main job end to end: the built daemon on temporary directories, a real Unix socket, a real
/// SQLite file and the real journald, read back through sd_journal.
@Suite(.serialized)
struct EndToEndTests {
    @Test(.enabled(if: TestJournal.isAvailable, "needs the tests' own journal (make test starts it)"))
    func breachRecoveryRestartAndDropDirectory() throws {
        let id = runID()
        let objective = "e2e-\(id)-latency"
        let metric = "e2e.\(id).latency"
        let yaml = """
            slas:
              - name: e2e-\(id)-sla
                provider: platform
                customer: e2e-customer
                objectives:
                  - name: \(objective)
                    metric: \(metric)
                    sli: avg
                    window: 10m
                    direction: at_most
                    baseline: 300
                    severity: err
                    nodata: ok
                    unit: ms
            """
        let daemon = try TestDaemon(objectivesYAML: yaml)
        let notify = try FakeNotifySocket(path: daemon.root.appendingPathComponent("notify.sock").path)
        try daemon.start(notifySocket: notify.path)
        defer { daemon.stop() }
        #expect(waitUntil(5) { notify.drain().contains { $0.contains("READY=1") } })
        // STATUS= is kept current, and every notification comes from the daemon's own pid.
        #expect(
            waitUntil(5) {
                notify.messages.contains {
                    $0.contains("STATUS=watching 1 objectives, 0 breached") && $0.contains("events/s")
                }
            }
        )
        #expect(notify.senderPIDs == [try #require(daemon.lastPID)])

        // 1. A slow request over `slawatch push` breaches the objective (avg 1000 > 300).
        let (rc, out, _) = try daemon.push(["\(metric):1000|ms"])
        #expect(rc == 0)
        #expect(out.contains("accepted 1, rejected 0"))
        var breaches: [[String: String]] = []
        let breached = try waitUntil(10) {
            breaches = try journalEntries(["SLAWATCH_OBJECTIVE=\(objective)", "MESSAGE_ID=\(MessageID.breach)"])
            return breaches.count == 1
        }
        #expect(breached, "no breach entry; daemon log:\n\(daemon.log)")
        let b = try #require(breaches.first)
        #expect(b["PRIORITY"] == "3")
        #expect(b["SYSLOG_IDENTIFIER"] == "slawatch")
        #expect(b["SLAWATCH_SLA"] == "e2e-\(id)-sla")
        #expect(b["SLAWATCH_PROVIDER"] == "platform")
        #expect(b["SLAWATCH_CUSTOMER"] == "e2e-customer")
        #expect(b["SLAWATCH_STATE"] == "breached")
        #expect(b["SLAWATCH_PREVIOUS_STATE"] == "ok")
        #expect(b["SLAWATCH_VALUE"] == "1000")
        #expect(b["SLAWATCH_BASELINE"] == "300")
        #expect(b["SLAWATCH_DIRECTION"] == "at_most")
        #expect(b["SLAWATCH_WINDOW"] == "10m")
        let episode = try #require(b["SLAWATCH_EPISODE"])
        #expect(!episode.isEmpty)
        #expect(
            b["MESSAGE"]
                == "\(objective) breached: 1000 ms over the last 10m, baseline at most 300 (platform → e2e-customer)"
        )

        // 2. Fast requests through socat (avg still 366) and a renamed drop file bring the average
        // down: recovery.
        let (src, _, serr) = try sh(
            .socat,
            ["-u", "-", "UNIX-CONNECT:\(daemon.ingestSocket)"],
            stdin: "\(metric):50|ms\n\(metric):50|ms\n"
        )
        #expect(src == 0, "socat: \(serr)")
        _ = waitUntil(5) { (try? daemon.status())?["accepted"] as? Int == 3 }
        #expect(daemon.state(of: objective) == "breached")
        let staging = daemon.root.appendingPathComponent("staging.statsd")
        try "\(metric):50|ms\n\(metric):50|ms\n".write(to: staging, atomically: true, encoding: .utf8)
        #expect(rename(staging.path, daemon.dropDirectory + "/batch.statsd") == 0)
        var recoveries: [[String: String]] = []
        let recovered = try waitUntil(10) {
            recoveries = try journalEntries(["SLAWATCH_OBJECTIVE=\(objective)", "MESSAGE_ID=\(MessageID.recovery)"])
            return recoveries.count == 1
        }
        #expect(recovered, "no recovery entry; daemon log:\n\(daemon.log)")
        let r = try #require(recoveries.first)
        #expect(r["SLAWATCH_EPISODE"] == episode)
        #expect(r["SLAWATCH_STATE"] == "ok")
        #expect(r["SLAWATCH_PREVIOUS_STATE"] == "breached")
        #expect(r["SLAWATCH_VALUE"] == "240")  // (1000 + 4 × 50) / 5
        #expect(r["PRIORITY"] == "5")
        #expect(FileManager.default.fileExists(atPath: daemon.dropDirectory + "/processed/batch.statsd"))

        // 3. A file with one bad line: good lines count, the file goes to processed/ with .rejects.
        let mixed = daemon.root.appendingPathComponent("mixed.tmp")
        try "\(metric):5000|ms\nnot a metric\n\(metric):5000|ms\n".write(to: mixed, atomically: true, encoding: .utf8)
        #expect(rename(mixed.path, daemon.dropDirectory + "/mixed.statsd") == 0)
        // An unreadable file (not UTF-8) goes to failed/ with .error.
        let binary = daemon.root.appendingPathComponent("bin.tmp")
        try Data([0x66, 0x6f, 0xff, 0xfe, 0x0a]).write(to: binary)
        #expect(rename(binary.path, daemon.dropDirectory + "/garbage.jsonl") == 0)
        let filed = waitUntil(10) {
            FileManager.default.fileExists(atPath: daemon.dropDirectory + "/processed/mixed.statsd.rejects")
                && FileManager.default.fileExists(atPath: daemon.dropDirectory + "/failed/garbage.jsonl.error")
        }
        #expect(filed, "drop files not moved; log:\n\(daemon.log)")
        let rejects = try String(
            contentsOfFile: daemon.dropDirectory + "/processed/mixed.statsd.rejects",
            encoding: .utf8
        )
        #expect(rejects.contains("2\tmissing_value"))
        #expect(rejects.contains("not a metric"))
        #expect(FileManager.default.fileExists(atPath: daemon.dropDirectory + "/processed/mixed.statsd"))
        #expect(FileManager.default.fileExists(atPath: daemon.dropDirectory + "/failed/garbage.jsonl"))
        let error = try String(contentsOfFile: daemon.dropDirectory + "/failed/garbage.jsonl.error", encoding: .utf8)
        #expect(error.contains("not UTF-8"))

        // The two 5000 ms samples breach again: a second episode.
        let second = try waitUntil(10) {
            try journalEntries(["SLAWATCH_OBJECTIVE=\(objective)", "MESSAGE_ID=\(MessageID.breach)"]).count == 2
        }
        #expect(second, "no second breach; log:\n\(daemon.log)")
        #expect(daemon.state(of: objective) == "breached")

        // 4. SIGTERM: STOPPING=1, exit 0. Start again: the breach is restored, not re-announced.
        #expect(daemon.stop() == 0)
        #expect(waitUntil(5) { notify.drain().contains { $0.contains("STOPPING=1") } })
        try daemon.start()
        #expect(daemon.state(of: objective) == "breached")
        usleep(1_000_000)  // ten evaluation ticks
        let after = try journalEntries(["SLAWATCH_OBJECTIVE=\(objective)", "MESSAGE_ID=\(MessageID.breach)"])
        #expect(after.count == 2, "a restart re-announced the breach")
        let transitions = try journalEntries(["SLAWATCH_OBJECTIVE=\(objective)"])
        #expect(
            transitions.count == 3,
            "expected breach, recovery, breach; got \(transitions.map { $0["MESSAGE"] ?? "" })"
        )
        // 5. Reading them back: slawatch alerts (through sd_journal), text and JSON.
        let (arc, text, _) = try slawatch([
            "alerts", "--objective", objective, "--state", "breached", "--namespace", TestJournal.namespace,
        ])
        #expect(arc == 0)
        #expect(text.split(separator: "\n").count == 2)
        #expect(text.contains("err      \(objective) breached: 1000 ms"))
        let (jrc, json, _) = try slawatch(
            [
                "alerts", "--objective", objective, "--since", "1h", "--output", "json", "--namespace",
                TestJournal.namespace,
            ]
        )
        #expect(jrc == 0)
        let rows = json.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String]
        }
        #expect(rows.map { $0["SLAWATCH_TRANSITION"] ?? "" } == ["breach", "recovery", "breach"])
        #expect(rows.allSatisfy { $0["SLAWATCH_CUSTOMER"] == "e2e-customer" && $0["__REALTIME_TIMESTAMP"] != nil })
        let status = try daemon.status()
        let objectives = try #require(status["objectives"] as? [[String: Any]])
        let value = try #require(objectives.first?["value"] as? Double)
        #expect(abs(value - 11200.0 / 7.0) < 1e-9)  // (1000 + 4 × 50 + 2 × 5000) / 7 survives the restart
    }

    @Test func pushReportsRejectedLinesAndExitsNonZero() throws {
        let id = runID()
        let daemon = try TestDaemon(
            objectivesYAML: """
                slas:
                  - name: s-\(id)
                    provider: a
                    customer: b
                    objectives:
                      - {name: o-\(id), metric: m.\(id), sli: count, window: 5m, direction: at_most, baseline: 10, nodata: ok}
                """
        )
        try daemon.start()
        defer { daemon.stop() }
        let (rc, out, err) = try daemon.push(["m.\(id):1|c", "m.\(id):x|c", "m.\(id):1|zz", "m.\(id):2|c"])
        #expect(rc == 1)
        #expect(out.contains("accepted 2, rejected 2"))
        #expect(err.contains("line 2: value is not a number (invalid_value): m.\(id):x|c"))
        #expect(
            err.contains(
                "line 3: unknown metric type (expected c counter, g gauge, ms timer, h histogram, d distribution or s set) (unknown_type): m.\(id):1|zz"
            )
        )
        // An acknowledged push is visible in status at once (values are computed when asked).
        let status = try daemon.status()
        let objectives = try #require(status["objectives"] as? [[String: Any]])
        #expect(objectives.count == 1)
        #expect(objectives.first?["value"] as? Double == 3)
    }

    @Test func checkReportsFileLineAndKey() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slawatch-check-\(runID())")
        try FileManager.default.createDirectory(
            at: dir.appendingPathComponent("objectives.d"),
            withIntermediateDirectories: true
        )
        try "objectives_directory: objectives.d\nsnapshot_interval: 5s\n".write(
            to: dir.appendingPathComponent("slawatch.yaml"),
            atomically: true,
            encoding: .utf8
        )
        try """
        slas:
          - name: s
            provider: a
            customer: b
            objectives:
              - name: o
                metric: m
                sli: count
                window: fortnight
                direction: at_least
                baseline: 10 / 0
        """.write(to: dir.appendingPathComponent("objectives.d/bad.yaml"), atomically: true, encoding: .utf8)
        let (rc, _, err) = try slawatch(
            ["check", "--config", dir.appendingPathComponent("slawatch.yaml").path]
        )
        #expect(rc == 1)
        #expect(err.contains("bad.yaml:9: slas[0].objectives[0].window: 'fortnight' is not a window"))
        #expect(err.contains("bad.yaml:11: slas[0].objectives[0].baseline:"))
        #expect(err.contains("division by zero"))
    }
}

@Suite(.serialized)
struct AlertsFollowTests {
    @Test(.enabled(if: TestJournal.isAvailable))
    func followPrintsNewEntriesAsTheyAreWritten() throws {
        let id = runID()
        let daemon = try TestDaemon(
            objectivesYAML: """
                slas:
                  - name: f-\(id)
                    provider: p
                    customer: follow-\(id)
                    objectives:
                      - {name: f-\(id), metric: f.\(id), sli: count, window: 10m, direction: at_most, baseline: 1, nodata: ok}
                """
        )
        try daemon.start()
        defer { daemon.stop() }
        let follower = Process()
        follower.executableURL = URL(fileURLWithPath: slawatchBinary)
        follower.arguments = [
            "alerts", "-f", "--customer", "follow-\(id)", "--output", "json", "--namespace", TestJournal.namespace,
        ]
        let out = Pipe()
        follower.standardOutput = out
        try follower.run()
        defer { follower.terminate() }
        usleep(300_000)
        #expect(try daemon.push(["f.\(id):5|c"]).0 == 0)
        // Read what the follower printed, up to 10 s.
        let fd = out.fileHandleForReading.fileDescriptor
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var text = ""
        let seen = waitUntil(10) {
            var buf = [UInt8](repeating: 0, count: 4096)
            let n = read(fd, &buf, buf.count)
            if n > 0 { text += String(decoding: buf[0..<n], as: UTF8.self) }
            return text.contains("\"SLAWATCH_TRANSITION\":\"breach\"")
        }
        #expect(seen, "follower printed: \(text)")
        #expect(text.contains("\"SLAWATCH_OBJECTIVE\":\"f-\(id)\""))
    }
}
