import Foundation
import SLAWatchCore
import SLAWatchTestSupport
import Testing

/// SLA-truth corners as the running daemon reports them (issue 13): `status --json` and the
/// journal entry of a ratio with more good events than events, and the coverage of a window
/// younger than its length.
@Suite(.serialized)
struct SLATruthDaemonTests {
    @Test func anInvalidRatioAndAYoungWindowInStatusAndJournal() throws {
        let id = runID()
        let daemon = try TestDaemon(
            objectivesYAML: """
                slas:
                  - name: truth-\(id)
                    provider: p
                    customer: c
                    objectives:
                      - {name: delivery-\(id), metric: sent.\(id), sli: ratio, good: {metric: delivered.\(id)},
                         window: 1h, direction: at_least, baseline: 0.98, nodata: ok}
                      - {name: throughput-\(id), metric: jobs.\(id), sli: rate, window: 1h, direction: at_least,
                         baseline: 0.5, nodata: ok}
                """
        )
        try daemon.start()
        defer { daemon.stop() }
        #expect(try daemon.push(["sent.\(id):10|c", "delivered.\(id):12|c", "jobs.\(id):5|c"]).0 == 0)
        func objective(_ name: String) throws -> [String: Any]? {
            (try daemon.status()["objectives"] as? [[String: Any]])?.first { $0["objective"] as? String == name }
        }
        let delivery = try #require(try objective("delivery-\(id)"))
        #expect(delivery["invalid"] as? String == "12 good events of 10 in all")
        #expect(delivery["value"] is NSNull)
        #expect(delivery["errorBudget"] is NSNull)
        let throughput = try #require(try objective("throughput-\(id)"))
        let coverage = try #require(throughput["coverage"] as? Double)
        #expect(coverage > 0 && coverage < 0.05)
        // 5 jobs over the few seconds covered: far above 0.5/s, not 5/3600.
        #expect((throughput["value"] as? Double ?? 0) > 0.5)
        if TestJournal.isAvailable {
            #expect(
                waitUntil(10) {
                    (try? journalEntries(["MESSAGE_ID=\(MessageID.ratioInvalid)", "SLAWATCH_OBJECTIVE=delivery-\(id)"]))?
                        .count == 1
                }
            )
            let e = try journalEntries(["MESSAGE_ID=\(MessageID.ratioInvalid)", "SLAWATCH_OBJECTIVE=delivery-\(id)"])
            #expect(e.first?["SLAWATCH_GOOD_EVENTS"] == "12")
            #expect(e.first?["SLAWATCH_TOTAL_EVENTS"] == "10")
            #expect(e.first?["PRIORITY"] == "4")
            // Not judged: no breach for an SLI of 1.2 nor for 0.0014 jobs a second.
            usleep(1_500_000)
            #expect(try journalEntries(["MESSAGE_ID=\(MessageID.breach)", "SLAWATCH_SLA=truth-\(id)"]).isEmpty)
        }
    }
}
