import Foundation
import Testing

@testable import SLAWatchCore

/// The objectives table of `slawatch status`: 80 columns, names cut with an ellipsis, ASCII
/// without a terminal, colours only when asked, detail lines for pace, budget and pending, and
/// the sparkline against the baseline.
@Suite struct StatusTableTests {
    static let now = 1_796_300_000.0

    static func status(
        _ objective: String,
        sla: String = "api",
        sli: SLIKind = .max,
        value: Double?,
        baseline: Double,
        direction: Direction = .atMost,
        state: AlertState = .ok,
        unit: String? = "ms"
    ) -> Engine.Status {
        var s = Engine.Status(
            objective: objective,
            sla: sla,
            provider: "platform",
            customer: "web",
            metric: "m",
            sli: sli,
            window: "5m",
            value: value,
            baseline: baseline,
            baselineKind: "fixed",
            baselineSince: nil,
            direction: direction,
            state: state,
            since: now - 600,
            episode: nil,
            errorBudget: nil,
            budgetRemaining: nil,
            burnRate: nil,
            lastSeen: now - 5
        )
        s.unit = unit
        return s
    }

    static var statuses: [Engine.Status] {
        var latency = status("checkout-latency-p95-with-a-very-long-name", value: 412.5, baseline: 300, state: .pending)
        latency.breachesAt = now + 40
        latency.trend = [200, 210, nil, 250, 320, 412.5]
        var avail = status("availability", sli: .ratio, value: 0.9995, baseline: 0.999, direction: .atLeast, unit: nil)
        avail.errorBudget = 10
        avail.budgetRemaining = 5
        avail.burnRate = 0.5
        var leads = status(
            "qualified-leads",
            sla: "leads-to-sales",
            sli: .count,
            value: 31,
            baseline: 100,
            direction: .atLeast,
            unit: "leads"
        )
        leads.window = "month"
        leads.pace = .init(
            periodStart: 0,
            periodEnd: 1,
            elapsed: 0.4,
            expected: 40,
            projection: 77.5,
            outlook: "at risk"
        )
        return [latency, avail, leads]
    }

    @Test func unicodeAt80ColumnsWithDetails() {
        let text = StatusTable(width: 80, unicode: true, color: false).render(Self.statuses, now: Self.now)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.allSatisfy { $0.count <= 80 }, "\(lines.map(\.count))")
        #expect(
            lines == [
                "OBJECTIVE               WINDOW        VALUE BASELINE     STATE        TREND",
                "api (platform → web)",
                "  checkout-latency-p95… 5m         412.5 ms ≤ 300 ms     pending 10m  ▁▁ ▂▅█",
                "      breaches in 40s if it stays bad",
                "  availability          5m          99.95 % ≥ 99.9 %     ok 10m",
                "      error budget: 50% left, burn rate 0.5",
                "leads-to-sales (platform → web)",
                "  qualified-leads       month      31 leads ≥ 100 leads  ok 10m",
                "      pace: at risk, 40 leads expected by now, 77.5 leads projected",
            ]
        )
    }

    /// A baseline that is not a fixed number says its kind, season and age under the row.
    @Test func anAdaptiveBaselineSaysSo() {
        var s = Self.status("requests", sli: .avg, value: 120, baseline: 180, direction: .atMost, unit: nil)
        s.baselineKind = "adaptive"
        s.baselineSeason = "hour_of_week"
        s.baselineSince = Self.now - 2400
        let lines = StatusTable(width: 80, unicode: true).render([s], now: Self.now).split(separator: "\n")
        #expect(lines.contains("      baseline: adaptive (hour_of_week), in force for 40m"))
    }

    @Test func asciiWithoutATerminalAndColoursOnlyWhenAsked() {
        let plain = StatusTable(width: 80, unicode: false, color: false).render(Self.statuses, now: Self.now)
        #expect(plain.unicodeScalars.allSatisfy { $0.isASCII })
        #expect(plain.contains("checkout-latency-p... 5m"))
        #expect(plain.contains("<= 300 ms"))
        #expect(plain.contains("api (platform -> web)"))
        #expect(plain.contains("pending 10m  __ .-^"))
        #expect(!plain.contains("\u{1B}"))
        let coloured = StatusTable(width: 80, unicode: true, color: true).render(Self.statuses, now: Self.now)
        #expect(coloured.contains("\u{1B}[33mpending 10m "))  // pending in yellow
        #expect(coloured.contains("\u{1B}[31mpace: at risk"))
        // The bad-side bars of the sparkline (above 300 ms) in red.
        #expect(coloured.contains("▂\u{1B}[31m▅\u{1B}[0m\u{1B}[31m█\u{1B}[0m"))
        // Wider terminals give the names the room.
        let wide = StatusTable(width: 120, unicode: true, color: false).render(Self.statuses, now: Self.now)
        #expect(wide.contains("  checkout-latency-p95-with-a-very-long-name "))
    }
}
