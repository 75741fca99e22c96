import Foundation
import SLAWatchTestSupport
import Systemd
import Testing

@testable import SLAWatchDaemon

/// Objectives summing each metric over 30 days (never breached): their values are the totals.
func sumObjectives(_ id: String, _ metrics: [String]) -> String {
    var yaml = "slas:\n  - name: drop-\(id)\n    provider: p\n    customer: c\n    objectives:\n"
    for m in metrics {
        yaml +=
            "      - {name: \(m), metric: \(m), sli: sum, window: 30d, direction: at_most, baseline: 1e15, nodata: ok}\n"
    }
    return yaml
}

extension TestDaemon {
    /// Writes `content` elsewhere and renames it into the drop directory as `name` (the
    /// producer contract).
    func drop(_ name: String, _ content: [UInt8]) throws {
        let staging = root.appendingPathComponent(".staging-\(runID())")
        try Data(content).write(to: staging)
        guard rename(staging.path, dropDirectory + "/" + name) == 0 else { throw TestFailure("rename failed") }
    }

    func drop(_ name: String, _ text: String) throws { try drop(name, Array(text.utf8)) }

    var processedDirectory: String { dropDirectory + "/processed" }
    var failedDirectory: String { dropDirectory + "/failed" }

    func processed(_ name: String) -> Bool { FileManager.default.fileExists(atPath: processedDirectory + "/" + name) }
    func failed(_ name: String) -> Bool { FileManager.default.fileExists(atPath: failedDirectory + "/" + name) }

    /// The "file ingested" / "file failed" journal entries for `name` written by this daemon.
    func fileEntries(_ name: String) throws -> [[String: String]] {
        try journalEntries(["SLAWATCH_FILE=\(dropDirectory)/\(name)"])
    }

    /// Files (not directories) in the drop directory itself.
    func leftInDrop() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dropDirectory)) ?? []).filter {
            $0 != "processed" && $0 != "failed"
        }
    }
}

/// The drop directory's contract (docs/drop-directory.md), end to end through the daemon.
@Suite(.serialized)
struct DropDirectoryTests {
    @Test func fileWrittenInPlaceIsReadOnlyAfterItWasClosedAndSettled() throws {
        let id = runID()
        let m = "slow_\(id)"
        let daemon = try TestDaemon(objectivesYAML: sumObjectives(id, [m]))
        try daemon.start()
        defer { daemon.stop() }
        let path = daemon.dropDirectory + "/slow.statsd"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(fd >= 0)
        // A slow writer: 10 lines over 5 seconds, in place, no rename.
        for k in 1...10 {
            let line = Array("\(m):\(k)|c\n".utf8)
            _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            usleep(500_000)
        }
        #expect(!daemon.processed("slow.statsd"), "read before the writer closed it")
        close(fd)
        #expect(waitUntil(15) { daemon.processed("slow.statsd") })
        #expect(try daemon.values()[m] == 55)  // 1 + 2 + … + 10: all ten lines
        let entry = try #require(try daemon.fileEntries("slow.statsd").last)
        #expect(entry["SLAWATCH_LINES"] == "10")
        #expect(entry["SLAWATCH_ACCEPTED"] == "10")
        #expect(entry["MESSAGE_ID"] == "586bccbbb66644bbb3e8882b5d7ae612")
    }

