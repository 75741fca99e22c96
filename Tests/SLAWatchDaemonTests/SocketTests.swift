import Foundation
import SLAWatchCore
import SLAWatchTestSupport
import Systemd
import Testing

/// Objectives over metrics the socket tests send; each value is checked exactly.
private func objectives(_ id: String) -> String {
    """
    slas:
      - name: sock-\(id)
        provider: p
        customer: c
        objectives:
          - {name: requests-\(id), metric: dd.\(id).requests, sli: count, window: 1h, direction: at_most, baseline: 1000000, nodata: ok}
          - {name: cart-\(id), metric: dd.\(id).requests, labels: {route: /cart}, sli: count, window: 1h, direction: at_most, baseline: 1000000, nodata: ok}
          - {name: depth-\(id), metric: dd.\(id).depth, sli: max, window: 1h, direction: at_most, baseline: 1000000, nodata: ok}
          - {name: latency-\(id), metric: dd.\(id).latency, sli: sum, window: 1h, direction: at_most, baseline: 1000000, nodata: ok}
          - {name: latency-count-\(id), metric: dd.\(id).latency, sli: count, window: 1h, direction: at_most, baseline: 1000000, nodata: ok}
          - {name: users-\(id), metric: dd.\(id).users, sli: count, window: 1h, direction: at_most, baseline: 1000000, nodata: ok}
          - {name: sampled-\(id), metric: dd.\(id).sampled, sli: count, window: 1h, direction: at_most, baseline: 1000000, nodata: ok}
    """
}

private func values(_ daemon: TestDaemon) -> [String: Double] {
    guard let s = try? daemon.status(), let list = s["objectives"] as? [[String: Any]] else { return [:] }
    var out: [String: Double] = [:]
    for o in list {
        if let name = o["objective"] as? String, let v = o["value"] as? Double { out[name] = v }
    }
    return out
}

@Suite(.serialized)
struct SocketTests {
    @Test func datadogClientOverTheDatagramSocketCountsExactly() throws {
        let id = runID()
        let daemon = try TestDaemon(objectivesYAML: objectives(id))
        try daemon.start()
        defer { daemon.stop() }
        let dgram = daemon.root.appendingPathComponent("run/ingest.dgram").path
        // The real DogStatsD client (PyPI `datadog`) over the Unix datagram socket, buffering
        // several metrics per datagram as it does by default for UDS, blocking sends (timeout).
        let script = """
            from datadog.dogstatsd import DogStatsd
            s = DogStatsd(socket_path="\(dgram)", disable_telemetry=True, disable_buffering=False, socket_timeout=5)
            for i in range(300):
                s.increment("dd.\(id).requests", tags=["route:/cart" if i % 3 == 0 else "route:/home"])
            for v in range(1, 51):
                s.gauge("dd.\(id).depth", v, tags=["queue:main"])
                s.histogram("dd.\(id).latency", v)
                s.distribution("dd.\(id).latency", 2 * v, tags=["service:checkout"])
                s.timing("dd.\(id).latency", 3 * v)
            for u in ["alice", "bob", "alice", "carol"]:
                s.set("dd.\(id).users", u)
            s.flush()
            s.close_socket()
            """
        let (rc, _, err) = try sh(.python3, ["-c", script])
        #expect(rc == 0, "python: \(err)")
        // Sampled lines sent by hand (the client would drop some at random): each counts 1/rate.
        let raw = """
            import socket
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.connect("\(dgram)")
            s.send(b"dd.\(id).sampled:1|c|@0.25\\ndd.\(id).sampled:2|c|@0.5\\n")
            s.send(b"dd.\(id).sampled:1|c|@1|#a:b\\nnot a metric\\n")
            """
        #expect(try sh(.python3, ["-c", raw]).0 == 0)
        let expected: [String: Double] = [
            "requests-\(id)": 300, "cart-\(id)": 100, "depth-\(id)": 50,
            "latency-\(id)": 6 * 1275, "latency-count-\(id)": 150, "users-\(id)": 3, "sampled-\(id)": 9,
        ]
        let matched = waitUntil(10) {
            let v = values(daemon)
            return expected.allSatisfy { v[$0.key] == $0.value }
        }
        #expect(matched, "got \(values(daemon))")
        let datagram = try daemon.counts(of: "datagram")
        #expect(datagram["rejected"] as? Int == 1)
        #expect((datagram["rejectedByReason"] as? [String: Any])?["missing_value"] as? Int == 1)
        #expect(try daemon.counts(of: "stream")["accepted"] as? Int == 0)
    }

