import Foundation
import SLAWatchCore
import SLAWatchStore
import Systemd

/// The drop directory: producers `rename()` finished files into it; each file is read, its events
/// committed to the store, and only then moved to `processed/` (with `NAME.rejects` listing each
/// bad line when there were any) or, when it cannot be read at all, to `failed/` with
/// `NAME.error`. Formats by extension: `.statsd`, `.jsonl`. Names starting with `.` or ending in
/// `.tmp`/`.part` are ignored (files still being written).
public struct DropDirectory: Sendable {
    /// The watched directory.
    public let path: String
    /// `path/processed`.
    public var processedPath: String { path + "/processed" }
    /// `path/failed`.
    public var failedPath: String { path + "/failed" }
    let maxLineBytes: Int

    /// Creates the directory and its `processed/` and `failed/` subdirectories if missing.
    /// - Throws: the file system error when they cannot be created.
    public init(path: String, maxLineBytes: Int) throws {
        self.path = path
        self.maxLineBytes = maxLineBytes
        for p in [path, path + "/processed", path + "/failed"] {
            try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        }
    }

    /// What happened to one file.
    public enum Outcome: Sendable, Equatable {
        /// Ingested and moved to `processed/NAME` (the final name). `parseRejections` counts the
        /// lines the parser refused, per reason (engine rejections are counted by the engine).
        case processed(
            name: String,
            lines: Int,
            accepted: Int,
            rejected: Int,
            firstErrorLine: Int?,
            parseRejections: [RejectReason: Int]
        )
        /// Found in the ledger (ingested before a restart, not yet moved): moved to
        /// `processed/NAME` without being counted again.
        case alreadyIngested(name: String)
        /// Ingested and committed, but it could not be moved out of the drop directory; the
        /// caller must not read it again (`identity` tells it apart from a new file of that name).
        case stuck(name: String, identity: FileIdentity, reason: String)
        /// Moved to `failed/NAME` with a `.error` sidecar.
        case failed(name: String, reason: String)
        /// Not committed (store error); left in place for the next scan.
        case retry(reason: String)
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
    }

    /// The identity of `name` in the drop directory, `nil` when it is gone.
    public func identity(of name: String) -> FileIdentity? {
        var st = stat()
        guard lstat(path + "/" + name, &st) == 0 else { return nil }
        return FileIdentity(
            device: UInt64(st.st_dev),
            inode: UInt64(st.st_ino),
            size: Int64(st.st_size),
            mtime: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        )
    }

    /// Names of files ready to be read, oldest modification first. Recreates `processed/` and
    /// `failed/` if someone removed them.
    public func candidates() -> [String] {
        for p in [processedPath, failedPath] {
            try? FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return [] }
        var out: [(String, Double)] = []
        for name in names {
            if name.hasPrefix(".") || name.hasSuffix(".tmp") || name.hasSuffix(".part") { continue }
            if name == "processed" || name == "failed" { continue }
            var st = stat()
            guard lstat(path + "/" + name, &st) == 0 else { continue }
            out.append((name, Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9))
        }
        return out.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.map(\.0)
    }