    @Test func threeHundredFilesAtOnceAreEachReadOnce() throws {
        let id = runID()
        let m = "many_\(id)"
        let daemon = try TestDaemon(objectivesYAML: sumObjectives(id, [m]))
        try daemon.start()
        defer { daemon.stop() }
        var expected = 0.0
        // Written first, then renamed in as fast as possible.
        var staged: [(String, String)] = []
        for k in 0..<300 {
            let staging = daemon.root.appendingPathComponent(".f\(k)").path
            try "\(m):\(k)|c\n\(m):1|c\n".write(toFile: staging, atomically: false, encoding: .utf8)
            staged.append((staging, daemon.dropDirectory + "/f\(k).statsd"))
            expected += Double(k + 1)
        }
        for (from, to) in staged { #expect(rename(from, to) == 0) }
        let done = waitUntil(60) {
            ((try? FileManager.default.contentsOfDirectory(atPath: daemon.processedDirectory)) ?? []).count == 300
        }
        #expect(done)
        #expect(daemon.leftInDrop().isEmpty)
        #expect(try daemon.values()[m] == expected)
        let names = try FileManager.default.contentsOfDirectory(atPath: daemon.processedDirectory)
        #expect(Set(names) == Set((0..<300).map { "f\($0).statsd" }))
        let files = try #require(try daemon.status()["files"] as? [String: Int])
        #expect(files["processed"] == 300)
        #expect(files["failed"] == 0)
    }

    @Test func sameContentUnderANewNameIsNotCountedTwiceWhenTimestamped() throws {
        let id = runID()
        let (ts, plain) = ("ts_\(id)", "plain_\(id)")
        let daemon = try TestDaemon(objectivesYAML: sumObjectives(id, [ts, plain]))
        try daemon.start()
        defer { daemon.stop() }
        let t = Int(Date().timeIntervalSince1970) - 120
        let stamped = "\(ts):5|c|T\(t)\n\(ts):7|c|T\(t + 1)\n"
        try daemon.drop("export.statsd", stamped)
        #expect(waitUntil(10) { daemon.processed("export.statsd") })
        try daemon.drop("export-retry.statsd", stamped)
        #expect(waitUntil(10) { daemon.processed("export-retry.statsd") })
        #expect(try daemon.values()[ts] == 12)
        let retry = try #require(try daemon.fileEntries("export-retry.statsd").last)
        #expect(retry["SLAWATCH_DUPLICATE_OF"] == "export.statsd")
        #expect(retry["SLAWATCH_DUPLICATES_SKIPPED"] == "2")
        #expect(retry["SLAWATCH_ACCEPTED"] == "0")
        #expect(retry["MESSAGE"]?.contains("repeats export.statsd") == true)
        // Without timestamps the lines are new events: counted, with a notice.
        try daemon.drop("a.statsd", "\(plain):3|c\n")
        #expect(waitUntil(10) { daemon.processed("a.statsd") })
        try daemon.drop("b.statsd", "\(plain):3|c\n")
        #expect(waitUntil(10) { daemon.processed("b.statsd") })
        #expect(try daemon.values()[plain] == 6)
        let b = try #require(try daemon.fileEntries("b.statsd").last)
        #expect(b["SLAWATCH_POSSIBLE_DUPLICATE_OF"] == "a.statsd")
        #expect(b["MESSAGE"]?.contains("possible duplicate of a.statsd") == true)
        #expect(b["PRIORITY"] == "4")
    }

    @Test func aRepeatCountsWhatTheFirstCopyDidNotAndMappingsMakeOtherEvents() throws {
        let id = runID()
        let (m, a, b) = ("fut_\(id)", "csva_\(id)", "csvb_\(id)")
        let daemon = try TestDaemon(
            objectivesYAML: sumObjectives(id, [m, a, b]),
            extraConfig: """
                max_future_skew: 2s
                drop:
                  csv:
                    - {match: "a-*.csv", metric: \(a)}
                    - {match: "b-*.csv", metric: \(b)}

                """
        )
        try daemon.start()
        defer { daemon.stop() }
        let now = Int(Date().timeIntervalSince1970)
        // The second line is 5 s ahead: rejected (future_event) the first time.
        let text = "\(m):1|c|T\(now - 10)\n\(m):5|c|T\(now + 5)\n"
        try daemon.drop("first.statsd", text)
        #expect(waitUntil(10) { daemon.processed("first.statsd") })
        #expect(try daemon.values()[m] == 1)
        sleep(4)
        // The retry: the line counted before is skipped, the one refused before counts now.
        try daemon.drop("retry.statsd", text)
        #expect(waitUntil(10) { daemon.processed("retry.statsd") })
        #expect(try daemon.values()[m] == 6)
        let retry = try #require(try daemon.fileEntries("retry.statsd").last)
        #expect(retry["SLAWATCH_DUPLICATES_SKIPPED"] == "1")
        #expect(retry["SLAWATCH_ACCEPTED"] == "1")
        // The same bytes read through two mappings are two different sets of events.
        let csv = "timestamp,value\n\(now - 60),7\n"
        try daemon.drop("a-1.csv", csv)
        #expect(waitUntil(10) { daemon.processed("a-1.csv") })
        try daemon.drop("b-1.csv", csv)
        #expect(waitUntil(10) { daemon.processed("b-1.csv") })
        let values = try daemon.values()
        #expect(values[a] == 7)
        #expect(values[b] == 7)
    }

    @Test func aFileRenamedOverOneBeingReadIsReadToo() throws {
        let id = runID()
        let m = "race_\(id)"
        let daemon = try TestDaemon(objectivesYAML: sumObjectives(id, [m]))
        try daemon.start()
        defer { daemon.stop() }
        let line = Array("\(m):1|c\n".utf8)
        var big: [UInt8] = []
        big.reserveCapacity(line.count * 1_500_000)
        for _ in 0..<1_500_000 { big += line }
        try daemon.drop("race.statsd", big)
        // While the big file is read, a small one takes its name.
        usleep(300_000)
        try daemon.drop("race.statsd", "\(m):1000|c\n")
        #expect(
            waitUntil(60) {
                daemon.leftInDrop().isEmpty && daemon.processed("race.statsd") && daemon.processed("race.statsd.1")
            }
        )
        usleep(300_000)
        #expect(try daemon.values()[m] == 1_501_000)
        let sizes = try ["race.statsd", "race.statsd.1"].map {
            try FileManager.default.attributesOfItem(atPath: daemon.processedDirectory + "/" + $0)[.size] as? Int
        }
        #expect(Set(sizes.compactMap { $0 }) == [big.count, m.utf8.count + 8])
    }

