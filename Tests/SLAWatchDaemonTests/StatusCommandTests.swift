import Foundation
import SLAWatchCore
import SLAWatchDaemon
import SLAWatchTestSupport
import Testing

/// `slawatch status` as an operator reads it: per-source counters that add up, RFC 3339 times,
/// `null` for never, rounded values, ratios as percentages, and when each metric was last seen.
@Suite(.serialized)
struct StatusCommandTests {
    static func yaml(_ id: String) -> String {
        """
        slas:
          - name: st-\(id)
            provider: platform
            customer: sales
            objectives:
              - {name: sum-\(id), metric: st.\(id).sum, sli: sum, window: 10m, direction: at_most, baseline: 100, nodata: ok}
              - {name: avail-\(id), metric: st.\(id).requests, good: {metric: st.\(id).ok}, sli: ratio, window: 10m, direction: at_least, baseline: 0.995, nodata: ok}
              - {name: typo-\(id), metric: st.\(id).requests.faild, sli: count, window: 10m, direction: at_most, baseline: 5, nodata: ok}
        """
    }

    @Test func countersPerSourceAddUpInJSONAndText() throws {
        let id = runID()
        let daemon = try TestDaemon(objectivesYAML: Self.yaml(id))
        try daemon.start()
        defer { daemon.stop() }
        // Stream: 2 good lines, 1 bad value, 1 harmless unknown field.
        let (rc, _, _) = try daemon.push(["st.\(id).sum:0.1|c", "st.\(id).sum:0.2|c|c:abc", "st.\(id).sum:x|c"])
        #expect(rc == 1)
        // Datagram: 1 good, 1 without a type.
        let dgram = daemon.root.appendingPathComponent("run/ingest.dgram").path
        let send = """
            import socket
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.connect("\(dgram)")
            s.send(b"st.\(id).requests:1|c\\nst.\(id).requests:1\\n")
            """
        #expect(try python(send).0 == 0)
        // Drop directory: 3 good lines (2 requests, 1 ok... and 1 ok), 1 unknown type.
        let staging = daemon.root.appendingPathComponent("staging.statsd")
        try "st.\(id).requests:1|c\nst.\(id).ok:1|c\nst.\(id).ok:1|c\nst.\(id).requests:1|zz\n".write(
            to: staging,
            atomically: true,
            encoding: .utf8
        )
        #expect(rename(staging.path, daemon.dropDirectory + "/batch.statsd") == 0)
        #expect(waitUntil(10) { ((try? daemon.status())?["files"] as? [String: Any])?["processed"] as? Int == 1 })
        #expect(waitUntil(5) { ((try? daemon.counts(of: "datagram"))?["accepted"] as? Int) == 1 })

        let stream = try daemon.counts(of: "stream")
        let datagram = try daemon.counts(of: "datagram")
        let drop = try daemon.counts(of: "drop")
        #expect(stream["accepted"] as? Int == 2)
        #expect(stream["rejected"] as? Int == 1)
        #expect(stream["ignored"] as? Int == 1)
        #expect(datagram["accepted"] as? Int == 1)
        #expect(datagram["rejected"] as? Int == 1)
        #expect(drop["accepted"] as? Int == 3)
        #expect(drop["rejected"] as? Int == 1)
        #expect((drop["rejectedByReason"] as? [String: Any])?["unknown_type"] as? Int == 1)
        let status = try daemon.status()
        #expect(status["accepted"] as? Int == 6)
        #expect(status["rejected"] as? Int == 3)
        #expect(status["ignored"] as? Int == 1)

        // Times are RFC 3339, never is null, values carry the digits they have.
        #expect(status["version"] as? String == SLAWatchVersion.current)
        #expect((status["startedAt"] as? String).flatMap(RFC3339.parse) != nil)
        let objectives = try #require(status["objectives"] as? [[String: Any]])
        let sum = try #require(objectives.first { $0["objective"] as? String == "sum-\(id)" })
        #expect(sum["value"] as? Double == 0.3)  // 0.1 + 0.2 is 0.30000000000000004 in binary
        #expect((sum["lastSeen"] as? String).flatMap(RFC3339.parse) != nil)
        #expect(sum["since"] is NSNull)  // never changed state
        #expect(sum["episode"] is NSNull)
        let typo = try #require(objectives.first { $0["objective"] as? String == "typo-\(id)" })
        #expect(typo["lastSeen"] is NSNull)
        #expect(typo["value"] is NSNull)  // no data
        #expect((typo["baselineSince"] as? String).flatMap(RFC3339.parse) != nil)
        #expect(typo["metric"] as? String == "st.\(id).requests.faild")

        // The text view: percentages for the ratio, "never" for the typo, the input table.
        let (trc, text, _) = try slawatch(["status", "--socket", daemon.controlSocket])
        #expect(trc == 0)
        // Not a terminal: ASCII, no colour, 80 columns.
        #expect(!text.contains("\u{1B}"))
        let lines = text.split(separator: "\n").map(String.init)
        let avail = try #require(lines.first { $0.hasPrefix("  avail-\(id)") })
        #expect(avail.contains("100 %"))
        #expect(avail.contains(">= 99.5 %"))
        let typoRow = try #require(lines.firstIndex { $0.hasPrefix("  typo-\(id)") })
        #expect(lines[typoRow].contains("no data"))
        #expect(lines[typoRow + 1] == "      no event of st.\(id).requests.faild yet")
        let rows = text.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        #expect(rows.contains(["stream", "2", "1", "1"]))
        #expect(rows.contains(["datagram", "1", "1", "0"]))
        #expect(rows.contains(["drop", "3", "1", "0"]))
        #expect(rows.contains(["total", "6", "3", "1"]))
        #expect(text.contains("slawatch \(SLAWatchVersion.current), pid "))
    }

