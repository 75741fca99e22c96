import CLinux
import Foundation
import Logging
import NIOCore
import NIOPosix
import SLAWatchCore
import SLAWatchStore
import ServiceLifecycle
import Synchronization
import Systemd
import UnixSignals

/// Why the daemon stops: set once by the command that stops it (a signal) or fails (a fatal
/// error), read when the "stopped" entry is written. Thread-safe.
public final class StopReason: Sendable {
    /// What made the daemon stop.
    public enum Reason: Sendable, Equatable {
        /// A signal asked for a graceful stop: `SIGTERM`, `SIGINT`.
        case signal(String)
        /// An error the daemon cannot go on after.
        case fatalError(String)
    }

    private struct State {
        var reason: Reason?
        var startedAt: Double?
    }
    private let state = Mutex(State())

    /// Nothing recorded yet.
    public init() {}

    /// The first reason recorded, if any.
    public var reason: Reason? { state.withLock { $0.reason } }

    /// When the daemon wrote its "started" entry (`nil` before: a fatal error then needs its own
    /// "stopped" entry from the caller).
    public var startedAt: Double? { state.withLock { $0.startedAt } }

    /// Records the reason unless one was recorded already (a second Ctrl-C keeps the first).
    public func record(_ reason: Reason) {
        state.withLock { s in if s.reason == nil { s.reason = reason } }
    }

    func started(at t: Double) { state.withLock { $0.startedAt = t } }
}