    @Test func jsonDocumentsAndLongNames() throws {
        let id = runID()
        let m = "doc_\(id)"
        let daemon = try TestDaemon(objectivesYAML: sumObjectives(id, [m]))
        try daemon.start()
        defer { daemon.stop() }
        let event = "{\"metric\":\"\(m)\",\"value\":1,\"kind\":\"c\"}"
        try daemon.drop("leading.json", "\n\r\n  [\(event)]\n")
        try daemon.drop("truncated.json", "[\(event)")
        try daemon.drop("garbage.json", "[\(event)] garbage")
        let long = String(repeating: "a", count: 248) + ".statsd"
        try daemon.drop(long, "\(m):2|c\n\(m):bad|c\n")
        #expect(waitUntil(10) { daemon.processed("leading.json") && daemon.failed("truncated.json.error") })
        #expect(waitUntil(10) { daemon.failed("garbage.json.error") })
        #expect(waitUntil(10) { daemon.leftInDrop().isEmpty })
        let archived = try FileManager.default.contentsOfDirectory(atPath: daemon.processedDirectory)
        let longArchived = try #require(archived.first { $0.hasPrefix("aaaa") && $0.hasSuffix(".statsd") })
        #expect(longArchived.utf8.count <= 238)
        #expect(archived.contains(longArchived + ".rejects"))
        // Again under the same long name: archived under another shortened name.
        try daemon.drop(long, "\(m):4|c\n")
        #expect(waitUntil(10) { daemon.leftInDrop().isEmpty })
        usleep(300_000)
        #expect(try daemon.values()[m] == 7)
    }

    @Test func dedupeOffCountsRepeatsAgain() throws {
        let id = runID()
        let m = "again_\(id)"
        let daemon = try TestDaemon(objectivesYAML: sumObjectives(id, [m]), extraConfig: "drop:\n  dedupe: off\n")
        try daemon.start()
        defer { daemon.stop() }
        let text = "\(m):4|c|T\(Int(Date().timeIntervalSince1970) - 60)\n"
        try daemon.drop("one.statsd", text)
        #expect(waitUntil(10) { daemon.processed("one.statsd") })
        try daemon.drop("two.statsd", text)
        #expect(waitUntil(10) { daemon.processed("two.statsd") })
        #expect(try daemon.values()[m] == 8)
    }

