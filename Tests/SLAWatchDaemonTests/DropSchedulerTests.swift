import Foundation
import SLAWatchCore
import SLAWatchStore
import SLAWatchTestSupport
import Synchronization
import Testing

@testable import SLAWatchDaemon

/// A drop file seen and then renamed or deleted by someone else before it was read is reported
/// once; the daemon's own moves (after `next()`) are not.
@Suite struct DropSchedulerTests {
    private func identity(_ inode: UInt64, mtime: Int64 = 0) -> DropDirectory.FileIdentity {
        var st = stat()
        st.st_ino = __ino_t(inode)
        st.st_size = 10
        st.st_mtim = timespec(tv_sec: Int(mtime / 1_000_000_000), tv_nsec: Int(mtime % 1_000_000_000))
        return DropDirectory.FileIdentity(st)
    }

    @Test func aFileDeletedWhileSettlingIsReportedOnce() {
        var s = DropScheduler(settle: 2)
        s.apply(.written("a.statsd"), now: 0)
        s.apply(.closed("a.statsd"), now: 0.5)
        s.apply(.gone("a.statsd"), now: 1)
        #expect(s.takeVanished() == ["a.statsd"])
        #expect(s.takeVanished() == [])
        s.tick(now: 5) { _ in nil }
        #expect(s.next() == nil)
    }

    @Test func aFileDeletedWhileBeingWrittenIsReported() {
        var s = DropScheduler(settle: 2)
        s.apply(.written("b.csv"), now: 0)
        s.apply(.gone("b.csv"), now: 0.1)
        #expect(s.takeVanished() == ["b.csv"])
    }

    @Test func theDaemonsOwnMoveIsNotReported() {
        var s = DropScheduler(settle: 2)
        s.apply(.movedIn("c.statsd"), now: 0)
        #expect(s.next() == "c.statsd")
        // The read moved it to processed/: IN_MOVED_FROM.
        s.apply(.gone("c.statsd"), now: 0.2)
        #expect(s.takeVanished() == [])
    }

    @Test func aQueuedFileIsLeftToTheReadThatFindsItGone() {
        var s = DropScheduler(settle: 2)
        s.apply(.movedIn("d.statsd"), now: 0)
        s.apply(.gone("d.statsd"), now: 0.1)
        // process() returns .vanished for it, which reports it: not twice.
        #expect(s.takeVanished() == [])
        #expect(s.next() == "d.statsd")
    }

    @Test func ignoredNamesAreNotReported() {
        var s = DropScheduler(settle: 2)
        s.apply(.written(".e.statsd.tmp"), now: 0)
        s.apply(.gone(".e.statsd.tmp"), now: 0.1)
        #expect(s.takeVanished() == [])
    }

    @Test func aSettlingFileGoneAtATickOrAScanIsReported() {
        var s = DropScheduler(settle: 2)
        // Found by a scan, too young: settling.
        s.scanned(
            [("f.statsd", identity(1, mtime: 9_000_000_000)), ("g.statsd", identity(2, mtime: 9_000_000_000))],
            now: 10
        )
        #expect(s.next() == nil)
        // f is gone at the next tick (no inotify event), g at the next scan.
        s.tick(now: 10.5) { $0 == "g.statsd" ? identity(2, mtime: 9_000_000_000) : nil }
        #expect(s.takeVanished() == ["f.statsd"])
        s.scanned([], now: 11)
        #expect(s.takeVanished() == ["g.statsd"])
    }

    @Test func aRetriedFileThatIsDeletedIsReported() {
        var s = DropScheduler(settle: 1)
        s.apply(.movedIn("h.statsd"), now: 0)
        #expect(s.next() == "h.statsd")
        s.retryLater("h.statsd", now: 0.5)
        s.apply(.gone("h.statsd"), now: 0.7)
        #expect(s.takeVanished() == ["h.statsd"])
    }
}

