import CSystemd
import Foundation

/// The service-manager notification protocol (sd_notify(3)): `READY=1`, `STATUS=…`,
/// `STOPPING=1`, `WATCHDOG=1`. Messages are sent from the calling process (systemd only accepts
/// them from the main pid with `NotifyAccess=main`). Without `NOTIFY_SOCKET` every call is a no-op.
public enum Notifier {
    /// Whether a service manager asked for notifications (`NOTIFY_SOCKET` is set).
    public static var isEnabled: Bool {
        ProcessInfo.processInfo.environment["NOTIFY_SOCKET"].map { !$0.isEmpty } ?? false
    }

    /// Sends newline-separated assignments in one datagram.
    /// - Returns: `true` when a manager was notified, `false` when there is none or sending failed.
    @discardableResult
    public static func notify(_ assignments: String) -> Bool {
        guard isEnabled else { return false }
        return sd_notify(0, assignments) > 0
    }

    /// `READY=1` with an optional status line.
    @discardableResult
    public static func ready(status: String? = nil) -> Bool {
        notify(status.map { "READY=1\nSTATUS=\($0)" } ?? "READY=1")
    }

    /// `STATUS=…`: the one-line state shown by `systemctl status`.
    @discardableResult
    public static func status(_ text: String) -> Bool { notify("STATUS=\(text)") }

    /// `STOPPING=1`: shutdown has begun.
    @discardableResult
    public static func stopping() -> Bool { notify("STOPPING=1") }
}