    @Test func everyFormatAcceptsABOMCRLFAndNoFinalNewline() throws {
        let id = runID()
        let names = ["statsd", "jsonl", "json", "csv", "prom"].map { "bom_\($0)_\(id)" }
        let daemon = try TestDaemon(objectivesYAML: sumObjectives(id, names))
        try daemon.start()
        defer { daemon.stop() }
        let now = Int(Date().timeIntervalSince1970) - 30
        let bodies = [
            "\(names[0]):1|c\r\n\(names[0]):2|c",
            "{\"metric\":\"\(names[1])\",\"value\":1,\"kind\":\"counter\"}\r\n{\"metric\":\"\(names[1])\",\"value\":2,\"kind\":\"counter\"}",
            "[\r\n{\"metric\":\"\(names[2])\",\"value\":1,\"kind\":\"counter\"},\r\n{\"metric\":\"\(names[2])\",\"value\":2,\"kind\":\"counter\"}\r\n]",
            "time,metric,value\r\n\(now),\(names[3]),1\r\n\(now),\(names[3]),2",
            "# TYPE \(names[4]) gauge\r\n\(names[4]) 1\r\n\(names[4]){a=\"b\"} 2",
        ]
        for (k, ext) in ["statsd", "jsonl", "json", "csv", "prom"].enumerated() {
            try daemon.drop("bom.\(ext)", [0xEF, 0xBB, 0xBF] + Array(bodies[k].utf8))
        }
        for ext in ["statsd", "jsonl", "json", "csv", "prom"] {
            #expect(waitUntil(10) { daemon.processed("bom.\(ext)") }, "bom.\(ext)")
            #expect(!daemon.processed("bom.\(ext).rejects"), "bom.\(ext) has rejects")
        }
        let values = try daemon.values()
        for n in names { #expect(values[n] == 3, "\(n)") }
    }

    @Test func longLinesBadLinesAndTheirSidecar() throws {
        let id = runID()
        let (m, wide) = ("lines_\(id)", "wide_\(id)")
        let daemon = try TestDaemon(objectivesYAML: sumObjectives(id, [m, wide]))
        try daemon.start()
        defer { daemon.stop() }
        // One JSON line of 1,000 events, about 70 KB: longer than the socket's 64 KiB limit, well
        // within a drop file's 1 MiB.
        let element =
            "{\"metric\":\"\(wide)\",\"value\":1,\"kind\":\"counter\",\"labels\":{\"pad\":\"\(String(repeating: "x", count: 20))\"}}"
        let wideLine = "[" + Array(repeating: element, count: 1000).joined(separator: ",") + "]"
        #expect(wideLine.utf8.count > 70_000)
        try daemon.drop("wide.jsonl", wideLine + "\n")
        // A bad line in the middle, and one over the 1 MiB line limit: each costs only itself.
        let huge = String(repeating: "y", count: (1 << 20) + 10)
        try daemon.drop("mixed.statsd", "\(m):1|c\n\(m):2|c\n\(m):oops|c\n\(huge)\n\(m):4|c\n\(m):8|c")
        #expect(waitUntil(10) { daemon.processed("wide.jsonl") && daemon.processed("mixed.statsd") })
        let values = try daemon.values()
        #expect(values[wide] == 1000)
        #expect(values[m] == 15)
        let rejects = try String(contentsOfFile: daemon.processedDirectory + "/mixed.statsd.rejects", encoding: .utf8)
        let rows = rejects.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(rows.count == 2)
        #expect(rows.first?.hasPrefix("3\tinvalid_value: value is not a number\t\(m):oops|c") == true)
        #expect(rows.last?.hasPrefix("4\tline_too_long") == true)
        #expect((rows.last?.utf8.count ?? 0) < 400)
        let entry = try #require(try daemon.fileEntries("mixed.statsd").last)
        #expect(entry["SLAWATCH_LINES"] == "6")
        #expect(entry["SLAWATCH_ACCEPTED"] == "4")
        #expect(entry["SLAWATCH_REJECTED"] == "2")
        #expect(entry["SLAWATCH_FIRST_ERROR_LINE"] == "3")
        #expect(entry["SLAWATCH_REJECT_REASONS"] == "invalid_value=1 line_too_long=1")
    }

    @Test func unreadableFilesGoToFailedAndCountNothing() throws {
        let id = runID()
        let m = "bad_\(id)"
        let daemon = try TestDaemon(objectivesYAML: sumObjectives(id, [m]))
        try daemon.start()
        defer { daemon.stop() }
        let target = daemon.root.appendingPathComponent("target.statsd").path
        try "\(m):100|c\n".write(toFile: target, atomically: true, encoding: .utf8)
        #expect(symlink(target, daemon.dropDirectory + "/link.statsd") == 0)
        #expect(mkdir(daemon.dropDirectory + "/adir.statsd", 0o755) == 0)
        // A binary file: valid lines around bytes that are not UTF-8.
        try daemon.drop(
            "image.statsd",
            Array("\(m):1|c\n".utf8) + [0x89, 0x50, 0x4E, 0x47, 0xFF, 0xFE, 0x0A] + Array("\(m):2|c\n".utf8)
        )
        try daemon.drop("notes.txt", "\(m):1|c\n")
        try daemon.drop("columns.csv", "timestamp,value\n1,2\n")
        try daemon.drop("object.json", "\"just a string\"")
        // UTF-16 (little endian, no BOM): every other byte is NUL.
        try daemon.drop("utf16.csv", Array("time,metric,value\n".utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        // An empty .json is an empty document, not an error.
        try daemon.drop("empty.json", "")
        let all = [
            "link.statsd", "adir.statsd", "image.statsd", "notes.txt", "columns.csv", "object.json", "utf16.csv",
        ]
        #expect(waitUntil(15) { all.allSatisfy { daemon.failed($0) && daemon.failed($0 + ".error") } })
        #expect(daemon.leftInDrop().isEmpty)
        #expect(try daemon.values()[m] == nil)  // nothing counted
        #expect((try daemon.status()["files"] as? [String: Int])?["failed"] == 7)
        #expect(waitUntil(5) { daemon.processed("empty.json") })
        let utf16 = try String(contentsOfFile: daemon.failedDirectory + "/utf16.csv.error", encoding: .utf8)
        #expect(utf16.contains("NUL byte at offset 1"))
        #expect(FileManager.default.fileExists(atPath: target))  // a symlink's target is untouched
        let error = try String(contentsOfFile: daemon.failedDirectory + "/image.statsd.error", encoding: .utf8)
        #expect(error.contains("not UTF-8 (first invalid byte at offset \(m.utf8.count + 5))"))
        let csvError = try String(contentsOfFile: daemon.failedDirectory + "/columns.csv.error", encoding: .utf8)
        #expect(csvError.contains("has no column metric"))
        let entry = try #require(try daemon.fileEntries("link.statsd").last)
        #expect(entry["MESSAGE_ID"] == "ff40387b0c2040e38a555351235daede")
        #expect(entry["SLAWATCH_ERROR"]?.contains("symbolic link") == true)
    }

    @Test func hardLinksAndNamesThatAreNotUTF8() throws {
        let id = runID()
        let m = "odd_\(id)"
        let daemon = try TestDaemon(objectivesYAML: sumObjectives(id, [m]))
        try daemon.start()
        defer { daemon.stop() }
        // A hard link made in the drop directory is complete at once (nothing writes it).
        let outside = daemon.root.appendingPathComponent("linked.statsd").path
        try "\(m):4|c\n".write(toFile: outside, atomically: true, encoding: .utf8)
        #expect(link(outside, daemon.dropDirectory + "/linked.statsd") == 0)
        // A name with an invalid UTF-8 byte: it cannot be named in the journal as is.
        let raw = Array((daemon.dropDirectory + "/lat").utf8) + [0xFF] + Array(".statsd".utf8) + [0]
        let fd = raw.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT, 0o644) }
        }
        #expect(fd >= 0)
        _ = Array("\(m):100|c\n".utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        #expect(waitUntil(15) { daemon.processed("linked.statsd") && daemon.failed("lat\u{FFFD}.statsd.error") })
        #expect(try daemon.values()[m] == 4)
        #expect(FileManager.default.fileExists(atPath: outside))
        #expect(daemon.leftInDrop().isEmpty)
        // processed/ removed and then replaced by someone: the new directory is not input.
        try FileManager.default.removeItem(atPath: daemon.processedDirectory)
        try FileManager.default.createDirectory(atPath: daemon.processedDirectory, withIntermediateDirectories: false)
        try daemon.drop("after.statsd", "\(m):1|c\n")
        #expect(waitUntil(10) { daemon.processed("after.statsd") })
        usleep(3_000_000)  // past the 2 s settle of a directory created in place
        #expect(!daemon.failed("processed"))
        #expect(FileManager.default.fileExists(atPath: daemon.processedDirectory + "/after.statsd"))
        #expect(try daemon.values()[m] == 5)
    }

    @Test func multiLineJSONArrayAndRealExporterProm() throws {
        let id = runID()
        let (j, hist) = ("json_\(id)", "http_request_duration_seconds_count")
        let daemon = try TestDaemon(objectivesYAML: sumObjectives(id, [j, hist, "http_requests_total"]))
        try daemon.start()
        defer { daemon.stop() }
        let json = """
            [
              {"metric": "\(j)", "value": 2, "kind": "counter",
               "labels": {"team": "growth"}},
              {"metric": "\(j)", "value": "many", "kind": "counter"},
              {"metric": "\(j)", "value": 5, "kind": "counter"}
            ]
            """
        try daemon.drop("batch.json", json)
        let prom = """
            # HELP http_requests_total The total number of HTTP requests.
            # TYPE http_requests_total counter
            http_requests_total{method="post",code="200",run="\(id)"} 1027
            http_requests_total{method="post",code="400",run="\(id)"} 3
            # HELP http_request_duration_seconds A histogram of the request duration.
            # TYPE http_request_duration_seconds histogram
            http_request_duration_seconds_bucket{le="0.05",run="\(id)"} 24054
            http_request_duration_seconds_bucket{le="0.1",run="\(id)"} 33444
            http_request_duration_seconds_bucket{le="+Inf",run="\(id)"} 144320
            http_request_duration_seconds_sum{run="\(id)"} 53423
            http_request_duration_seconds_count{run="\(id)"} 144320
            # HELP rpc_duration_seconds A summary of the RPC duration in seconds.
            # TYPE rpc_duration_seconds summary
            rpc_duration_seconds{quantile="0.5",run="\(id)"} 4773
            rpc_duration_seconds{quantile="0.99",run="\(id)"} NaN
            rpc_duration_seconds_count{run="\(id)"} 2693

            """
        try daemon.drop("node.prom", prom)
        #expect(waitUntil(10) { daemon.processed("batch.json") && daemon.processed("node.prom") })
        let values = try daemon.values()
        #expect(values[j] == 7)
        // Counters are running totals: the first file is the base of every series.
        #expect(values[hist] == 0)
        #expect(values["http_requests_total"] == 0)
        // The next scrape: the increases count (one series restarted from zero), and a series
        // new since the first scrape (the first 500s) counts in full.
        let next =
            prom.replacingOccurrences(of: "} 1027", with: "} 1127").replacingOccurrences(of: "} 3\n", with: "} 1\n")
            .replacingOccurrences(of: "_count{run=\"\(id)\"} 144320", with: "_count{run=\"\(id)\"} 144420")
            + "http_requests_total{method=\"post\",code=\"500\",run=\"\(id)\"} 4\n"
        try daemon.drop("node-2.prom", next)
        #expect(waitUntil(10) { daemon.processed("node-2.prom") })
        let after = try daemon.values()
        #expect(after[hist] == 100)
        #expect(after["http_requests_total"] == 105)  // +100, a reset to 1, and 4 new 500s
        let jsonRejects = try String(
            contentsOfFile: daemon.processedDirectory + "/batch.json.rejects",
            encoding: .utf8
        )
        #expect(jsonRejects.contains("4\tinvalid_value"))  // the element on line 4
        let promEntry = try #require(try daemon.fileEntries("node.prom").last)
        #expect(promEntry["SLAWATCH_ACCEPTED"] == "9")
        #expect(promEntry["SLAWATCH_REJECTED"] == "1")
        #expect(promEntry["SLAWATCH_FIRST_ERROR_LINE"] == "15")
        // A writer that appended the next scrape to the file instead of replacing it: the whole
        // file goes to failed/, naming both lines of the first series seen twice; nothing of it
        // counts (its second half would have read as a counter reset).
        try daemon.drop("node-3.prom", prom + next)
        #expect(waitUntil(10) { daemon.failed("node-3.prom") })
        #expect(try daemon.values()["http_requests_total"] == 105)
        let failedEntry = try #require(try daemon.fileEntries("node-3.prom").last)
        #expect(
            failedEntry["SLAWATCH_ERROR"]?.contains(
                "the series http_requests_total{code=\"200\",method=\"post\",run=\"\(id)\"} appears twice, at lines 3 and 19"
            ) == true,
            "\(failedEntry["SLAWATCH_ERROR"] ?? "")"
        )
    }

