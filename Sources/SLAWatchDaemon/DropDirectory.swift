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
        /// Gone before it was read (nothing to report).
        case vanished
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
        var st = stat()
        guard lstat(path + "/" + name, &st) == 0 else { return nil }
        return FileIdentity(st)
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

    // MARK: - Processing

    enum Format {
        case lines(LineBatcher.Format)
        case json
    }

    /// How a format reads bytes, for the ledger's content key: the same bytes read through
    /// another CSV mapping are other events.
    static func formatKey(_ f: Format) -> String {
        switch f {
        case .json: return "json"
        case .lines(.socket): return "lines"
        case .lines(.prometheus): return "prom"
        case .lines(.csv(nil)): return "csv"
        case .lines(.csv(let m?)):
            let labels = m.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            return "csv:\(m.metric)|\(m.timeColumn ?? "")|\(m.valueColumn)|\(m.kind.rawValue)|\(labels)|\(m.timeZone)"
        }
    }

    /// The format of a file, by extension; `nil` for an unknown one.
    func format(of name: String) -> Format? {
        switch (name as NSString).pathExtension.lowercased() {
        case "statsd", "jsonl": return .lines(.socket)
        case "prom": return .lines(.prometheus)
        case "csv": return .lines(.csv(settings.csv.first { $0.matches(name) }))
        case "json": return .json
        default: return nil
        }
    }

    /// Reads, ingests and moves one file.
    /// - Parameters:
    ///   - actor: stages the events and commits them with the ledger entry.
    ///   - policy: who may write which metrics (the file's owner is the writer).
    public func process(_ name: String, actor: EngineActor, policy: PeerPolicy) async -> Outcome {
        let full = path + "/" + name
        // processed/ and failed/ themselves (recreated, or renamed in by someone) are not input.
        if full == processedPath || full == failedPath { return .vanished }
        let started = DispatchTime.now().uptimeNanoseconds
        var st = stat()
        guard lstat(full, &st) == 0 else { return .vanished }
        switch st.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFLNK: return fail(name, "\(name) is a symbolic link; only regular files are read")
        case S_IFDIR: return fail(name, "\(name) is a directory; only regular files are read")
        default: return fail(name, "\(name) is not a regular file (a socket, FIFO or device)")
        }
        guard let format = format(of: name) else {
            let ext = (name as NSString).pathExtension
            let what = ext.isEmpty ? "no extension" : "unknown extension '.\(ext)'"
            return fail(name, "\(what) (expected .statsd, .jsonl, .json, .csv or .prom)")
        }
        let patterns = policy.patterns(for: Peer(pid: -1, uid: st.st_uid, gid: st.st_gid))
        if let patterns, patterns.isEmpty {
            let user = PeerPolicy.userName(st.st_uid) ?? "uid \(st.st_uid)"
            return fail(name, "\(name) is owned by \(user) (uid \(st.st_uid)), who may write no metric (authorization)")
        }
        let fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            if errno == ENOENT { return .vanished }
            return fail(name, "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            return fail(name, "\(name) is not a regular file")
        }
        let identity = FileIdentity(st)
        // Pass 1: content hash and UTF-8 check, in constant memory.
        let check: FileCheck
        switch Self.check(fd: fd) {
        case .success(let c): check = c
        case .failure(let e): return fail(name, e.message)
        }
        if let offset = check.invalidUTF8Offset {
            return fail(name, "file is not UTF-8 (first invalid byte at offset \(offset)); nothing of it was counted")
        }
        if let offset = check.nulOffset {
            return fail(
                name,
                "file contains a NUL byte at offset \(offset): binary data, or UTF-16 text (save it as UTF-8); nothing of it was counted"
            )
        }
        var entry = LedgerEntry(
            name: name,
            device: identity.device,
            inode: identity.inode,
            size: identity.size,
            mtimeNanoseconds: identity.mtime,
            contentHash: check.hash + "/" + Self.formatKey(format),
            accepted: 0,
            rejected: 0
        )
        if let prior = await actor.ledgerEntry(sameFileAs: entry) {
            return finishMove(name, to: prior.archivedName.isEmpty ? name : prior.archivedName, identity: identity)
        }
        // The same bytes read the same way are the same events (a CSV read through another
        // mapping is not); the hash names the format.
        let earlier = settings.dedupe ? await actor.ledgerEntry(contentHash: entry.contentHash) : nil
        let skip = earlier.map { RepeatSkip(notCounted: Set($0.notCounted ?? [])) }
        let archivedName = uniqueName(name, in: processedPath)
        entry.archivedName = archivedName
        var report = FileReport(name: archivedName)
        report.bytes = identity.size
        report.duplicateOf = earlier.map { $0.archivedName.isEmpty ? $0.name : $0.archivedName }
        // Pass 2: parse and stage.
        var run = FileRun(
            actor: actor,
            token: await actor.beginFile(),
            patterns: patterns,
            skip: skip,
            report: report,
            sidecar: RejectsWriter(path: processedPath + "/." + archivedName + ".rejects.partial", source: name)
        )
        let staged: Result<Void, StageFailure>
        switch format {
        case .lines(let lineFormat): staged = await stageLines(fd: fd, format: lineFormat, &run)
        case .json: staged = await stageJSON(fd: fd, size: identity.size, &run)
        }
        let token = run.token
        report = run.report
        let tally = run.tally
        var sidecar = run.sidecar
        switch staged {
        case .success: break
        case .failure(.unreadable(let reason)):
            await actor.abortFile(token)
            sidecar.discard()
            return fail(name, reason)
        case .failure(.retry(let reason)):
            await actor.abortFile(token)
            sidecar.discard()
            return .retry(reason: reason)
        }
        // The file must not have changed under us (a producer writing in place past the settle).
        var after = stat()
        if fstat(fd, &after) != 0 || FileIdentity(after) != identity {
            await actor.abortFile(token)
            sidecar.discard()
            return .retry(reason: "\(name) changed while it was read; it will be read again")
        }
        entry.accepted = report.accepted
        entry.rejected = report.rejected
        entry.timestamped = tally.timestamped
        entry.untimestamped = tally.untimestamped
        entry.notCounted = tally.notCounted.count <= 100_000 ? tally.notCounted.sorted() : nil
        do {
            let late = try await actor.commitFile(entry, file: token)
            if late > 0 {
                report.accepted -= late
                report.rejections[.tooLate, default: 0] += late
            }
        } catch let e as EngineActor.FileInterrupted {
            sidecar.discard()
            return .retry(reason: e.description)
        } catch {
            // The events and the ledger entry are merged and wait for the next commit; the file
            // must not be read again, and it is moved only once they are stored.
            var committed = false
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                if (try? await actor.commitPending()) != nil {
                    committed = true
                    break
                }
            }
            if !committed {
                return .stuck(name: name, identity: identity, reason: "store commit failed: \(error)")
            }
        }
        report.possibleDuplicates = earlier == nil ? 0 : tally.untimestamped
        // A repeat with no event either way (an empty file) is not worth a notice.
        if report.skippedDuplicates == 0 && report.possibleDuplicates == 0 { report.duplicateOf = nil }
        report.seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        try? FileManager.default.createDirectory(atPath: processedPath, withIntermediateDirectories: true)
        sidecar.finish(as: processedPath + "/" + archivedName + ".rejects")
        // A producer may have renamed another file over this name while it was read: that one
        // is new input (left for the next read); this one's content is archived from the open
        // descriptor.
        guard let owned = take(name, identity: identity) else {
            do {
                try FileMover.copy(fd: fd, toDirectory: processedPath, name: archivedName)
            } catch {
                report.name = "(not archived: \(error))"
            }
            return .processed(report)
        }
        do {
            try FileMover.move(from: owned, toDirectory: processedPath, name: archivedName)
        } catch {
            // Give the name back so that the stuck file stays recognizable.
            _ = link(owned, full) == 0 ? unlink(owned) : 0
            return .stuck(
                name: name,
                identity: identity,
                reason: "ingested, but could not move to processed/: \(error)"
            )
        }
        return .processed(report)
    }

    /// One file's read in progress: where its events go and what has been counted so far.
    struct FileRun {
        let actor: EngineActor
        let token: Int
        let patterns: [String]?
        let skip: RepeatSkip?
        var report: FileReport
        var tally = StageTally()
        var sidecar: RejectsWriter
    }

    /// Counts kept while staging.
    struct StageTally {
        var timestamped = 0
        var untimestamped = 0
        /// Events parsed so far (the next event's ordinal).
        var parsed = 0
        /// Ordinals of parsed events that were not counted.
        var notCounted: [Int] = []
    }

    enum StageFailure: Error {
        /// The file cannot be read at all (to `failed/`).
        case unreadable(String)
        /// Try again later (reload, shutdown, read error).
        case retry(String)
    }

    private func stageLines(fd: Int32, format: LineBatcher.Format, _ run: inout FileRun) async
        -> Result<Void, StageFailure>
    {
        guard lseek(fd, 0, SEEK_SET) == 0 else { return .failure(.retry("cannot rewind: \(errnoText())")) }
        var batcher = LineBatcher(maxLineBytes: settings.maxLineBytes, format: format)
        var buffer = [UInt8](repeating: 0, count: Self.chunkBytes)
        while true {
            if Task.isCancelled { return .failure(.retry("shutting down")) }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(.retry("read error: \(errnoText())"))
            }
            if n == 0 {
                batcher.finish()
            } else {
                buffer.withUnsafeBytes { batcher.feed(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
            if let fatal = batcher.fatalError { return .failure(.unreadable(fatal + "; nothing of it was counted")) }
            let b = batcher.take()
            run.report.lines = batcher.lineCount
            run.report.ignored = batcher.stats
            do {
                try await stage(b.events, lines: b.eventLines, parseRejections: b.rejections, &run)
            } catch {
                return .failure(.retry("\(error)"))
            }
            if n == 0 { return .success(()) }
        }
    }

    private func stageJSON(fd: Int32, size: Int64, _ run: inout FileRun) async -> Result<Void, StageFailure> {
        guard size <= settings.maxJSONBytes else {
            return .failure(
                .unreadable(
                    "a .json document of \(size) bytes exceeds max_json_bytes (\(settings.maxJSONBytes)); send it as .jsonl"
                )
            )
        }
        guard lseek(fd, 0, SEEK_SET) == 0 else { return .failure(.retry("cannot rewind: \(errnoText())")) }
        var data = [UInt8]()
        data.reserveCapacity(Int(size))
        var buffer = [UInt8](repeating: 0, count: Self.chunkBytes)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(.retry("read error: \(errnoText())"))
            }
            if n == 0 { break }
            data += buffer[0..<n]
        }
        if data.starts(with: [0xEF, 0xBB, 0xBF]) { data.removeFirst(3) }
        let elementLines = JSONDocument.elementLines(data)
        run.report.lines = data.reduce(into: 1) { if $1 == UInt8(ascii: "\n") { $0 += 1 } }
        if data.last == UInt8(ascii: "\n") { run.report.lines -= 1 }
        var events = EventBatch()
        var stats = ParseStats()
        var cache = ParseCache.disabled
        func blank(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 }
        guard let from = data.firstIndex(where: { !blank($0) }), let to = data.lastIndex(where: { !blank($0) }) else {
            return .success(())  // an empty document: no events, like an empty .jsonl
        }
        let body = Array(data[from...to])
        guard body[0] == UInt8(ascii: "[") || body[0] == UInt8(ascii: "{") else {
            return .failure(.unreadable("not a JSON document with an array of events (expected '[' first)"))
        }
        // The document must be JSON as a whole; only then are its elements judged one by one.
        do {
            _ = try JSONSerialization.jsonObject(with: Data(body))
        } catch {
            return .failure(.unreadable("not valid JSON (\(error.localizedDescription)); nothing of it was counted"))
        }
        let outcome = body.withUnsafeBytes {
            LineParser().parse($0, into: &events, stats: &stats, cache: &cache)
        }
        run.report.ignored = stats
        var lines: [Int] = []
        var rejections: [LineRejection] = []
        switch outcome {
        case .accepted(let n):
            lines = Array(elementLines.prefix(n))
            if lines.count < n { lines += Array(repeating: 1, count: n - lines.count) }
        case .partial(_, let reasons, let positions):
            let bad = Set(positions)
            lines = elementLines.indices.filter { !bad.contains($0) }.map { elementLines[$0] }
            for (reason, k) in zip(reasons, positions) {
                rejections.append(
                    LineRejection(
                        line: k < elementLines.count ? elementLines[k] : 1,
                        reason: reason,
                        excerpt: "[element \(k)]",
                        grammar: .json
                    )
                )
            }
        case .rejected(let reason):
            rejections.append(
                LineRejection(line: elementLines.first ?? 1, reason: reason, excerpt: "[element 0]", grammar: .json)
            )
        case .ignored, .empty:
            break
        }
        while lines.count < events.count { lines.append(lines.last ?? 1) }
        do {
            try await stage(events, lines: lines, parseRejections: rejections, &run)
        } catch {
            return .failure(.retry("\(error)"))
        }
        return .success(())
    }

    /// Authorizes, drops already-counted timestamped events of a repeat, stages, and records
    /// rejections (parser, authorization and engine) in line order. Every parsed event has an
    /// ordinal (its position among the file's events); the ordinals of events not counted
    /// (unauthorized, too late, in the future) go to the ledger, so that a repeat of the file
    /// skips exactly the timestamped events that were counted.
    private func stage(
        _ parsed: EventBatch,
        lines: [Int],
        parseRejections: [LineRejection],
        _ run: inout FileRun
    ) async throws {
        var rejections = parseRejections
        let base = run.tally.parsed
        run.tally.parsed += parsed.count
        let allowed = run.patterns.map { p in parsed.names.map { Authorization.allows(p, $0) } }
        var keep: [Int] = []
        keep.reserveCapacity(parsed.count)
        for i in parsed.indices {
            if let allowed, !allowed[Int(parsed.records[i].nameIndex)] {
                rejections.append(LineRejection(line: lines[i], reason: .unauthorized, excerpt: parsed.metric(at: i)))
                run.tally.notCounted.append(base + i)
                continue
            }
            if let skip = run.skip, parsed.time(at: i) != nil, !skip.notCounted.contains(base + i) {
                run.report.skippedDuplicates += 1
                continue
            }
            keep.append(i)
        }
        let events = keep.count == parsed.count ? parsed : parsed.selecting(keep)
        if !events.isEmpty {
            let r = try await run.actor.stage(events, file: run.token)
            run.report.accepted += r.accepted
            var rejected = Set<Int>()
            for x in r.rejected {
                rejected.insert(x.index)
                let i = keep[x.index]
                rejections.append(LineRejection(line: lines[i], reason: x.reason, excerpt: events.metric(at: x.index)))
                run.tally.notCounted.append(base + i)
            }
            for k in events.indices where !rejected.contains(k) {
                if events.time(at: k) == nil { run.tally.untimestamped += 1 } else { run.tally.timestamped += 1 }
            }
        }
        if rejections.isEmpty { return }
        rejections.sort { $0.line < $1.line }
        run.report.rejected += rejections.count
        if run.report.firstErrorLine == nil { run.report.firstErrorLine = rejections[0].line }
        for r in rejections { run.report.rejections[r.reason, default: 0] += 1 }
        run.sidecar.write(rejections)
    }

    /// A repeat of an earlier file: its timestamped events are skipped, except those the
    /// earlier file did not count (by ordinal).
    struct RepeatSkip {
        var notCounted: Set<Int>
    }

    // MARK: - Moves

    /// The hidden name a file is held under while it is moved (`.slawatch-taking-INODE-RANDOM[.EXT]`,
    /// never an existing name).
    static let takingPrefix = ".slawatch-taking-"

    /// Takes `name` out of the input atomically: renames it to a hidden name, and keeps it only
    /// if it is still the file that was read (`identity`). If a producer renamed another file
    /// over the name meanwhile, that file is given back under its name (or `NAME.returned-N`
    /// if the name is taken again) without being overwritten, and `nil` is returned.
    /// - Returns: the hidden path now holding the file that was read, or `nil`.
    func take(_ name: String, identity: FileIdentity) -> String? {
        let full = path + "/" + name
        let ext = (name as NSString).pathExtension
        let unique = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let hidden =
            path + "/" + Self.takingPrefix + String(identity.inode) + "-" + unique + (ext.isEmpty ? "" : "." + ext)
        guard rename(full, hidden) == 0 else { return nil }
        var st = stat()
        if lstat(hidden, &st) == 0, UInt64(st.st_ino) == identity.inode, UInt64(st.st_dev) == identity.device {
            return hidden
        }
        // Not ours: link(2) never replaces an existing name.
        var back = full
        var k = 0
        while link(hidden, back) != 0 && errno == EEXIST && k < 1000 {
            k += 1
            back = path + "/" + Self.fitted(name, suffix: ".returned-\(k)")
        }
        unlink(hidden)
        return nil
    }

    /// Files left under a hidden taking name by a crash: renamed back into the input as
    /// `recovered-INODE-RANDOM[.EXT]` (the ledger recognizes them and only finishes their move).
    public func recoverTaken() {
        for name in listNames().valid where name.hasPrefix(Self.takingPrefix) {
            let rest = String(name.dropFirst(Self.takingPrefix.count))
            var target = path + "/recovered-" + rest
            var k = 0
            while link(path + "/" + name, target) != 0 && errno == EEXIST && k < 1000 {
                k += 1
                target = path + "/recovered-\(k)-" + rest
            }
            unlink(path + "/" + name)
        }
    }

    /// A file found in the ledger: finish its interrupted move under the name chosen before the
    /// commit. When a cross-device copy had completed (the archived copy exists with the same
    /// size), only the source is unlinked.
    private func finishMove(_ name: String, to archived: String, identity: FileIdentity) -> Outcome {
        let full = path + "/" + name
        let partialSidecar = processedPath + "/." + archived + ".rejects.partial"
        if FileManager.default.fileExists(atPath: partialSidecar) {
            rename(partialSidecar, processedPath + "/" + archived + ".rejects")
        }
        var st = stat()
        if stat(processedPath + "/" + archived, &st) == 0, Int64(st.st_size) == identity.size,
            UInt64(st.st_ino) != identity.inode || UInt64(st.st_dev) != identity.device
        {
            if unlink(full) == 0 { return .alreadyIngested(name: archived) }
        }
        let target =
            FileManager.default.fileExists(atPath: processedPath + "/" + archived)
            ? uniqueName(name, in: processedPath) : archived
        do {
            try FileMover.move(from: full, toDirectory: processedPath, name: target)
        } catch {
            return .stuck(name: name, identity: identity, reason: "already ingested, but could not move: \(error)")
        }
        return .alreadyIngested(name: target)
    }

    private func fail(_ name: String, _ reason: String) -> Outcome {
        try? FileManager.default.createDirectory(atPath: failedPath, withIntermediateDirectories: true)
        let finalName = uniqueName(name, in: failedPath)
        let src = path + "/" + name
        var st = stat()
        let isDirectory = lstat(src, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
        do {
            if isDirectory {
                guard rename(src, failedPath + "/" + finalName) == 0 else { throw FileMover.Failure(errnoText()) }
            } else {
                try FileMover.move(from: src, toDirectory: failedPath, name: finalName)
            }
        } catch {
            if let id = identity(of: name) {
                return .stuck(name: name, identity: id, reason: "\(reason); could not move it to failed/: \(error)")
            }
            return .vanished
        }
        _ = FileManager.default.createFile(
            atPath: failedPath + "/" + finalName + ".error",
            contents: Data("\(name): \(reason)\n".utf8)
        )
        return .failed(name: finalName, reason: reason)
    }

    /// `name`, or `name.1`, `name.2`, … when an earlier file of that name is already there (a
    /// same-named later file never overwrites an earlier one).
    func uniqueName(_ name: String, in dir: String) -> String {
        var candidate = Self.fitted(name, suffix: "")
        var n = 0
        while FileManager.default.fileExists(atPath: dir + "/" + candidate)
            || FileManager.default.fileExists(atPath: dir + "/" + candidate + ".rejects")
            || FileManager.default.fileExists(atPath: dir + "/" + candidate + ".error")
        {
            n += 1
            candidate = Self.fitted(name, suffix: ".\(n)")
        }
        return candidate
    }

    /// Longest archived name: `.NAME.rejects.partial` must still fit in 255 bytes (NAME_MAX).
    static let maxArchivedName = 255 - ".".utf8.count - ".rejects.partial".utf8.count

    /// `name + suffix`, shortened when it would be too long for its sidecars: the middle of the
    /// name is replaced by `~` and 8 hex digits of its hash, keeping its start and extension.
    static func fitted(_ name: String, suffix: String) -> String {
        if name.utf8.count + suffix.utf8.count <= maxArchivedName { return name + suffix }
        let ext = (name as NSString).pathExtension
        let tail = (ext.isEmpty ? "" : "." + ext) + suffix
        var h: UInt32 = 2_166_136_261
        for b in name.utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
        let mark = "~" + String(h, radix: 16)
        var head = ""
        for c in name {
            if head.utf8.count + String(c).utf8.count + mark.utf8.count + tail.utf8.count > maxArchivedName { break }
            head.append(c)
        }
        return head + mark + tail
    }

    // MARK: - Retention

    /// Deletes files in `processed/` that arrived there (ctime) more than
    /// `processed_retention` ago.
    /// - Returns: the number of files deleted.
    @discardableResult
    public func pruneProcessed(now: Double) -> Int {
        guard settings.processedRetention > 0,
            let names = try? FileManager.default.contentsOfDirectory(atPath: processedPath)
        else { return 0 }
        var removed = 0
        for name in names {
            var st = stat()
            let full = processedPath + "/" + name
            guard lstat(full, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
            let ctime = Double(st.st_ctim.tv_sec) + Double(st.st_ctim.tv_nsec) / 1e9
            if now - ctime > settings.processedRetention, unlink(full) == 0 { removed += 1 }
        }
        return removed
    }

    // MARK: - Pass 1

    struct FileCheck {
        var hash: String
        var bytes: Int64
        var invalidUTF8Offset: Int64?
        var nulOffset: Int64?
    }

    struct CheckFailure: Error {
        var message: String
    }

    /// Reads the whole file once: its content hash and the offset of the first byte that is not
    /// UTF-8 (a BOM is fine). Memory: one chunk.
    static func check(fd: Int32) -> Result<FileCheck, CheckFailure> {
        var hasher = ContentHasher()
        var buffer = [UInt8](repeating: 0, count: chunkBytes + 4)
        var carry = 0
        var offset: Int64 = 0
        var invalid: Int64?
        var nul: Int64?
        var read64: Int64 = 0
        while true {
            let n = buffer.withUnsafeMutableBytes {
                read(fd, $0.baseAddress! + carry, chunkBytes)
            }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(CheckFailure(message: "read error: \(errnoText())"))
            }
            let total = carry + n
            buffer.withUnsafeBytes { raw in
                let fresh = UnsafeRawBufferPointer(rebasing: raw[carry..<total])
                hasher.update(fresh)
                if nul == nil, n > 0, let base = fresh.baseAddress, let hit = memchr(base, 0, n) {
                    nul = read64 + Int64(UnsafeRawPointer(hit) - base)
                }
            }
            read64 += Int64(max(n, 0))
            if invalid == nil {
                // Validate up to the last complete scalar; carry an incomplete tail (≤ 3 bytes).
                var end = total
                if n > 0 {
                    var k = total - 1
                    var back = 0
                    while k >= 0, back < 3, buffer[k] & 0xC0 == 0x80 {
                        k -= 1
                        back += 1
                    }
                    if k >= 0 {
                        let lead = buffer[k]
                        let need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
                        if total - k < need { end = k }
                    }
                }
                let ok = buffer.withUnsafeBytes {
                    String(validating: UnsafeRawBufferPointer(rebasing: $0[0..<end]), as: UTF8.self) != nil
                }
                if !ok {
                    invalid = offset + Int64(firstInvalid(buffer[0..<end]))
                } else if n == 0 && end < total {
                    invalid = offset + Int64(end)
                }
                let rest = total - end
                if rest > 0 { for i in 0..<rest { buffer[i] = buffer[end + i] } }
                offset += Int64(end)
                carry = rest
            } else {
                carry = 0
            }
            if n == 0 { break }
        }
        return .success(FileCheck(hash: hasher.hex, bytes: hasher.bytes, invalidUTF8Offset: invalid, nulOffset: nul))
    }

    private static func firstInvalid(_ bytes: ArraySlice<UInt8>) -> Int {
        var offset = 0
        var it = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&it) {
            case .scalarValue(let s): offset += String(s).utf8.count
            case .emptyInput, .error: return offset
            }
        }
    }

}

