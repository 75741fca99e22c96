import Foundation
import Testing

@testable import SLAWatchCore

/// Service hours and announced maintenance: excluded time and events change the maths of
/// windows, compliance and verdicts, and no breach opens there (docs/objectives.md).
@Suite struct ServiceHoursTests {
    static let yaml = """
        slas:
          - name: checkout
            provider: platform
            customer: shop
            report_periods: [month]
            service_hours:
              hours: mon-fri 08:00-20:00
              holidays: [2026-11-26]
            maintenance:
              - {from: "2026-11-10T09:00:00Z", to: "2026-11-10T11:00:00Z", reason: database upgrade}
            objectives:
              - {name: latency, metric: latency, sli: max, window: 5m, direction: at_most, baseline: 100, unit: ms}
        """

    static func utc(_ s: String) -> Double { RFC3339.parse(s)! }

    /// November 2026 in 5-minute steps (a sample at each step's first second, evaluated 150 s
    /// in), 50 ms except 150 ms from `bad` spans.
    static func november(bad: [(String, String)]) throws -> (Engine, [Transition]) {
        let o = try #require(try ObjectivesConfig.parse(yaml, file: "checkout.yaml").first)
        var e = Engine(objectives: [o])
        let spans = bad.map { (utc($0.0), utc($0.1)) }
        var out: [Transition] = []
        var t = utc("2026-11-01T00:00:00Z")
        while t < utc("2026-12-01T00:05:00Z") {
            let value = spans.contains { t >= $0.0 && t < $0.1 } ? 150.0 : 50
            _ = e.ingest([Event(metric: "latency", value: value, kind: .distribution, time: t + 1)], now: t + 1)
            out += e.evaluate(at: t + 150)
            t += 300
        }
        return (e, out)
    }

    @Test func aMonthWithServiceHoursAHolidayAndMaintenance() throws {
        let (_, out) = try Self.november(bad: [
            ("2026-11-10T09:00:00Z", "2026-11-10T10:00:00Z"),  // in maintenance
            ("2026-11-14T10:00:00Z", "2026-11-14T12:00:00Z"),  // Saturday
            ("2026-11-26T10:00:00Z", "2026-11-26T11:00:00Z"),  // the holiday
            ("2026-11-17T14:00:00Z", "2026-11-17T15:00:00Z"),  // Tuesday, in service
        ])
        // One breach: the Tuesday hour; none in maintenance, on Saturday or on the holiday.
        #expect(out.filter { $0.kind == .breach }.map(\.at) == [Self.utc("2026-11-17T14:02:30Z")])
        #expect(out.filter { $0.kind == .recovery }.map(\.at) == [Self.utc("2026-11-17T15:02:30Z")])
        let started = try #require(out.first { $0.kind == .maintenanceStarted })
        #expect(started.at == Self.utc("2026-11-10T09:02:30Z"))
        #expect(started.periodEnd == Self.utc("2026-11-10T11:00:00Z"))
        #expect(started.maintenanceReason == "database upgrade")
        #expect(out.filter { $0.kind == .maintenanceEnded }.map(\.at) == [Self.utc("2026-11-10T11:02:30Z")])
        let report = try #require(out.first { $0.kind == .periodReport }?.report)
        // 20 service days (21 weekdays less the 26th) of 12 h, less 2 h of maintenance: 238 h
        // judged, 1 h of it in breach.
        #expect(report.met + report.breached == 238 * 3600)
        #expect(report.breached == 3600)
        #expect(report.unjudged == 150)  // before the first evaluation
        #expect(report.excluded == 30 * 86_400 - 150 - 238 * 3600)
        #expect(report.episodes == 1)
        #expect(report.compliance == 237.0 / 238.0)
        #expect(report.worstValue == 150)
        #expect(report.worstAt == Self.utc("2026-11-17T14:02:30Z"))
        let o = try #require(try ObjectivesConfig.parse(Self.yaml, file: "checkout.yaml").first)
        let fields = AlertEntry.fields(try #require(out.first { $0.kind == .periodReport }), o)
        #expect(fields.first { $0.0 == "SLAWATCH_TIME_EXCLUDED" }?.1 == "1735050")
        let message = try #require(fields.first { $0.0 == "MESSAGE" }?.1)
        #expect(
            message.contains(
                "1h in breach over 1 episode(s), 20d1h57m30s excluded (outside service hours or in maintenance)"
            ),
            "\(message)"
        )
        let maintenance = AlertEntry.fields(started, o)
        #expect(maintenance.first { $0.0 == "SLAWATCH_MAINTENANCE_REASON" }?.1 == "database upgrade")
        #expect(maintenance.first { $0.0 == "MESSAGE_ID" }?.1 == MessageID.maintenanceStarted)
    }