    @Test func csvWithAMappingAndOwnersNotAllowed() throws {
        let id = runID()
        let (mapped, allowed, other) = ("sales_\(id)", "allowed_\(id)", "other_\(id)")
        let daemon = try TestDaemon(
            objectivesYAML: sumObjectives(id, [mapped, allowed, other]),
            extraConfig: """
                authorization:
                  users:
                    nobody: ["allowed_*"]
                drop:
                  csv:
                    - {match: "sales-*.csv", metric: \(mapped), time_column: day, value_column: amount, labels: {source: crm}}

                """
        )
        try daemon.start()
        defer { daemon.stop() }
        let day = RFC3339Text.now(minus: 3600)
        try daemon.drop("sales-2026.csv", "day,amount,ignored\n\(day),10,x\n\(day),15,y\n")
        // Owned by nobody: only the metrics nobody may write count; the rest are unauthorized.
        let nobodyFile = daemon.root.appendingPathComponent(".nobody").path
        try "\(allowed):1|c\n\(other):1|c\n".write(toFile: nobodyFile, atomically: false, encoding: .utf8)
        #expect(chown(nobodyFile, 65534, 65534) == 0)
        #expect(rename(nobodyFile, daemon.dropDirectory + "/nobody.statsd") == 0)
        // Owned by a uid with no user and no rule: nothing of it counts.
        let strangerFile = daemon.root.appendingPathComponent(".stranger").path
        try "\(allowed):100|c\n".write(toFile: strangerFile, atomically: false, encoding: .utf8)
        #expect(chown(strangerFile, 54321, 54321) == 0)
        #expect(rename(strangerFile, daemon.dropDirectory + "/stranger.statsd") == 0)
        #expect(waitUntil(10) { daemon.processed("sales-2026.csv") && daemon.processed("nobody.statsd") })
        #expect(waitUntil(10) { daemon.failed("stranger.statsd") })
        let values = try daemon.values()
        #expect(values[mapped] == 25)
        #expect(values[allowed] == 1)
        #expect(values[other] == nil)
        let rejects = try String(
            contentsOfFile: daemon.processedDirectory + "/nobody.statsd.rejects",
            encoding: .utf8
        )
        #expect(rejects.contains("2\tunauthorized"))
        let error = try String(contentsOfFile: daemon.failedDirectory + "/stranger.statsd.error", encoding: .utf8)
        #expect(error.contains("uid 54321"))
    }

