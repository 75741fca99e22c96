import Foundation
import Testing

@testable import SLAWatchCore

private let seedObjective = Objective(
    name: "qualified-leads-monthly",
    sla: SLA(name: "leads-to-sales", provider: "marketing", customer: "sales"),
    metric: "leads.qualified",
    sli: .count,
    window: .calendar(.month),
    timeZone: "Europe/Paris",
    direction: .atLeast,
    baseline: Baseline(value: 100, kind: .expression, source: "10000 / 500 / 0.20"),
    severity: .warning,
    unit: "leads"
)

/// Runs the seed objective through October 2026 (Paris) with 42 leads and returns what the engine
/// decided when November started.
private func seedMonthTransitions() -> [Transition] {
    var engine = Engine(objectives: [seedObjective])
    let october = local(2026, 10, 1, offset: 2)
    let november = local(2026, 11, 1, offset: 1)
    _ = engine.evaluate(at: october + 60)
    let leads = (0..<42).map { i in
        Event(metric: "leads.qualified", value: 1, kind: .counter, time: october + Double(i) * 60_000)
    }
    for e in leads { _ = engine.ingest([e], now: e.time!) }
    return engine.evaluate(at: november + 1)
}

private func field(_ fields: [(String, String)], _ name: String) -> String? {
    fields.first { $0.0 == name }?.1
}

@Suite struct AlertEntryTests {
    @Test func seedBreachMessage() throws {
        let transitions = seedMonthTransitions()
        #expect(transitions.map(\.kind) == [.periodResult, .breach])
        let breach = try #require(transitions.last)
        #expect(breach.value == 42)
        #expect(breach.periodStart == 1_790_805_600)  // 2026-10-01T00:00:00+02:00
        let message = AlertEntry.message(breach, seedObjective)
        #expect(
            message
                == "qualified-leads-monthly breached: 42 leads in the month starting 2026-10-01, baseline at least 100 (marketing → sales)"
        )
        #expect(message.hasPrefix("qualified-leads-monthly "))
        #expect(message.contains("42 leads"))
        #expect(message.contains("baseline at least 100"))
        #expect(message.contains("(marketing → sales)"))

