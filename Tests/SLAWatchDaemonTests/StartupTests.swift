import Foundation
import SLAWatchTestSupport
import Testing

/// Start-up safety: sockets and state are never shared by two daemons, a stale socket from a
/// crash is replaced, and a file that is not a socket is never deleted.
@Suite(.serialized)
struct StartupTests {
    private static let yaml = """
        slas:
          - name: s
            provider: p
            customer: c
            objectives:
              - {name: o, metric: m, sli: count, window: 5m, direction: at_most, baseline: 10, nodata: ok}
        """

    @Test func secondDaemonOnTheSameStateRefusesToStart() throws {
        let daemon = try TestDaemon(objectivesYAML: Self.yaml)
        try daemon.start()
        defer { daemon.stop() }
        let (rc, _, err) = try slawatch(["daemon", "--config", daemon.configPath])
        #expect(rc != 0)
        #expect(err.contains("is using the state directory"))
        // The first daemon still owns its sockets.
        #expect(daemon.state(of: "o") == "ok")
        let (prc, out, _) = try daemon.push(["m:1|c"])
        #expect(prc == 0)
        #expect(out.contains("accepted 1, rejected 0"))
    }

    @Test func staleSocketIsReplacedAndAFileIsNeverDeleted() throws {
        let daemon = try TestDaemon(objectivesYAML: Self.yaml)
        let run = daemon.root.appendingPathComponent("run")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        // A socket left by a crashed daemon: bound, nobody listening.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in daemon.ingestSocket.utf8.enumerated() { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        close(fd)
        #expect(bound == 0)
        try daemon.start()
        let (rc, out, _) = try daemon.push(["m:2|c"])
        #expect(rc == 0)
        #expect(out.contains("accepted 1"))
        #expect(daemon.stop() == 0)

        // A regular file where the control socket should be: start-up stops and the file stays.
        try "precious".write(toFile: daemon.controlSocket, atomically: true, encoding: .utf8)
        let (drc, _, err) = try slawatch(["daemon", "--config", daemon.configPath])
        #expect(drc != 0)
        #expect(err.contains("exists and is not a socket"))
        #expect((try? String(contentsOfFile: daemon.controlSocket, encoding: .utf8)) == "precious")
    }

    @Test func controlSocketAnswersAHalfClosedClient() throws {
        let daemon = try TestDaemon(objectivesYAML: Self.yaml)
        try daemon.start()
        defer { daemon.stop() }
        // socat sends "status" and half-closes at EOF of its input: no newline needed either.
        let (rc, out, _) = try sh(.socat, ["-", "UNIX-CONNECT:\(daemon.controlSocket)"], stdin: "status")
        #expect(rc == 0)
        let json = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
        #expect((json?["objectives"] as? [[String: Any]])?.first?["objective"] as? String == "o")
    }
}