    @Test func processedOnAnotherFileSystemAndRetention() throws {
        let id = runID()
        let m = "exdev_\(id)"
        let elsewhere = "/dev/shm/slawatch-test-\(id)"
        defer { try? FileManager.default.removeItem(atPath: elsewhere) }
        let daemon = try TestDaemon(
            objectivesYAML: sumObjectives(id, [m]),
            extraConfig: "drop:\n  processed_directory: \(elsewhere)/processed\n  processed_retention: 3s\n"
        )
        var a = stat()
        var b = stat()
        stat(daemon.root.path, &a)
        stat("/dev/shm", &b)
        try #require(a.st_dev != b.st_dev, "needs /dev/shm on another file system")
        try daemon.start()
        defer { daemon.stop() }
        let body = "\(m):6|c\n\(m):bad\n"
        try daemon.drop("far.statsd", body)
        let archived = elsewhere + "/processed/far.statsd"
        #expect(waitUntil(10) { FileManager.default.fileExists(atPath: archived) })
        #expect(try String(contentsOfFile: archived, encoding: .utf8) == body)
        #expect(FileManager.default.fileExists(atPath: archived + ".rejects"))
        #expect(daemon.leftInDrop().isEmpty)
        #expect(try daemon.values()[m] == 6)
        let hidden = try FileManager.default.contentsOfDirectory(atPath: elsewhere + "/processed").filter {
            $0.hasPrefix(".")
        }
        #expect(hidden.isEmpty)
        // Retention: gone a few seconds later; the count stays.
        #expect(waitUntil(15) { !FileManager.default.fileExists(atPath: archived) })
        #expect(!FileManager.default.fileExists(atPath: archived + ".rejects"))
        #expect(try daemon.values()[m] == 6)
    }

