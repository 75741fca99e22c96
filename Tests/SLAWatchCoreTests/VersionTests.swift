import Foundation
import Testing

@testable import SLAWatchCore

/// Objective versions: a definition dated ahead (`effective_from`) takes over at its date,
/// with the windows and state kept, and reports name the change.
@Suite struct VersionTests {
    static let text = """
        slas:
          - name: api
            provider: platform
            customer: web
            objectives:
              - name: availability
                metric: req
                sli: ratio
                good: {labels: {status: "!~5.."}}
                window: 1h
                direction: at_least
                baseline: 99.5%
              - name: availability
                effective_from: 2027-01-01
                time_zone: Europe/Paris
                metric: req
                sli: ratio
                good: {labels: {status: "!~5.."}}
                window: 1h
                direction: at_least
                baseline: 99.9%
        """

    @Test func aDatedVersionIsReadWithItsLocalMidnight() throws {
        let all = try ObjectivesConfig.parse(Self.text, file: "v.yaml")
        #expect(all.count == 2)
        // 2027-01-01 00:00 in Paris is 2026-12-31 23:00 UTC.
        #expect(all[1].effectiveFrom == RFC3339.parse("2026-12-31T23:00:00Z"))
        let before = Objective.inForce(all, at: RFC3339.parse("2026-12-31T22:59:59Z")!)
        #expect(before.map(\.baseline.value) == [0.995])
        let after = Objective.inForce(all, at: RFC3339.parse("2026-12-31T23:00:00Z")!)
        #expect(after.map(\.baseline.value) == [0.999])
        #expect(Objective.nextVersionChange(all, after: 0) == RFC3339.parse("2026-12-31T23:00:00Z"))
    }

    @Test func twoVersionsWithOneDateOrNoneAreAnError() {
        let same = Self.text.replacingOccurrences(of: "        effective_from: 2027-01-01\n", with: "")
        #expect(
            objectiveErrors(same, file: "v.yaml").map(\.message) == [
                "objective 'availability' is already defined at v.yaml:6"
            ]
        )
        let bad = Self.text.replacingOccurrences(of: "2027-01-01", with: "next year")
        #expect(objectiveErrors(bad, file: "v.yaml").map(\.key) == ["slas[0].objectives[1].effective_from"])
    }

    /// 1,000 requests a minute, 3 of them failing (99.7 %): met against 99.5 %, breached from
    /// the minute 99.9 % takes effect, the window's hour of data kept across the change.
    @Test func theEngineSwitchesAtTheDateKeepingItsWindows() throws {
        let all = try ObjectivesConfig.parse(Self.text, file: "v.yaml")
        let change = try #require(RFC3339.parse("2026-12-31T23:00:00Z"))
        let start = change - 3600
        var e = Engine(objectives: all, at: start)
        #expect(e.objectives.map(\.baseline.value) == [0.995])
        var entries: [(Double, TransitionKind, Double?)] = []
        for m in 0..<70 {
            let t = start + Double(m) * 60
            _ = e.ingest(
                [
                    Event(metric: "req", value: 997, kind: .counter, labels: ["status": "200"], time: t),
                    Event(metric: "req", value: 3, kind: .counter, labels: ["status": "503"], time: t),
                ],
                now: t
            )
            for x in e.evaluate(at: t + 30) { entries.append((t + 30 - change, x.kind, x.value)) }
        }
        #expect(e.versionChanges == 1)
        #expect(e.objectives.map(\.baseline.value) == [0.999])
        // The first evaluation after the date breaches, at the window's full-hour value.
        #expect(entries.count == 1)
        #expect(entries.first?.0 == 30)
        #expect(entries.first?.1 == .breach)
        #expect(abs((entries.first?.2 ?? 0) - 0.997) < 1e-12)
        #expect(e.status(at: change + 4200).first?.baseline == 0.999)
    }

    @Test func aReportNamesTheChangeInsideItsPeriod() throws {
        let all = try ObjectivesConfig.parse(Self.text, file: "v.yaml")
        let week = (RFC3339.parse("2026-12-28T00:00:00Z")!, RFC3339.parse("2027-01-04T00:00:00Z")!)
        let month = (RFC3339.parse("2026-11-01T00:00:00Z")!, RFC3339.parse("2026-12-01T00:00:00Z")!)
        let rows = PeriodReport.rows(
            [
                ("availability", week.0, week.1, 0.997, 0.999, false),
                ("availability", month.0, month.1, 0.997, 0.995, true),
            ],
            objectives: all,
            changes: [("availability", RFC3339.parse("2026-12-31T23:00:00Z")!, ["baseline 99.5% → 99.9%"])]
        )
        #expect(rows[0].definitionChanges == ["2026-12-31T23:00:00Z: baseline 99.5% → 99.9%"])
        #expect(rows[1].definitionChanges == nil)  // November: before it
        let text = PeriodReport.render(rows, format: .text)
        #expect(
            text.contains(
                "  2026-12-28T00:00:00Z/2027-01-04T00:00:00Z: changed 2026-12-31T23:00:00Z: baseline 99.5% → 99.9%\n"
            )
        )
        let csv = PeriodReport.render(rows, format: .csv)
        #expect(csv.contains(",2026-12-31T23:00:00Z: baseline 99.5% → 99.9%\r\n"))
    }
}
