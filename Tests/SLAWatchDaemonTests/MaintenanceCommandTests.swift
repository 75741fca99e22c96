import Foundation
import SLAWatchCore
import SLAWatchDaemon
import SLAWatchStore
import SLAWatchTestSupport
import Synchronization
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
            (["--sla", "shop-\(id)", "--from=-1h", "--to", "2h", "--reason", "x"], "cannot start in the past"),
            (["--sla", "shop-\(id)", "--to", "1h", "--reason", "two\nlines"], "no newlines or control characters"),
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
        // A reload without the api SLA: its maintenance stays listed and says it applies to
        // nothing now.
        let objectives = daemon.root.appendingPathComponent("objectives.d/test.yaml")
        let text = try String(contentsOf: objectives, encoding: .utf8)
        try ("slas:\n" + String(text[text.range(of: "  - name: shop-")!.lowerBound...]))
            .write(to: objectives, atomically: true, encoding: .utf8)
        if let p = daemon.process { kill(p.processIdentifier, SIGHUP) }
        #expect(
            waitUntil(5) {
                let out = (try? slawatch(["maintenance", "list"] + socket))?.1 ?? ""
                return out.split(separator: "\n").last?.hasSuffix("(no such SLA or objective since a reload)  later")
                    == true
            }
        )
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

/// `slawatch silence add|list|end`: entries muted and counted, numbers unchanged, one summary
/// entry when the silence ends.
@Suite(.serialized)
struct SilenceCommandTests {
    @Test func aSilenceMutesEntriesNotNumbers() throws {
        let id = runID()
        let daemon = try TestDaemon(
            objectivesYAML: """
                slas:
                  - name: api-\(id)
                    provider: platform
                    customer: web
                    objectives:
                      - {name: errors-\(id), metric: api.\(id), sli: count, window: 5m, direction: at_most, baseline: 2, nodata: ok}
                      - {name: timeouts-\(id), metric: to.\(id), sli: count, window: 5m, direction: at_most, baseline: 2, nodata: ok}
                """
        )
        try daemon.start()
        defer { daemon.stop() }
        let socket = ["--socket", daemon.controlSocket]
        let (bad, _, why) = try slawatch(
            ["silence", "add"] + socket + ["--objective", "nope", "--for", "1h", "--reason", "x"]
        )
        #expect(bad == 1)
        #expect(why.contains("no objective named 'nope'"))
        let (rc, out, err) = try slawatch(
            ["silence", "add"] + socket + ["--objective", "errors-\(id)", "--for", "1h", "--reason", "known incident"]
        )
        #expect(rc == 0, "\(err)")
        #expect(out.hasPrefix("added 1    active   errors-\(id)  "))
        // Both objectives breach; only timeouts' breach is written, errors' is counted.
        #expect(try daemon.push(["api.\(id):5|c", "to.\(id):5|c"]).0 == 0)
        #expect(
            waitUntil(5) {
                daemon.state(of: "errors-\(id)") == "breached" && daemon.state(of: "timeouts-\(id)") == "breached"
            }
        )
        usleep(500_000)
        let (_, list, _) = try slawatch(["silence", "list"] + socket)
        #expect(list.contains("1 muted  known incident"))
        let (rcEnd, ended, _) = try slawatch(["silence", "end"] + socket + ["1"])
        #expect(rcEnd == 0)
        #expect(ended.hasPrefix("ended 1    over     errors-\(id)"))
        if TestJournal.isAvailable {
            #expect(
                waitUntil(10) {
                    (try? journalEntries([
                        "MESSAGE_ID=\(MessageID.silenceEnded)", "SLAWATCH_SILENCE_SCOPE=errors-\(id)",
                    ]))?
                    .count == 1
                }
            )
            let summary = try journalEntries([
                "MESSAGE_ID=\(MessageID.silenceEnded)", "SLAWATCH_SILENCE_SCOPE=errors-\(id)",
            ])
            #expect(summary.first?["SLAWATCH_MUTED"] == "1")
            #expect(summary.first?["SLAWATCH_REASON"] == "known incident")
            #expect(try journalEntries(["MESSAGE_ID=\(MessageID.breach)", "SLAWATCH_OBJECTIVE=errors-\(id)"]).isEmpty)
            #expect(
                try journalEntries(["MESSAGE_ID=\(MessageID.breach)", "SLAWATCH_OBJECTIVE=timeouts-\(id)"]).count == 1
            )
        }
    }
}

