import CLinux
import Foundation
import SLAWatchTestSupport
import Systemd
import Testing

/// The built `slawatch` binary (`make test` builds it before running the tests).
let slawatchBinary: String = {
    if let env = ProcessInfo.processInfo.environment["SLAWATCH_BIN"] { return env }
    return packageRoot.appendingPathComponent(".build/debug/slawatch").path
}()

/// Runs the `slawatch` binary to completion and returns (status, stdout, stderr).
@discardableResult
func slawatch(_ args: [String], stdin: String? = nil, env: [String: String]? = nil) throws -> (Int32, String, String) {
    try runExecutable(slawatchBinary, args, stdin: stdin, env: env)
}

/// Journal entries of the tests' own journal (`TestJournal`) matching all `FIELD=value` pairs,
/// written since this test process started, after `journalctl --namespace … --sync`. Earlier
/// runs' entries are never taken for this one's: `_PID` alone does not tell them apart (the
/// kernel reuses pids, `pid_max` is 32,768 on these machines).
func journalEntries(_ matches: [String]) throws -> [[String: String]] {
    TestJournal.sync()
    return try JournalReader.entries(matching: matches, since: testProcessStarted, namespace: TestJournal.namespace)
}

/// When this test process started (unix seconds, a second early: `btime` has whole seconds), from
/// `/proc/self/stat` (start time in clock ticks since boot) and `/proc/stat` (`btime`); `nil`
/// when unreadable (then every entry is read).
let testProcessStarted: Double? = {
    guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")"),
        let system = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
        let line = system.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
        let btime = Double(line.dropFirst("btime ".count))
    else { return nil }
    // After "pid (comm)": field 3 (state) is index 0, field 22 (starttime) index 19.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
    return btime + ticks / Double(sysconf(Int32(_SC_CLK_TCK))) - 1
}()

/// A datagram socket standing in for the service manager's `NOTIFY_SOCKET` (sd_notify(3)). Like
/// systemd it reads continuously (on its own thread), so the daemon's queue never fills up.
final class FakeNotifySocket: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var received: [String] = []
    private var senders: Set<Int32> = []
    private var stopped = false

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if rc != 0 { throw POSIXError(.init(rawValue: errno) ?? .EINVAL) }
        var tv = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        // SO_PASSCRED, as systemd does: every datagram carries the sender's pid.
        _ = clinux_enable_passcred(fd)
        let t = Thread { [self] in
            var buf = [UInt8](repeating: 0, count: 4096)
            var info = [clinux_datagram](repeating: clinux_datagram(), count: 1)
            while true {
                lock.lock()
                let stop = stopped
                lock.unlock()
                if stop { return }
                let n = buf.withUnsafeMutableBufferPointer { b in
                    info.withUnsafeMutableBufferPointer { i in
                        clinux_recv_datagrams(fd, b.baseAddress, b.count, i.baseAddress, 1)
                    }
                }
                if n == 1 {
                    let message = String(decoding: buf[0..<Int(info[0].length)], as: UTF8.self)
                    lock.lock()
                    received.append(message)
                    senders.insert(info[0].pid)
                    lock.unlock()
                }
            }
        }
        t.start()
    }

    /// Every datagram received so far; each is one notification (possibly several lines).
    var messages: [String] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    /// The pids that sent notifications (SCM_CREDENTIALS).
    var senderPIDs: Set<Int32> {
        lock.lock()
        defer { lock.unlock() }
        return senders
    }

    /// Same as `messages` (kept for the call sites that poll).
    func drain() -> [String] { messages }

    deinit {
        lock.lock()
        stopped = true
        lock.unlock()
        usleep(150_000)
        close(fd)
    }
}

/// A daemon process on temporary directories, with a config written for the test.
final class TestDaemon: @unchecked Sendable {
    let root: URL
    let configPath: String
    var process: Process?
    /// The pid of the last daemon started (for journal matches on `_PID`).
    var lastPID: Int32?
    let logPath: String

    var ingestSocket: String { root.appendingPathComponent("run/ingest.sock").path }
    var controlSocket: String { root.appendingPathComponent("run/control.sock").path }
    var dropDirectory: String { root.appendingPathComponent("drop").path }