    /// Status says why an objective is not judged now.
    @Test func statusSaysOutsideServiceHoursOrInMaintenance() throws {
        let o = try #require(try ObjectivesConfig.parse(Self.yaml, file: "checkout.yaml").first)
        let e = Engine(objectives: [o])
        #expect(e.status(at: Self.utc("2026-11-14T10:00:00Z")).first?.outOfService == "outside service hours")
        #expect(
            e.status(at: Self.utc("2026-11-10T09:30:00Z")).first?.outOfService == "in maintenance (database upgrade)"
        )
        #expect(e.status(at: Self.utc("2026-11-10T12:00:00Z")).first?.outOfService == nil)
        #expect(e.status(at: Self.utc("2026-11-26T12:00:00Z")).first?.outOfService == "outside service hours")
    }

    @Test func spansAndTheirErrors() throws {
        let h = try ServiceHours(parsing: ["mon-fri 08:00-20:00", "sat 10:00-14:00", "fri-mon 22:00-24:00"])
        let berlin = TimeZone(identifier: "Europe/Berlin")!
        let utc = TimeZone(identifier: "UTC")!
        #expect(h.contains(Self.utc("2026-11-16T08:00:00Z"), zone: utc))  // Monday 08:00
        #expect(!h.contains(Self.utc("2026-11-16T07:59:59Z"), zone: utc))
        #expect(!h.contains(Self.utc("2026-11-16T20:00:00Z"), zone: utc))
        #expect(h.contains(Self.utc("2026-11-21T13:59:00Z"), zone: utc))  // Saturday
        #expect(h.contains(Self.utc("2026-11-22T23:30:00Z"), zone: utc))  // Sunday 23:30: fri-mon wraps
        #expect(!h.contains(Self.utc("2026-11-25T23:30:00Z"), zone: utc))  // Wednesday 23:30
        // 07:30 UTC is 08:30 in Berlin in November.
        #expect(h.contains(Self.utc("2026-11-16T07:30:00Z"), zone: berlin))
        for bad in ["mon-fri", "mon-fry 08:00-20:00", "mon 20:00-08:00", "mon 08:00-25:00", "mon 8-20"] {
            #expect(throws: ServiceHours.Invalid.self, "\(bad)") { try ServiceHours(parsing: [bad]) }
        }
        let text = Self.yaml.replacingOccurrences(of: "mon-fri 08:00-20:00", with: "weekdays 08:00-20:00")
        do {
            _ = try ObjectivesConfig.parse(text, file: "checkout.yaml")
            Issue.record("weekdays was accepted")
        } catch {
            let err = try #require(error.errors.first)
            #expect(err.line == 7)
            #expect(err.key == "slas[0].service_hours")
            #expect(err.message.contains("'weekdays' in 'weekdays 08:00-20:00' is not a day"))
        }
        let empty = Self.yaml.replacingOccurrences(of: "hours: mon-fri 08:00-20:00", with: "hours: []")
        #expect(throws: ConfigErrors.self) { try ObjectivesConfig.parse(empty, file: "checkout.yaml") }
        let backwards = Self.yaml.replacingOccurrences(
            of: "to: \"2026-11-10T11:00:00Z\"",
            with: "to: \"2026-11-10T08:00:00Z\""
        )
        #expect(throws: ConfigErrors.self) { try ObjectivesConfig.parse(backwards, file: "checkout.yaml") }
    }

    /// Maintenance windows that follow each other without a gap are one spell: one "started"
    /// naming the end of the whole span, one "ended".
    @Test func adjoiningMaintenanceIsOneSpell() throws {
        let text = Self.yaml.replacingOccurrences(
            of: "      - {from: \"2026-11-10T09:00:00Z\", to: \"2026-11-10T11:00:00Z\", reason: database upgrade}",
            with: """
                      - {from: "2026-11-10T09:00:00Z", to: "2026-11-10T11:00:00Z", reason: database upgrade}
                      - {from: "2026-11-10T10:30:00Z", to: "2026-11-10T12:00:00Z", reason: index rebuild}
                """
        )
        let o = try #require(try ObjectivesConfig.parse(text, file: "checkout.yaml").first)
        var e = Engine(objectives: [o])
        var out: [Transition] = []
        var t = Self.utc("2026-11-10T08:00:00Z")
        while t < Self.utc("2026-11-10T13:00:00Z") {
            out += e.evaluate(at: t)
            t += 60
        }
        let started = out.filter { $0.kind == .maintenanceStarted }
        #expect(started.map(\.at) == [Self.utc("2026-11-10T09:00:00Z")])
        #expect(started.first?.periodEnd == Self.utc("2026-11-10T12:00:00Z"))
        #expect(out.filter { $0.kind == .maintenanceEnded }.map(\.at) == [Self.utc("2026-11-10T12:00:00Z")])
        #expect(out.filter { $0.kind == .maintenanceEnded }.first?.maintenanceReason == "index rebuild")
    }
}