/// Connection caps derived from the descriptor limit.
@Suite struct DescriptorBudgetTests {
    @Test func theDefaultSoftLimitLowersMaxConnections() {
        let b = DescriptorBudget(limit: 1024, inUse: 40, maxConnections: 1024)
        // 1024 - 40 open - 64 reserve = 920 free: 57 control, 863 stream.
        #expect(b.controlConnections == 57)
        #expect(b.streamConnections == 863)
        #expect(b.streamConnections + b.controlConnections + b.inUse + b.reserve == b.limit)
        #expect(
            b.lowered(from: 1024)
                == "max_connections 1024 lowered to 863: RLIMIT_NOFILE is 1024, 40 descriptors are open and 64 are kept for the store, the journal and drop files (raise LimitNOFILE=)"
        )
    }

    @Test func aLargeLimitKeepsMaxConnections() {
        let b = DescriptorBudget(limit: 65536, inUse: 40, maxConnections: 1024)
        #expect(b.streamConnections == 1024)
        #expect(b.controlConnections == 64)
        #expect(b.lowered(from: 1024) == nil)
    }

    @Test func aTinyLimitStillLeavesOneOfEach() {
        let b = DescriptorBudget(limit: 50, inUse: 40, maxConnections: 1024)
        #expect(b.streamConnections == 1)
        #expect(b.controlConnections == 1)
        let c = DescriptorBudget(limit: 200, inUse: 40, maxConnections: 1024)
        // 96 free: 6 control (a sixteenth), 90 stream.
        #expect(c.controlConnections == 6)
        #expect(c.streamConnections == 90)
    }

    @Test func raisingTheSoftLimitReachesTheHardOne() {
        var rl = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl)
        let soft = DescriptorBudget.raiseSoftLimit()
        #expect(soft == Int(clamping: min(rl.rlim_max, rlim_t(1 << 20))) || soft == Int(clamping: rl.rlim_cur))
        #expect(soft >= Int(clamping: rl.rlim_cur))
    }
}

/// The owner race (issue 12): a file judged by its name and then swapped, between that check and
/// the open, for a file of a producer with fewer rights is never read with the first one's
/// rights. Deterministic: the swap runs at the seam between check and open.
@Suite struct DropOwnerRaceTests {
    @Test(.enabled(if: getuid() == 0)) func aFileSwappedBetweenCheckAndOpenIsReadWithItsOwnRights() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slawatch-race-\(runID())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var drop = try DropDirectory(path: dir + "/drop")
        let objectives = try ObjectivesConfig.parse(
            """
            slas:
              - name: s
                provider: p
                customer: c
                objectives:
                  - {name: a, metric: a.x, sli: count, window: 30d, direction: at_most, baseline: 1e12, nodata: ok}
                  - {name: b, metric: b.x, sli: count, window: 30d, direction: at_most, baseline: 1e12, nodata: ok}
            """,
            file: "o.yaml"
        )
        let store = try StateStore(path: dir + "/state.sqlite")
        let actor = EngineActor(
            engine: Engine(objectives: objectives),
            store: store,
            clock: { Date().timeIntervalSince1970 }
        )
        let nobody = try #require(getpwnam("nobody")?.pointee)
        let policy = PeerPolicy(Authorization(users: ["nobody": ["a.*"]]))
        // Root's file (root may write every metric) is what the check sees.
        let name = "x.statsd"
        try "a.x:1|c\n".write(toFile: drop.path + "/" + name, atomically: false, encoding: .utf8)
        // nobody's file, which names a metric nobody may not write, is what the open finds.
        let evil = drop.path + "/.evil"
        try "b.x:5|c\n".write(toFile: evil, atomically: false, encoding: .utf8)
        #expect(chown(evil, nobody.pw_uid, nobody.pw_gid) == 0)
        let swapped = Atomic<Bool>(false)
        let target = drop.path + "/" + name
        drop.betweenCheckAndOpen = { _ in
            if !swapped.exchange(true, ordering: .relaxed) { rename(evil, target) }
        }
        let first = await drop.process(name, actor: actor, policy: policy)
        #expect(first == .retry(reason: "\(name) was replaced while it was opened; it will be read again"))
        #expect(await actor.status().allSatisfy { ($0.value ?? 0) == 0 })
        // Read again: judged by its real owner, nobody: b.x is refused, nothing is counted.
        let second = await drop.process(name, actor: actor, policy: policy)
        guard case .processed(let report) = second else {
            Issue.record("expected the file to be processed, got \(second)")
            return
        }
        #expect(report.accepted == 0)
        #expect(report.rejections == [.unauthorized: 1])
        let values = Dictionary(uniqueKeysWithValues: await actor.status().map { ($0.objective, $0.value ?? 0) })
        #expect(values == ["a": 0, "b": 0])
    }
}
