import Foundation
import SLAWatchTestSupport
import Testing

/// The drop-directory ledger: a file recorded in the same transaction as its events is never
/// counted twice, even if it is still (or again) in the drop directory after a restart.
@Suite(.serialized)
struct DropLedgerTests {
    @Test func aFileFoundInTheLedgerIsMovedWithoutBeingCountedAgain() throws {
        let id = runID()
        let daemon = try TestDaemon(
            objectivesYAML: """
                slas:
                  - name: l-\(id)
                    provider: p
                    customer: c
                    objectives:
                      - {name: l-\(id), metric: l.\(id), sli: count, window: 10m, direction: at_most, baseline: 1000, nodata: ok}
                """
        )
        try daemon.start()
        let staging = daemon.root.appendingPathComponent("staging.tmp")
        try "l.\(id):2|c\nl.\(id):3|c\n".write(to: staging, atomically: true, encoding: .utf8)
        #expect(rename(staging.path, daemon.dropDirectory + "/batch.statsd") == 0)
        let processed = daemon.dropDirectory + "/processed/batch.statsd"
        #expect(waitUntil(10) { FileManager.default.fileExists(atPath: processed) })
        #expect(daemon.stop() == 0)
        // The state a crash after the commit and before the move leaves behind: the very same
        // file (device, inode, size, mtime, content) back in the drop directory.
        #expect(rename(processed, daemon.dropDirectory + "/batch.statsd") == 0)
        try daemon.start()
        defer { daemon.stop() }
        #expect(
            waitUntil(10) { FileManager.default.fileExists(atPath: daemon.dropDirectory + "/processed/batch.statsd") }
        )
        usleep(300_000)
        let objectives = try #require(try daemon.status()["objectives"] as? [[String: Any]])
        #expect(objectives.first?["value"] as? Double == 5)  // 2 + 3, once
        #expect(!FileManager.default.fileExists(atPath: daemon.dropDirectory + "/batch.statsd"))
        // A new file with the same name but new content is a new file: it counts.
        try "l.\(id):10|c\n".write(to: staging, atomically: true, encoding: .utf8)
        #expect(rename(staging.path, daemon.dropDirectory + "/batch.statsd") == 0)
        #expect(
            waitUntil(10) { FileManager.default.fileExists(atPath: daemon.dropDirectory + "/processed/batch.statsd.1") }
        )
        usleep(300_000)
        let after = try #require(try daemon.status()["objectives"] as? [[String: Any]])
        #expect(after.first?["value"] as? Double == 15)
    }
}