    /// Sends the bytes the Python expression `bytes` makes over one stream connection to the
    /// daemon's ingest socket, half-closes, and returns everything answered until the daemon
    /// closes (python3's exit status, stdout, stderr).
    func exchange(sending bytes: String, with daemon: TestDaemon) throws -> (Int32, String, String) {
        let script = """
            import socket, sys
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sys.argv[1])
            s.sendall(\(bytes))
            s.shutdown(socket.SHUT_WR)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            sys.stdout.write(data.decode())
            """
        return try python(script, args: [daemon.ingestSocket])
    }

    /// Several `#sync` lines in one read: each answers for the lines before it, in order, with
    /// the connection's totals as of that line, though the daemon ingests the read at once.
    @Test func syncsInOneWriteAnswerForTheLinesBeforeThem() throws {
        let id = runID()
        let daemon = try TestDaemon(objectivesYAML: objectives(id))
        try daemon.start()
        defer { daemon.stop() }
        let (rc, out, err) = try exchange(
            sending: """
                b"dd.\(id).requests:1|c\\nbad line\\n#sync one\\ndd.\(id).requests:2|c\\n#sync two\\n"
                b"dd.\(id).requests:x|c\\ndd.\(id).requests:3|c\\n#sync three\\n"
                """,
            with: daemon
        )
        #expect(rc == 0, "\(err)")
        #expect(
            out.split(separator: "\n").map(String.init) == [
                "rejected 2 missing_value bad line", "ok one 1 1", "ok two 2 1",
                "rejected 6 invalid_value dd.\(id).requests:x|c", "ok three 3 2",
            ]
        )
        #expect(values(daemon)["requests-\(id)"] == 6)
    }

    /// The engine's rejections (events too far in the future) between syncs of one read: each
    /// sync counts those before its line, as it counts the parser's.
    @Test func syncsCountTheEnginesRejectionsBeforeThem() throws {
        let id = runID()
        let daemon = try TestDaemon(objectivesYAML: objectives(id))
        try daemon.start()
        defer { daemon.stop() }
        let (rc, out, err) = try exchange(
            sending: """
                b"dd.\(id).requests:1|c\\ndd.\(id).requests:5|c|T4102444800\\n#sync one\\n"
                b"dd.\(id).requests:2|c\\ndd.\(id).requests:7|c|T4102444800\\nbad\\ndd.\(id).requests:3|c\\n#sync two\\n"
                b"dd.\(id).requests:4|c\\n#sync three\\n"
                """,
            with: daemon
        )
        #expect(rc == 0, "\(err)")
        let answers = out.split(separator: "\n").map(String.init)
        #expect(answers.count == 6, "\(answers)")
        guard answers.count == 6 else { return }
        #expect(answers[0].hasPrefix("rejected 2 future_event"))
        #expect(answers[1] == "ok one 1 1")
        #expect(answers[2].hasPrefix("rejected 5 future_event"))
        #expect(answers[3] == "rejected 6 missing_value bad")
        #expect(answers[4] == "ok two 3 3")
        #expect(answers[5] == "ok three 4 3")
        #expect(values(daemon)["requests-\(id)"] == 10)
    }

    /// A producer that syncs faster than the store writes (2,000 syncs sent at once): every
    /// sync is answered, in order, with the totals as of its line, and the answers share a few
    /// commits (group commit, and writes spaced while syncs keep coming) instead of one each.
    @Test func pipelinedSyncsShareCommitsAndAreAnsweredInOrder() throws {
        let id = runID()
        let daemon = try TestDaemon(objectivesYAML: objectives(id))
        try daemon.start()
        defer { daemon.stop() }
        let commitsBefore = try #require(try daemon.status()["commits"] as? Int)
        let (rc, out, err) = try exchange(
            sending: #"b"".join(b"dd.\#(id).requests:1|c\n#sync s%d\n" % k for k in range(1, 2001))"#,
            with: daemon
        )
        #expect(rc == 0, "\(err)")
        let answers = out.split(separator: "\n").map(String.init)
        #expect(answers.count == 2000)
        #expect(answers == (1...2000).map { "ok s\($0) \($0) 0" })
        let commits = try #require(try daemon.status()["commits"] as? Int) - commitsBefore
        #expect(commits >= 1)
        #expect(commits <= 40, "\(commits) commits for 2,000 syncs")
        #expect(values(daemon)["requests-\(id)"] == 2000)
    }

    @Test func streamPeersSocatAndNetcat() throws {
        let id = runID()
        let daemon = try TestDaemon(objectivesYAML: objectives(id))
        try daemon.start()
        defer { daemon.stop() }
        var lines = ""
        for i in 0..<500 { lines += "dd.\(id).requests:1|c|#route:\(i % 5 == 0 ? "/cart" : "/x")\n" }
        // socat sends and half-closes; nc -U -N shuts down its write side at EOF the same way.
        #expect(try sh(.socat, ["-u", "-", "UNIX-CONNECT:\(daemon.ingestSocket)"], stdin: lines).0 == 0)
        let nc = try sh(.nc, ["-U", "-N", daemon.ingestSocket], stdin: "dd.\(id).requests:7|c\r\n\u{FEFF}")
        #expect(nc.0 == 0, "nc: \(nc.2)")
        // Fire and forget (no #sync), with harmless DogStatsD extras that are skipped and counted.
        let extras = "dd.\(id).requests:3|c|c:abc123|card:low\n_sc|db.up|0\n_e{1,1}:a|b\n"
        let push = try slawatch(["push", "--no-sync", "--socket", daemon.ingestSocket], stdin: extras)
        #expect(push.0 == 0, "push --no-sync: \(push.2)")
        let matched = waitUntil(10) { values(daemon)["requests-\(id)"] == 510 && values(daemon)["cart-\(id)"] == 100 }
        #expect(matched, "got \(values(daemon))")
        let stream = try daemon.counts(of: "stream")
        #expect(stream["ignoredFields"] as? Int == 2)
        #expect(stream["ignoredMessages"] as? Int == 2)
        #expect(stream["ignored"] as? Int == 4)
        #expect(stream["accepted"] as? Int == 502)
        #expect(try daemon.status()["ignored"] as? Int == 4)
    }

    @Test func oversizeDatagramIsDroppedWholeAndLineLimitsHold() throws {
        let id = runID()
        let daemon = try TestDaemon(
            objectivesYAML: objectives(id),
            extraConfig: "max_datagram_bytes: 1000\nmax_line_bytes: 100\n"
        )
        try daemon.start()
        defer { daemon.stop() }
        let dgram = daemon.root.appendingPathComponent("run/ingest.dgram").path
        // 1001 bytes: one byte over; its first line alone would parse, but nothing of it counts.
        let big = "dd.\(id).requests:1|c\n" + String(repeating: "x", count: 1001 - "dd.\(id).requests:1|c\n".utf8.count)
        let script = """
            import socket
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.connect("\(dgram)")
            s.send(bytes(\(Array(big.utf8))))
            s.send(b"dd.\(id).requests:2|c\\n")
            """
        #expect(try sh(.python3, ["-c", script]).0 == 0)
        // Stream: an overlong line is discarded up to its newline; the connection goes on.
        let stream = String(repeating: "y", count: 150) + "\ndd.\(id).requests:4|c\n"
        #expect(try sh(.socat, ["-u", "-", "UNIX-CONNECT:\(daemon.ingestSocket)"], stdin: stream).0 == 0)
        let matched = waitUntil(10) { values(daemon)["requests-\(id)"] == 6 }
        #expect(matched, "got \(values(daemon))")
        let status = try daemon.status()
        #expect(status["datagramsTooLong"] as? Int == 1)
        let byReason = status["rejectedByReason"] as? [String: Any]
        #expect(byReason?["datagram_too_long"] as? Int == 1)
        #expect(byReason?["line_too_long"] as? Int == 1)
        #expect(
            (try daemon.counts(of: "datagram")["rejectedByReason"] as? [String: Any])?["datagram_too_long"] as? Int == 1
        )
        #expect((try daemon.counts(of: "stream")["rejectedByReason"] as? [String: Any])?["line_too_long"] as? Int == 1)
        #expect(status["rejected"] as? Int == 2)
    }

    @Test func socketActivationWithNamedFileDescriptors() throws {
        let id = runID()
        let daemon = try TestDaemon(objectivesYAML: objectives(id))
        let run = daemon.root.appendingPathComponent("run").path
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        let activatedIngest = daemon.root.appendingPathComponent("activated-ingest.sock").path
        let activatedControl = daemon.root.appendingPathComponent("activated-control.sock").path
        // Control first, ingest second: the daemon must go by name, not by position.
        try daemon.start(
            wrapper: [
                try ExternalProgram.systemdSocketActivate.path(), "-l", activatedControl, "-l", activatedIngest,
                "--fdname=control:ingest",
            ],
            waitForControl: false
        )
        defer { daemon.stop() }
        #expect(waitUntil(10) { FileManager.default.fileExists(atPath: activatedControl) })
        #expect(waitUntil(10) { FileManager.default.fileExists(atPath: activatedIngest) })
        // systemd-socket-activate starts the daemon on the first connection.
        let (rc, out, err) = try slawatch(["push", "--socket", activatedIngest, "dd.\(id).requests:5|c"])
        #expect(rc == 0, "push: \(err)\n\(daemon.log)")
        #expect(out.contains("accepted 1, rejected 0"))
        let (src, sout, _) = try slawatch(["status", "--json", "--socket", activatedControl])
        #expect(src == 0)
        #expect(sout.contains("\"requests-\(id)\""))
        // It did not bind its own stream sockets, but its own datagram socket (not activated).
        #expect(!FileManager.default.fileExists(atPath: daemon.ingestSocket))
        #expect(FileManager.default.fileExists(atPath: run + "/ingest.dgram"))
    }

    @Test func datagramSocketActivation() throws {
        let id = runID()
        let daemon = try TestDaemon(objectivesYAML: objectives(id))
        let activated = daemon.root.appendingPathComponent("activated.dgram").path
        try daemon.start(
            wrapper: [
                try ExternalProgram.systemdSocketActivate.path(), "--datagram", "-l", activated,
                "--fdname=ingest-dgram",
            ],
            waitForControl: false
        )
        defer { daemon.stop() }
        #expect(waitUntil(10) { FileManager.default.fileExists(atPath: activated) })
        let script = """
            import socket
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.connect("\(activated)")
            s.send(b"dd.\(id).requests:3|c\\n")
            """
        #expect(try sh(.python3, ["-c", script]).0 == 0)
        let up = waitUntil(20) { (try? daemon.status()) != nil }
        #expect(up, "\(daemon.log)")
        // The datagram that triggered the start is read by the daemon once it runs.
        let matched = waitUntil(10) { values(daemon)["requests-\(id)"] == 3 }
        #expect(matched, "got \(values(daemon))\n\(daemon.log)")
    }

    @Test func streamAndDatagramActivatedTogetherInSwappedOrder() throws {
        let id = runID()
        let daemon = try TestDaemon(objectivesYAML: objectives(id))
        let dgram = daemon.root.appendingPathComponent("act.dgram").path
        let stream = daemon.root.appendingPathComponent("act.sock").path
        // Two systemd-socket-activate in a row (each passes on the fds it received): fd 3 is the
        // datagram socket, fd 4 the stream socket; the daemon goes by FileDescriptorName.
        try daemon.start(
            wrapper: [
                try ExternalProgram.systemdSocketActivate.path(), "--datagram", "-l", dgram, "--fdname=ingest-dgram",
                try ExternalProgram.systemdSocketActivate.path(), "-l", stream, "--fdname=ingest-dgram:ingest",
            ],
            waitForControl: false
        )
        defer { daemon.stop() }
        #expect(waitUntil(10) { FileManager.default.fileExists(atPath: dgram) })
        let send = """
            import socket
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.sendto(b"dd.\(id).requests:3|c\\n", "\(dgram)")
            """
        #expect(try sh(.python3, ["-c", send]).0 == 0)
        #expect(waitUntil(10) { FileManager.default.fileExists(atPath: stream) })
        let (rc, out, err) = try slawatch(["push", "--socket", stream, "dd.\(id).requests:4|c"])
        #expect(rc == 0, "push: \(err)\n\(daemon.log)")
        #expect(out.contains("accepted 1, rejected 0"))
        #expect(waitUntil(10) { values(daemon)["requests-\(id)"] == 7 }, "got \(values(daemon))\n\(daemon.log)")
        // Both were taken from systemd: the daemon bound neither of its own.
        #expect(!FileManager.default.fileExists(atPath: daemon.ingestSocket))
        #expect(!FileManager.default.fileExists(atPath: daemon.root.appendingPathComponent("run/ingest.dgram").path))
    }

    @Test func listenPIDOfAnotherProcessIsIgnored() throws {
        let id = runID()
        let daemon = try TestDaemon(objectivesYAML: objectives(id))
        try daemon.start(environment: ["LISTEN_PID": "1", "LISTEN_FDS": "1", "LISTEN_FDNAMES": "ingest"])
        defer { daemon.stop() }
        #expect(FileManager.default.fileExists(atPath: daemon.ingestSocket))
        let (rc, _, _) = try daemon.push(["dd.\(id).requests:1|c"])
        #expect(rc == 0)
    }

    @Test func idleConnectionsAreClosedAndConnectionsAreCapped() throws {
        let id = runID()
        let daemon = try TestDaemon(
            objectivesYAML: objectives(id),
            extraConfig: "idle_timeout: 300ms\nmax_connections: 2\n"
        )
        try daemon.start()
        defer { daemon.stop() }
        let script = """
            import socket, time
            def conn():
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect("\(daemon.ingestSocket)")
                return s
            a, b = conn(), conn()
            a.sendall(b"dd.\(id).requests:1|c\\ndd.\(id).requests:100|c|@0.0")
            time.sleep(0.1)
            c = conn()
            c.settimeout(2)
            print("third", c.recv(10) == b"")
            a.settimeout(3)
            t = time.time()
            print("idle", a.recv(10) == b"", round(time.time() - t, 1) <= 1.5)
            """
        let (rc, out, err) = try sh(.python3, ["-c", script])
        #expect(rc == 0, "python: \(err)")
        #expect(out.contains("third True"))
        #expect(out.contains("idle True True"))
        let status = try daemon.status()
        #expect(status["connectionsRefused"] as? Int == 1)
        // The complete line counts; the one cut off by the idle timeout does not.
        #expect(values(daemon)["requests-\(id)"] == 1)
        #expect((status["rejectedByReason"] as? [String: Any])?["incomplete_line"] as? Int == 1)
    }

    @Test func authorizationByUserAndGroup() throws {
        let id = runID()
        let daemon = try TestDaemon(
            objectivesYAML: objectives(id),
            extraConfig: """
                socket_mode: "0666"
                authorization:
                  users:
                    nobody: ["dd.\(id).requests"]
                  groups:
                    nogroup: ["dd.\(id).depth*"]

                """
        )
        try daemon.start()
        defer { daemon.stop() }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: daemon.root.path)
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o755],
            ofItemAtPath: daemon.root.appendingPathComponent("run").path
        )
        let lines = "dd.\(id).requests:1|c\ndd.\(id).depth:9|g\ndd.\(id).users:x|s\n"
        let (rc, _, err) = try sh(
            .setpriv,
            [
                "--reuid=nobody", "--regid=nogroup", "--clear-groups", try ExternalProgram.socat.path(), "-u", "-",
                "UNIX-CONNECT:\(daemon.ingestSocket)",
            ],
            stdin: lines
        )
        #expect(rc == 0, "setpriv socat: \(err)")
        let matched = waitUntil(10) { values(daemon)["requests-\(id)"] == 1 && values(daemon)["depth-\(id)"] == 9 }
        #expect(matched, "got \(values(daemon))")
        #expect(values(daemon)["users-\(id)"] == nil)
        let rejected = try daemon.counts(of: "stream")["rejectedByReason"] as? [String: Any]
        #expect(rejected?["unauthorized"] as? Int == 1)
        // Root may always write.
        let root = try daemon.push(["dd.\(id).users:y|s"])
        #expect(root.0 == 0, "push as root: \(root.1) \(root.2)")
    }

    @Test(.enabled(if: TestJournal.isAvailable))
    func rejectionEntriesAreRateLimitedPerSourceWithExactCounts() throws {
        let id = runID()
        let daemon = try TestDaemon(objectivesYAML: objectives(id))
        try daemon.start()
        let marker = "garbage-\(id)"
        // One process, three connections, 2 + 3 + 4 bad lines: one entry at once, the rest held
        // back and written (with the exact count) when the daemon stops.
        let script = """
            import socket
            for n in (2, 3, 4):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect("\(daemon.ingestSocket)")
                s.sendall(("dd.\(id).requests:1|c\\n" + "\(marker)\\n" * n + "#sync 1\\n").encode())
                buf = b""
                while b"ok 1" not in buf:
                    buf += s.recv(4096)
                s.close()
            """
        #expect(try sh(.python3, ["-c", script]).0 == 0)
        #expect(daemon.stop() == 0)
        let entries = try journalEntries(["MESSAGE_ID=\(MessageID.inputRejected)", "SLAWATCH_FIRST_ERROR=\(marker)"])
        #expect(entries.count == 2, "\(entries.map { $0["MESSAGE"] ?? "" })")
        #expect(entries.compactMap { Int($0["SLAWATCH_REJECTED"] ?? "") }.reduce(0, +) == 9)
        #expect(entries.first?["SLAWATCH_REJECTED"] == "2")
        #expect(entries.first?["SLAWATCH_REJECT_REASONS"] == "missing_value=2")
        #expect(entries.first?["SLAWATCH_SOURCE"]?.contains("uid=0") == true)
    }
}

