import Foundation
import Testing

@testable import SLAWatchCore

/// When each objective's metric was last seen: the event time of the newest event counted in its
/// window, per instance, kept across restarts, and only for what a drop file commits.
@Suite struct LastSeenTests {
    static let objectives = try! ObjectivesConfig.parse(
        """
        slas:
          - name: s
            provider: p
            customer: c
            objectives:
              - {name: errors, metric: api.errors, sli: count, window: 10m, direction: at_most, baseline: 5, nodata: ok}
              - {name: cart, metric: api.errors, labels: {route: /cart}, sli: count, window: 10m, direction: at_most, baseline: 5, nodata: ok}
              - {name: typo, metric: api.erors, sli: count, window: 10m, direction: at_most, baseline: 5, nodata: ok}
              - {name: per-customer, metric: api.errors, group_by: [customer], sli: count, window: 10m, direction: at_most, baseline: 5, nodata: ok}
        """,
        file: "o.yaml"
    )

    func lastSeen(_ e: Engine, now: Double) -> [String: Double?] {
        Dictionary(uniqueKeysWithValues: e.status(at: now).map { ($0.objective, $0.lastSeen) })
    }

    @Test func newestCountedEventTimePerInstanceAcrossARestart() {
        var e = Engine(objectives: Self.objectives)
        _ = e.ingest(
            [
                Event(
                    metric: "api.errors",
                    value: 1,
                    kind: .counter,
                    labels: ["route": "/x", "customer": "acme"],
                    time: 1000
                ),
                Event(
                    metric: "api.errors",
                    value: 1,
                    kind: .counter,
                    labels: ["route": "/cart", "customer": "acme"],
                    time: 990
                ),
                // Late but inside the window: counted, yet older than what was seen.
                Event(metric: "api.errors", value: 1, kind: .counter, labels: ["customer": "zed"], time: 700),
            ],
            now: 1000
        )
        var seen = lastSeen(e, now: 1000)
        #expect(seen["errors"] == 1000)
        #expect(seen["cart"] == 990)
        #expect(seen["typo"] == .some(nil))
        #expect(seen["per-customer{customer=acme}"] == 1000)
        #expect(seen["per-customer{customer=zed}"] == 700)
        // Too late for every window: rejected, not "seen".
        let r = e.ingest([Event(metric: "api.errors", value: 1, kind: .counter, time: 100)], now: 1000)
        #expect(r.rejected.map(\.reason) == [.tooLate])
        #expect(lastSeen(e, now: 1000)["errors"] == 1000)
        // A restart keeps it (InstanceState.lastSeen in the snapshot).
        var restarted = Engine(objectives: Self.objectives)
        restarted.restore(e.allSnapshots())
        seen = lastSeen(restarted, now: 1001)
        #expect(seen["errors"] == 1000)
        #expect(seen["typo"] == .some(nil))
        #expect(seen["per-customer{customer=zed}"] == 700)
    }

    @Test func aDropFileCountsOnlyOnceCommitted() {
        var e = Engine(objectives: Self.objectives)
        e.beginStaging()
        _ = e.ingest(
            EventBatch([Event(metric: "api.errors", value: 1, kind: .counter, time: 500)]),
            now: 600,
            staged: true
        )
        #expect(lastSeen(e, now: 600)["errors"] == .some(nil))
        e.discardStaging()
        #expect(lastSeen(e, now: 600)["errors"] == .some(nil))
        e.beginStaging()
        _ = e.ingest(
            EventBatch([Event(metric: "api.errors", value: 1, kind: .counter, time: 550)]),
            now: 600,
            staged: true
        )
        e.commitStaging(now: 600)
        #expect(lastSeen(e, now: 600)["errors"] == 550)
    }
}
