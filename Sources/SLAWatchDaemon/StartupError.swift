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

    /// Creates the error.
    public init(_ description: String) { self.description = description }

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
