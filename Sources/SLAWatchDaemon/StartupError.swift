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

/// A start-up failure the daemon cannot go on after, said in words (no Foundation error dump).
public struct StartupError: Error, CustomStringConvertible {
    /// What failed and why: "cannot create the state directory /x: Permission denied".
    public var description: String
    /// The process's exit status: 1, or 78 (`EX_CONFIG`) when restarting cannot help (a state
    /// file of a newer schema); the unit's `RestartPreventExitStatus=78` then stops the loop.
    public var exitCode: Int32

    /// Creates the error.
    public init(_ description: String, exitCode: Int32 = 1) {
        self.description = description
        self.exitCode = exitCode
    }

    /// `mkdir -p` (mode 0755 less the umask): `nil` when `path` is a directory afterwards, else
    /// `strerror(errno)` of the step that failed ("Not a directory", "Permission denied").
    public static func makeDirectories(_ path: String) -> String? {
        var st = stat()
        if stat(path, &st) == 0 { return st.st_mode & S_IFMT == S_IFDIR ? nil : String(cString: strerror(ENOTDIR)) }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty && parent != path, let reason = makeDirectories(parent) { return reason }
        if mkdir(path, 0o755) != 0 && errno != EEXIST { return String(cString: strerror(errno)) }
        return nil
    }
}
