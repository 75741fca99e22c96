import Foundation
import Testing

@testable import SLAWatchCore

/// Cumulative counters (Prometheus counters): exact increases, reset-aware, no extrapolation,
/// the first sample a base.
@Suite struct CumulativeCounterTests {
    private func engine() -> Engine {
        Engine(objectives: [
            Objective(
                name: "requests",
                sla: SLA(name: "s", provider: "p", customer: "c"),
                metric: "http_requests_total",
                sli: .count,
                window: .rolling(seconds: 3600),
                direction: .atMost,
                baseline: Baseline(value: 1e9, kind: .fixed, source: "1e9"),
                nodata: .ok
            )
        ])
    }

    private func sample(_ v: Double, at t: Double, code: String = "200") -> [Event] {
        [Event(metric: "http_requests_total", value: v, kind: .cumulative, labels: ["code": code], time: t)]
    }

    @Test func increasesAcrossAResetWithTheFirstSampleAsBase() {
        var e = engine()
        // 1000 (base), 1040 (+40), 1100 (+60), reset to 15 (+15), 35 (+20).
        for (k, v) in [1000.0, 1040, 1100, 15, 35].enumerated() {
            _ = e.ingest(sample(v, at: 100 + Double(k) * 60), now: 100 + Double(k) * 60)
        }
        #expect(e.status(at: 400).first?.value == 135)
    }

    @Test func seriesAreIndependentAndOlderSamplesChangeNothing() {
        var e = engine()
        _ = e.ingest(sample(10, at: 100) + sample(500, at: 100, code: "500"), now: 100)
        _ = e.ingest(sample(30, at: 200) + sample(510, at: 200, code: "500"), now: 200)
        _ = e.ingest(sample(20, at: 150), now: 210)  // out of order: no increase, base unchanged
        _ = e.ingest(sample(45, at: 300), now: 300)
        #expect(e.status(at: 300).first?.value == 45)  // (30 − 10) + (45 − 30) + (510 − 500)
    }

    @Test func basesSurviveARestartAndAStagedFileThatWasAborted() {
        var a = engine()
        _ = a.ingest(sample(100, at: 100), now: 100)
        let levels = a.takeDirtyGaugeLevels()
        #expect(levels.values.contains(100))
        var b = engine()
        b.restoreGaugeLevels(levels)
        _ = b.ingest(sample(130, at: 200), now: 200)
        #expect(b.status(at: 200).first?.value == 30)  // the restored base, not a new one
        // A drop file read, aborted, and read again sees the same bases both times.
        b.beginStaging()
        _ = b.ingest(EventBatch(sample(150, at: 250)), now: 250, staged: true)
        b.discardStaging()
        b.beginStaging()
        _ = b.ingest(EventBatch(sample(150, at: 250)), now: 250, staged: true)
        b.commitStaging(now: 260)
        #expect(b.status(at: 260).first?.value == 50)
    }

    /// A drop file is written before it is merged: the preview holds the file's events and
    /// bases while the live engine shows none of them; a commit after it gives the same buckets.
    @Test func aStagedFilesPreviewLeavesTheLiveWindowsAlone() {
        var e = engine()
        _ = e.ingest(sample(100, at: 100) + sample(1, at: 100, code: "500"), now: 100)
        _ = e.takeChanges()
        _ = e.takeDirtyGaugeLevels()
        e.beginStaging()
        _ = e.ingest(EventBatch(sample(160, at: 150) + sample(7, at: 150, code: "404")), now: 150, staged: true)
        let preview = e.stagedCommitPreview(now: 160)
        #expect(preview.late == 0)
        // The window's buckets with the file's +60 and the new 404 series' 7 (a new series of a
        // known family counts in full) merged in; the new series' base (7) and the moved one
        // (160).
        #expect(preview.changes.map(\.objective) == ["requests"])
        #expect(preview.changes.first?.buckets.reduce(0) { $0 + $1.aggregate.sum } == 67)
        #expect(preview.levels.values.sorted() == [7, 160])
        // Nothing of it is live yet: status, changes and levels are as before the file.
        #expect(e.status(at: 160).first?.value == 0)
        #expect(e.isStaging)
        e.commitStaging(now: 160)
        #expect(e.status(at: 160).first?.value == 67)
        let after = e.takeChanges()
        #expect(after.first?.buckets.map(\.id) == preview.changes.first?.buckets.map(\.id))
        #expect(after.first?.buckets.map(\.aggregate.sum) == preview.changes.first?.buckets.map(\.aggregate.sum))
        #expect(e.takeDirtyGaugeLevels().values.sorted() == [7, 160])
    }

    /// A new series of a family seen before did not exist at its previous sample (it would
    /// have been in it): its first value counts in full, the first errors of a new status code.
    /// The first sight of a family is a base, every series of it.
    @Test func aNewSeriesOfAKnownFamilyCountsInFull() {
        var e = engine()
        _ = e.ingest(sample(10, at: 100) + sample(7, at: 100, code: "404"), now: 100)
        #expect(e.status(at: 100).first?.value == 0)
        _ = e.ingest(sample(12, at: 160) + sample(3, at: 160, code: "500"), now: 160)
        #expect(e.status(at: 160).first?.value == 5)  // +2, and the 3 new 500s
    }

    /// Drop files: a series new in a later file counts in full; within one file, the family's
    /// first file, every series is a base; after a restart the restored bases make the family
    /// known.
    @Test func aNewSeriesInALaterFileCountsInFullAndSurvivesARestart() {
        var e = engine()
        e.beginStaging()
        _ = e.ingest(EventBatch(sample(10, at: 100) + sample(4, at: 100, code: "503")), now: 100, staged: true)
        e.commitStaging(now: 100)
        #expect(e.status(at: 100).first?.value == 0)
        e.beginStaging()
        _ = e.ingest(EventBatch(sample(12, at: 100) + sample(3, at: 100, code: "500")), now: 101, staged: true)
        e.commitStaging(now: 101)
        #expect(e.status(at: 101).first?.value == 5)
        var restarted = engine()
        restarted.restoreGaugeLevels(e.persistedLevels)
        _ = restarted.ingest(sample(6, at: 200, code: "502"), now: 200)
        #expect(restarted.status(at: 200).first?.value == 6)
    }

    /// OpenMetrics `_created`: a new series created before the family's previous sample existed
    /// then (unexported): a base; one created since: in full.
    @Test func createdSaysWhetherANewSeriesIsNew() {
        func created(_ t: Double, code: String, at time: Double) -> [Event] {
            [Event(metric: "http_requests_created", value: t, kind: .gauge, labels: ["code": code], time: time)]
        }
        var e = engine()
        _ = e.ingest(sample(10, at: 100), now: 100)
        _ = e.ingest(
            sample(3, at: 160, code: "500") + created(150, code: "500", at: 160) + sample(9, at: 160, code: "502")
                + created(20, code: "502", at: 160),
            now: 160
        )
        #expect(e.status(at: 160).first?.value == 3)  // the 500s since 150 count; the old 502 series is a base
    }

    @Test func jsonAndCSVSayCumulative() {
        var events: [Event] = []
        _ = LineParser().parse("{\"metric\":\"x\",\"value\":5,\"kind\":\"cumulative\"}", into: &events)
        #expect(events.first?.kind == .cumulative)
    }
}