func errnoText() -> String { String(cString: strerror(errno)) }

/// A 128-bit non-cryptographic content digest (two 64-bit multiply–xorshift lanes over 8-byte
/// words, length folded in): tells one file's content from another's in the ledger. Stable
/// across runs and machines (little-endian words).
struct ContentHasher {
    private var a: UInt64 = 0x9E37_79B9_7F4A_7C15
    private var b: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private var tail: [UInt8] = []
    private(set) var bytes: Int64 = 0

    private static func mix(_ h: UInt64, _ w: UInt64, _ k: UInt64) -> UInt64 {
        var x = (h ^ w) &* k
        x ^= x >> 29
        return x &* 0xBF58_476D_1CE4_E5B9
    }

    mutating func update(_ data: UnsafeRawBufferPointer) {
        bytes += Int64(data.count)
        var i = 0
        if !tail.isEmpty {
            while tail.count < 8, i < data.count {
                tail.append(data[i])
                i += 1
            }
            if tail.count < 8 { return }
            let w = tail.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            absorb(UInt64(littleEndian: w))
            tail.removeAll(keepingCapacity: true)
        }
        while i + 8 <= data.count {
            absorb(UInt64(littleEndian: data.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
            i += 8
        }
        while i < data.count {
            tail.append(data[i])
            i += 1
        }
    }

    private mutating func absorb(_ w: UInt64) {
        a = Self.mix(a, w, 0x94D0_49BB_1331_11EB)
        b = Self.mix(b &+ 0x632B_E59B_D9B4_E019, w.byteSwapped, 0xFF51_AFD7_ED55_8CCD)
    }

    var hex: String {
        var x = a
        var y = b
        var last: UInt64 = 0
        for (k, byte) in tail.enumerated() { last |= UInt64(byte) << (8 * UInt64(k)) }
        x = Self.mix(x, last ^ UInt64(bitPattern: bytes), 0x94D0_49BB_1331_11EB)
        y = Self.mix(y, last &+ UInt64(bitPattern: bytes), 0xFF51_AFD7_ED55_8CCD)
        x ^= x >> 31
        y ^= y >> 31
        func hex16(_ v: UInt64) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }
        return hex16(x) + hex16(y)
    }
}

/// Where the top-level elements of a JSON array document start, as 1-based line numbers (for
/// `.rejects` of `.json` files).
enum JSONDocument {
    static func elementLines(_ data: [UInt8]) -> [Int] {
        var lines: [Int] = []
        var line = 1
        var depth = 0
        var inString = false
        var escaped = false
        var expectElement = false
        for c in data {
            if c == UInt8(ascii: "\n") { line += 1 }
            if inString {
                if escaped {
                    escaped = false
                } else if c == UInt8(ascii: "\\") {
                    escaped = true
                } else if c == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            let blank = c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09
            if depth == 1 && expectElement && !blank && c != UInt8(ascii: "]") {
                lines.append(line)
                expectElement = false
            }
            switch c {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth == 1 { expectElement = c == UInt8(ascii: "[") }
                if depth == 1 && c == UInt8(ascii: "{") { lines.append(line) }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            case UInt8(ascii: ","): if depth == 1 { expectElement = true }
            default: break
            }
        }
        return lines
    }
}

/// Streams `NAME.rejects` while a file is read: `line<TAB>reason: description<TAB>line text
/// (truncated to 200 bytes)`, under a hidden partial name until the file is committed.
struct RejectsWriter {
    let path: String
    let source: String
    private var fd: Int32 = -1

