import Foundation
import SLAWatchTestSupport
import Testing

@testable import Systemd

@Suite struct JournalFieldNameTests {
    @Test(arguments: ["MESSAGE", "SLAWATCH_OBJECTIVE", "A", "X9_", String(repeating: "A", count: 64)])
    func validNames(_ name: String) {
        #expect(Journal.isValidFieldName(name))
    }

    @Test(arguments: [
        "", "lowercase", "_TRUSTED", "9DIGIT", "WITH-DASH", "WITH SPACE", "ÉTÉ", String(repeating: "A", count: 65),
    ])
    func invalidNames(_ name: String) {
        #expect(!Journal.isValidFieldName(name))
    }

    @Test func invalidNameIsRefusedBeforeSending() {
        #expect(throws: Journal.SendError.invalidFieldName("bad-name")) {
            try Journal.send(fields: [("MESSAGE", "x"), ("bad-name", "y")])
        }
    }

    @Test func fullQueueDropsAndCountsInsteadOfBlocking() {
        // Capacity 0: every enqueue is refused immediately; the caller never waits.
        let writer = JournalWriter(capacity: 0, forceStderr: true) { n in [("MESSAGE", "dropped \(n)")] }
        for _ in 0..<25 { #expect(!writer.enqueue([("MESSAGE", "x")])) }
        #expect(writer.droppedCount == 25)
        writer.shutdown()
    }

    @Test func stderrLineKeepsEveryFieldOnOneLine() {
        let line = Journal.stderrLine([
            ("MESSAGE", "two\nlines"), ("PRIORITY", "3"), ("SLAWATCH_STATE", "breached"), ("SLAWATCH_SLA", "a b"),
        ])
        #expect(line == "<3> two\\nlines [SLAWATCH_STATE=breached SLAWATCH_SLA=\"a b\"]")
        #expect(!line.contains("\n"))
    }
}

/// Writes from this process: only when it runs inside the tests' own journal (`make test` runs
/// the test binary through scripts/test-journal.sh), never into the operator's.
@Suite(
    .serialized,
    .enabled(
        if: TestJournal.isCurrentProcessIsolated && Journal.isAvailable,
        "needs the tests' own journal (make test)"
    )
)
struct JournalRoundTripTests {
    @Test func sendvEntryIsReadBackWithEveryField() throws {
        let run = UUID().uuidString
        try Journal.send(fields: [
            ("MESSAGE", "round trip\nsecond line"), ("PRIORITY", "4"), ("SYSLOG_IDENTIFIER", "slawatch-test"),
            ("SLAWATCH_TEST_RUN", run), ("SLAWATCH_VALUE", "42"),
        ])
        let entries = try readBack(run, expecting: 1)
        let e = try #require(entries.first)
        #expect(e["MESSAGE"] == "round trip\nsecond line")
        #expect(e["PRIORITY"] == "4")
        #expect(e["SYSLOG_IDENTIFIER"] == "slawatch-test")
        #expect(e["SLAWATCH_VALUE"] == "42")
        #expect(e["_TRANSPORT"] == "journal")
    }

    @Test func writerDeliversEveryQueuedEntryInOrder() throws {
        let run = UUID().uuidString
        let writer = JournalWriter(capacity: 1000) { n in [("MESSAGE", "dropped \(n)")] }
        #expect(writer.writesToJournal)
        for i in 0..<200 {
            #expect(writer.enqueue([("MESSAGE", "entry \(i)"), ("SLAWATCH_TEST_RUN", run), ("SLAWATCH_N", String(i))]))
        }
        #expect(writer.flush(timeout: 10))
        writer.shutdown()
        #expect(writer.writtenCount == 200)
        #expect(writer.droppedCount == 0)
        let entries = try readBack(run, expecting: 200)
        #expect(entries.map { $0["SLAWATCH_N"] ?? "" } == (0..<200).map(String.init))
    }

    private func readBack(_ run: String, expecting n: Int) throws -> [[String: String]] {
        var entries: [[String: String]] = []
        for _ in 0..<100 {
            TestJournal.sync()
            entries = try JournalReader.entries(
                matching: ["SLAWATCH_TEST_RUN=\(run)"],
                namespace: TestJournal.namespace
            )
            if entries.count >= n { break }
            usleep(50_000)
        }
        #expect(entries.count == n)
        return entries
    }
}
