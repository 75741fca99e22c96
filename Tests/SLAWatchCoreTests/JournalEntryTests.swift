import Testing

@testable import SLAWatchCore

/// Typed journal entries render the same way everywhere: `MESSAGE`, `MESSAGE_ID`, `PRIORITY`
/// (the syslog digit), `SYSLOG_IDENTIFIER=slawatch`, then the fields in order.
@Suite struct JournalEntryTests {
    @Test func rendersInAFixedOrderWithIdentifierAndPriorityDigit() {
        var e = JournalEntry(
            MessageID.inputRejected,
            priority: .warning,
            message: "rejected 2 input item(s)",
            fields: ["SLAWATCH_SOURCE": "stream:uid=0", "SLAWATCH_REJECTED": "2"]
        )
        e.append("SLAWATCH_SOURCE", "again")
        let f = e.journalFields
        #expect(
            f.map(\.0) == [
                "MESSAGE", "MESSAGE_ID", "PRIORITY", "SYSLOG_IDENTIFIER", "SLAWATCH_SOURCE", "SLAWATCH_REJECTED",
                "SLAWATCH_SOURCE",
            ]
        )
        #expect(
            f.map(\.1) == [
                "rejected 2 input item(s)", MessageID.inputRejected, "4", "slawatch", "stream:uid=0", "2", "again",
            ]
        )
        #expect(e["SLAWATCH_SOURCE"] == "stream:uid=0")
        #expect(e[.priority] == "4")
        #expect(e["SLAWATCH_MISSING"] == nil)
        #expect(e.transition == nil)
    }

    /// An alert entry says which transition it announces as a property (the storm limiter
    /// counts by it), the same value as its `SLAWATCH_TRANSITION` field.
    @Test func alertEntriesCarryTheirTransitionKind() {
        let o = Objective(
            name: "api",
            sla: SLA(name: "s", provider: "p", customer: "c"),
            metric: "m",
            sli: .count,
            window: .rolling(seconds: 60),
            direction: .atMost,
            baseline: Baseline(value: 1, kind: .fixed, source: "1")
        )
        for kind in TransitionKind.allCases {
            let t = Transition(
                objective: "api",
                kind: kind,
                from: .ok,
                to: .breached,
                at: 60,
                value: 2,
                baseline: 1,
                episode: "60-1",
                periodStart: 0,
                periodEnd: 60,
                met: nil
            )
            let e = AlertEntry.entry(t, o)
            #expect(e.transition == kind)
            #expect(e[.transition] == kind.rawValue)
            #expect(e.messageID == MessageID.of(kind))
            #expect(e.journalFields.filter { $0.0 == "PRIORITY" }.count == 1)
        }
    }
}