    init(path: String, source: String) {
        self.path = path
        self.source = source
    }

    mutating func write(_ rejections: [LineRejection]) {
        if fd < 0 {
            fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
            guard fd >= 0 else { return }
            emit("# rejected lines of \(source): line<TAB>reason<TAB>line text (truncated)\n")
        }
        var text = ""
        for r in rejections { text += "\(r.line)\t\(r.reason.rawValue): \(r.explanation)\t\(r.excerpt)\n" }
        emit(text)
    }

    private func emit(_ text: String) {
        var bytes = Array(text.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
            if n <= 0 { return }
            off += n
        }
    }

    /// Gives the sidecar its final name (nothing when there were no rejections).
    mutating func finish(as final: String) {
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
        fd = -1
        rename(path, final)
    }

    /// Removes the partial sidecar (the file was not committed).
    mutating func discard() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
        unlink(path)
    }
}

/// Moves a file into a directory, durably, also across file systems.
enum FileMover {
    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    /// `rename(2)`, then `fsync` of the target directory. On `EXDEV` (another file system):
    /// copy to a hidden partial name in the target directory, `fsync` it, rename it into place,
    /// `fsync` the directory, and only then unlink the source; the source is never removed
    /// unless the copy is complete.
    /// - Throws: `Failure` naming the step that failed (the source is then still in place).
    static func move(from src: String, toDirectory dir: String, name: String) throws {
        let dst = dir + "/" + name
        if rename(src, dst) == 0 {
            syncDirectory(dir)
            return
        }
        guard errno == EXDEV else { throw Failure("rename to \(dst): \(errnoText())") }
        let input = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard input >= 0 else { throw Failure("open \(src): \(errnoText())") }
        defer { close(input) }
        try copy(fd: input, toDirectory: dir, name: name)
        guard unlink(src) == 0 else { throw Failure("copied to \(dst), but unlink \(src): \(errnoText())") }
        syncDirectory((src as NSString).deletingLastPathComponent)
    }

