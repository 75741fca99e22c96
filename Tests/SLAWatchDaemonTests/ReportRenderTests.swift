import Foundation
import SLAWatchCore
import SLAWatchTestSupport
import Testing

/// The HTML report of the fixed scenario (`ReportScenario`) is one self-contained page that
/// headless Chromium renders: one SVG chart per objective and report period, nothing loaded
/// from anywhere, no console error, and a PNG that is not blank (its pixels counted by
/// python3-pil). `SLAWATCH_REPORT_SCREENSHOT=PATH` keeps the PNG (docs/report-example.png).
@Suite struct ReportRenderTests {
    @Test func theHTMLReportIsSelfContainedAndRendersInChromium() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slawatch-render-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let page = dir + "/report.html"
        try ReportGoldenTests.html(to: page)
        let html = try String(contentsOfFile: page, encoding: .utf8)
        // Self-contained: no script, no external reference of any kind.
        for banned in ["<script", "src=", "href=", "@import", "url(", "http://", "https://"] {
            #expect(!html.contains(banned), "the report holds \(banned)")
        }
        #expect(html.utf8.count < 400_000, "\(html.utf8.count) bytes")
        // A chart per instance and kind of period: availability and latency weekly and
        // monthly, and the leads' monthly target.
        #expect(html.components(separatedBy: "<svg class=\"chart\"").count - 1 == 5)
        #expect(html.components(separatedBy: "<article>").count - 1 == 5)
        #expect(html.contains("qualified-leads"))
        #expect(html.contains("even pace"))
        #expect(html.contains(">missed<"))  // W47 of availability: 104.6 % of its budget
        // Rendered by Chromium: the DOM it built holds the five charts, and no console error.
        let chromium = try ExternalProgram.chromium.path()
        let common = [
            "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(dir)/profile",
            "--enable-logging=stderr", "--v=0",
        ]
        let (rc, dom, log) = try runExecutable(chromium, common + ["--dump-dom", "file://" + page])
        #expect(rc == 0, "\(log)")
        #expect(dom.components(separatedBy: "<svg class=\"chart\"").count - 1 == 5)
        let png = ProcessInfo.processInfo.environment["SLAWATCH_REPORT_SCREENSHOT"] ?? dir + "/report.png"
        let (rc2, _, log2) = try runExecutable(
            chromium,
            common + ["--window-size=1000,2600", "--screenshot=\(png)", "file://" + page]
        )
        #expect(rc2 == 0, "\(log2)")
        for line in (log + log2).split(separator: "\n") where line.contains("CONSOLE") {
            Issue.record("console message while rendering: \(line)")
        }
        // Not blank: a twentieth of the pixels or more are not the white page, and the SLI line's
        // blue (#1f5fbf) is drawn.
        let (rc3, counts, err3) = try runExecutable(
            try ExternalProgram.systemPython3.path(),
            [
                "-c",
                """
                import sys
                from PIL import Image
                im = Image.open(sys.argv[1]).convert("RGB")
                px = list(im.getdata())
                print(im.size[0], im.size[1], sum(1 for p in px if p != (255, 255, 255)), sum(1 for p in px if p == (31, 95, 191)))
                """,
                png,
            ]
        )
        #expect(rc3 == 0, "\(err3)")
        let n = counts.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(n.count == 4)
        if n.count == 4 {
            #expect(n[0] == 1000 && n[1] == 2600)
            #expect(n[2] > n[0] * n[1] / 20, "only \(n[2]) non-white pixels")
            #expect(n[3] > 1000, "only \(n[3]) pixels of the SLI line")
        }
    }
}