    /// Reads, ingests (committing through `ingest`) and moves one file.
    /// - Parameters:
    ///   - ingest: ingests the events and commits them together with the file's ledger entry (one
    ///     transaction); returns the engine's result.
    ///   - alreadyIngested: whether the ledger holds the file already (the daemon stopped after
    ///     the commit and before the move): it is then moved without being counted again.
    public func process(
        _ name: String,
        ingest: @Sendable (EventBatch, LedgerEntry?) async throws -> Engine.IngestResult,
        alreadyIngested: @Sendable (LedgerEntry) async -> Bool = { _ in false }
    ) async -> Outcome {
        let full = path + "/" + name
        var st = stat()
        guard lstat(full, &st) == 0 else { return .retry(reason: "vanished") }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            let kind =
                (st.st_mode & S_IFMT) == S_IFLNK
                ? "a symbolic link" : (st.st_mode & S_IFMT) == S_IFDIR ? "a directory" : "not a regular file"
            return fail(name, "\(name) is \(kind); only regular files are read")
        }
        let ext = (name as NSString).pathExtension.lowercased()
        guard ext == "statsd" || ext == "jsonl" else {
            let what = ext.isEmpty ? "no extension" : "unknown extension '.\(ext)'"
            return fail(name, "\(what) (expected .statsd or .jsonl)")
        }
        let identity = self.identity(of: name)
        guard let data = FileManager.default.contents(atPath: full) else {
            return fail(name, "cannot read file: \(String(cString: strerror(errno)))")
        }
        if String(validating: data, as: UTF8.self) == nil {
            let offset = firstInvalidUTF8Offset(data)
            return fail(name, "file is not UTF-8 (first invalid byte at offset \(offset))")
        }
        var batcher = LineBatcher(maxLineBytes: maxLineBytes)
        // `#sync` has no meaning in a file; it is skipped like a blank line.
        data.withUnsafeBytes { batcher.feed($0) }
        batcher.finish()
        let lineCount = batcher.lineCount
        let b = batcher.take()
        let entry = identity.map {
            LedgerEntry(
                name: name,
                device: $0.device,
                inode: $0.inode,
                size: $0.size,
                mtimeNanoseconds: $0.mtime,
                contentHash: Self.contentHash(data),
                accepted: 0,
                rejected: b.rejections.count
            )
        }
        if let entry, await alreadyIngested(entry) {
            let finalName = uniqueName(name, in: processedPath)
            if rename(full, processedPath + "/" + finalName) != 0 {
                return .retry(reason: "cannot move to processed/: \(String(cString: strerror(errno)))")
            }
            return .alreadyIngested(name: finalName)
        }
        let result: Engine.IngestResult
        do {
            result = try await ingest(b.events, entry)
        } catch {
            return .retry(reason: "store commit failed: \(error)")
        }
        var rejections = b.rejections
        rejections += result.rejected.map {
            LineRejection(line: b.eventLines[$0.index], reason: $0.reason, excerpt: b.events.metric(at: $0.index))
        }
        // Control lines (`#…`) have no meaning in files; they count as comments.
        rejections.sort { $0.line < $1.line }
        let finalName = uniqueName(name, in: processedPath)
        if !rejections.isEmpty {
            var text = "# \(rejections.count) rejected line(s) in \(name): line<TAB>reason<TAB>line text (truncated)\n"
            for r in rejections { text += "\(r.line)\t\(r.reason.rawValue): \(r.reason)\t\(r.excerpt)\n" }
            _ = FileManager.default.createFile(
                atPath: processedPath + "/" + finalName + ".rejects",
                contents: Data(text.utf8)
            )
        }
        if rename(full, processedPath + "/" + finalName) != 0 {
            let reason = "ingested, but could not move to processed/: \(String(cString: strerror(errno)))"
            if let identity { return .stuck(name: name, identity: identity, reason: reason) }
            return .retry(reason: reason)
        }
        return .processed(
            name: finalName,
            lines: lineCount,
            accepted: result.accepted,
            rejected: rejections.count,
            firstErrorLine: rejections.first?.line,
            parseRejections: Dictionary(b.rejections.map { ($0.reason, 1) }, uniquingKeysWith: +)
        )
    }

    private func fail(_ name: String, _ reason: String) -> Outcome {
        let finalName = uniqueName(name, in: failedPath)
        _ = FileManager.default.createFile(
            atPath: failedPath + "/" + finalName + ".error",
            contents: Data("\(reason)\n".utf8)
        )
        if rename(path + "/" + name, failedPath + "/" + finalName) != 0 {
            return .retry(reason: "cannot move to failed/: \(String(cString: strerror(errno)))")
        }
        return .failed(name: finalName, reason: reason)
    }

    /// `name`, or `name.1`, `name.2`, … when an earlier file of that name is already there (a
    /// same-named later file never overwrites an earlier one).
    func uniqueName(_ name: String, in dir: String) -> String {
        var candidate = name
        var n = 0
        while FileManager.default.fileExists(atPath: dir + "/" + candidate)
            || FileManager.default.fileExists(atPath: dir + "/" + candidate + ".rejects")
            || FileManager.default.fileExists(atPath: dir + "/" + candidate + ".error")
        {
            n += 1
            candidate = "\(name).\(n)"
        }
        return candidate
    }

    private func firstInvalidUTF8Offset(_ data: Data) -> Int {
        var offset = 0
        var it = data.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&it) {
            case .scalarValue(let s): offset += String(s).utf8.count
            case .emptyInput: return offset
            case .error: return offset
            }
        }
    }

    /// A 128-bit FNV-1a digest of a file's content (two 64-bit lanes), hex: identifies the
    /// content in the ledger together with device, inode, size and mtime.
    static func contentHash(_ data: Data) -> String {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325
        var b: UInt64 = 0x6c62_272e_07bb_0142
        for byte in data {
            a = (a ^ UInt64(byte)) &* 0x100_0000_01b3
            b = (b ^ UInt64(byte)) &* 0x100_0000_01b3 &+ 1
        }
        return String(a, radix: 16) + String(b, radix: 16)
    }
}
