import Foundation
import SLAWatchCore
import SLAWatchTestSupport
import Testing

/// `slawatch maintenance add|list|end` against a running daemon: announced, persisted across a
/// restart, honoured (not judged, events excluded, entries), refused with a reason.
@Suite(.serialized)
struct MaintenanceCommandTests {
    @Test func maintenanceAnnouncedAtRunTime() throws {
        let id = runID()
        let daemon = try TestDaemon(
            objectivesYAML: """
                slas:
                  - name: api-\(id)
                    provider: platform
                    customer: web
                    maintenance_notice: 1h
                    objectives:
                      - {name: errors-\(id), metric: api.\(id), sli: count, window: 5m, direction: at_most, baseline: 2, nodata: ok}
                  - name: shop-\(id)
                    provider: platform
                    customer: sales
                    objectives:
                      - {name: orders-\(id), metric: shop.\(id), sli: count, window: 5m, direction: at_most, baseline: 2, nodata: ok}
                      - {name: carts-\(id), metric: cart.\(id), sli: count, window: 5m, direction: at_most, baseline: 2, nodata: ok}
                """
        )
        try daemon.start()
        defer { daemon.stop() }
        let socket = ["--socket", daemon.controlSocket]
        // Refused, each with its reason: an unknown SLA or objective, too short a notice, an end
        // before the start.
        let refusals: [([String], String)] = [
            (["--sla", "nope", "--to", "1h", "--reason", "x"], "no SLA named 'nope'"),
            (["--sla", "shop-\(id)", "--objective", "nope", "--to", "1h", "--reason", "x"], "has no objective 'nope'"),
            (["--sla", "api-\(id)", "--to", "1h", "--reason", "x"], "announced 1h ahead (maintenance_notice)"),
            (
                [
                    "--sla", "shop-\(id)", "--from", "2026-01-02T00:00:00Z", "--to", "2026-01-01T00:00:00Z", "--reason",
                    "x",
                ],
                "must end after it starts"
            ),
        ]
        for (args, says) in refusals {
            let (rc, _, err) = try slawatch(["maintenance", "add"] + socket + args)
            #expect(rc == 1, "\(args)")
            #expect(err.contains(says), "\(err)")
        }
        // Accepted: orders now for 30 minutes; api in two hours (its notice is 1h).
        let (rc, out, err) = try slawatch(
            ["maintenance", "add"] + socket + [
                "--sla", "shop-\(id)", "--objective", "orders-\(id)", "--to", "30m", "--reason", "db upgrade",
            ]
        )
        #expect(rc == 0, "\(err)")
        #expect(out.hasPrefix("added 1    active   shop-\(id)/orders-\(id)  "))
        #expect(
            try slawatch(
                ["maintenance", "add"] + socket + [
                    "--sla", "api-\(id)", "--from", "2h", "--to", "1h", "--reason", "later",
                ]
            ).0 == 0
        )
        // Orders is in maintenance: its errors are not counted, carts' are.
        #expect(
            waitUntil(5) {
                let objectives = (try? daemon.status()["objectives"] as? [[String: Any]]) ?? []
                return objectives.first { $0["objective"] as? String == "orders-\(id)" }?["outOfService"] as? String
                    == "in maintenance (db upgrade)"
            }
        )
        #expect(try daemon.push(["shop.\(id):5|c", "cart.\(id):5|c"]).0 == 0)
        #expect(waitUntil(5) { daemon.state(of: "carts-\(id)") == "breached" })
        usleep(1_200_000)
        #expect(daemon.state(of: "orders-\(id)") == "ok")
        // Persisted: a restart lists both.
        _ = daemon.stop()
        try daemon.start()
        let (_, list, _) = try slawatch(["maintenance", "list"] + socket)
        let lines = list.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("1    active   shop-\(id)/orders-\(id)") == true)
        #expect(lines.last?.hasPrefix("2    planned  api-\(id)") == true)
        #expect(lines.last?.hasSuffix("  later") == true)
        // Ended now: judged again; ending it twice is refused.
        let (rcEnd, ended, _) = try slawatch(["maintenance", "end"] + socket + ["1"])
        #expect(rcEnd == 0)
        #expect(ended.contains(", ended "))
        #expect(ended.hasPrefix("ended 1    over     "))
        let (again, _, why) = try slawatch(["maintenance", "end"] + socket + ["1"])
        #expect(again == 1)
        #expect(why.contains("no maintenance 1 that is planned or running"))
        if TestJournal.isAvailable {
            #expect(
                waitUntil(10) {
                    (try? journalEntries([
                        "MESSAGE_ID=\(MessageID.maintenanceEnded)", "SLAWATCH_OBJECTIVE=orders-\(id)",
                    ]))?
                    .count == 1
                }
            )
            let started = try journalEntries([
                "MESSAGE_ID=\(MessageID.maintenanceStarted)", "SLAWATCH_OBJECTIVE=orders-\(id)",
            ])
            #expect(started.count == 1)
            #expect(started.first?["SLAWATCH_MAINTENANCE_REASON"] == "db upgrade")
            #expect(try journalEntries(["MESSAGE_ID=\(MessageID.breach)", "SLAWATCH_OBJECTIVE=orders-\(id)"]).isEmpty)
        }
    }
}
