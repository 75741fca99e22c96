import Foundation
import SLAWatchCore
import SLAWatchTestSupport
import Testing

/// `slawatch forward` against Debian's real Alertmanager on loopback: a breach appears in
/// `amtool alert query`, its recovery resolves it, and alerts written while Alertmanager is down
/// arrive once it is up.
@Suite(.serialized) struct AlertmanagerTests {
    @Test func aJournalEntryMapsToAnAlert() throws {
        let fields = [
            "SLAWATCH_TRANSITION": "breach", "SLAWATCH_SLA": "api", "SLAWATCH_OBJECTIVE": "availability",
            "SLAWATCH_INSTANCE": "customer=acme", "SLAWATCH_PROVIDER": "platform", "SLAWATCH_CUSTOMER": "acme",
            "PRIORITY": "3", "MESSAGE": "availability{customer=acme} breached: …", "SLAWATCH_EPISODE": "e-1",
            "_HOSTNAME": "web1",
        ]
        let fired = try #require(AlertForwarding.change(fields, time: 1_700_000_000))
        #expect(fired.firing)
        #expect(
            fired.alert.labels == [
                "alertname": "SLAObjectiveBreached", "sla": "api", "objective": "availability",
                "slawatch_instance": "customer=acme", "provider": "platform", "customer": "acme", "severity": "error",
                "host": "web1",
            ]
        )
        #expect(fired.alert.startsAt == "2023-11-14T22:13:20Z")
        #expect(fired.alert.endsAt == nil)
        var recovery = fields
        recovery["SLAWATCH_TRANSITION"] = "recovery"
        recovery["PRIORITY"] = "5"
        let resolved = try #require(
            AlertForwarding.change(recovery, time: 1_700_000_600, firing: [fired.alert.key: fired.alert])
        )
        #expect(!resolved.firing)
        // The same labels (severity of the firing alert), its start, and an end.
        #expect(resolved.alert.key == fired.alert.key)
        #expect(resolved.alert.startsAt == "2023-11-14T22:13:20Z")
        #expect(resolved.alert.endsAt == "2023-11-14T22:23:20Z")
        var reload = fields
        reload["SLAWATCH_TRANSITION"] = nil
        #expect(AlertForwarding.change(reload, time: 0) == nil)
    }

    /// Starts Alertmanager on `port` with a config that routes to nowhere.
    static func startAlertmanager(port: Int, dir: String) throws -> Process {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try """
        route: {receiver: sink, group_wait: 0s, group_interval: 1s}
        receivers: [{name: sink}]
        """.write(toFile: dir + "/am.yml", atomically: true, encoding: .utf8)
        return try PrometheusTests.launch(
            .alertmanager,
            [
                "--config.file=\(dir)/am.yml", "--storage.path=\(dir)/data",
                "--web.listen-address=127.0.0.1:\(port)", "--cluster.listen-address=",
            ],
            log: dir + "/alertmanager.log"
        )
    }

    /// `amtool alert query` (active alerts) as JSON: each alert's labels.
    static func query(port: Int) throws -> [[String: String]] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try ExternalProgram.amtool.path())
        p.arguments = ["--alertmanager.url=http://127.0.0.1:\(port)", "alert", "query", "--output=json"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0, let list = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]]
        else { return [] }
        return list.compactMap { $0["labels"] as? [String: String] }
    }

    @Test func breachesAndRecoveriesReachAlertmanagerEvenAfterItWasDown() throws {
        guard TestJournal.isAvailable else { return }
        let sla = "am-\(runID())"
        let daemon = try TestDaemon(
            objectivesYAML: """
                slas:
                  - name: \(sla)
                    provider: platform
                    customer: web
                    objectives:
                      - {name: errors-\(sla), metric: \(sla).errors, sli: count, window: 2s, direction: at_most,
                         baseline: 2, nodata: ok}
                      - {name: slow-\(sla), metric: \(sla).slow, sli: count, window: 10m, direction: at_most,
                         baseline: 2, nodata: ok}
                """
        )
        try daemon.start()
        defer { daemon.stop() }
        let port = try PrometheusTests.freePort()
        var am = try Self.startAlertmanager(port: port, dir: daemon.root.appendingPathComponent("am").path)
        defer {
            am.terminate()
            am.waitUntilExit()
        }
        let stateFile = daemon.root.appendingPathComponent("forward.json").path
        let forward = [
            "forward", "--alertmanager", "http://127.0.0.1:\(port)", "--state-file", stateFile,
            "--namespace", TestJournal.namespace, "--match", "SLAWATCH_SLA=\(sla)", "--since", "-10m",
        ]
        // Alertmanager answers once it is up.
        #expect(waitUntil(20) { PrometheusTests.fetch("http://127.0.0.1:\(port)/-/ready") != nil })

        // A breach: forwarded, it is the one active alert.
        _ = try daemon.push(["\(sla).errors:5|c"])
        #expect(waitUntil(10) { daemon.state(of: "errors-\(sla)") == "breached" })
        var (rc, _, err) = try slawatch(forward + ["--once", "--give-up-after", "20s"])
        #expect(rc == 0, "\(err)")
        var active: [[String: String]] = []
        #expect(
            waitUntil(10) {
                active = (try? Self.query(port: port)) ?? []
                return active.contains { $0["objective"] == "errors-\(sla)" }
            },
            "\(active)"
        )
        let alert = try #require(active.first { $0["objective"] == "errors-\(sla)" })
        #expect(alert["alertname"] == "SLAObjectiveBreached")
        #expect(alert["sla"] == sla)
        #expect(alert["customer"] == "web")

        // Its recovery resolves it.
        #expect(waitUntil(10) { daemon.state(of: "errors-\(sla)") == "ok" })
        (rc, _, err) = try slawatch(forward + ["--once", "--give-up-after", "20s"])
        #expect(rc == 0, "\(err)")
        #expect(waitUntil(10) { ((try? Self.query(port: port)) ?? []).allSatisfy { $0["sla"] != sla } })

        // Alertmanager down: a second breach waits in the journal; the forwarder retries, the
        // cursor stays; Alertmanager back: the alert arrives.
        am.terminate()
        am.waitUntilExit()
        _ = try daemon.push(["\(sla).slow:7|c"])
        #expect(waitUntil(10) { daemon.state(of: "slow-\(sla)") == "breached" })
        let cursorBefore = try String(contentsOfFile: stateFile, encoding: .utf8)
        let followerLog = daemon.root.appendingPathComponent("forward.log").path
        _ = FileManager.default.createFile(atPath: followerLog, contents: nil)
        func follow() throws -> Process {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: slawatchBinary)
            p.arguments = forward
            p.standardOutput = FileHandle(forWritingAtPath: followerLog)
            p.standardError = FileHandle(forWritingAtPath: followerLog)
            try p.run()
            return p
        }
        // The first forwarder is killed (-9) while it retries: the cursor did not move, so
        // nothing is lost; a second one takes over.
        let first = try follow()
        Thread.sleep(forTimeInterval: 2)
        #expect(first.isRunning)
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(try String(contentsOfFile: stateFile, encoding: .utf8) == cursorBefore)
        let follower = try follow()
        defer {
            if follower.isRunning {
                kill(follower.processIdentifier, SIGKILL)
                follower.waitUntilExit()
            }
        }
        Thread.sleep(forTimeInterval: 2)
        #expect(follower.isRunning)
        #expect(try String(contentsOfFile: stateFile, encoding: .utf8) == cursorBefore)
        am = try Self.startAlertmanager(port: port, dir: daemon.root.appendingPathComponent("am2").path)
        #expect(
            waitUntil(60) {
                ((try? Self.query(port: port)) ?? []).contains {
                    $0["objective"] == "slow-\(sla)" && $0["alertname"] == "SLAObjectiveBreached"
                }
            },
            "forward: \((try? String(contentsOfFile: followerLog, encoding: .utf8)) ?? "")"
        )
        #expect(try String(contentsOfFile: stateFile, encoding: .utf8) != cursorBefore)
    }

    /// Alertmanager down for a minute while instances breach, recover and breach again: once it
    /// is up, every change reaches it (seen at its door by a recording proxy, which passes each
    /// POST on and keeps those Alertmanager took), in journal order per instance, and its view
    /// ends as the journal does.
    @Test func everyChangeArrivesInOrderPerInstanceAfterAlertmanagerWasDownAMinute() throws {
        guard TestJournal.isAvailable else { return }
        let sla = "amdown-\(runID())"
        let daemon = try TestDaemon(
            objectivesYAML: """
                slas:
                  - name: \(sla)
                    provider: platform
                    customer: web
                    objectives:
                      - {name: errors, metric: \(sla).errors, sli: count, window: 2s, direction: at_most,
                         baseline: 2, nodata: ok, group_by: [customer]}
                      - {name: slow, metric: \(sla).slow, sli: count, window: 10m, direction: at_most,
                         baseline: 2, nodata: ok, group_by: [customer]}
                """
        )
        try daemon.start()
        defer { daemon.stop() }
        let root = daemon.root.path
        let amPort = try PrometheusTests.freePort()
        let proxyPort = try PrometheusTests.freePort()
        let proxy = try PrometheusTests.launch(
            .python3,
            [
                "-c",
                """
                import http.server, sys, urllib.request, urllib.error
                port, upstream, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
                class H(http.server.BaseHTTPRequestHandler):
                    def do_POST(self):
                        body = self.rfile.read(int(self.headers['Content-Length']))
                        try:
                            req = urllib.request.Request(upstream + self.path, data=body, method='POST',
                                                         headers={'Content-Type': 'application/json'})
                            code = urllib.request.urlopen(req, timeout=5).status
                        except urllib.error.HTTPError as e:
                            code = e.code
                        except Exception:
                            code = 503
                        if 200 <= code < 300:
                            with open(log, 'ab') as f:
                                f.write(body + b'\\n')
                        self.send_response(code)
                        self.send_header('Content-Length', '0')
                        self.end_headers()
                    def log_message(self, *a): pass
                http.server.HTTPServer(('127.0.0.1', port), H).serve_forever()
                """,
                String(proxyPort), "http://127.0.0.1:\(amPort)", root + "/taken.jsonl",
            ],
            log: root + "/proxy.log"
        )
        defer {
            kill(proxy.processIdentifier, SIGKILL)
            proxy.waitUntilExit()
        }
        // The forwarder follows from the start; Alertmanager is not running.
        let followerLog = root + "/forward.log"
        _ = FileManager.default.createFile(atPath: followerLog, contents: nil)
        let follower = Process()
        follower.executableURL = URL(fileURLWithPath: slawatchBinary)
        follower.arguments = [
            "forward", "--alertmanager", "http://127.0.0.1:\(proxyPort)", "--state-file", root + "/forward.json",
            "--namespace", TestJournal.namespace, "--match", "SLAWATCH_SLA=\(sla)", "--since", "-10m",
        ]
        follower.standardOutput = FileHandle(forWritingAtPath: followerLog)
        follower.standardError = FileHandle(forWritingAtPath: followerLog)
        try follower.run()
        defer {
            kill(follower.processIdentifier, SIGKILL)
            follower.waitUntilExit()
        }
        let down = Date()
        func instance(_ o: String, _ c: String) -> String { "\(o){customer=\(c)}" }
        // errors{a}: breach, recovery, breach, recovery; errors{b}: breach, recovery;
        // slow{a} and slow{c}: breach (still firing at the end).
        #expect(try daemon.push(["\(sla).errors:5|c|#customer:a", "\(sla).errors:5|c|#customer:b"]).0 == 0)
        #expect(waitUntil(10) { daemon.state(of: instance("errors", "a")) == "breached" })
        #expect(waitUntil(10) { daemon.state(of: instance("errors", "a")) == "ok" })
        #expect(try daemon.push(["\(sla).errors:5|c|#customer:a", "\(sla).slow:5|c|#customer:a"]).0 == 0)
        #expect(waitUntil(10) { daemon.state(of: instance("slow", "a")) == "breached" })
        #expect(try daemon.push(["\(sla).slow:5|c|#customer:c"]).0 == 0)
        #expect(waitUntil(10) { daemon.state(of: instance("slow", "c")) == "breached" })
        #expect(waitUntil(10) { daemon.state(of: instance("errors", "a")) == "ok" })
        #expect(waitUntil(10) { daemon.state(of: instance("errors", "b")) == "ok" })
        // What the journal says, per instance, in order.
        var journal: [String: [String]] = [:]
        for e in try journalEntries(["SLAWATCH_SLA=\(sla)"]) {
            guard let t = e["SLAWATCH_TRANSITION"], t == "breach" || t == "recovery" else { continue }
            // SLAWATCH_INSTANCE is the instance's group (`customer=a`), within its objective.
            let key = "\(e["SLAWATCH_OBJECTIVE"] ?? ""){\(e["SLAWATCH_INSTANCE"] ?? "")}"
            journal[key, default: []].append(t == "breach" ? "firing" : "resolved")
        }
        #expect(
            journal == [
                instance("errors", "a"): ["firing", "resolved", "firing", "resolved"],
                instance("errors", "b"): ["firing", "resolved"], instance("slow", "a"): ["firing"],
                instance("slow", "c"): ["firing"],
            ]
        )
        // Nothing was taken while Alertmanager is down, and the forwarder kept trying.
        Thread.sleep(forTimeInterval: max(0, 60 - Date().timeIntervalSince(down)))
        #expect(!FileManager.default.fileExists(atPath: root + "/taken.jsonl"))
        #expect(follower.isRunning)
        let am = try Self.startAlertmanager(port: amPort, dir: root + "/am")
        defer {
            am.terminate()
            am.waitUntilExit()
        }
        // Up: within the back-off (at most 60 s), every change arrives.
        func taken() -> [String: [String]] {
            let text = (try? String(contentsOfFile: root + "/taken.jsonl", encoding: .utf8)) ?? ""
            var out: [String: [String]] = [:]
            for line in text.split(separator: "\n") {
                let alerts = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [[String: Any]] ?? []
                for a in alerts {
                    let labels = a["labels"] as? [String: String] ?? [:]
                    guard labels["alertname"] == "SLAObjectiveBreached" else { continue }
                    let state = a["endsAt"] is String ? "resolved" : "firing"
                    let key = "\(labels["objective"] ?? ""){\(labels["slawatch_instance"] ?? "")}"
                    // A firing alert re-sent while it fires is the same change again.
                    if out[key]?.last == state, state == "firing" { continue }
                    out[key, default: []].append(state)
                }
            }
            return out
        }
        var got: [String: [String]] = [:]
        let arrived = waitUntil(75) {
            got = taken()
            return got == journal
        }
        #expect(arrived, "taken: \(got); forward: \((try? String(contentsOfFile: followerLog, encoding: .utf8)) ?? "")")
        // Alertmanager's view ends as the journal does: the two slow instances fire, the
        // errors instances are resolved.
        var active: [String] = []
        #expect(
            waitUntil(10) {
                active = ((try? Self.query(port: amPort)) ?? []).filter { $0["sla"] == sla }
                    .map { "\($0["objective"] ?? ""){\($0["slawatch_instance"] ?? "")}" }.sorted()
                return active == [instance("slow", "a"), instance("slow", "c")]
            },
            "\(active)"
        )
    }

    /// Webhooks and programs get each change (fired, then resolved) in Alertmanager's webhook
    /// format, in order, retried while they fail.
    @Test func webhooksAndProgramsGetEachChangeInOrderAndAreRetried() throws {
        guard TestJournal.isAvailable else { return }
        let sla = "hook-\(runID())"
        let daemon = try TestDaemon(
            objectivesYAML: """
                slas:
                  - name: \(sla)
                    provider: platform
                    customer: web
                    objectives:
                      - {name: errors-\(sla), metric: \(sla).errors, sli: count, window: 2s, direction: at_most,
                         baseline: 2, nodata: ok}
                """
        )
        try daemon.start()
        defer { daemon.stop() }
        _ = try daemon.push(["\(sla).errors:5|c"])
        #expect(waitUntil(10) { daemon.state(of: "errors-\(sla)") == "breached" })
        #expect(waitUntil(10) { daemon.state(of: "errors-\(sla)") == "ok" })
        // A webhook receiver that answers 503 twice, then 200, keeping each body it took.
        let root = daemon.root.path
        let port = try PrometheusTests.freePort()
        let server = try PrometheusTests.launch(
            .python3,
            [
                "-c",
                """
                import http.server, sys
                seen = [0]
                class H(http.server.BaseHTTPRequestHandler):
                    def do_POST(self):
                        body = self.rfile.read(int(self.headers['Content-Length']))
                        seen[0] += 1
                        if seen[0] <= 2:
                            self.send_response(503); self.end_headers(); return
                        open(sys.argv[2], 'ab').write(body + b'\\n')
                        self.send_response(200); self.end_headers()
                    def log_message(self, *a): pass
                http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
                """,
                String(port), root + "/webhook.jsonl",
            ],
            log: root + "/webhook.log"
        )
        defer {
            // SIGKILL: the test process may start children with SIGTERM blocked.
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        // A program that fails its first run, then appends what it reads.
        let hook = root + "/hook.sh"
        try """
        #!/bin/sh
        if [ ! -e \(root)/hook.failed ]; then touch \(root)/hook.failed; exit 3; fi
        cat >> \(root)/exec.jsonl
        echo >> \(root)/exec.jsonl
        """.write(toFile: hook, atomically: true, encoding: .utf8)
        chmod(hook, 0o755)
        Thread.sleep(forTimeInterval: 0.5)
        let (rc, _, err) = try slawatch([
            "forward", "--webhook", "http://127.0.0.1:\(port)/hook", "--exec", hook, "--state-file",
            root + "/forward.json", "--namespace", TestJournal.namespace, "--match", "SLAWATCH_SLA=\(sla)",
            "--since", "-10m", "--once", "--give-up-after", "30s",
        ])
        #expect(rc == 0, "\(err)")
        #expect(err.contains("HTTP 503"))
        #expect(err.contains("exited 3"))
        for file in ["webhook.jsonl", "exec.jsonl"] {
            let lines = try String(contentsOfFile: root + "/" + file, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 2, "\(file): \(lines)")
            let bodies = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(bodies.map { $0["status"] as? String } == ["firing", "resolved"], "\(file)")
            #expect(bodies.allSatisfy { $0["version"] as? String == "4" && $0["receiver"] as? String == "slawatch" })
            let alert = (bodies.first?["alerts"] as? [[String: Any]])?.first
            let labels = alert?["labels"] as? [String: String]
            #expect(labels?["alertname"] == "SLAObjectiveBreached")
            #expect(labels?["objective"] == "errors-\(sla)")
        }
    }
}
