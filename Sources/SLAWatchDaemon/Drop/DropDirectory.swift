import Foundation
import SLAWatchCore
import SLAWatchStore

/// The drop directory (docs/drop-directory.md): producers `rename()` finished files into it; each
/// file is read in two streaming passes (content hash and UTF-8 check, then parsing), its events
/// staged in the engine and committed together with its ledger entry in one transaction, and
/// only then moved to `processed/` (with `NAME.rejects` listing each bad line when there were
/// any) or, when it cannot be read at all, to `failed/` with `NAME.error`.
///
/// Formats by extension: `.statsd` and `.jsonl` (the socket grammar), `.json` (one JSON array of
/// events, parsed whole), `.csv` (`CSVEventParser`), `.prom` (`PrometheusTextParser`). Names
/// starting with `.` or ending in `.tmp`, `.part` or `~` are ignored (files still being written).
public struct DropDirectory: Sendable {
    /// The watched directory.
    public let path: String
    /// Where ingested files go (default `path/processed`).
    public let processedPath: String
    /// Where unreadable files go (default `path/failed`).
    public let failedPath: String
    /// The drop settings in force.
    public let settings: DropSettings
    /// Bytes read per `read(2)`: the memory a file costs beyond its parsed batch.
    static let chunkBytes = 1 << 20
    /// Runs between the checks of a file's name and its `open(2)` (`nil` outside tests): where a
    /// test swaps the file, as a racing producer would.
    var betweenCheckAndOpen: (@Sendable (_ name: String) -> Void)?

    /// Creates the directory and its `processed/` and `failed/` directories if missing.
    /// - Throws: the file system error when they cannot be created.
    public init(path: String, settings: DropSettings = DropSettings()) throws {
        self.path = path
        self.settings = settings
        self.processedPath = settings.processedDirectory ?? path + "/processed"
        self.failedPath = settings.failedDirectory ?? path + "/failed"
        for p in [path, processedPath, failedPath] {
            try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        }
    }

    /// Why the drop directory lets producers tamper with each other's files, `nil` when it does
    /// not: writable by its group or others without the sticky bit (`chmod 3770`, as
    /// `tmpfiles.d/slawatch.conf` creates it), any writer may rename or delete any file in it
    /// before it is read.
    public var permissionWarning: String? {
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & 0o022 != 0, st.st_mode & S_ISVTX == 0 else { return nil }
        return
            "drop directory \(path) is writable by its group or others (mode \(String(st.st_mode & 0o7777, radix: 8))) without the sticky bit: producers can rename or delete each other's files; chmod +t it (tmpfiles.d/slawatch.conf creates it 3770)"
    }

    /// What happened to one file.
    public enum Outcome: Sendable, Equatable {
        /// Ingested and moved to `processed/NAME` (`name` is the final name).
        case processed(FileReport)
        /// Found in the ledger (ingested before a restart, not yet moved): moved to
        /// `processed/NAME` without being counted again.
        case alreadyIngested(name: String)
        /// Ingested and committed, but it could not be moved out of the drop directory; the
        /// caller must not read it again (`identity` tells it apart from a new file of that name).
        case stuck(name: String, identity: FileIdentity, reason: String)
        /// Moved to `failed/NAME` with a `.error` sidecar; nothing of it counted.
        case failed(name: String, reason: String)
        /// Gone (renamed or deleted by someone else) after it was seen and before it was read or
        /// moved: nothing of it counted (one "file vanished" entry).
        case vanished
        /// Not input: `processed/` or `failed/` themselves (nothing to report).
        case notInput
        /// Not committed (store error, reload, shutdown, changed while read); left in place for
        /// the next scan; nothing of it counted.
        case retry(reason: String)
    }

    /// What one ingested file gave (one journal entry, `MESSAGE_ID` "file ingested").
    public struct FileReport: Sendable, Equatable {
        /// Final name in `processed/`.
        public var name: String
        /// Lines read (for `.json`, lines of the document).
        public var lines = 0
        /// Events counted.
        public var accepted = 0
        /// Lines (or JSON elements) rejected, listed in `NAME.rejects`.
        public var rejected = 0
        /// Line of the first rejection.
        public var firstErrorLine: Int?
        /// Rejections per reason (parser and engine).
        public var rejections: [RejectReason: Int] = [:]
        /// Size in bytes.
        public var bytes: Int64 = 0
        /// The earlier file with the same content (`processed/` name), when this is a repeat.
        public var duplicateOf: String?
        /// Timestamped events skipped because the earlier file already counted them.
        public var skippedDuplicates = 0
        /// Untimestamped events counted again in a repeat (a possible duplicate).
        public var possibleDuplicates = 0
        /// Seconds from opening the file to its commit (both passes, staging and the commit).
        public var seconds = 0.0
        /// Harmless input skipped: unknown DogStatsD `|`-fields, DogStatsD events and service checks.
        public var ignored = ParseStats()
    }