    @Test func takingAFileNeverTakesOrOverwritesAReplacement() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slawatch-take-\(runID())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let drop = try DropDirectory(path: dir)
        try "a:1|c\n".write(toFile: dir + "/x.statsd", atomically: false, encoding: .utf8)
        let first = try #require(drop.identity(of: "x.statsd"))
        // Still the file that was read: held under a hidden name, out of the input.
        let held = try #require(drop.take("x.statsd", identity: first))
        #expect(held.contains("/.slawatch-taking-\(first.inode)-") && held.hasSuffix(".statsd"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.statsd"))
        // Another file renamed over the name after the read: given back, not taken.
        try "b:2|c\n".write(toFile: dir + "/x.statsd", atomically: true, encoding: .utf8)
        #expect(drop.take("x.statsd", identity: first) == nil)
        #expect(try String(contentsOfFile: dir + "/x.statsd", encoding: .utf8) == "b:2|c\n")
        // A crash while held: the next start puts it back as input the ledger will recognize.
        #expect(FileManager.default.fileExists(atPath: held))
        drop.recoverTaken()
        let recovered = "recovered-" + held.split(separator: "/").last!.dropFirst(".slawatch-taking-".count)
        #expect(drop.identity(of: String(recovered))?.inode == first.inode)
        #expect(!FileManager.default.fileExists(atPath: held))
    }

    @Test func aFailedCopyNeverRemovesTheSource() throws {
        let id = runID()
        let dir = "/dev/shm/slawatch-mover-\(id)"
        let src = FileManager.default.temporaryDirectory.appendingPathComponent("mover-\(id).statsd").path
        defer {
            try? FileManager.default.removeItem(atPath: dir)
            try? FileManager.default.removeItem(atPath: src)
        }
        try FileManager.default.createDirectory(atPath: dir + "/.x.statsd.partial", withIntermediateDirectories: true)
        try "a:1|c\n".write(toFile: src, atomically: false, encoding: .utf8)
        // The partial copy cannot be created (a directory is in its way): the move fails, the
        // source stays, nothing appears under the final name.
        let error = #expect(throws: PosixError.self) {
            try FileMover.move(from: src, toDirectory: dir, name: "x.statsd")
        }
        #expect(error?.operation == "open")
        #expect(error?.code == EISDIR)
        #expect(error?.target == dir + "/.x.statsd.partial")
        #expect(FileManager.default.fileExists(atPath: src))
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.statsd"))
        try FileManager.default.removeItem(atPath: dir + "/.x.statsd.partial")
        try FileMover.move(from: src, toDirectory: dir, name: "x.statsd")
        #expect(!FileManager.default.fileExists(atPath: src))
        #expect(try String(contentsOfFile: dir + "/x.statsd", encoding: .utf8) == "a:1|c\n")
    }
}

