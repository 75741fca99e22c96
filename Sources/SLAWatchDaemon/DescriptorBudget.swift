import Foundation

/// How many connections the daemon can hold with the file descriptors it has: every stream or
/// control connection is one descriptor, and the store (database, WAL, shared memory, the
/// checkpoint connection), the journal socket, the drop file being read, its sidecar, inotify
/// and the event loops need theirs. A cap above what the limit allows would let idle clients
/// take the last descriptor, after which `accept(2)` fails with `EMFILE`, a drop file cannot
/// be opened and the store cannot grow its WAL (getrlimit(2), `RLIMIT_NOFILE`).
public struct DescriptorBudget: Sendable, Equatable {
    /// The soft `RLIMIT_NOFILE` in force (after `raiseSoftLimit()`).
    public var limit: Int
    /// Descriptors open when the budget was made (stdio, store, journal, event loops, sockets).
    public var inUse: Int
    /// Descriptors kept free for what the daemon opens later (drop files, sidecars, store files,
    /// a checkpoint connection, status requests being answered).
    public var reserve: Int
    /// Stream (ingest) connections allowed at once: `max_connections`, or less when the limit
    /// leaves less.
    public var streamConnections: Int
    /// Control connections (`slawatch status`) allowed at once.
    public var controlConnections: Int

    /// Descriptors kept free beyond those open at start.
    public static let defaultReserve = 64

    /// Divides what the limit leaves after `inUse` and `reserve`: control connections get a
    /// sixteenth (4 to 64), stream connections the rest, at most `maxConnections` (at least 1
    /// each).
    public init(limit: Int, inUse: Int, maxConnections: Int, reserve: Int = Self.defaultReserve) {
        self.limit = limit
        self.inUse = inUse
        self.reserve = reserve
        let free = max(2, limit - inUse - reserve)
        controlConnections = min(64, max(1, min(free / 2, max(4, free / 16))))
        streamConnections = max(1, min(maxConnections, free - controlConnections))
    }

    /// The budget of this process now: its soft limit and the descriptors in `/proc/self/fd`.
    public static func current(maxConnections: Int) -> DescriptorBudget {
        var rl = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl)
        let limit = Int(clamping: rl.rlim_cur)
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 16
        return DescriptorBudget(limit: limit, inUse: open, maxConnections: maxConnections)
    }

    /// Raises the soft `RLIMIT_NOFILE` to the hard limit (at most `cap`), as a server that
    /// holds one descriptor per client should (the 1,024 default exists for `select(2)`, which
    /// the daemon does not use). Returns the soft limit in force afterwards.
    @discardableResult
    public static func raiseSoftLimit(cap: Int = 1 << 20) -> Int {
        var rl = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl) == 0 else { return 1024 }
        let target = min(rl.rlim_max, rlim_t(cap))
        if rl.rlim_cur < target {
            var raised = rl
            raised.rlim_cur = target
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { rl = raised }
        }
        return Int(clamping: rl.rlim_cur)
    }

    /// The start-up note when `max_connections` was lowered, `nil` when it was not.
    public func lowered(from maxConnections: Int) -> String? {
        guard streamConnections < maxConnections else { return nil }
        return
            "max_connections \(maxConnections) lowered to \(streamConnections): RLIMIT_NOFILE is \(limit), \(inUse) descriptors are open and \(reserve) are kept for the store, the journal and drop files (raise LimitNOFILE=)"
    }
}
