import Foundation
import SLAWatchCore
import SLAWatchTestSupport
import Testing

@testable import SLAWatchDaemon

private func objectives(_ id: String) -> String {
    """
    slas:
      - name: hostile-\(id)
        provider: p
        customer: c
        objectives:
          - {name: n-\(id), metric: h.\(id), sli: count, window: 1h, direction: at_most, baseline: 1e12, nodata: ok}
    """
}

/// `VmRSS` of a process, in bytes.
private func rss(_ pid: Int32) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return line.split(separator: " ").compactMap { Int($0) }.first.map { $0 * 1024 }
    }
    return nil
}

/// CPU seconds (user + system) a process has used, from `/proc/PID/stat`.
private func cpuSeconds(_ pid: Int32) -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = text.lastIndex(of: ")")
    else { return nil }
    let fields = text[text.index(after: close)...].split(separator: " ")
    // Fields after the command: state is 0, utime 11, stime 12 (proc(5) numbers 14 and 15).
    guard fields.count > 12, let u = Double(fields[11]), let s = Double(fields[12]) else { return nil }
    return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// Descriptors a process has open.
private func openDescriptors(_ pid: Int32) -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
}

/// Clients that try to starve the others: each costs only itself.
@Suite(.serialized)
struct HostileClientTests {
    /// A client that drips one byte just inside `idle_timeout`, never completing a line, is
    /// closed `idle_timeout` after its last complete line, while it is still sending.
    @Test func aSlowDripIsClosedAfterIdleTimeoutWithoutACompleteLine() throws {
        let id = runID()
        let daemon = try TestDaemon(objectivesYAML: objectives(id), extraConfig: "idle_timeout: 600ms\n")
        try daemon.start()
        defer { daemon.stop() }
        let script = """
            import socket, sys, time
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sys.argv[1])
            s.sendall(b"h.\(id):1|c\\n")
            t = time.time()
            closed = None
            for b in b"h.\(id):2|c" * 10:
                time.sleep(0.2)
                try:
                    s.sendall(bytes([b]))
                except (BrokenPipeError, ConnectionResetError):
                    closed = time.time() - t
                    break
                s.setblocking(False)
                try:
                    if s.recv(10) == b"":
                        closed = time.time() - t
                        break
                except BlockingIOError:
                    pass
                s.setblocking(True)
            print("closed" if closed is not None else "open", round(closed or 0, 1))
            """
        let (rc, out, err) = try python(script, args: [daemon.ingestSocket])
        #expect(rc == 0, "\(err)")
        let parts = out.split(separator: " ")
        #expect(parts.first == "closed", "the dripping connection stayed open: \(out)")
        // Closed between 0.6 s and 0.6 s + one check period and a drip (the idle check runs once
        // per timeout), long before the 20 drips (4 s) were over.
        let after = Double(parts.last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 99
        #expect(after >= 0.5 && after <= 2.0, "closed after \(after) s")
        // The complete line counted; the dripped partial one did not.
        #expect(waitUntil(5) { (try? daemon.values())?["n-\(id)"] == 1 })
        let rejected = try daemon.counts(of: "stream")["rejectedByReason"] as? [String: Any]
        #expect(rejected?["incomplete_line"] as? Int == 1)
    }

    /// A client that sends `#sync` lines and never reads the answers: the daemon stops reading
    /// from it once 64 KiB of answers wait, closes it after `idle_timeout` with an entry naming
    /// it, and its memory stays flat; another client is served meanwhile.
    @Test func aClientThatNeverReadsIsBoundedAndClosed() throws {
        let id = runID()
        let daemon = try TestDaemon(objectivesYAML: objectives(id), extraConfig: "idle_timeout: 2s\n")
        try daemon.start()
        defer { daemon.stop() }
        let pid = try #require(daemon.daemonPID)
        // Warm up, then take the baseline.
        #expect(try daemon.push(["h.\(id):1|c"]).0 == 0)
        let before = try #require(rss(pid))
        let script = """
            import socket, sys, time
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(sys.argv[1])
            s.settimeout(0.5)
            chunk = b"".join(b"h.\(id):1|c\\n#sync %d\\n" % i for i in range(2000))
            sent = 0
            t = time.time()
            while time.time() - t < 8:
                try:
                    s.sendall(chunk)
                    sent += 1
                except socket.timeout:
                    pass
                except (BrokenPipeError, ConnectionResetError):
                    print("closed", sent, round(time.time() - t, 1))
                    sys.exit(0)
            print("open", sent)
            """
        let (rc, out, err) = try python(script, args: [daemon.ingestSocket])
        #expect(rc == 0, "\(err)")
        #expect(out.hasPrefix("closed"), "the never-reading client was not closed: \(out)")
        // Served meanwhile: another producer's sync is answered at once.
        #expect(try daemon.push(["h.\(id):1|c"]).0 == 0)
        let after = try #require(rss(pid))
        #expect(after - before < 64 << 20, "RSS grew from \(before >> 20) MiB to \(after >> 20) MiB")
        if TestJournal.isAvailable {
            let entries = try journalEntries(["MESSAGE_ID=\(MessageID.connectionStalled)", "_PID=\(pid)"])
            #expect(entries.count == 1)
            #expect(entries.first?["SLAWATCH_SOURCE"]?.contains("peer pid=") == true)
            #expect(Int(entries.first?["SLAWATCH_BYTES"] ?? "") ?? 0 >= 64 * 1024)
        }
    }

    /// More idle connections than descriptors: the caps come from the real limit, the
    /// listener backs off instead of spinning, status still answers, a drop file is read (not
    /// failed) and a producer is served once the idle ones time out.
    @Test func connectionsPastTheDescriptorLimitStarveNoOne() throws {
        let id = runID()
        let daemon = try TestDaemon(objectivesYAML: objectives(id), extraConfig: "idle_timeout: 3s\n")
        try daemon.start(wrapper: [try ExternalProgram.prlimit.path(), "--nofile=256:256", "--"])
        defer { daemon.stop() }
        let pid = try #require(daemon.daemonPID)
        let limits = try #require(try daemon.status()["limits"] as? [String: Any])
        #expect(limits["descriptors"] as? Int == 256)
        let cap = try #require(limits["connections"] as? Int)
        #expect(cap < 256 - 64 && cap > 50, "stream cap \(cap)")
        let control = try #require(limits["controlConnections"] as? Int)
        #expect(control >= 4 && control <= 16)
        // 400 idle connections, held while we look.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: try ExternalProgram.python3.path())
        holder.arguments = [
            "-c",
            """
            import socket, sys, time
            held = []
            for _ in range(400):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    s.connect(sys.argv[1])
                    held.append(s)
                except OSError:
                    pass
            print(len(held), flush=True)
            time.sleep(2.5)
            """,
            daemon.ingestSocket,
        ]
        let out = Pipe()
        holder.standardOutput = out
        try holder.run()
        usleep(800_000)
        let cpu0 = try #require(cpuSeconds(pid))
        usleep(1_000_000)
        let cpu1 = try #require(cpuSeconds(pid))
        // Not spinning on accept: a fraction of a core while the connections are held.
        #expect(cpu1 - cpu0 < 0.3, "daemon used \(cpu1 - cpu0) s of CPU in 1 s")
        #expect(openDescriptors(pid) <= 256)
        // The control socket answers; the refusals are counted.
        let status = try daemon.status()
        #expect(status["connections"] as? Int ?? 0 <= cap)
        #expect(status["connectionsRefused"] as? Int ?? 0 > 0)
        // A drop file is read now, not failed with "Too many open files".
        let file = daemon.dropDirectory + "/fd-\(id).statsd"
        try "h.\(id):5|c\n".write(toFile: file + ".tmp", atomically: false, encoding: .utf8)
        #expect(rename(file + ".tmp", file) == 0)
        #expect(waitUntil(10) { (try? daemon.values())?["n-\(id)"] == 5 })
        let files = try #require(try daemon.status()["files"] as? [String: Any])
        #expect(files["failed"] as? Int == 0)
        holder.waitUntilExit()
        // The holder is gone: a producer is served.
        #expect(waitUntil(10) { (try? daemon.push(["h.\(id):1|c"]))?.0 == 0 })
        #expect(waitUntil(5) { (try? daemon.values())?["n-\(id)"] == 6 })
    }

    /// Control connections have a cap of their own: idle ones cannot keep `status` from
    /// answering for longer than the request timeout.
    @Test func idleControlConnectionsAreCappedAndTimedOut() throws {
        let id = runID()
        let daemon = try TestDaemon(objectivesYAML: objectives(id))
        try daemon.start()
        defer { daemon.stop() }
        let cap = try #require((try daemon.status()["limits"] as? [String: Any])?["controlConnections"] as? Int)
        let script = """
            import socket, sys, time
            held = []
            for _ in range(\(cap + 20)):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(sys.argv[1])
                s.send(b"sta")
                held.append(s)
            def closed(s):
                s.setblocking(False)
                try:
                    return s.recv(10) == b""
                except BlockingIOError:
                    return False
                except ConnectionResetError:
                    return True
            time.sleep(0.5)
            at_once = sum(1 for s in held if closed(s))
            # The others never complete their request: closed by the 10 s request timeout.
            time.sleep(10)
            print(at_once, sum(1 for s in held if closed(s)))
            """
        let (rc, out, err) = try python(script, args: [daemon.controlSocket])
        #expect(rc == 0, "\(err)")
        let counts = out.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int($0) }
        #expect(counts.count == 2, "\(out)")
        #expect(counts.first ?? 0 >= 20, "closed at once: \(out)")
        #expect(counts.last == cap + 20, "closed after the request timeout: \(out)")
        let limits = try #require(try daemon.status()["limits"] as? [String: Any])
        #expect(limits["controlRefused"] as? Int ?? 0 >= 20)
    }
}
