import Foundation
import Testing

@testable import SLAWatchCore

/// Series state (etsy gauge levels, cumulative-counter bases) is kept only for metrics an
/// objective uses, and at most `maxSeries` of it: memory stays bounded whatever senders invent.
@Suite struct SeriesLimitTests {
    static let objectives = try! ObjectivesConfig.parse(
        """
        slas:
          - name: s
            provider: p
            customer: c
            objectives:
              - {name: depth, metric: queue.depth, sli: max, window: 10m, direction: at_most, baseline: 100, nodata: ok}
              - {name: bytes, metric: net.bytes, sli: sum, window: 10m, direction: at_most, baseline: 1e12, nodata: ok}
        """,
        file: "o.yaml"
    )

    @Test func unusedMetricsKeepNoSeriesAndTheCapRefusesNewOnes() {
        var e = Engine(objectives: Self.objectives)
        e.tracksGaugeLevels = true
        e.maxSeries = 3
        // 1,000 series of a metric no objective uses: nothing kept, all accepted (and ignored).
        let unused = (0..<1000).map {
            Event(metric: "made.up", value: 1, kind: .gauge, labels: ["id": "\($0)"], time: 100)
        }
        #expect(e.ingest(unused, now: 100).accepted == 1000)
        #expect(e.gaugeLevels.isEmpty)
        // Used series: two gauges and one cumulative counter fill the cap; the fourth is refused.
        let r = e.ingest(
            [
                Event(metric: "queue.depth", value: 5, kind: .gauge, labels: ["q": "a"], time: 100),
                Event(metric: "queue.depth", value: 7, kind: .gauge, labels: ["q": "b"], time: 100),
                Event(metric: "net.bytes", value: 1000, kind: .cumulative, labels: ["if": "eth0"], time: 100),
                Event(metric: "queue.depth", value: 9, kind: .gauge, labels: ["q": "c"], time: 100),
                Event(metric: "net.bytes", value: 50, kind: .cumulative, labels: ["if": "eth1"], time: 100),
                // A known series goes on.
                Event(metric: "queue.depth", value: 3, kind: .gauge, labels: ["q": "a"], time: 101),
            ],
            now: 101
        )
        #expect(r.rejected.map(\.index) == [3, 4])
        #expect(r.rejected.map(\.reason) == [.seriesLimit, .seriesLimit])
        #expect(r.accepted == 4)
        #expect(e.gaugeLevels.count == 2)
        #expect(e.seriesRefused == 2)
        #expect(e.takeSeriesLimitNotice() == 3)
        #expect(e.takeSeriesLimitNotice() == nil)  // one journal entry per run
        let depth = e.status(at: 101).first { $0.objective == "depth" }
        #expect(depth?.value == 7)  // the refused 9 is not counted
    }

    @Test func restoredSeriesOfMetricsNoLongerUsedAreLeftOut() {
        var e = Engine(objectives: Self.objectives)
        e.tracksGaugeLevels = true
        e.maxSeries = 2
        e.restoreGaugeLevels([
            "queue.depth{q=a}": 4, "gone.metric{x=1}": 8, Engine.cumulativePrefix + "net.bytes{if=eth0}": 100,
            "queue.depth{q=b}": 6,
        ])
        #expect(e.gaugeLevels["gone.metric{x=1}"] == nil)
        #expect(e.persistedLevels.count == 2)
    }
}
