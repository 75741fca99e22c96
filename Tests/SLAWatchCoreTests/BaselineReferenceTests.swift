import Foundation
import Testing

@testable import SLAWatchCore

/// Expression baselines over other objectives' current values, and `effective_from` for every
/// baseline change.
@Suite struct BaselineReferenceTests {
    private let text = """
        slas:
          - name: leads-to-sales
            provider: marketing
            customer: sales
            objectives:
              - {name: sales-target, metric: sales.target, sli: max, window: 30d, direction: at_least, baseline: 0, nodata: ok}
              - {name: deal-size, metric: deal.size, sli: avg, window: 30d, direction: at_least, baseline: 0, nodata: ok}
              - name: qualified-leads
                metric: leads.qualified
                sli: count
                window: 30d
                direction: at_least
                baseline: ${sales-target} / ${deal-size} / 0.20
                nodata: ok
        """

    @Test func theBaselineFollowsTheObjectivesItNames() throws {
        let objectives = try ObjectivesConfig.parse(text, file: "l.yaml")
        let leads = try #require(objectives.last)
        #expect(leads.baseline.kind == .expression)
        #expect(leads.baseline.references == ["sales-target", "deal-size"])
        var e = Engine(objectives: objectives)
        // The daemon has watched for a whole window already (an "at least" count is judged
        // only once its window is covered by history).
        #expect(e.evaluate(at: 100 - 30 * 86400).isEmpty)
        // No sales target yet: the baseline is untrusted and nothing is judged.
        _ = e.ingest([Event(metric: "leads.qualified", value: 50, kind: .counter, time: 100)], now: 100)
        // (The weekly and monthly report periods of the month before close; no state changes.)
        #expect(e.evaluate(at: 110).filter { $0.kind != .periodReport }.isEmpty)
        // Target 10,000 and deals of 500 at a 20% close rate: 100 leads needed, 50 is short.
        _ = e.ingest(
            [
                Event(metric: "sales.target", value: 10000, kind: .gauge, time: 120),
                Event(metric: "deal.size", value: 500, kind: .gauge, time: 120),
            ],
            now: 120
        )
        let t = e.evaluate(at: 130)
        #expect(t.map(\.kind) == [.breach])
        #expect(t.first?.baseline == 100)
        let f = Dictionary(AlertEntry.fields(t[0], leads), uniquingKeysWith: { a, _ in a })
        #expect(f["SLAWATCH_BASELINE_SOURCE"] == "${sales-target} / ${deal-size} / 0.20")
        #expect(f["SLAWATCH_BASELINE_KIND"] == "expression")
        #expect(f["SLAWATCH_BASELINE_SINCE"] == RFC3339.format(130))
        // Bigger deals lower the bar to 50: recovered, and the baseline's effective_from moves.
        _ = e.ingest([Event(metric: "deal.size", value: 1500, kind: .gauge, time: 200)], now: 200)
        let r = e.evaluate(at: 210)
        #expect(r.map(\.kind) == [.recovery])
        #expect(r.first?.baseline == 50)
        #expect(e.status().last?.baselineSince == 210)
    }

    @Test func anEditedBaselineRecordsWhenItTookEffect() {
        let o = Objective(
            name: "o",
            sla: SLA(name: "s", provider: "p", customer: "c"),
            metric: "m",
            sli: .count,
            window: .rolling(seconds: 600),
            direction: .atLeast,
            baseline: Baseline(value: 10, kind: .fixed, source: "10"),
            nodata: .ok
        )
        var a = Engine(objectives: [o])
        _ = a.evaluate(at: 100 - 600)  // a window of history
        _ = a.ingest([Event(metric: "m", value: 12, kind: .counter, time: 100)], now: 100)
        _ = a.evaluate(at: 100)
        #expect(a.status().first?.baselineSince == 100)
        // A reload with baseline 20: the state is kept, the new baseline takes effect at once.
        var edited = o
        edited.baseline = Baseline(value: 20, kind: .fixed, source: "20")
        var b = Engine(objectives: [edited])
        b.restore(a.allSnapshots())
        let t = b.evaluate(at: 150)
        #expect(t.map(\.kind) == [.breach])
        #expect(t.first?.baselineSince == 150)
        #expect(b.status().first?.baselineSince == 150)
    }

    @Test func referencesMustNameOtherObjectives() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slawatch-refs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try text.replacingOccurrences(of: "${deal-size}", with: "${deal-sizes}")
            .write(to: dir.appendingPathComponent("l.yaml"), atomically: true, encoding: .utf8)
        do throws(ConfigErrors) {
            _ = try ObjectivesConfig.load(directory: dir.path)
            Issue.record("accepted")
        } catch {
            #expect(error.errors.first?.message == "'${deal-sizes}' is not an objective; did you mean ${deal-size}?")
            // The baseline's own line and key path, not the objective's.
            #expect(error.errors.first?.line == 13)
            #expect(error.errors.first?.key == "slas[0].objectives[2].baseline")
            #expect(error.errors.first?.file.hasSuffix("l.yaml") == true)
        }
        #expect(BaselineExpression.references("${a} * (2 + ${b-c})") == ["a", "b-c"])
        #expect(throws: BaselineExpression.ParseError.self) { try BaselineExpression.evaluate("${a} +") { _ in 1 } }
    }
}