    /// Copies an open file (from its start) to `dir/name`: a hidden partial copy, `fsync`, then
    /// a rename into place and an `fsync` of the directory. Nothing appears under `name` unless
    /// the copy is complete.
    /// - Throws: `Failure` naming the step that failed.
    static func copy(fd input: Int32, toDirectory dir: String, name: String) throws {
        let dst = dir + "/" + name
        let partial = dir + "/." + name + ".partial"
        guard lseek(input, 0, SEEK_SET) == 0 else { throw Failure("rewind: \(errnoText())") }
        var st = stat()
        fstat(input, &st)
        let output = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 0o7777)
        guard output >= 0 else { throw Failure("create \(partial): \(errnoText())") }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var failure: String?
        copy: while true {
            let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                failure = "read: \(errnoText())"
                break
            }
            if n == 0 { break }
            var off = 0
            while off < n {
                let w = buffer.withUnsafeBytes { Glibc.write(output, $0.baseAddress! + off, n - off) }
                if w < 0 {
                    if errno == EINTR { continue }
                    failure = "write \(partial): \(errnoText())"
                    break copy
                }
                off += w
            }
        }
        if failure == nil {
            var times = [st.st_atim, st.st_mtim]
            futimens(output, &times)
            if fsync(output) != 0 { failure = "fsync \(partial): \(errnoText())" }
        }
        if close(output) != 0 && failure == nil { failure = "close \(partial): \(errnoText())" }
        if let failure {
            unlink(partial)
            throw Failure(failure + " (the source stays in place)")
        }
        guard rename(partial, dst) == 0 else {
            let e = errnoText()
            unlink(partial)
            throw Failure("rename \(partial): \(e) (the source stays in place)")
        }
        syncDirectory(dir)
    }

    static func syncDirectory(_ dir: String) {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
