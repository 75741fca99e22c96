import Foundation
import SLAWatchTestSupport
import Testing

@testable import SLAWatchDaemon

/// Two real producers, created with `useradd` for the test (removed after), each allowed its
/// own metrics: over the stream socket, the datagram socket and the drop directory each writes
/// only what it may, neither can rename or delete the other's drop files (the directory is
/// sticky, mode 3770 as tmpfiles.d creates it), and neither can read the daemon's state or
/// archived files.
@Suite(.serialized, .enabled(if: getuid() == 0 && ExternalProgram.useradd.isInstalled))
struct RealUserTests {
    /// Runs `body` with users `a`, `b` in a new group `g`, removed afterwards.
    private func withUsers(_ id: String, _ body: (_ a: String, _ b: String, _ g: String) throws -> Void) throws {
        let (a, b, g) = ("swa\(id)", "swb\(id)", "swg\(id)")
        #expect(try sh(.groupadd, [g]).0 == 0)
        defer { _ = try? sh(.groupdel, [g]) }
        for u in [a, b] {
            let (rc, _, err) = try sh(
                .useradd,
                ["-M", "-N", "-g", g, u]
            )
            #expect(rc == 0, "useradd \(u): \(err)")
        }
        defer { for u in [a, b] { _ = try? sh(.userdel, [u]) } }
        try body(a, b, g)
    }

    /// Runs `program args` as `user` (group `group`) with `stdin`.
    private func run(as user: String, group: String, _ program: String, _ args: [String], stdin: String? = nil) throws
        -> (Int32, String, String)
    {
        try sh(.setpriv, ["--reuid=\(user)", "--regid=\(group)", "--init-groups", program] + args, stdin: stdin)
    }

    @Test func producersWriteOnlyTheirOwnMetricsAndCannotTouchEachOthersFiles() throws {
        let id = runID()
        try withUsers(id) { a, b, g in
            let daemon = try TestDaemon(
                objectivesYAML: """
                    slas:
                      - name: users-\(id)
                        provider: p
                        customer: c
                        objectives:
                          - {name: ua-\(id), metric: ua.\(id).x, sli: count, window: 1h, direction: at_most, baseline: 1e12, nodata: ok}
                          - {name: ub-\(id), metric: ub.\(id).x, sli: count, window: 1h, direction: at_most, baseline: 1e12, nodata: ok}
                    """,
                extraConfig: """
                    socket_mode: "0666"
                    authorization:
                      users:
                        \(a): ["ua.\(id).*"]
                        \(b): ["ub.\(id).*"]

                    """
            )
            let fm = FileManager.default
            try fm.createDirectory(atPath: daemon.dropDirectory, withIntermediateDirectories: true)
            let gid = try #require(getgrnam(g)?.pointee.gr_gid)
            #expect(chown(daemon.dropDirectory, 0, gid) == 0)
            // As tmpfiles.d/slawatch.conf creates it.
            let tmpfiles = try String(
                contentsOf: packageRoot.appendingPathComponent("systemd/tmpfiles.d/slawatch.conf"),
                encoding: .utf8
            )
            let dropLine = try #require(
                tmpfiles.split(separator: "\n").first { $0.hasPrefix("d /var/lib/slawatch/drop ") }
            )
            let mode = try #require(mode_t(dropLine.split(separator: " ")[2], radix: 8))
            #expect(mode == 0o3770)
            #expect(chmod(daemon.dropDirectory, mode) == 0)
            try daemon.start()
            defer { daemon.stop() }
            for dir in [daemon.root.path, daemon.root.appendingPathComponent("run").path] {
                try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir)
            }
            try fm.setAttributes(
                [.posixPermissions: 0o755],
                ofItemAtPath: daemon.root.appendingPathComponent("state").path
            )
            // The system interpreter: a per-user one (pyenv under /root) is not reachable by them.
            let python = try ExternalProgram.systemPython3.path()

            // Stream: a's own line counts, b's metric is refused on its line.
            let stream = """
                import socket, sys
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(sys.argv[1])
                s.sendall(b"ua.\(id).x:1|c\\nub.\(id).x:1|c\\n#sync s1\\n")
                data = b""
                while b"s1" not in data:
                    data += s.recv(4096)
                print(data.decode().strip())
                """
            let (rc1, out1, err1) = try run(as: a, group: g, python, ["-c", stream, daemon.ingestSocket])
            #expect(rc1 == 0, "\(err1)")
            #expect(out1.contains("rejected 2 unauthorized"), "\(out1)")
            #expect(out1.hasSuffix("ok s1 1 1\n"), "\(out1)")

            // Datagram: b's own line counts, a's metric is refused.
            let dgram = daemon.root.appendingPathComponent("run/ingest.dgram").path
            let datagram = """
                import socket, sys
                d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                d.connect(sys.argv[1])
                d.send(b"ub.\(id).x:1|c\\nua.\(id).x:1|c\\n")
                """
            let (rc2, _, err2) = try run(as: b, group: g, python, ["-c", datagram, dgram])
            #expect(rc2 == 0, "\(err2)")
            #expect(
                waitUntil(10) {
                    ((try? daemon.counts(of: "datagram"))?["rejectedByReason"] as? [String: Any])?["unauthorized"]
                        as? Int == 1
                }
            )

            // Drop directory: b's file counts b's line; a's metric in it is refused.
            let drop = daemon.dropDirectory
            let write =
                "printf 'ub.\(id).x:1|c\\nua.\(id).x:1|c\\n' > \(drop)/.b-\(id).tmp && mv \(drop)/.b-\(id).tmp \(drop)/b-\(id).statsd"
            let (rc3, _, err3) = try run(as: b, group: g, try ExternalProgram.sh.path(), ["-c", write])
            #expect(rc3 == 0, "\(err3)")
            #expect(waitUntil(10) { (try? daemon.values())?["ub-\(id)"] == 2 })
            #expect(try daemon.values()["ua-\(id)"] == 1)
            #expect(
                (try daemon.counts(of: "drop")["rejectedByReason"] as? [String: Any])?["unauthorized"] as? Int == 1
            )

            // Sticky: a's file (an ignored name, so it stays) cannot be renamed or deleted by b.
            let part = "\(drop)/a-\(id).part"
            #expect(try run(as: a, group: g, try ExternalProgram.sh.path(), ["-c", "echo x > \(part)"]).0 == 0)
            let (mvrc, _, mverr) = try run(
                as: b,
                group: g,
                try ExternalProgram.mv.path(),
                [part, "\(drop)/stolen-\(id).statsd"]
            )
            #expect(mvrc != 0 && mverr.contains("Operation not permitted"), "mv as b: \(mvrc) \(mverr)")
            let (rmrc, _, _) = try run(as: b, group: g, try ExternalProgram.rm.path(), ["-f", part])
            #expect(rmrc != 0)
            #expect(fm.fileExists(atPath: part))

            // Neither reads the daemon's state or the archived files.
            let state = daemon.root.appendingPathComponent("state/state.sqlite").path
            #expect(try run(as: a, group: g, try ExternalProgram.cat.path(), [state]).0 != 0)
            #expect(try run(as: a, group: g, try ExternalProgram.ls.path(), ["\(drop)/processed"]).0 != 0)
            #expect(
                try run(as: b, group: g, try ExternalProgram.cat.path(), ["\(drop)/processed/b-\(id).statsd"]).0 != 0
            )
        }
    }
}
