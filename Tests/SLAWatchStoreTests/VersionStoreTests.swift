import Foundation
import SLAWatchCore
import Testing

@testable import SLAWatchStore

/// `objective_version`: every definition that ran or is dated to run, with its effective time.
@Suite struct VersionStoreTests {
    func objective(_ baseline: Double, from: Double? = nil) -> Objective {
        var o = Objective(
            name: "availability",
            sla: SLA(name: "api", provider: "platform", customer: "web"),
            metric: "req",
            sli: .ratio,
            window: .rolling(seconds: 3600),
            direction: .atLeast,
            baseline: Baseline(value: baseline, kind: .fixed, source: NumberText.format(baseline * 100) + "%"),
            good: GoodSelector(metric: "req", match: ["status": "!~5.."])
        )
        o.effectiveFrom = from
        return o
    }

    @Test func startsReloadsAndDatedVersionsAreRecordedOnce() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("slawatch-ver-\(UUID())/state.sqlite")
            .path
        let store = try StateStore(path: path)
        // First start: the version in force, and the one dated ahead.
        #expect(
            try store.recordVersions([objective(0.995), objective(0.999, from: 5000)], at: 1000) == ["availability"]
        )
        // A restart with the same config adds nothing.
        #expect(try store.recordVersions([objective(0.995), objective(0.999, from: 5000)], at: 2000) == [])
        // A reload that edits the undated version records it from then.
        #expect(
            try store.recordVersions([objective(0.996), objective(0.999, from: 5000)], at: 3000) == ["availability"]
        )
        var versions = try store.objectiveVersions()
        #expect(versions.map(\.effectiveFrom) == [1000, 3000, 5000])
        #expect(versions.map { $0.definition["baseline"] } == ["99.5%", "99.6%", "99.9%"])
        #expect(
            StateStore.definitionChanges(versions).map { "\($0.at) \($0.changes)" } == [
                "3000.0 [\"baseline 99.5% → 99.6%\"]", "5000.0 [\"baseline 99.6% → 99.9%\"]",
            ]
        )
        // The dated version withdrawn before its date: its row goes.
        #expect(try store.recordVersions([objective(0.996)], at: 4000) == [])
        versions = try StateStore.objectiveVersions(atPath: path)
        #expect(versions.map(\.effectiveFrom) == [1000, 3000])
    }
}
