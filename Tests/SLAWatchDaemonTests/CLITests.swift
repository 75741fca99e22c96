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
}
