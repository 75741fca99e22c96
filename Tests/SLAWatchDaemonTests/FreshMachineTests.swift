import Foundation
import SLAWatchTestSupport
import Systemd
import Testing

/// What a fresh machine needs: every external program the tests run is found through
/// `ExternalProgram`, installed by `scripts/ensure-deps.sh`, and a missing one names its package.
@Suite struct FreshMachineTests {
    @Test func aMissingProgramNamesTheDebianPackageToInstall() {
        let ghost = ExternalProgram("slawatch-no-such-program", package: "slawatch-ghost-package")
        #expect(!ghost.isInstalled)
        do {
            _ = try sh(ghost, ["--help"])
            Issue.record("running a missing program did not throw")
        } catch {
            #expect(
                "\(error)"
                    == "slawatch-no-such-program is not installed: apt-get install slawatch-ghost-package (scripts/ensure-deps.sh installs every program the tests run)"
            )
        }
    }

    @Test func aMissingPythonModuleNamesThePyPIProject() {
        #expect(throws: MissingProgram.self) {
            try python("print(1)", modules: [("slawatch_no_such_module", "slawatch-ghost")])
        }
        let message = "\(MissingProgram(pythonModule: "datadog", project: "datadog"))"
        #expect(message.contains("python3 -m pip install datadog"))
    }

    /// Each program of `ExternalProgram.all` is checked by `ensure-deps.sh` under the same name
    /// with the same package, and is installed here (make test ran ensure-deps first).
    @Test(arguments: ExternalProgram.all)
    func ensureDepsInstallsEveryProgramTheTestsRun(_ program: ExternalProgram) throws {
        let script = try String(
            contentsOf: packageRoot.appendingPathComponent("scripts/ensure-deps.sh"),
            encoding: .utf8
        )
        #expect(
            script.contains("need \(program.name) \(program.package)\n"),
            "ensure-deps.sh does not install \(program)"
        )
        #expect(program.isInstalled, "\(program) is not installed")
    }

    @Test func theDogStatsDClientModuleIsInstalled() throws {
        let (rc, out, err) = try python("import datadog; print('ok')", modules: [("datadog", "datadog")])
        #expect(rc == 0, "\(err)")
        #expect(out == "ok\n")
    }

    /// No test source spells a program's path: they all go through `ExternalProgram`.
    @Test func noTestSpellsAProgramPath() throws {
        let tests = packageRoot.appendingPathComponent("Tests")
        let files = FileManager.default.enumerator(atPath: tests.path)?.compactMap { $0 as? String } ?? []
        var offenders: [String] = []
        for f in files where f.hasSuffix(".swift") {
            let text = try String(contentsOf: tests.appendingPathComponent(f), encoding: .utf8)
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where ["\"/bin/", "\"/usr/bin/", "\"/usr/sbin/", "\"/sbin/", "\"/lib/systemd/"].contains(
                where: line.contains
            ) {
                // The test of this rule names the patterns it looks for.
                if f.hasSuffix("FreshMachineTests.swift") { continue }
                offenders.append("\(f):\(n + 1): \(line.trimmingCharacters(in: .whitespaces))")
            }
        }
        #expect(offenders.isEmpty, "run external programs through ExternalProgram: \(offenders)")
    }
}

/// Test daemons write to the tests' own journal (a journald namespace), never to the
/// operator's, and the journal tests read real journald output from it.
@Suite(.serialized)
struct TestJournalTests {
    @Test(.enabled(if: TestJournal.isAvailable, "needs root for the tests' own journal"))
    func testDaemonEntriesReachTheTestJournalAndNotTheDefaultOne() throws {
        let id = runID()
        let daemon = try TestDaemon(
            objectivesYAML: """
                slas:
                  - name: iso-\(id)
                    provider: platform
                    customer: sales
                    objectives:
                      - {name: iso-\(id)-latency, metric: iso.\(id), sli: max, window: 10m, direction: at_most, baseline: 300, nodata: ok}
                """
        )
        try daemon.start()
        #expect(try daemon.push(["iso.\(id):900|ms"]).0 == 0)
        #expect(waitUntil(10) { daemon.state(of: "iso-\(id)-latency") == "breached" })
        #expect(daemon.stop() == 0)
        let match = "SLAWATCH_OBJECTIVE=iso-\(id)-latency"
        var inTestJournal: [[String: String]] = []
        _ = try waitUntil(10) {
            inTestJournal = try journalEntries([match])
            return inTestJournal.count >= 1
        }
        #expect(inTestJournal.map { $0["SLAWATCH_TRANSITION"] } == ["breach"])
        #expect(inTestJournal.first?["_TRANSPORT"] == "journal")
        #expect(inTestJournal.first?["SLAWATCH_CUSTOMER"] == "sales")
        // The machine's default journal (when one runs) has none of it, nor the daemon's
        // "started" entry.
        _ = try? sh(.journalctl, ["--sync"])
        if let defaultEntries = try? JournalReader.entries(matching: [match]) {
            #expect(defaultEntries.isEmpty, "a test daemon wrote into the operator's journal")
        }
        if let started = try? JournalReader.entries(matching: ["SLAWATCH_SOCKET=\(daemon.ingestSocket)"]) {
            #expect(started.isEmpty)
        }
        #expect(try journalEntries(["SLAWATCH_SOCKET=\(daemon.ingestSocket)"]).count >= 1)
        // journalctl reads the same entry back from the namespace.
        let (rc, out, _) = try sh(.journalctl, ["--namespace", TestJournal.namespace, "-o", "cat", match])
        #expect(rc == 0)
        #expect(out.contains("iso-\(id)-latency breached"))
    }
}
