import Foundation
import SLAWatchTestSupport
import Testing

/// Exactly once through crashes: the daemon is killed with SIGKILL at random moments while it
/// ingests 100 drop files, restarted each time, and in the end every metric's total is exactly
/// the sum over the files and every file is in `processed/` once.
@Suite(.serialized)
struct DropCrashTests {
    @Test func killNineWhileIngestingLosesAndDuplicatesNothing() throws {
        let id = runID()
        let metrics = (0..<3).map { "crash\($0)_\(id)" }
        let daemon = try TestDaemon(
            objectivesYAML: sumObjectives(id, metrics),
            extraConfig: "drop:\n  settle: 100ms\n"
        )
        var rng = SystemRandomNumberGenerator()
        var expected = [Double](repeating: 0, count: metrics.count)
        let now = Int(Date().timeIntervalSince1970)
        // 100 files of 6,000 lines each; every file unique (its index is in it), half the lines
        // timestamped, some bad lines.
        var files: [(name: String, content: String)] = []
        for f in 0..<100 {
            var text = "\(metrics[0]):\(f + 1)|c\n"
            expected[0] += Double(f + 1)
            for k in 0..<6000 {
                let m = Int.random(in: 0..<metrics.count, using: &rng)
                let v = Int.random(in: 1...9, using: &rng)
                if k % 500 == 7 {
                    text += "\(metrics[m]):not-a-number|c\n"
                    continue
                }
                expected[m] += Double(v)
                text += k % 2 == 0 ? "\(metrics[m]):\(v)|c|T\(now - 600 + k % 300)\n" : "\(metrics[m]):\(v)|c\n"
            }
            files.append(("f\(f).statsd", text))
        }
        var next = 0
        var kills = 0
        var killsWithWorkPending = 0
        while kills < 24 {
            try daemon.start()
            // Five more files per round, then a crash a random moment later.
            for _ in 0..<5 where next < files.count {
                try daemon.drop(files[next].name, files[next].content)
                next += 1
            }
            usleep(UInt32.random(in: 0...150_000, using: &rng))
            daemon.kill9()
            kills += 1
            if !daemon.leftInDrop().isEmpty { killsWithWorkPending += 1 }
        }
        while next < files.count {
            try daemon.drop(files[next].name, files[next].content)
            next += 1
        }
        try daemon.start()
        defer { daemon.stop() }
        let done = waitUntil(120) {
            daemon.leftInDrop().isEmpty
                && (try? FileManager.default.contentsOfDirectory(atPath: daemon.processedDirectory))?.filter {
                    !$0.hasSuffix(".rejects")
                }.count == 100
        }
        #expect(done)
        let processed = try FileManager.default.contentsOfDirectory(atPath: daemon.processedDirectory)
        #expect(Set(processed.filter { !$0.hasSuffix(".rejects") && !$0.hasPrefix(".") }) == Set(files.map(\.name)))
        #expect(processed.filter { $0.hasPrefix(".") }.isEmpty)
        usleep(300_000)
        let values = try daemon.values()
        for (k, m) in metrics.enumerated() { #expect(values[m] == expected[k], "\(m)") }
        let recovered = try journalEntries(["SLAWATCH_DUPLICATE_OF=ledger"]).filter {
            $0["SLAWATCH_FILE"]?.hasPrefix(daemon.dropDirectory) == true
        }.count
        print(
            "crash test: \(kills) kill -9, \(killsWithWorkPending) with files still in the drop directory, "
                + "\(recovered) file(s) committed before a kill and moved after the restart without a recount; "
                + "100 files, 600,100 lines, totals exact"
        )
        #expect(kills >= 20)
        #expect(killsWithWorkPending >= 5)
    }
}
