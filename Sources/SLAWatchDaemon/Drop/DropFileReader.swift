import Foundation
import SLAWatchCore
import SLAWatchStore

/// Reading one drop file: identity and owner checks, the ledger, staging its events (lines or
/// one JSON document), the commit that counts them exactly once, and the move that archives it.
extension DropDirectory {
    /// Reads, ingests and moves one file.
    /// - Parameters:
    ///   - actor: stages the events and commits them with the ledger entry.
    ///   - policy: who may write which metrics (the file's owner is the writer).
    public func process(_ name: String, actor: EngineActor, policy: PeerPolicy) async -> Outcome {
        let full = path + "/" + name
        // processed/ and failed/ themselves (recreated, or renamed in by someone) are not input.
        if full == processedPath || full == failedPath { return .notInput }
        let started = DispatchTime.now().uptimeNanoseconds
        guard var st = try? Posix.lstat(full) else { return .vanished }
        switch st.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFLNK: return fail(name, "\(name) is a symbolic link; only regular files are read")
        case S_IFDIR: return fail(name, "\(name) is a directory; only regular files are read")
        default: return fail(name, "\(name) is not a regular file (a socket, FIFO or device)")
        }
        guard let format = DropFileFormat.of(fileName: name, csv: settings.csv) else {
            return fail(name, DropFileFormat.unknownExtension(name))
        }
        betweenCheckAndOpen?(name)
        let fd: Int32
        do throws(PosixError) { fd = try Posix.open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK) } catch {
            if error.code == ENOENT { return .vanished }
            // Out of descriptors or memory says nothing about the file: read it again later.
            if error.isTransient { return .retry(reason: "cannot open \(name) for now: \(error.reason)") }
            return fail(name, "cannot open: \(error.reason)")
        }
        defer { close(fd) }
        guard let opened = try? Posix.fstat(fd), (opened.st_mode & S_IFMT) == S_IFREG else {
            return fail(name, "\(name) is not a regular file")
        }
        // What is judged is what was opened: a file renamed over the name between the lstat
        // and the open is not read with the checks (or the rights) of the one before it.
        guard opened.st_dev == st.st_dev, opened.st_ino == st.st_ino else {
            return .retry(reason: "\(name) was replaced while it was opened; it will be read again")
        }
        st = opened
        // Authorization by the owner of the open descriptor.
        let patterns = policy.patterns(for: Peer(pid: -1, uid: st.st_uid, gid: st.st_gid))
        if let patterns, patterns.isEmpty {
            let user = PeerPolicy.userName(st.st_uid) ?? "uid \(st.st_uid)"
            return fail(name, "\(name) is owned by \(user) (uid \(st.st_uid)), who may write no metric (authorization)")
        }
        let identity = FileIdentity(st)
        // Pass 1: content hash and UTF-8 check, in constant memory.
        let check: FileCheck
        switch Self.check(fd: fd) {
        case .success(let c): check = c
        case .failure(let e):
            if e.transient { return .retry(reason: "\(name): \(e.message); it will be read again") }
            return fail(name, e.message)
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
            contentHash: check.hash + "/" + format.ledgerKey,
            accepted: 0,
            rejected: 0
        )
        // A ledger that cannot be read is not an empty one: the file waits for a retry rather
        // than being counted a second time.
        let prior: LedgerEntry?
        let earlier: LedgerEntry?
        do {
            prior = try await actor.ledgerEntry(sameFileAs: entry)
            // The same bytes read the same way are the same events (a CSV read through another
            // mapping is not); the hash names the format.
            earlier =
                settings.dedupe && prior == nil ? try await actor.ledgerEntry(contentHash: entry.contentHash) : nil
        } catch {
            return .retry(reason: "cannot read the drop ledger: \(error); \(name) will be read again")
        }
        if let prior {
            return finishMove(name, to: prior.archivedName.isEmpty ? name : prior.archivedName, identity: identity)
        }
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
        if (try? Posix.fstat(fd)).map(FileIdentity.init) != identity {
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
            // Nothing of the file was merged or recorded: it is read again once the store
            // writes again.
            sidecar.discard()
            return .retry(reason: "store commit failed (\(error)); nothing of it was counted, it will be read again")
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
            if (try? Posix.link(owned, full)) != nil { _ = try? Posix.unlink(owned) }
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

    func stageLines(fd: Int32, format: LineBatcher.Format, _ run: inout FileRun) async
        -> Result<Void, StageFailure>
    {
        do throws(PosixError) { try Posix.rewind(fd) } catch {
            return .failure(.retry("cannot rewind: \(error.reason)"))
        }
        var batcher = LineBatcher(maxLineBytes: settings.maxLineBytes, format: format)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkBytes, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            if Task.isCancelled { return .failure(.retry("shutting down")) }
            let n: Int
            do throws(PosixError) { n = try Posix.read(fd, into: buffer) } catch {
                return .failure(.retry("read error: \(error.reason)"))
            }
            if n == 0 {
                batcher.finish()
            } else {
                batcher.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            }
            if let fatal = batcher.fatalError { return .failure(.unreadable(fatal + "; nothing of it was counted")) }
            let b = batcher.take()
            if let failure = await stage(
                b.events,
                lines: b.eventLines,
                rejections: b.rejections,
                lineCount: batcher.lineCount,
                ignored: batcher.stats,
                &run
            ) {
                return .failure(failure)
            }
            if n == 0 { return .success(()) }
        }
    }

    func stageJSON(fd: Int32, size: Int64, _ run: inout FileRun) async -> Result<Void, StageFailure> {
        guard size <= settings.maxJSONBytes else {
            return .failure(
                .unreadable(JSONDocumentReader.Failure.tooLarge(Int(size), limit: settings.maxJSONBytes).description)
            )
        }
        var data = [UInt8]()
        data.reserveCapacity(Int(size))
        do throws(PosixError) {
            try Posix.rewind(fd)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkBytes, alignment: 16)
            defer { buffer.deallocate() }
            while true {
                let n = try Posix.read(fd, into: buffer)
                if n == 0 { break }
                data += UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            }
        } catch {
            return .failure(.retry("\(error.operation) error: \(error.reason)"))
        }
        let doc: JSONDocumentReader.Document
        do {
            doc = try JSONDocumentReader.read(data, maxBytes: settings.maxJSONBytes)
        } catch {
            return .failure(.unreadable(error.description))
        }
        let failure = await stage(
            doc.events,
            lines: doc.eventLines,
            rejections: doc.rejections,
            lineCount: doc.lineCount,
            ignored: doc.ignored,
            &run
        )
        return failure.map { .failure($0) } ?? .success(())
    }

    /// Stages what was parsed so far and records the file's line count and ignored input; a
    /// staging error (a reload, a shutdown) asks for a retry.
    private func stage(
        _ events: EventBatch,
        lines: [Int],
        rejections: [LineRejection],
        lineCount: Int,
        ignored: ParseStats,
        _ run: inout FileRun
    ) async -> StageFailure? {
        run.report.lines = lineCount
        run.report.ignored = ignored
        do {
            try await stage(events, lines: lines, parseRejections: rejections, &run)
            return nil
        } catch {
            return .retry("\(error)")
        }
    }

    /// Authorizes, drops already-counted timestamped events of a repeat, stages, and records
    /// rejections (parser, authorization and engine) in line order. Every parsed event has an
    /// ordinal (its position among the file's events); the ordinals of events not counted
    /// (unauthorized, too late, in the future) go to the ledger, so that a repeat of the file
    /// skips exactly the timestamped events that were counted.
    func stage(
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
}
