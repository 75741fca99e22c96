import Foundation
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