        let result = AlertEntry.message(transitions[0], seedObjective)
        #expect(
            result.hasPrefix("qualified-leads-monthly missed its target: 42 leads in the month starting 2026-10-01")
        )
    }

    @Test func breachFields() throws {
        let breach = try #require(seedMonthTransitions().last)
        let f = AlertEntry.fields(breach, seedObjective, extra: [("SLAWATCH_TEST_RUN", "r1")])
        #expect(field(f, "MESSAGE_ID") == MessageID.breach)
        #expect(field(f, "PRIORITY") == "4")
        #expect(field(f, "SYSLOG_IDENTIFIER") == "slawatch")
        #expect(field(f, "SLAWATCH_OBJECTIVE") == "qualified-leads-monthly")
        #expect(field(f, "SLAWATCH_SLA") == "leads-to-sales")
        #expect(field(f, "SLAWATCH_PROVIDER") == "marketing")
        #expect(field(f, "SLAWATCH_CUSTOMER") == "sales")
        #expect(field(f, "SLAWATCH_STATE") == "breached")
        #expect(field(f, "SLAWATCH_PREVIOUS_STATE") == "ok")
        #expect(field(f, "SLAWATCH_VALUE") == "42")
        #expect(field(f, "SLAWATCH_BASELINE") == "100")
        #expect(field(f, "SLAWATCH_BASELINE_KIND") == "expression")
        #expect(field(f, "SLAWATCH_BASELINE_SOURCE") == "10000 / 500 / 0.20")
        #expect(field(f, "SLAWATCH_DIRECTION") == "at_least")
        #expect(field(f, "SLAWATCH_WINDOW") == "month")
        #expect(field(f, "SLAWATCH_WINDOW_START") == "2026-09-30T22:00:00Z")
        #expect(field(f, "SLAWATCH_WINDOW_END") == "2026-10-31T23:00:00Z")
        #expect(field(f, "SLAWATCH_EPISODE") == breach.episode)
        #expect(breach.episode?.isEmpty == false)
        #expect(field(f, "SLAWATCH_TRANSITION") == "breach")
        #expect(field(f, "SLAWATCH_RESULT") == nil)
        #expect(f.last?.0 == "SLAWATCH_TEST_RUN")
        #expect(f.first?.0 == "MESSAGE")
        #expect(Set(f.map(\.0)).count == f.count)
    }

    @Test func everyFieldNameIsValidForJournald() {
        let o = seedObjective
        for kind in TransitionKind.allCases {
            for met in [nil, true, false] as [Bool?] {
                let t = Transition(
                    objective: o.name,
                    kind: kind,
                    from: .ok,
                    to: .breached,
                    at: 1_790_000_000,
                    value: 3.25,
                    baseline: 100,
                    episode: "1790000000-1",
                    periodStart: 1_790_805_600,
                    periodEnd: 1_793_487_600,
                    met: met
                )
                let fields = AlertEntry.fields(t, o)
                for (name, _) in fields {
                    #expect(isJournalFieldName(name), "\(name)")
                }
                #expect(field(fields, "MESSAGE_ID") == MessageID.of(kind))
                #expect(field(fields, "SLAWATCH_RESULT") == met.map { $0 ? "met" : "missed" })
                #expect(field(fields, "MESSAGE")?.hasPrefix(o.name + " ") == true)
            }
        }
    }

    @Test func messageIDsAreDistinct128BitLowercaseHex() {
        let all = [
            MessageID.breach, MessageID.recovery, MessageID.nodata, MessageID.pending, MessageID.pendingCleared,
            MessageID.dataResumed, MessageID.periodResult, MessageID.inputRejected, MessageID.fileIngested,
            MessageID.fileFailed, MessageID.started, MessageID.storeFailure, MessageID.journalDropped,
        ]
        for id in all {
            #expect(id.utf8.count == 32, "\(id)")
            #expect(id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }, "\(id)")
        }
        #expect(Set(all).count == all.count)
        let perKind = TransitionKind.allCases.map(MessageID.of)
        #expect(Set(perKind).count == TransitionKind.allCases.count)
    }

    @Test func priorities() {
        let o = seedObjective
        func t(_ kind: TransitionKind, met: Bool? = nil) -> Transition {
            Transition(
                objective: o.name,
                kind: kind,
                from: .ok,
                to: .ok,
                at: 0,
                value: 1,
                baseline: 1,
                episode: nil,
                periodStart: 0,
                periodEnd: 1,
                met: met
            )
        }
        #expect(AlertEntry.priority(t(.breach), o) == 4)
        #expect(AlertEntry.priority(t(.recovery), o) == 5)
        #expect(AlertEntry.priority(t(.nodata), o) == 4)
        #expect(AlertEntry.priority(t(.pending), o) == 6)
        #expect(AlertEntry.priority(t(.periodResult, met: true), o) == 5)
        #expect(AlertEntry.priority(t(.periodResult, met: false), o) == 4)
        var crit = o
        crit.severity = .crit
        #expect(AlertEntry.priority(t(.breach), crit) == 2)
        #expect(AlertEntry.priority(t(.nodata), crit) == 2)
        var info = o
        info.severity = .info
        #expect(AlertEntry.priority(t(.nodata), info) == 4)
    }

    @Test func rollingMessagesAndNumbers() {
        let o = Objective(
            name: "api-errors-5m",
            sla: SLA(name: "api-for-web", provider: "platform", customer: "web"),
            metric: "api.requests.failed",
            sli: .avg,
            window: .rolling(seconds: 300),
            direction: .atMost,
            baseline: Baseline(value: 50, kind: .fixed, source: "50"),
            forSeconds: 60
        )
        let t = Transition(
            objective: o.name,
            kind: .pending,
            from: .ok,
            to: .pending,
            at: 1000,
            value: 2.0 / 3,
            baseline: 50,
            episode: nil,
            periodStart: 700,
            periodEnd: 1000,
            met: nil
        )
        #expect(
            AlertEntry.message(t, o)
                == "api-errors-5m pending (breach after 1m): 0.667 avg over the last 5m, baseline at most 50 (platform → web)"
        )
        var nd = t
        nd.kind = .nodata
        nd.value = nil
        #expect(
            AlertEntry.message(nd, o)
                == "api-errors-5m has no data: no api.requests.failed events over the last 5m (platform → web)"
        )
        #expect(AlertEntry.number(42) == "42")
        #expect(AlertEntry.number(2.5) == "2.5")
        #expect(AlertEntry.number(-0.125) == "-0.125")
        #expect(AlertEntry.number(1.0 / 3) == "0.333")
        #expect(AlertEntry.number(0.0004) == "0.0004")  // small rates keep their digits
        #expect(AlertEntry.number(.infinity) == "+Inf")
        #expect(AlertEntry.number(12.3456) == "12.346")
    }

    @Test func localDateUsesTheObjectiveZone() {
        // 2026-09-30T22:00:00Z is already October 1st in Paris, still September 30th in New York.
        #expect(AlertEntry.localDate(1_790_805_600, "Europe/Paris") == "2026-10-01")
        #expect(AlertEntry.localDate(1_790_805_600, "America/New_York") == "2026-09-30")
        #expect(AlertEntry.localDate(1_790_805_600, "UTC") == "2026-09-30")
    }
}