    /// Device, inode, size and modification time: what makes a file the same file.
    public struct FileIdentity: Hashable, Sendable {
        /// `st_dev`.
        public var device: UInt64
        /// `st_ino`.
        public var inode: UInt64
        /// `st_size` in bytes.
        public var size: Int64
        /// `st_mtim` in nanoseconds.
        public var mtime: Int64

        init(_ st: stat) {
            device = UInt64(st.st_dev)
            inode = UInt64(st.st_ino)
            size = Int64(st.st_size)
            mtime = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        }
    }

    /// The identity of `name` in the drop directory (not following symlinks), `nil` when gone.
    public func identity(of name: String) -> FileIdentity? {
        (try? Posix.lstat(path + "/" + name)).map(FileIdentity.init)
    }

    /// Whether a name is skipped: hidden files and `.tmp`/`.part`/`~` names (a producer's file
    /// in progress).
    public static func isIgnored(_ name: String) -> Bool {
        name.hasPrefix(".") || name.hasSuffix(".tmp") || name.hasSuffix(".part") || name.hasSuffix("~")
    }

    /// Every candidate in the directory with its identity, oldest modification first. Recreates
    /// `processed/` and `failed/` if someone removed them.
    public func scan() -> [(name: String, identity: FileIdentity)] {
        var failed: [(name: String, outcome: Outcome)] = []
        return scan(failingInvalidNames: &failed)
    }

    /// Like `scan()`, and moves the files whose names are not UTF-8 to `failed/`
    /// (`failInvalidNames(_:)`), appending their outcomes to `failed`; one directory listing.
    public func scan(failingInvalidNames failed: inout [(name: String, outcome: Outcome)]) -> [(
        name: String, identity: FileIdentity
    )] {
        for p in [processedPath, failedPath] {
            try? FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        }
        let names = listNames()
        failed += failInvalidNames(names.invalid)
        var out: [(String, FileIdentity)] = []
        for name in names.valid where !Self.isIgnored(name) {
            let full = path + "/" + name
            if full == processedPath || full == failedPath { continue }
            if let id = identity(of: name) { out.append((name, id)) }
        }
        return out.sorted { ($0.1.mtime, $0.0) < ($1.1.mtime, $1.0) }
    }

    /// The directory's entry names via readdir(3): those that are UTF-8, and the raw bytes of
    /// those that are not (they cannot be named in journal fields or parsed as a format).
    func listNames() -> (valid: [String], invalid: [[UInt8]]) {
        guard let dir = opendir(path) else { return ([], []) }
        defer { closedir(dir) }
        var valid: [String] = []
        var invalid: [[UInt8]] = []
        while let entry = readdir(dir) {
            let bytes = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix { $0 != 0 })
            }
            if bytes == [0x2E] || bytes == [0x2E, 0x2E] { continue }
            if let name = String(validating: bytes, as: UTF8.self) {
                valid.append(name)
            } else if bytes.first != 0x2E {
                invalid.append(bytes)
            }
        }
        return (valid, invalid)
    }

    /// Moves every file whose name is not UTF-8 to `failed/` under its name with the invalid
    /// bytes replaced (U+FFFD), with a `.error` sidecar.
    /// - Returns: the outcomes, one per file.
    func failInvalidNames(_ invalid: [[UInt8]]) -> [(name: String, outcome: Outcome)] {
        var out: [(String, Outcome)] = []
        for bytes in invalid {
            let shown = String(decoding: bytes, as: UTF8.self)
            let finalName = uniqueName(shown, in: failedPath)
            let src = Array(path.utf8) + [UInt8(ascii: "/")] + bytes + [0]
            let moved = src.withUnsafeBufferPointer { p in
                p.withMemoryRebound(to: CChar.self) { rename($0.baseAddress!, failedPath + "/" + finalName) == 0 }
            }
            guard moved else { continue }
            let reason = "the file name is not UTF-8 (shown with U+FFFD for the invalid bytes); nothing of it was read"
            _ = FileManager.default.createFile(
                atPath: failedPath + "/" + finalName + ".error",
                contents: Data("\(shown): \(reason)\n".utf8)
            )
            out.append((shown, .failed(name: finalName, reason: reason)))
        }
        return out
    }
}
