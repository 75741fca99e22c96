import Foundation
import SLAWatchCore
import SLAWatchTestSupport
import Testing

/// The command line as a careful operator expects it: a version, suggestions for typos, and a
/// "stopped" entry that pairs with "started" and says why.
@Suite(.serialized)
struct CLITests {
    @Test func versionIsPrintedFromTheOneConstant() throws {
        let (rc, out, _) = try slawatch(["--version"])
        #expect(rc == 0)
        #expect(out == SLAWatchVersion.current + "\n")
        #expect(SLAWatchVersion.current.split(separator: ".").count == 3)
    }

    @Test func aMistypedCommandSuggestsTheRightOne() throws {
        let (rc, _, err) = try slawatch(["statsu"])
        #expect(rc != 0)
        #expect(err.contains("status"), "\(err)")
    }

    @Test(.enabled(if: TestJournal.isAvailable, "needs the tests' own journal"), arguments: [SIGTERM, SIGINT])
    func stoppedEntryPairsWithStartedAndSaysWhy(_ signal: Int32) throws {
        let id = runID()
        let daemon = try TestDaemon(
            objectivesYAML: """
                slas:
                  - {name: life-\(id), provider: p, customer: c, objectives: [{name: life-\(id), metric: life.\(id), sli: count, window: 5m, direction: at_most, baseline: 9, nodata: ok}]}
                """
        )
        try daemon.start()
        #expect(daemon.stop(signal: signal) == 0)
        let match = "SLAWATCH_SOCKET=\(daemon.ingestSocket)"
        var started: [[String: String]] = []
        var stopped: [[String: String]] = []
        _ = try waitUntil(10) {
            started = try journalEntries([match, "MESSAGE_ID=\(MessageID.started)"])
            stopped = try journalEntries(["_PID=\(daemon.lastPID ?? 0)", "MESSAGE_ID=\(MessageID.stopped)"])
            return started.count == 1 && stopped.count == 1
        }
        #expect(started.first?["SLAWATCH_VERSION"] == SLAWatchVersion.current)
        let s = try #require(stopped.first)
        let name = signal == SIGINT ? "SIGINT" : "SIGTERM"
        #expect(s["SLAWATCH_REASON"] == name)
        #expect(s["SLAWATCH_VERSION"] == SLAWatchVersion.current)
        #expect(s["PRIORITY"] == "6")
        #expect(Int(s["SLAWATCH_UPTIME"] ?? "") != nil)
        #expect(s["MESSAGE"]?.hasPrefix("slawatch \(SLAWatchVersion.current) stopped: \(name), after ") == true)
    }