/// `review_by:`: an "SLA due for review" reminder on that date and each week after, once per
/// week across restarts, until the SLA is edited; a new date starts again.
@Suite struct ReviewReminderTests {
    static func objectives(baseline: String = "2", reviewBy: String = "2026-11-02") throws -> [Objective] {
        try ObjectivesConfig.parse(
            """
            slas:
              - name: api
                provider: platform
                customer: web
                review_by: \(reviewBy)
                objectives:
                  - {name: errors, metric: api.errors, sli: count, window: 5m, direction: at_most, baseline: \(baseline)}
            """,
            file: "api.yaml"
        )
    }

    @Test func remindersWeeklyUntilEdited() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slawatch-review-\(runID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try StateStore(path: dir + "/state.sqlite")
        let now = Mutex<Double>(RFC3339.parse("2026-11-01T12:00:00Z")!)
        func at(_ t: String) { now.withLock { $0 = RFC3339.parse(t)! } }
        var actor = EngineActor(
            engine: Engine(objectives: try Self.objectives()),
            store: store,
            clock: { now.withLock { $0 } }
        )
        try await actor.loadReviewReminders()
        #expect(await actor.takeReviewReminders().isEmpty)  // before the date
        at("2026-11-02T10:00:00Z")
        let first = await actor.takeReviewReminders()
        #expect(first.map(\.sla) == ["api"])
        #expect(first.first?.overdueDays == 0)
        #expect(await actor.takeReviewReminders().isEmpty)  // once
        at("2026-11-05T10:00:00Z")
        #expect(await actor.takeReviewReminders().isEmpty)  // same week
        at("2026-11-09T00:00:00Z")
        #expect(await actor.takeReviewReminders().map(\.overdueDays) == [7])
        // A restart in the same week: not again.
        at("2026-11-10T08:00:00Z")
        actor = EngineActor(
            engine: Engine(objectives: try Self.objectives()),
            store: store,
            clock: { now.withLock { $0 } }
        )
        try await actor.loadReviewReminders()
        #expect(await actor.takeReviewReminders().isEmpty)
        at("2026-11-16T01:00:00Z")
        #expect(await actor.takeReviewReminders().map(\.overdueDays) == [14])
        // Edited (a new baseline): reviewed, no more reminders for this date.
        _ = await actor.reload(objectives: try Self.objectives(baseline: "3"), maxFutureSkew: 300)
        at("2026-11-23T01:00:00Z")
        #expect(await actor.takeReviewReminders().isEmpty)
        // The next review date starts a new cycle.
        _ = await actor.reload(
            objectives: try Self.objectives(baseline: "3", reviewBy: "2026-12-01"),
            maxFutureSkew: 300
        )
        at("2026-12-01T09:00:00Z")
        #expect(await actor.takeReviewReminders().map(\.sla) == ["api"])
    }
}

/// `slawatch check --diff`: what a reload would change against the running daemon.
@Suite(.serialized)
struct CheckDiffTests {
    @Test func theDiffNamesAddedRemovedAndChangedKeys() throws {
        let id = runID()
        func yaml(_ objectives: String) -> String {
            """
            slas:
              - name: api-\(id)
                provider: platform
                customer: web
                objectives:
            \(objectives)
            """
        }
        let daemon = try TestDaemon(
            objectivesYAML: yaml(
                """
                      - {name: errors-\(id), metric: e.\(id), sli: count, window: 5m, direction: at_most, baseline: 2}
                      - {name: gone-\(id), metric: g.\(id), sli: count, window: 5m, direction: at_most, baseline: 2}
                """
            )
        )
        try daemon.start()
        defer { daemon.stop() }
        let (rc0, same, _) = try slawatch(["check", "--config", daemon.configPath, "--diff"])
        #expect(rc0 == 0)
        #expect(same.hasSuffix("reload would change nothing\n"))
        try yaml(
            """
                  - {name: errors-\(id), metric: e.\(id), sli: count, window: 1h, direction: at_most, baseline: 5}
                  - {name: new-\(id), metric: n.\(id), sli: count, window: 5m, direction: at_most, baseline: 2}
            """
        ).write(to: daemon.root.appendingPathComponent("objectives.d/test.yaml"), atomically: true, encoding: .utf8)
        let (rc, out, err) = try slawatch(["check", "--config", daemon.configPath, "--diff"])
        #expect(rc == 0, "\(err)")
        #expect(
            out.hasSuffix(
                """
                reload would change 3 objective(s):
                  ~ errors-\(id): window 5m → 1h; baseline 2 → 5
                  + new-\(id) (new)
                  - gone-\(id) (removed: its state and windows are dropped)

                """
            ),
            "\(out)"
        )
        // Without a daemon: said, exit 2.
        _ = daemon.stop()
        let (rc2, _, why) = try slawatch(["check", "--config", daemon.configPath, "--diff"])
        #expect(rc2 == 2)
        #expect(why.contains("is the daemon running?"))
    }
}
