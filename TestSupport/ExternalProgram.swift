import Foundation

/// A program from outside the package that a test runs, named with the Debian package that
/// provides it. Tests never spell a path such as `/bin/nc`: they find the program here, and a
/// missing one fails with the package to install (`scripts/ensure-deps.sh` installs every one of
/// them), never with Foundation's "file doesn't exist".
public struct ExternalProgram: Sendable, Hashable, CustomStringConvertible {
    /// The command name looked up in `PATH` (then `/usr/sbin`, `/sbin`, `/usr/lib/systemd`).
    public let name: String
    /// The Debian package that installs it.
    public let package: String
    /// Looked up in the system's directories only (`/usr/bin`, `/bin`, …), not in `PATH`: for
    /// programs run as another user, who cannot reach a per-user install (pyenv under /root).
    public let systemOnly: Bool

    /// Creates a description of an external program.
    public init(_ name: String, package: String, systemOnly: Bool = false) {
        self.name = name
        self.package = package
        self.systemOnly = systemOnly
    }

    /// OpenBSD netcat by its own name (`nc` may be netcat-traditional, which has no `-U`).
    public static let nc = ExternalProgram("nc.openbsd", package: "netcat-openbsd")
    /// socat, the tests' stream and datagram peer.
    public static let socat = ExternalProgram("socat", package: "socat")
    /// Python 3, for the DogStatsD client and small socket scripts.
    public static let python3 = ExternalProgram("python3", package: "python3")
    /// journalctl (`--sync`, `--namespace`).
    public static let journalctl = ExternalProgram("journalctl", package: "systemd")
    /// systemd-socket-activate, to hand the daemon listening sockets as systemd does.
    public static let systemdSocketActivate = ExternalProgram("systemd-socket-activate", package: "systemd")
    /// systemd-journald, run standalone in the tests' own namespace.
    public static let systemdJournald = ExternalProgram("systemd-journald", package: "systemd")
    /// setpriv, to run a peer as another user.
    public static let setpriv = ExternalProgram("setpriv", package: "util-linux")
    /// unshare, for private mount namespaces.
    public static let unshare = ExternalProgram("unshare", package: "util-linux")
    /// Runs a command in another process's mount namespace (fills a test daemon's private tmpfs).
    public static let nsenter = ExternalProgram("nsenter", package: "util-linux")
    /// Runs a command under other resource limits (`prlimit --nofile=N:N -- CMD`).
    public static let prlimit = ExternalProgram("prlimit", package: "util-linux")
    /// Creates the real users the authorization tests run as.
    public static let useradd = ExternalProgram("useradd", package: "passwd")
    /// Removes them afterwards.
    public static let userdel = ExternalProgram("userdel", package: "passwd")
    /// Creates the group they share.
    public static let groupadd = ExternalProgram("groupadd", package: "passwd")
    /// Removes it afterwards.
    public static let groupdel = ExternalProgram("groupdel", package: "passwd")
    /// Python 3 of the system, which the users the authorization tests create can run.
    public static let systemPython3 = ExternalProgram("python3", package: "python3", systemOnly: true)
    /// Files moved, removed, read and listed as those users.
    public static let mv = ExternalProgram("mv", package: "coreutils")
    /// See `mv`.
    public static let rm = ExternalProgram("rm", package: "coreutils")
    /// See `mv`.
    public static let cat = ExternalProgram("cat", package: "coreutils")
    /// See `mv`.
    public static let ls = ExternalProgram("ls", package: "coreutils")
    /// A POSIX shell.
    public static let sh = ExternalProgram("sh", package: "dash")
    /// bash, for `scripts/test-journal.sh`.
    public static let bash = ExternalProgram("bash", package: "bash")
    /// Headless Chromium, which renders the HTML report to PNG (its pixels read by python3-pil).
    public static let chromium = ExternalProgram("chromium", package: "chromium")
    /// tmux, the real terminal `slawatch status` is drawn in (send-keys, capture-pane).
    public static let tmux = ExternalProgram("tmux", package: "tmux")
    /// promtool, which lints the metrics textfile (`check metrics`).
    public static let promtool = ExternalProgram("promtool", package: "prometheus")
    /// Prometheus, which scrapes node_exporter on loopback in the tests.
    public static let prometheus = ExternalProgram("prometheus", package: "prometheus")
    /// Alertmanager, which `slawatch forward` delivers to in the tests.
    public static let alertmanager = ExternalProgram("prometheus-alertmanager", package: "prometheus-alertmanager")
    /// amtool, which queries it (`alert query`).
    public static let amtool = ExternalProgram("amtool", package: "prometheus-alertmanager")
    /// systemd-journal-remote, which receives uploaded journal entries on loopback.
    public static let journalRemote = ExternalProgram("systemd-journal-remote", package: "systemd-journal-remote")
    /// systemd-journal-upload, which sends them.
    public static let journalUpload = ExternalProgram("systemd-journal-upload", package: "systemd-journal-remote")
    /// node_exporter, whose textfile collector reads the metrics textfile.
    public static let nodeExporter = ExternalProgram("prometheus-node-exporter", package: "prometheus-node-exporter")

