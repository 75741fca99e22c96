import Foundation
import SLAWatchCore
import SLAWatchTestSupport
import Testing

/// The fleet's journal: slawatch's entries uploaded by `systemd-journal-upload` to
/// `systemd-journal-remote` on loopback (Debian's `systemd-journal-remote`), read back with
/// `slawatch alerts --directory` and their hosts.
@Suite(.serialized) struct FleetTests {
    @Test func entriesUploadedToJournalRemoteAreReadBackWithTheirHost() throws {
        guard TestJournal.isAvailable else { return }
        let sla = "fleet-\(runID())"
        let daemon = try TestDaemon(
            objectivesYAML: """
                slas:
                  - name: \(sla)
                    provider: platform
                    customer: sales
                    objectives:
                      - {name: errors-\(sla), metric: \(sla).errors, sli: count, window: 1h, direction: at_most,
                         baseline: 2, nodata: ok}
                """
        )
        try daemon.start()
        _ = try daemon.push(["\(sla).errors:5|c"])
        #expect(waitUntil(10) { daemon.state(of: "errors-\(sla)") == "breached" })
        daemon.stop()
        // The breach entry is in this machine's (test) journal.
        #expect(
            waitUntil(10) {
                ((try? journalEntries(["SLAWATCH_SLA=\(sla)", "SLAWATCH_TRANSITION=breach"])) ?? []).count == 1
            }
        )

        let port = try PrometheusTests.freePort()
        let out = daemon.root.appendingPathComponent("remote").path
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let remote = try PrometheusTests.launch(
            .journalRemote,
            ["--listen-http=127.0.0.1:\(port)", "--output=\(out)/", "--split-mode=host"],
            log: daemon.root.appendingPathComponent("journal-remote.log").path
        )
        defer {
            if remote.isRunning {
                remote.terminate()
                remote.waitUntilExit()
            }
        }
        // Two hosts: this one, and the same entries as "web2" (the export format names the
        // host in _HOSTNAME).
        let journalctl = try ExternalProgram.journalctl.path()
        let upload = try ExternalProgram.journalUpload.path()
        // journal-upload reads an export file (its "-" for standard input wrote nothing here).
        let exportFile = daemon.root.appendingPathComponent("export.txt").path
        let export =
            "\(journalctl) --namespace=\(TestJournal.namespace) -o export SLAWATCH_SLA=\(sla) > \(exportFile)"
        for rewrite in ["true", "sed -i 's/^_HOSTNAME=.*/_HOSTNAME=web2/' \(exportFile)"] {
            var rc: Int32 = -1
            var err = ""
            let ok = waitUntil(20) {
                let (code, _, e) =
                    (try? runExecutable(
                        try ExternalProgram.sh.path(),
                        ["-c", "\(export) && \(rewrite) && \(upload) --url=http://127.0.0.1:\(port) \(exportFile)"]
                    )) ?? (-1, "", "")
                rc = code
                err = e
                return code == 0
            }
            #expect(ok, "journal-upload exited \(rc): \(err)")
        }
        remote.terminate()
        remote.waitUntilExit()
        // journal-remote splits by the uploading address: one file, entries of two hosts.
        let files = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".journal") }
        #expect(files == ["remote-127.0.0.1.journal"], "\(files)")

        let (rc, text, err) = try slawatch(["alerts", "--directory", out, "--sla", sla, "--since", "-1h"])
        #expect(rc == 0, "\(err)")
        let lines = text.split(separator: "\n").map(String.init)
        // One breach per host, each with its host column.
        #expect(lines.count == 2, "\(text)")
        #expect(lines.contains { $0.contains("  web2  ") && $0.contains("errors-\(sla) breached") }, "\(text)")
        #expect(lines.contains { !$0.contains("  web2  ") && $0.contains("errors-\(sla) breached") }, "\(text)")
        let (jrc, json, _) = try slawatch([
            "alerts", "--directory", out, "--sla", sla, "--since", "-1h", "--output", "json",
        ])
        #expect(jrc == 0)
        #expect(json.contains(#""_HOSTNAME":"web2""#))
        // The same file by name (--file): the same two entries.
        let (frc, single, _) = try slawatch(["alerts", "--file", out + "/" + files[0], "--sla", sla, "--since", "-1h"])
        #expect(frc == 0)
        #expect(single == text)
        // This machine's own journal: one host, no host column.
        let (lrc, local, _) = try slawatch([
            "alerts", "--namespace", TestJournal.namespace, "--sla", sla, "--since", "-1h",
        ])
        #expect(lrc == 0)
        #expect(local.split(separator: "\n").count == 1)
        #expect(!local.contains("  web2  "))
        #expect(local.contains("errors-\(sla) breached"))
    }
}
