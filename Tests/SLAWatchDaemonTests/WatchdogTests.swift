import Foundation
import SLAWatchTestSupport
import Testing

/// The watchdog protocol (sd_watchdog_enabled(3)) against a fake NOTIFY_SOCKET.
@Suite(.serialized)
struct WatchdogTests {
    private static let yaml = """
        slas:
          - name: s
            provider: p
            customer: c
            objectives:
              - {name: o, metric: m, sli: count, window: 5m, direction: at_most, baseline: 10, nodata: ok}
        """

    private func pings(_ n: FakeNotifySocket) -> Int { n.messages.filter { $0.contains("WATCHDOG=1") }.count }

    @Test func pingsAtHalfTheIntervalAndStopWhileTheEngineIsWedged() throws {
        let daemon = try TestDaemon(objectivesYAML: Self.yaml)
        let notify = try FakeNotifySocket(path: daemon.root.appendingPathComponent("notify.sock").path)
        try daemon.start(
            notifySocket: notify.path,
            environment: ["WATCHDOG_USEC": "600000", "SLAWATCH_DEBUG_COMMANDS": "1"]
        )
        defer { daemon.stop() }
        // 300 ms between pings: at least 4 in 1.6 s.
        let start = pings(notify)
        usleep(1_600_000)
        #expect(pings(notify) - start >= 4)
        // Wedge the engine for 2 s: the pings stop (one may already be on its way).
        let (rc, out, _) = try sh(
            .socat,
            ["-", "UNIX-CONNECT:\(daemon.controlSocket)"],
            stdin: "debug wedge-engine 2"
        )
        #expect(rc == 0)
        #expect(out.contains("wedged"))
        // While it is wedged no ping goes out: watched for 3 s (a loaded machine delays the
        // wedge's start), the longest time without a new ping spans several intervals.
        var last = pings(notify)
        var lastChange = Date()
        var longestGap = 0.0
        let watchStart = Date()
        while Date().timeIntervalSince(watchStart) < 3 {
            usleep(50_000)
            let now = pings(notify)
            if now != last {
                (last, lastChange) = (now, Date())
            }
            longestGap = max(longestGap, Date().timeIntervalSince(lastChange))
        }
        #expect(longestGap >= 1.2, "pings went on while the engine was wedged (longest gap \(longestGap) s)")
        // Once it is free again, they resume.
        let wedged = pings(notify)
        #expect(waitUntil(5) { pings(notify) - wedged >= 2 })
    }

    @Test func noPingsWhenWatchdogPIDIsAnotherProcess() throws {
        let daemon = try TestDaemon(objectivesYAML: Self.yaml)
        let notify = try FakeNotifySocket(path: daemon.root.appendingPathComponent("notify.sock").path)
        try daemon.start(notifySocket: notify.path, environment: ["WATCHDOG_USEC": "400000", "WATCHDOG_PID": "1"])
        defer { daemon.stop() }
        usleep(1_000_000)
        #expect(waitUntil(2) { notify.messages.contains { $0.contains("READY=1") } })
        #expect(pings(notify) == 0)
    }
}
