import Foundation
import SLAWatchCore
import Testing

/// `slawatch report` on the fixed scenario (`ReportScenario`), every format against its golden
/// file in `Fixtures/report/` (rewrite them with `SLAWATCH_WRITE_GOLDEN=1` and read the diff).
@Suite(.serialized) struct ReportGoldenTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/report").path

    /// The scenario's config, written once for the suite.
    static let config: String = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slawatch-golden-\(UUID().uuidString)")
            .path
        return try! ReportScenario.write(into: dir)
    }()

    /// Writes the HTML report of the scenario to `file` (its "generated" time fixed).
    static func html(to file: String) throws {
        let (rc, _, err) = try slawatch(
            ["report", "--config", config, "--format", "html", "--output", file],
            env: ProcessInfo.processInfo.environment.merging(["SOURCE_DATE_EPOCH": "1796083200"]) { _, n in n }
        )
        #expect(rc == 0, "\(err)")
    }

    static func check(_ name: String, _ args: [String]) throws -> String {
        let (rc, out, err) = try slawatch(
            ["report", "--config", config] + args,
            env: ProcessInfo.processInfo.environment.merging(["SOURCE_DATE_EPOCH": "1796083200"]) { _, n in n }
        )
        #expect(rc == 0, "\(err)")
        let path = fixtures + "/" + name
        if ProcessInfo.processInfo.environment["SLAWATCH_WRITE_GOLDEN"] == "1" {
            try out.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOfFile: path, encoding: .utf8)
        #expect(out == golden, "slawatch report \(args.joined(separator: " ")) differs from Fixtures/report/\(name)")
        return out
    }

    @Test(arguments: [
        ("report.txt", ["--format", "text"]),
        ("report.md", ["--format", "markdown"]),
        ("report.csv", ["--format", "csv"]),
        ("report.json", ["--format", "json"]),
        ("report-weeks.txt", ["--period", "week"]),
    ])
    func everyFormatMatchesItsGoldenFile(name: String, args: [String]) throws {
        _ = try Self.check(name, args)
    }
}
