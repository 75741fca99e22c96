import Foundation
import SLAWatchCore
import SLAWatchStore
import SLAWatchTestSupport
import Testing

@testable import SLAWatchDaemon

private func objectives(_ id: String) -> String {
    """
    slas:
      - name: fault-\(id)
        provider: p
        customer: c
        objectives:
          - {name: a-\(id), metric: fa.\(id), sli: count, window: 1h, direction: at_most, baseline: 1e12, nodata: ok}
          - {name: b-\(id), metric: fb.\(id), sli: count, window: 1h, direction: at_most, baseline: 1e12, nodata: ok}
          - {name: c-\(id), metric: fc.\(id), group_by: [k], max_instances: 5000, sli: count, window: 1h, direction: at_most, baseline: 1e12, nodata: ok}
    """
}

/// Runs SQL on a state file with Python's sqlite3 (the daemon is stopped).
func sqlite(_ path: String, _ sql: String) throws {
    let script = "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nc.executescript(sys.argv[2])\nc.commit()\n"
    let (rc, _, err) = try python(script, args: [path, sql])
    #expect(rc == 0, "sqlite: \(err)")
}

/// State files that lie, and drop files that vanish, as the daemon meets them.
@Suite(.serialized)
struct StateFaultTests {
    @Test func aStateFileOfANewerSchemaStopsTheStartWithExit78AndAnEntry() throws {
        let id = runID()
        let daemon = try TestDaemon(objectivesYAML: objectives(id))
        try daemon.start()
        #expect(try daemon.push(["fa.\(id):1|c"]).0 == 0)
        #expect(daemon.stop() == 0)
        let state = daemon.root.appendingPathComponent("state/state.sqlite").path
        let newer = StateStore.schemaVersion + 1
        try sqlite(state, "PRAGMA user_version = \(newer);")
        let before = try Data(contentsOf: URL(fileURLWithPath: state))
        try daemon.start(waitForControl: false)
        let p = try #require(daemon.process)
        // A daemon that took the file (and kept running) fails here, and is stopped.
        guard waitUntil(20, { !p.isRunning }) else {
            Issue.record("the daemon started on a state file of a newer schema; log: \(daemon.log)")
            daemon.stop()
            return
        }
        #expect(p.terminationStatus == 78, "log: \(daemon.log)")
        #expect(daemon.log.contains("schema version \(newer)"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: state)) == before)
        if TestJournal.isAvailable, let pid = daemon.lastPID {
            let entries = try journalEntries(["MESSAGE_ID=\(MessageID.stateRefused)", "SLAWATCH_STATE_FILE=\(state)"])
            #expect(entries.count == 1, "pid \(pid)")
            #expect(entries.first?["PRIORITY"] == "3")
            #expect(entries.first?["SLAWATCH_SCHEMA_FOUND"] == "\(newer)")
            #expect(entries.first?["SLAWATCH_SCHEMA_KNOWN"] == "\(StateStore.schemaVersion)")
        }
        // The unit keeps systemd from restarting it in a loop.
        let unit = try String(
            contentsOf: packageRoot.appendingPathComponent("systemd/slawatch.service"),
            encoding: .utf8
        )
        #expect(unit.contains("\nRestartPreventExitStatus=78\n"))
    }