/// RFC 3339 text for test files.
enum RFC3339Text {
    static func now(minus seconds: Double) -> String {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date(timeIntervalSinceNow: -seconds))
    }
}

/// Large files are streamed: a 64 MiB drop file costs the daemon far less memory than its size
/// (`scripts/bench-drop.sh` runs the same check with a 1 GiB file on a release build).
@Suite(.serialized)
struct DropStreamingTests {
    /// `VmHWM` (peak resident set) of a process, in bytes.
    static func peakRSS(_ pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { Int($0) }.first
            return kb.map { $0 * 1024 }
        }
        return nil
    }

    @Test func aLargeFileIsReadInBoundedMemory() throws {
        let id = runID()
        let m = "big_\(id)"
        let daemon = try TestDaemon(objectivesYAML: sumObjectives(id, [m]))
        try daemon.start()
        defer { daemon.stop() }
        let pid = try #require(daemon.lastPID)
        // Warm up (first batch, caches), then take the baseline peak.
        try daemon.drop("warm.statsd", "\(m):1|c\n")
        #expect(waitUntil(10) { daemon.processed("warm.statsd") })
        let before = try #require(Self.peakRSS(pid))
        let staging = daemon.root.appendingPathComponent(".big").path
        let fd = open(staging, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let line = Array("\(m):1|c\n".utf8)
        var block: [UInt8] = []
        while block.count < 1 << 20 { block += line }
        let lines = (64 << 20) / block.count * (block.count / line.count)
        for _ in 0..<((64 << 20) / block.count) { _ = block.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
        close(fd)
        let size = (try FileManager.default.attributesOfItem(atPath: staging)[.size] as? Int) ?? 0
        #expect(rename(staging, daemon.dropDirectory + "/big.statsd") == 0)
        #expect(waitUntil(300) { daemon.processed("big.statsd") })
        let after = try #require(Self.peakRSS(pid))
        #expect(try daemon.values()[m] == Double(lines + 1))
        let growth = after - before
        print("streaming: \(size) byte file, \(lines) lines, peak RSS growth \(growth / 1024) KiB")
        #expect(growth < 32 << 20, "peak RSS grew by \(growth) bytes for a \(size) byte file")
    }
}
