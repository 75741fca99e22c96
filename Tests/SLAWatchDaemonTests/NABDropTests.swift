import Foundation
import SLAWatchTestSupport
import Testing

/// The shared real-data directory (`../shared/data` next to the repository; `SLAWATCH_DATA_DIR`
/// overrides it).
let sharedDataDirectory: String? = {
    let fm = FileManager.default
    let candidates = [
        ProcessInfo.processInfo.environment["SLAWATCH_DATA_DIR"],
        packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data").path,
        "/work/shared/data",
    ].compactMap { $0 }
    return candidates.first { fm.fileExists(atPath: $0 + "/nab/nyc_taxi.csv") }
}()

/// Real data through the drop directory: NAB's `nyc_taxi.csv` (10,320 half-hourly passenger
/// counts), its timestamps shifted by one constant so the last row is now, read through a CSV
/// mapping.
@Suite(.serialized)
struct NABDropTests {
    @Test func nycTaxiIsFullyIngestedThroughACSVMapping() throws {
        let dir = try #require(sharedDataDirectory, "../shared/data/nab/nyc_taxi.csv not found (set SLAWATCH_DATA_DIR)")
        let original = try String(contentsOfFile: dir + "/nab/nyc_taxi.csv", encoding: .utf8)
        var rows = original.split(whereSeparator: \.isNewline).map(String.init)
        let header = rows.removeFirst()
        #expect(header == "timestamp,value")
        #expect(rows.count == 10_320)
        let parse: (String) -> Date? = {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = TimeZone(identifier: "UTC")
            f.dateFormat = "yyyy-MM-dd HH:mm:ss"
            return f.date(from: $0)
        }
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "UTC")
        format.dateFormat = "yyyy-MM-dd HH:mm:ss"
        let last = try #require(parse(String(rows.last!.split(separator: ",")[0])))
        let shift = (Date().timeIntervalSince1970 - 5 - last.timeIntervalSince1970).rounded(.down)
        var total = 0.0
        var shifted = header + "\n"
        for row in rows {
            let cells = row.split(separator: ",")
            let t = try #require(parse(String(cells[0])))
            total += try #require(Double(cells[1]))
            shifted += format.string(from: t.addingTimeInterval(shift)) + "," + cells[1] + "\n"
        }
        let id = runID()
        let daemon = try TestDaemon(
            objectivesYAML: """
                slas:
                  - name: taxi-\(id)
                    provider: tlc
                    customer: city
                    objectives:
                      - {name: taxi-\(id), metric: taxi.passengers, labels: {run: "\(id)"}, sli: sum, window: 220d, direction: at_least, baseline: 1, nodata: ok}
                """,
            extraConfig: """
                drop:
                  csv:
                    - {match: "nyc_taxi*.csv", metric: taxi.passengers, labels: {run: "\(id)"}}

                """
        )
        try daemon.start()
        defer { daemon.stop() }
        try daemon.drop("nyc_taxi.csv", String(shifted.dropLast()))  // no final newline, like the original
        #expect(waitUntil(60) { daemon.processed("nyc_taxi.csv") })
        #expect(!daemon.processed("nyc_taxi.csv.rejects"))
        let entry = try #require(try daemon.fileEntries("nyc_taxi.csv").last)
        #expect(entry["SLAWATCH_ACCEPTED"] == "10320")
        #expect(entry["SLAWATCH_REJECTED"] == "0")
        #expect(entry["SLAWATCH_LINES"] == "10321")
        #expect(try daemon.values()["taxi-\(id)"] == total)
        if let seconds = Double(entry["SLAWATCH_SECONDS"] ?? ""), seconds > 0 {
            print("nyc_taxi.csv: 10,321 lines in \(seconds) s (debug build) = \(Int(10_321 / seconds)) lines/s")
        }
    }
}