    /// Writes `slawatch.yaml` and `objectives.d/test.yaml` (the given YAML) under a new temp dir.
    init(objectivesYAML: String, extraConfig: String = "") throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("slawatch-e2e-\(runID())")
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("objectives.d"),
            withIntermediateDirectories: true
        )
        configPath = root.appendingPathComponent("slawatch.yaml").path
        logPath = root.appendingPathComponent("daemon.log").path
        let config = """
            state_directory: state
            runtime_directory: run
            drop_directory: drop
            objectives_directory: objectives.d
            snapshot_interval: 200ms
            evaluation_interval: 100ms
            drop_scan_interval: 100ms

            """ + extraConfig
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        try objectivesYAML.write(
            to: root.appendingPathComponent("objectives.d/test.yaml"),
            atomically: true,
            encoding: .utf8
        )
    }

    /// Starts the daemon and waits until its control socket answers.
    /// - Parameters:
    ///   - wrapper: a command to run the daemon under (e.g. `systemd-socket-activate …`).
    ///   - waitForControl: false when the control socket only appears later (socket activation).
    func start(
        notifySocket: String? = nil,
        wrapper: [String] = [],
        environment: [String: String] = [:],
        waitForControl: Bool = true
    ) throws {
        let p = Process()
        // Test daemons write to the tests' own journal, never to the operator's (TestJournal).
        // Without a test journal (not root, plain `swift test`), entries go to stderr instead.
        let isolation = TestJournal.isAvailable ? try TestJournal.wrapper() : []
        let daemonCommand =
            [slawatchBinary, "daemon", "--config", configPath] + (TestJournal.isAvailable ? [] : ["--stderr"])
        var command = isolation + wrapper + daemonCommand
        if !wrapper.isEmpty {
            // systemd-socket-activate closes inherited fds before exec, including the one
            // Foundation's Process watches to notice an exit; it then blocks in waitpid for a
            // process that is still running. A shell that stays the direct child (and forwards
            // SIGTERM) avoids that.
            // The test process may start children with signals blocked, so a shell's `wait` never
            // sees SIGCHLD. A small Python parent unblocks signals, records the daemon's pid for
            // stop(), and waits with waitpid(2).
            let script = """
                import os, signal, sys
                signal.pthread_sigmask(signal.SIG_SETMASK, [])
                pid = os.fork()
                if pid == 0:
                    os.execv(sys.argv[1], sys.argv[1:])
                open(os.environ["SLAWATCH_TEST_PIDFILE"], "w").write(str(pid))
                _, status = os.waitpid(pid, 0)
                sys.exit(os.waitstatus_to_exitcode(status))
                """
            command = isolation + [try ExternalProgram.python3.path(), "-c", script] + wrapper + daemonCommand
        }
        p.executableURL = URL(fileURLWithPath: command[0])
        p.arguments = Array(command.dropFirst())
        var env = ProcessInfo.processInfo.environment
        env["NOTIFY_SOCKET"] = notifySocket
        for (k, v) in environment { env[k] = v }
        env["SLAWATCH_TEST_PIDFILE"] = childPIDPath
        p.environment = env
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)!
        log.seekToEndOfFile()
        p.standardOutput = log
        p.standardError = log
        try p.run()
        process = p
        lastPID = p.processIdentifier
        if !waitForControl { return }
        let up = waitUntil(20) { (try? status()) != nil }
        if !up {
            Issue.record("daemon did not start within 20 s; log:\n\(self.log)")
            throw TestFailure("daemon did not start")
        }
    }

    /// `slawatch status --json`.
    func status() throws -> [String: Any] {
        let (rc, out, _) = try slawatch(["status", "--json", "--socket", controlSocket])
        guard rc == 0, let obj = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any] else {
            throw TestFailure("status failed")
        }
        return obj
    }

    /// The counters of one input source (`stream`, `datagram`, `drop`) from `slawatch status --json`.
    func counts(of source: String) throws -> [String: Any] {
        guard let sources = try status()["sources"] as? [String: Any], let c = sources[source] as? [String: Any] else {
            throw TestFailure("status has no counters for \(source)")
        }
        return c
    }

    /// State of one objective according to `slawatch status`.
    func state(of objective: String) -> String? {
        guard let s = try? status(), let list = s["objectives"] as? [[String: Any]] else { return nil }
        return list.first { $0["objective"] as? String == objective }?["state"] as? String
    }

    /// `slawatch push --socket … LINE…` → (exit status, stdout, stderr).
    func push(_ lines: [String]) throws -> (Int32, String, String) {
        try slawatch(["push", "--socket", ingestSocket] + lines)
    }

    private var childPIDPath: String { root.appendingPathComponent("daemon.pid").path }

    /// The daemon's own pid: the child of the wrapper's parent when started with a `wrapper`.
    var daemonPID: Int32? {
        if let text = try? String(contentsOfFile: childPIDPath, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            return pid
        }
        return lastPID
    }

    /// SIGTERM (or `signal`), then waits for the exit status.
    @discardableResult
    func stop(signal: Int32 = SIGTERM) -> Int32? {
        guard let p = process else { return nil }
        if let text = try? String(contentsOfFile: childPIDPath, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            kill(pid, signal)
            try? FileManager.default.removeItem(atPath: childPIDPath)
        } else {
            kill(p.processIdentifier, signal)
        }
        _ = waitUntil(20) { !p.isRunning }
        process = nil
        return p.isRunning ? nil : p.terminationStatus
    }

    /// SIGKILL (a crash: no final snapshot, no cleanup), then waits for the process to go.
    func kill9() {
        guard let p = process else { return }
        kill(p.processIdentifier, SIGKILL)
        _ = waitUntil(20) { !p.isRunning }
        process = nil
    }

    /// The value of every objective, by name, from `slawatch status` (`nil` values left out).
    func values() throws -> [String: Double] {
        let list = try status()["objectives"] as? [[String: Any]] ?? []
        var out: [String: Double] = [:]
        for o in list {
            if let name = o["objective"] as? String, let v = o["value"] as? Double { out[name] = v }
        }
        return out
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    deinit {
        if let p = process, p.isRunning { p.terminate() }
    }
}