    @Test func textRenderingOfAReply() throws {
        let reply = try StatusReply.decode(
            """
            {"version":"9.9.9","pid":42,"startedAt":"2026-12-02T10:00:00Z","lastEvaluation":null,"commits":3,
             "objectives":[{"objective":"avail","sla":"api","provider":"platform","customer":"sales","metric":"api.requests",
               "sli":"ratio","window":"30d","value":0.99123,"baseline":0.999,"baselineKind":"fixed","baselineSince":null,
               "direction":"at_least","state":"breached","since":"2026-12-02T10:30:00Z","episode":"e-1","errorBudget":10,
               "budgetRemaining":-2,"burnRate":8.77,"lastSeen":"2026-12-02T10:59:50Z"}],
             "accepted":5,"rejected":1,"ignored":0,"rejectedByReason":{"invalid_value":1},
             "sources":{"stream":{"accepted":5,"rejected":1,"ignored":0,"ignoredFields":0,"ignoredMessages":0,"rejectedByReason":{"invalid_value":1}}},
             "rejectedBySource":{},"connections":0,"connectionsRefused":0,"datagrams":0,"datagramsTooLong":0,
             "journalWritten":2,"journalDropped":0,"files":{"processed":0,"failed":0,"recovered":0,"repeats":0,"stuck":0,"retried":0},
             "queuedEvents":0,"queuedEventsPeak":0}
            """
        )
        let now = try #require(RFC3339.parse("2026-12-02T11:00:00Z"))
        let text = reply.text(now: now)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[1] == "api (platform → sales)")
        #expect(
            lines[2].split(separator: " ", omittingEmptySubsequences: true) == [
                "avail", "30d", "99.123", "%", "≥", "99.9", "%", "breached", "30m",
            ]
        )
        #expect(lines[3] == "      error budget: 2 bad event(s) beyond the budget, burn rate 8.77")
        #expect(text.contains("slawatch 9.9.9, pid 42, up 1h, not evaluated yet, 3 commit(s)"))
        #expect(text.contains("rejected by reason: invalid_value 1"))
        // A reply from a daemon before the limits and the vanished count: zero, no limits line.
        #expect(reply.files.vanished == 0)
        #expect(reply.limits == nil)
        #expect(!text.contains("connections:"))
    }

    @Test func limitsAreRendered() throws {
        var reply = StatusReply(
            pid: 1,
            startedAt: 0,
            lastEvaluation: nil,
            commits: 0,
            objectives: [],
            sources: [:],
            rejectedBySource: [:],
            connections: 12,
            connectionsRefused: 76,
            datagrams: 0,
            datagramsTooLong: 0,
            journalWritten: 0,
            journalDropped: 0,
            files: FileCounts.Snapshot(),
            limits: StatusReply.Limits(
                descriptors: 1024,
                connections: 863,
                controlConnections: 57,
                controlRefused: 2,
                acceptBackoffs: 0
            )
        )
        reply.files.vanished = 1
        let text = try StatusReply.decode(reply.json).text(now: 60, table: StatusTable(width: 200))
        #expect(
            text.contains(
                "connections: 12 of 863 open, 76 refused; control 57 at most, 2 refused; descriptor limit 1024"
            )
        )
        // At 80 columns the line wraps at a space, its rest indented.
        let narrow = reply.text(now: 60).split(separator: "\n").map(String.init)
        #expect(narrow.allSatisfy { $0.count <= 80 })
        let at = try #require(narrow.firstIndex { $0.hasPrefix("connections: 12 of 863 open") })
        #expect(narrow[at] == "connections: 12 of 863 open, 76 refused; control 57 at most, 2 refused;")
        #expect(narrow[at + 1] == "  descriptor limit 1024")
        #expect(text.contains(" 1 vanished, "))
        reply.limits?.acceptBackoffs = 3
        #expect(reply.text(now: 60).contains("descriptor limit 1024, accept paused 3 time(s)"))
    }
}