    @Test func aDamagedRowCostsOnlyItsObjective() throws {
        let id = runID()
        let daemon = try TestDaemon(objectivesYAML: objectives(id))
        try daemon.start()
        #expect(try daemon.push(["fa.\(id):3|c", "fb.\(id):4|c"]).0 == 0)
        #expect(daemon.stop() == 0)
        let state = daemon.root.appendingPathComponent("state/state.sqlite").path
        try sqlite(state, "UPDATE instance SET state = '{broken' WHERE name = 'a-\(id)';")
        try daemon.start()
        defer { daemon.stop() }
        // b was restored; a starts empty (nodata: ok, no value).
        let values = try daemon.values()
        #expect(values["b-\(id)"] == 4)
        #expect(values["a-\(id)"] == nil || values["a-\(id)"] == 0)
        let dir = daemon.root.appendingPathComponent("state").path
        let evidence = try FileManager.default.contentsOfDirectory(atPath: dir).filter {
            $0.hasPrefix("state.sqlite.damaged-")
        }
        #expect(evidence.count == 1)
        if TestJournal.isAvailable {
            let entries = try journalEntries(["MESSAGE_ID=\(MessageID.stateDamaged)", "SLAWATCH_OBJECTIVE=a-\(id)"])
            #expect(entries.count == 1)
            #expect(entries.first?["SLAWATCH_TABLE"] == "instance")
            #expect(entries.first?["SLAWATCH_EVIDENCE"] == dir + "/" + (evidence.first ?? ""))
            #expect(entries.first?["PRIORITY"] == "3")
        }
        // It counts again from here, and a restart meets no damage.
        #expect(try daemon.push(["fa.\(id):2|c"]).0 == 0)
        #expect(daemon.stop() == 0)
        try daemon.start()
        #expect(try daemon.values()["a-\(id)"] == 2)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("state.sqlite.damaged-") }
                .count == 1
        )
    }

    @Test func theStateFileIsTheServiceUsersAlone() throws {
        let id = runID()
        let daemon = try TestDaemon(objectivesYAML: objectives(id))
        try daemon.start()
        defer { daemon.stop() }
        #expect(try daemon.push(["fa.\(id):1|c"]).0 == 0)
        for path in [
            daemon.root.appendingPathComponent("state/state.sqlite").path,
            daemon.root.appendingPathComponent("state/state.sqlite-wal").path,
            daemon.dropDirectory + "/processed", daemon.dropDirectory + "/failed",
        ] {
            var st = stat()
            #expect(stat(path, &st) == 0, "\(path) missing")
            #expect(st.st_mode & 0o077 == 0, "\(path) has mode \(String(st.st_mode & 0o7777, radix: 8))")
        }
    }

    /// A file seen in the drop directory and deleted by someone else before it settled: one
    /// entry names it, and status counts it.
    @Test func aDropFileDeletedBeforeItWasReadIsJournaledOnce() throws {
        let id = runID()
        let daemon = try TestDaemon(objectivesYAML: objectives(id), extraConfig: "drop:\n  settle: 3s\n")
        try daemon.start()
        defer { daemon.stop() }
        let file = daemon.dropDirectory + "/gone-\(id).statsd"
        // Written in place (not renamed in): it waits out the settle time.
        try "fa.\(id):1|c\n".write(toFile: file, atomically: false, encoding: .utf8)
        usleep(500_000)
        #expect(unlink(file) == 0)
        #expect(
            waitUntil(10) {
                ((try? daemon.status())?["files"] as? [String: Any])?["vanished"] as? Int == 1
            }
        )
        #expect(try daemon.values()["a-\(id)"] == nil)
        if TestJournal.isAvailable {
            let entries = try journalEntries(["MESSAGE_ID=\(MessageID.fileVanished)", "SLAWATCH_FILE=\(file)"])
            #expect(entries.count == 1)
            #expect(entries.first?["PRIORITY"] == "4")
        }
    }

    /// A full disk under the state file: a #sync is answered "error … commit failed" (nothing
    /// acknowledged that is not durable), and once space is back the commits succeed again, with
    /// one "writes its state again" entry.
    @Test(.enabled(if: getuid() == 0 && ExternalProgram.unshare.isInstalled && TestJournal.isAvailable))
    func aFullDiskRefusesAcknowledgementsAndOneEntrySaysWhenWritesRecover() throws {
        let id = runID()
        let daemon = try TestDaemon(objectivesYAML: objectives(id))
        let state = daemon.root.appendingPathComponent("state").path
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        // The daemon in a mount namespace of its own, its state on an 8 MiB tmpfs (filled below, whatever its size).
        try daemon.start(wrapper: [
            try ExternalProgram.unshare.path(), "-m", "--propagation", "private", try ExternalProgram.sh.path(), "-c",
            "mount -t tmpfs -o size=8m tmpfs \(state) && exec \"$@\"", "sh",
        ])
        defer { daemon.stop() }
        let pid = try #require(daemon.daemonPID)
        #expect(try daemon.push(["fa.\(id):1|c"]).0 == 0)
        func inside(_ command: String) throws -> Int32 {
            try sh(.nsenter, ["-t", "\(pid)", "-m", try ExternalProgram.sh.path(), "-c", command]).0
        }
        // Fill it.
        _ = try inside("dd if=/dev/zero of=\(state)/filler bs=64k 2>/dev/null; sync")
        // 2,000 new instances: a transaction far larger than the WAL it could reuse.
        let (rc, out, _) = try daemon.push((0..<2000).map { "fc.\(id):1|c|#k:\($0)" })
        #expect(rc != 0, "a #sync on a full disk was acknowledged: \(out)")
        // The failed commits are counted (status --json, `slawatch_store_commit_failures_total`).
        let failures = ((try? daemon.status())?["engine"] as? [String: Any])?["storeFailures"] as? Int ?? 0
        #expect(failures >= 1)
        // A drop file while the disk is full: its commit fails, so nothing of it shows in status
        // (not even for a moment), it stays in the drop directory, and it is read again.
        let staging = daemon.root.appendingPathComponent("full-\(id).statsd").path
        let lines = ["fb.\(id):5|c"] + (2000..<4000).map { "fc.\(id):1|c|#k:\($0)" }
        try (lines.joined(separator: "\n") + "\n").write(toFile: staging, atomically: false, encoding: .utf8)
        let dropped = daemon.dropDirectory + "/full-\(id).statsd"
        #expect(rename(staging, dropped) == 0)
        var shown = false
        let retried = waitUntil(20) {
            if (try? daemon.values())?["b-\(id)"] != nil { shown = true }
            return (((try? daemon.status())?["files"] as? [String: Any])?["retried"] as? Int ?? 0) >= 2
        }
        #expect(retried, "the file's failed commit was not retried")
        #expect(!shown, "status showed a drop file's events whose commit failed")
        #expect(try daemon.values()["b-\(id)"] == nil)
        #expect(FileManager.default.fileExists(atPath: dropped))
        // Space again: the next commits succeed, said once.
        #expect(try inside("rm -f \(state)/filler") == 0)
        #expect(waitUntil(20) { (try? daemon.values())?["b-\(id)"] == 5 })
        #expect(!FileManager.default.fileExists(atPath: dropped))
        #expect(((try? daemon.status())?["files"] as? [String: Any])?["processed"] as? Int == 1)
        #expect(waitUntil(10) { (try? daemon.push(["fa.\(id):1|c"]))?.0 == 0 })
        #expect(
            waitUntil(10) {
                (try? journalEntries(["MESSAGE_ID=\(MessageID.storeRecovered)", "_PID=\(pid)"]))?.count == 1
            }
        )
        let entry = try journalEntries(["MESSAGE_ID=\(MessageID.storeRecovered)", "_PID=\(pid)"]).first
        #expect(Int(entry?["SLAWATCH_FAILURES"] ?? "") ?? 0 >= 1)
        #expect(entry?["PRIORITY"] == "5")
    }
}
