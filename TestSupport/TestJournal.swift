import Foundation

/// The package root, found from this file's path.
public let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

/// The tests' own journal: a `systemd-journald` in its own namespace (`slawatch-test`), so that
/// no test ever writes into the operator's journal.
///
/// `make test` runs the whole test binary through `scripts/test-journal.sh`, which starts that
/// journald and bind-mounts its sockets over `/run/systemd/journal` in a private mount namespace:
/// `sd_journal_sendv`, `systemd-cat` and syslog from any test process then reach the test journal.
/// The script exports `SLAWATCH_TEST_JOURNAL=NAMESPACE`. When the tests run without it (plain
/// `swift test`), every test daemon is started through the script on its own, and in-process
/// journal writes are skipped. Entries are read back with `sd_journal_open_namespace(3)` or
/// `journalctl --namespace slawatch-test`.
public enum TestJournal {
    /// The journal namespace of the tests.
    public static let namespace =
        ProcessInfo.processInfo.environment["SLAWATCH_TEST_JOURNAL_NAMESPACE"] ?? "slawatch-test"

    /// `scripts/test-journal.sh`.
    public static let script = packageRoot.appendingPathComponent("scripts/test-journal.sh").path

    /// Whether this process already writes to the test journal (it runs under the script).
    public static var isCurrentProcessIsolated: Bool {
        ProcessInfo.processInfo.environment["SLAWATCH_TEST_JOURNAL"] == namespace
    }

    /// Whether child processes can be given the test journal: this process runs under the
    /// script, or it can run the script itself (root, for the mount namespace).
    public static var isAvailable: Bool {
        isCurrentProcessIsolated || (getuid() == 0 && ExternalProgram.unshare.isInstalled)
    }

    /// What to put before a daemon's command line so its journal entries go to the test journal:
    /// nothing when this process is already isolated, else the script (which starts the
    /// namespace's journald when needed and execs the command in a private mount namespace,
    /// keeping its pid).
    /// - Throws: `MissingProgram` when bash is not installed.
    public static func wrapper() throws -> [String] {
        isCurrentProcessIsolated ? [] : [try ExternalProgram.bash.path(), script]
    }

    /// `journalctl --namespace NAMESPACE --sync`: everything sent so far is readable.
    public static func sync() {
        _ = try? sh(.journalctl, ["--namespace", namespace, "--sync"])
    }
}