    /// Every program the tests run (the closing list of issue 9, and what `ensure-deps.sh` covers).
    public static let all: [ExternalProgram] = [
        nc, socat, python3, journalctl, systemdSocketActivate, systemdJournald, setpriv, unshare, sh, bash, prlimit,
        nsenter,
        useradd, userdel, groupadd, groupdel, systemPython3, mv, rm, cat, ls, chromium, tmux, promtool, prometheus,
        nodeExporter, alertmanager, amtool, journalRemote, journalUpload,
    ]

    /// `name (Debian package package)`.
    public var description: String { "\(name) (Debian package \(package))" }

    /// The absolute path of the program.
    /// - Throws: `MissingProgram` naming the Debian package when it is not installed.
    public func path() throws(MissingProgram) -> String {
        if let found = Self.lookup(name, systemOnly: systemOnly) { return found }
        throw MissingProgram(program: self)
    }

    /// Whether the program is installed.
    public var isInstalled: Bool { Self.lookup(name, systemOnly: systemOnly) != nil }

    private static func lookup(_ name: String, systemOnly: Bool = false) -> String? {
        let system = "/usr/local/bin:/usr/bin:/bin"
        let path = systemOnly ? system : ProcessInfo.processInfo.environment["PATH"] ?? system
        let dirs =
            path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/lib/systemd", "/lib/systemd"]
        for dir in dirs where !dir.isEmpty {
            let candidate = dir + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// An external program or Python module a test needs is not installed.
public struct MissingProgram: Error, CustomStringConvertible {
    /// The program, when a program is missing.
    public var program: ExternalProgram?
    /// The Python module and its PyPI project, when a module is missing.
    public var pythonModule: (module: String, project: String)?

    /// Creates the error for a missing program.
    public init(program: ExternalProgram) { self.program = program }

    /// Creates the error for a missing Python module.
    public init(pythonModule: String, project: String) { self.pythonModule = (pythonModule, project) }

    /// Says what to install, and that `scripts/ensure-deps.sh` does it.
    public var description: String {
        if let program {
            return
                "\(program.name) is not installed: apt-get install \(program.package) (scripts/ensure-deps.sh installs every program the tests run)"
        }
        let m = pythonModule!
        return
            "the Python module \(m.module) is not installed: python3 -m pip install \(m.project) (scripts/ensure-deps.sh installs it)"
    }
}

/// Runs an executable to completion and returns (exit status, stdout, stderr).
/// - Throws: what `Process.run()` throws (the executable cannot be started).
@discardableResult
public func runExecutable(
    _ path: String,
    _ args: [String],
    stdin: String? = nil,
    env: [String: String]? = nil
) throws -> (Int32, String, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    if let env { p.environment = env }
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    let input = Pipe()
    p.standardInput = input
    try p.run()
    // Read both pipes while writing, so a child filling one pipe never blocks the other.
    let group = DispatchGroup()
    nonisolated(unsafe) var o = Data()
    nonisolated(unsafe) var e = Data()
    DispatchQueue.global().async(group: group) { o = out.fileHandleForReading.readDataToEndOfFile() }
    DispatchQueue.global().async(group: group) { e = err.fileHandleForReading.readDataToEndOfFile() }
    if let stdin { try? input.fileHandleForWriting.write(contentsOf: Data(stdin.utf8)) }
    try? input.fileHandleForWriting.close()
    group.wait()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

/// Runs an external program found by `ExternalProgram.path()`.
/// - Throws: `MissingProgram` naming the Debian package when it is not installed.
@discardableResult
public func sh(
    _ program: ExternalProgram,
    _ args: [String],
    stdin: String? = nil,
    env: [String: String]? = nil
) throws -> (Int32, String, String) {
    try runExecutable(try program.path(), args, stdin: stdin, env: env)
}

/// Runs a Python 3 script after checking that the modules it imports are installed.
/// - Parameters:
///   - modules: `(module, PyPI project)` pairs the script imports beyond the standard library.
/// - Throws: `MissingProgram` naming the package or PyPI project to install.
@discardableResult
public func python(
    _ script: String,
    modules: [(String, String)] = [],
    args: [String] = [],
    stdin: String? = nil
) throws -> (Int32, String, String) {
    for (module, project) in modules {
        let (rc, _, _) = try sh(.python3, ["-c", "import \(module)"])
        if rc != 0 { throw MissingProgram(pythonModule: module, project: project) }
    }
    return try sh(.python3, ["-c", script] + args, stdin: stdin)
}

/// Polls `condition` every 50 ms until it holds or `timeout` seconds pass.
public func waitUntil(_ timeout: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        usleep(50_000)
    }
    return try condition()
}

/// A test precondition that failed, with a message.
public struct TestFailure: Error, CustomStringConvertible {
    /// What failed.
    public var description: String
    /// Creates the failure.
    public init(_ d: String) { description = d }
}

/// A short random id for names that must not collide with earlier runs in the test journal.
public func runID() -> String { String(UUID().uuidString.prefix(8)).lowercased() }
