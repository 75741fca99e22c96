import Foundation
import GRDB
import Testing

@testable import SLAWatchCore
@testable import SLAWatchStore

/// SLI history in the store: written with a commit, read back per series, a step written twice
/// replaced, and old points deleted by retention (5-minute after 35 days, hourly and period
/// verdicts after `period_retention`).
@Suite struct SLIHistoryStoreTests {
    static let now = 1_796_000_000.0

    static func point(_ name: String, step: Int, ago: Double, value: Double?, breached: Bool = false) -> HistoryPoint {
        let start = Int64(((now - ago) / Double(step)).rounded(.down)) * Int64(step)
        return HistoryPoint(
            instance: name,
            step: step,
            start: start,
            value: value,
            worst: value.map { $0 * 2 },
            baseline: 100,
            breached: breached
        )
    }

    @Test func pointsRoundTripAndRetentionDeletesOldOnes() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "slawatch-history-\(UUID().uuidString)/state.sqlite"
        ).path
        let store = try StateStore(path: path, periodRetention: 100 * 86400)
        var batch = StoreBatch()
        batch.history = [
            Self.point("latency", step: 300, ago: 600, value: 50),
            Self.point("latency", step: 300, ago: 300, value: nil),
            Self.point("latency{customer=acme}", step: 300, ago: 300, value: 150, breached: true),
            Self.point("latency", step: 300, ago: 40 * 86400, value: 60),  // beyond 35 days
            Self.point("latency", step: 3600, ago: 40 * 86400, value: 60),  // kept (100 days)
            Self.point("latency", step: 3600, ago: 101 * 86400, value: 70),  // beyond retention
        ]
        batch.periodResults = [
            Transition.of(
                .init(.periodResult, from: .ok, to: .ok),
                objective: "leads",
                at: Self.now - 101 * 86400,
                value: 5,
                baseline: 10,
                period: (Self.now - 102 * 86400, Self.now - 101 * 86400)
            ),
            Transition.of(
                .init(.periodResult, from: .ok, to: .ok),
                objective: "leads",
                at: Self.now - 86400,
                value: 12,
                baseline: 10,
                period: (Self.now - 2 * 86400, Self.now - 86400)
            ),
        ]
        try store.write(batch, at: Self.now)
        let fine = try StateStore.history(atPath: path, step: 300, from: Self.now - 50 * 86400, to: Self.now)
        #expect(fine["latency"]?.map(\.value) == [50, nil])
        #expect(fine["latency"]?.first?.worst == 100)
        #expect(fine["latency{customer=acme}"]?.map(\.breached) == [true])
        let hourly = try store.history(step: 3600, from: 0, to: Self.now)
        #expect(hourly["latency"]?.map(\.value) == [60])
        #expect(try store.periodResults().map(\.value) == [12])
        // A step written again (continued after a restart) replaces the stored one.
        var again = StoreBatch()
        again.history = [Self.point("latency", step: 300, ago: 600, value: 55)]
        try store.write(again, at: Self.now + 1)
        let replaced = try store.history(step: 300, from: Self.now - 3600, to: Self.now)
        #expect(replaced["latency"]?.map(\.value) == [55, nil])
        // Reopened, the series ids are known: no second series row for the same name.
        let reopened = try StateStore(path: path)
        var third = StoreBatch()
        third.history = [Self.point("latency", step: 300, ago: 0, value: 42)]
        try reopened.write(third, at: Self.now + 2)
        let series = try DatabaseQueue(path: path).read {
            try Int.fetchOne($0, sql: "SELECT count(*) FROM history_series")
        }
        #expect(series == 2)
        #expect(try reopened.history(step: 300, from: Self.now - 3600, to: Self.now + 300)["latency"]?.count == 3)
    }
}
