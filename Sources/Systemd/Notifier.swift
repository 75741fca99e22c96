import CSystemd
import Foundation

/// The service-manager notification protocol (sd_notify(3)): `READY=1`, `STATUS=…`,
/// `STOPPING=1`, `WATCHDOG=1`. Messages are sent from this process (systemd only accepts them
/// from the main pid with `NotifyAccess=main`), in order, on a dedicated serial queue: a manager
/// that reads slowly can block `sendmsg`, and that must never stall the evaluation loop. Without
/// `NOTIFY_SOCKET` every call is a no-op.
public enum Notifier {
    private static let queue = DispatchQueue(label: "slawatch.notify")

    /// Whether a service manager asked for notifications (`NOTIFY_SOCKET` is set).
    public static var isEnabled: Bool {
        ProcessInfo.processInfo.environment["NOTIFY_SOCKET"].map { !$0.isEmpty } ?? false
    }

    /// Queues newline-separated assignments, sent as one datagram.
    /// - Returns: `true` when a manager is listening (the message is queued), `false` otherwise.
    @discardableResult
    public static func notify(_ assignments: String) -> Bool {
        guard isEnabled else { return false }
        queue.async { _ = sd_notify(0, assignments) }
        return true
    }

    /// Waits until queued messages are sent, at most `timeout` seconds (before exiting).
    /// - Returns: `false` when the manager did not take them in time.
    @discardableResult
    public static func flush(timeout: Double = 2) -> Bool {
        let done = DispatchSemaphore(value: 0)
        queue.async { done.signal() }
        return done.wait(timeout: .now() + timeout) == .success
    }

    /// `READY=1` with an optional status line.
    @discardableResult
    public static func ready(status: String? = nil) -> Bool {
        notify(status.map { "READY=1\nSTATUS=\($0)" } ?? "READY=1")
    }

    /// `STATUS=…`: the one-line state shown by `systemctl status`.
    @discardableResult
    public static func status(_ text: String) -> Bool { notify("STATUS=\(text)") }

    /// `RELOADING=1` and `MONOTONIC_USEC=` (CLOCK_MONOTONIC in µs) in **one** datagram, as
    /// `Type=notify-reload` requires (sd_notify(3)); follow with `READY=1` when done, also when
    /// the new configuration was refused.
    @discardableResult
    public static func reloading() -> Bool {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let usec = UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000
        return notify("RELOADING=1\nMONOTONIC_USEC=\(usec)")
    }

    /// `STOPPING=1`: shutdown has begun.
    @discardableResult
    public static func stopping() -> Bool { notify("STOPPING=1") }
}

/// The service watchdog (sd_watchdog_enabled(3)).
public enum Watchdog {
    /// The interval systemd expects pings within (`WATCHDOG_USEC`), in seconds, when it is set
    /// and `WATCHDOG_PID` is this process or unset; `nil` otherwise.
    public static func interval() -> Double? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return Double(usec) / 1_000_000
    }

    /// `WATCHDOG=1`.
    @discardableResult
    public static func ping() -> Bool { Notifier.notify("WATCHDOG=1") }
}