    @Test func pushExplainsEachRejectedLineLikeTheJournal() throws {
        let id = runID()
        let daemon = try TestDaemon(
            objectivesYAML: """
                slas:
                  - {name: p-\(id), provider: p, customer: c, objectives: [{name: p-\(id), metric: p.\(id), sli: count, window: 5m, direction: at_most, baseline: 9, nodata: ok}]}
                """
        )
        try daemon.start()
        defer { daemon.stop() }
        let (rc, out, err) = try daemon.push([
            "p.\(id):1|c", "p.\(id):oops|c", #"{"metric":"p.\#(id)","value":1}"#, "p.\(id):1|x",
        ])
        #expect(rc == 1)
        #expect(out == "accepted 1, rejected 3\n")
        #expect(
            err.split(separator: "\n").map(String.init) == [
                "line 2: value is not a number (invalid_value): p.\(id):oops|c",
                #"line 3: no "kind" member (expected counter, cumulative, gauge, distribution, histogram, timer or set; or c, g, ms, h, d, s) (missing_type): {"metric":"p.\#(id)","value":1}"#,
                "line 4: unknown metric type (expected c counter, g gauge, ms timer, h histogram, d distribution or s set) (unknown_type): p.\(id):1|x",
            ]
        )
    }

    @Test func replayTestAndCheckRefuseAnObjectivesDirectoryWithNothingInIt() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(runID())")
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("empty"),
            withIntermediateDirectories: true
        )
        defer { try? FileManager.default.removeItem(at: root) }
        let events = root.appendingPathComponent("in.statsd").path
        try "a:1|c|T1764669600\n".write(toFile: events, atomically: true, encoding: .utf8)
        let typo = packageRoot.appendingPathComponent("config/examples/nab-ec").path
        let (rc, out, err) = try slawatch(["replay", "--objectives", typo, events])
        #expect(rc == 2)
        #expect(out.isEmpty)
        #expect(err == "slawatch replay: \(typo): objectives directory: No such file or directory\n")
        let empty = root.appendingPathComponent("empty").path
        #expect(try slawatch(["replay", "--objectives", empty, events]).0 == 2)
        let (crc, _, cerr) = try slawatch(["check", "--objectives", empty])
        #expect(crc == 2)
        #expect(cerr.contains("holds no objective files"))
        // A test file whose objectives directory holds no objective.
        try "slas: []\n".write(to: root.appendingPathComponent("empty/none.yaml"), atomically: true, encoding: .utf8)
        let test = root.appendingPathComponent("t.yaml").path
        try "objectives: empty\ntests:\n  - name: x\n    input: []\n    expect: []\n".write(
            toFile: test,
            atomically: true,
            encoding: .utf8
        )
        let (trc, _, terr) = try slawatch(["test", test])
        #expect(trc == 2)
        #expect(terr.contains("objectives directory holds no objective"), "\(terr)")
        let (nrc, _, nerr) = try slawatch(["test", root.appendingPathComponent("nope.yaml").path])
        #expect(nrc == 2)
        #expect(nerr.hasSuffix("nope.yaml: No such file or directory\n"))
    }

    @Test func replayAndCheckWarnAboutAMetricThatNeverAppears() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(runID())")
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("objectives"),
            withIntermediateDirectories: true
        )
        defer { try? FileManager.default.removeItem(at: root) }
        try """
        slas:
          - name: api
            provider: platform
            customer: web
            objectives:
              - {name: api-errors, metric: api.requests.faild, sli: count, window: 5m, direction: at_most, baseline: 50}
              - {name: api-cart, metric: api.requests.failed, labels: {route: /kart}, sli: count, window: 5m, direction: at_most, baseline: 50}
              - {name: api-all, metric: api.requests.failed, sli: count, window: 5m, direction: at_most, baseline: 500}
        """.write(to: root.appendingPathComponent("objectives/api.yaml"), atomically: true, encoding: .utf8)
        let events = root.appendingPathComponent("in.statsd").path
        try (0..<400).map { "api.requests.failed:1|c|#route:/cart|T\(1_764_669_600 + $0)" }.joined(separator: "\n")
            .write(toFile: events, atomically: true, encoding: .utf8)
        let expected = [
            "warning: objective api-errors: metric api.requests.faild never appears in the input; 400 event(s) of api.requests.failed do: did you mean api.requests.failed?",
            "warning: objective api-cart: 400 event(s) of api.requests.failed in the input, but none with labels {route=/kart}",
        ]
        let (rc, _, err) = try slawatch([
            "replay", "--objectives", root.appendingPathComponent("objectives").path, events,
        ])
        #expect(rc == 0)
        #expect(Array(err.split(separator: "\n").map(String.init).prefix(2)) == expected)
        let (crc, out, cerr) = try slawatch([
            "check", "--objectives", root.appendingPathComponent("objectives").path, events,
        ])
        #expect(crc == 0)
        #expect(cerr.split(separator: "\n").map(String.init) == expected)
        #expect(out.contains("400 event(s) in 1 file(s); 2 objective input(s) never seen"))
    }

    @Test(.enabled(if: TestJournal.isAvailable, "needs the tests' own journal"))
    func alertsSinceAndUntilTakeDatesAndWords() throws {
        let id = runID()
        let daemon = try TestDaemon(
            objectivesYAML: """
                slas:
                  - {name: a-\(id), provider: p, customer: c, objectives: [{name: a-\(id), metric: a.\(id), sli: count, window: 5m, direction: at_most, baseline: 0, nodata: ok}]}
                """
        )
        try daemon.start()
        #expect(try daemon.push(["a.\(id):1|c"]).0 == 0)
        #expect(waitUntil(10) { daemon.state(of: "a-\(id)") == "breached" })
        #expect(daemon.stop() == 0)
        TestJournal.sync()
        func alerts(_ extra: [String]) throws -> [Substring] {
            let (_, out, _) = try slawatch(
                ["alerts", "--namespace", TestJournal.namespace, "--objective", "a-\(id)", "--output", "json"] + extra
            )
            return out.split(separator: "\n")
        }
        #expect(try alerts(["--since", "yesterday"]).count == 1)
        #expect(try alerts(["--since", "today"]).count == 1)
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        let today = formatter.string(from: Date())
        #expect(try alerts(["--since", today]).count == 1)
        #expect(try alerts(["--until", "yesterday"]).isEmpty)
        #expect(try alerts(["--since", "1h", "--until", "now"]).count == 1)
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        #expect(try alerts(["--until", formatter.string(from: Date().addingTimeInterval(-3600))]).isEmpty)
        let (rc, _, err) = try slawatch(["alerts", "--since", "last tuesday"])
        #expect(rc != 0)
        #expect(err.contains("--since 'last tuesday' is not a duration ago (7d, 12h), now, today, yesterday"))
    }

    /// Whether the built binary can be run by `nobody` (every directory above it is searchable).
    static var nobodyCanRunSlawatch: Bool {
        guard getuid() == 0,
            let r = try? sh(
                .setpriv,
                ["--reuid=nobody", "--regid=nogroup", "--clear-groups", slawatchBinary, "--version"]
            )
        else { return false }
        return r.0 == 0
    }

    @Test(.enabled(if: nobodyCanRunSlawatch, "needs root and a binary that nobody may run"))
    func anUnreadableConfigGivesPermissionDenied() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("perm-\(runID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("slawatch.yaml").path
        try "state_directory: state\n".write(toFile: config, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: config)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
        let (rc, _, err) = try sh(
            .setpriv,
            ["--reuid=nobody", "--regid=nogroup", "--clear-groups", slawatchBinary, "check", "--config", config]
        )
        #expect(rc == 1)
        #expect(err == "\(config): Permission denied\n")
    }

    @Test func pushNamesTheRightLineWithCRLFJSONBatchesAndAUsersOwnSync() throws {
        let id = runID()
        let daemon = try TestDaemon(
            objectivesYAML: """
                slas:
                  - {name: q-\(id), provider: p, customer: c, objectives: [{name: q-\(id), metric: q.\(id), sli: count, window: 5m, direction: at_most, baseline: 9, nodata: ok}]}
                """
        )
        try daemon.start()
        defer { daemon.stop() }
        // CRLF from standard input: line 2 is the bad one, shown without its \r.
        let crlf = try slawatch(["push", "--socket", daemon.ingestSocket], stdin: "q.\(id):1|c\r\nq.\(id):x|c\r\n")
        #expect(crlf.0 == 1)
        #expect(crlf.2 == "line 2: value is not a number (invalid_value): q.\(id):x|c\n")
        // A JSON batch: each bad element is named, in JSON terms.
        let batch = #"[{"metric":"q.\#(id)","value":1,"kind":"c"},{"metric":"q.\#(id)","value":true,"kind":"c"},7]"#
        let b = try slawatch(["push", "--socket", daemon.ingestSocket, batch])
        #expect(b.0 == 1)
        #expect(
            b.2.split(separator: "\n").map(String.init) == [
                #"line 1, element 1: "value" is a boolean, not a number (or, for kind set, a string) (invalid_json): "#
                    + batch,
                #"line 1, element 2: an event is a JSON object {"metric": …, "value": …, "kind": …}, not a number (invalid_json): "#
                    + batch,
            ]
        )
        #expect(b.1 == "accepted 1, rejected 2\n")
        // A #sync line of the user's own is not push's summary.
        let own = try slawatch(["push", "--socket", daemon.ingestSocket, "#sync 5", "q.\(id):x|c"])
        #expect(own.0 == 1)
        #expect(own.1 == "accepted 0, rejected 1\n")
        // A config that does not exist is push's own error (exit 2), not a rejected line (exit 1).
        let (rc, _, err) = try slawatch(["push", "--config", "/nonexistent/slawatch.yaml", "q.\(id):1|c"])
        #expect(rc == 2)
        #expect(err == "slawatch push: /nonexistent/slawatch.yaml: No such file or directory\n")
    }

    @Test func sinceTakesJournalctlsMinusSpellingAsAValue() throws {
        let (rc, _, err) = try slawatch([
            "alerts", "--namespace", "slawatch-no-such-namespace", "--since", "-12h", "--until", "-1h",
        ])
        #expect(!err.contains("Missing value"), "\(err)")
        #expect(rc == 0 || err.contains("journal"), "\(err)")
        let (brc, _, berr) = try slawatch(["alerts", "--since", "-12x"])
        #expect(brc == 64)
        #expect(berr.contains("--since '-12x' is not a duration ago"))
    }

    @Test(.enabled(if: nobodyCanRunSlawatch, "needs root and a binary that nobody may run"))
    func aDirectoryBehindAnUnsearchableParentIsPermissionDenied() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("perm-\(runID())")
        let hidden = dir.appendingPathComponent("private")
        try FileManager.default.createDirectory(
            at: hidden.appendingPathComponent("objs"),
            withIntermediateDirectories: true
        )
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: hidden.path)
        let objs = hidden.appendingPathComponent("objs").path
        let (rc, _, err) = try sh(
            .setpriv,
            ["--reuid=nobody", "--regid=nogroup", "--clear-groups", slawatchBinary, "check", "--objectives", objs]
        )
        #expect(rc == 2)
        #expect(err == "slawatch check: \(objs): objectives directory: Permission denied\n")
    }

    @Test(.enabled(if: TestJournal.isAvailable, "needs the tests' own journal"))
    func aFatalErrorIsSaidInAStoppedEntry() throws {
        let id = runID()
        // A state directory that cannot be created (a path below a regular file).
        let daemon = try TestDaemon(objectivesYAML: "slas: []\n")
        let config = try String(contentsOfFile: daemon.configPath, encoding: .utf8)
        try config.replacingOccurrences(of: "state_directory: state", with: "state_directory: /dev/null/fatal-\(id)")
            .write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        try daemon.start(waitForControl: false)
        let p = try #require(daemon.process)
        #expect(waitUntil(20) { !p.isRunning })
        #expect(p.terminationStatus == 1)
        var stopped: [[String: String]] = []
        _ = try waitUntil(10) {
            stopped = try journalEntries(["_PID=\(daemon.lastPID ?? 0)", "MESSAGE_ID=\(MessageID.stopped)"])
            return stopped.count == 1
        }
        let s = try #require(stopped.first)
        #expect(s["SLAWATCH_REASON"] == "fatal_error")
        #expect(s["PRIORITY"] == "3")
        #expect(
            s["SLAWATCH_ERROR"] == "cannot create the state directory /dev/null/fatal-\(id): Not a directory",
            "\(s["SLAWATCH_ERROR"] ?? "")"
        )
        #expect(s["MESSAGE"]?.hasPrefix("slawatch \(SLAWatchVersion.current) stopped: fatal error after 0s: ") == true)
    }
}