/// Back-pressure: while the engine is behind, the daemon stops reading instead of queuing without
/// bound, and every event is counted once it catches up.
@Suite(.serialized)
struct BackPressureTests {
    @Test func aFloodWhileTheEngineIsStuckStaysBoundedAndLosesNothing() throws {
        let id = runID()
        let daemon = try TestDaemon(
            objectivesYAML: """
                slas:
                  - {name: bp-\(id), provider: p, customer: c, objectives: [{name: bp-\(id), metric: bp.\(id), sli: count, window: 1h, direction: at_most, baseline: 1e12, nodata: ok}]}
                """,
            extraConfig: "max_queued_events: 20000\n"
        )
        try daemon.start(environment: ["SLAWATCH_DEBUG_COMMANDS": "1"])
        defer { daemon.stop() }
        // Stick the engine for 3 s, then send 400,000 events (20x the limit) on one connection
        // and 2,000 datagrams of 50 lines.
        #expect(try sh(.socat, ["-", "UNIX-CONNECT:\(daemon.controlSocket)"], stdin: "debug wedge-engine 3").0 == 0)
        let dgram = daemon.root.appendingPathComponent("run/ingest.dgram").path
        let script = """
            import socket, sys, threading
            lines = b"".join(b"bp.\(id):1|c\\n" for _ in range(400000)) + b"#sync flood\\n"
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sys.argv[1])
            d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            d.connect(sys.argv[2])
            def datagrams():
                msg = b"".join(b"bp.\(id):1|c\\n" for _ in range(50))
                for _ in range(2000):
                    d.send(msg)
            t = threading.Thread(target=datagrams)
            t.start()
            s.sendall(lines)
            data = b""
            while b"flood" not in data:
                data += s.recv(4096)
            t.join()
            print(data.decode().strip())
            """
        let (rc, out, err) = try python(script, args: [daemon.ingestSocket, dgram])
        #expect(rc == 0, "\(err)")
        #expect(out == "ok flood 400000 0\n")
        #expect(waitUntil(20) { (try? daemon.status())?["accepted"] as? Int == 500_000 })
        let status = try daemon.status()
        let peak = try #require(status["queuedEventsPeak"] as? Int)
        // Bounded: the limit plus what was in flight from one read of each listener.
        #expect(peak <= 20000 + 70000, "peak \(peak)")
        #expect(peak > 0)
        #expect(status["queuedEvents"] as? Int == 0)
    }
}
