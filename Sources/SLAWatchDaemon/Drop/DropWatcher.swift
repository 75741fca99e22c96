import Foundation
import SLAWatchCore
import Synchronization

/// inotify(7) on the drop directory, read on a thread of its own.
///
/// Watches `IN_MOVED_TO` (a file renamed in: complete, read at once), `IN_CREATE`/`IN_MODIFY`
/// (a file being written in place), `IN_CLOSE_WRITE` (its writer closed it: read after the
/// settle period) and reports `IN_Q_OVERFLOW` (events were lost: rescan). Events are delivered
/// through `events`.
public final class DropWatcher: Sendable {
    /// One thing that happened in the directory.
    public enum Change: Sendable, Equatable {
        /// Renamed into the directory.
        case movedIn(String)
        /// Created or written to (still open for writing, as far as we know).
        case written(String)
        /// Closed after writing.
        case closed(String)
        /// Removed or renamed away.
        case gone(String)
        /// The kernel queue overflowed; some events were lost.
        case overflow
        /// A file whose name is not UTF-8 appeared (a rescan moves it to `failed/`).
        case invalidName
    }

    /// The changes, in kernel order.
    public let events: AsyncStream<Change>
    private let continuation: AsyncStream<Change>.Continuation
    private let fd: Int32
    private let directory: String
    private let stopped = Atomic<Bool>(false)

    /// Starts watching `directory`.
    /// - Throws: `DropWatcher.Unavailable` naming the errno of `inotify_init1` or
    ///   `inotify_add_watch` (the caller then polls).
    public init(directory: String) throws {
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { throw Unavailable(reason: "inotify_init1: \(errnoText())") }
        let mask = UInt32(IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE | IN_MODIFY | IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR)
        guard inotify_add_watch(fd, directory, mask) >= 0 else {
            let reason = "inotify_add_watch \(directory): \(errnoText())"
            close(fd)
            throw Unavailable(reason: reason)
        }
        self.fd = fd
        self.directory = directory
        (events, continuation) = AsyncStream.makeStream(of: Change.self)
        let t = Thread { [self] in self.loop() }
        t.name = "slawatch-inotify"
        t.start()
    }

    /// inotify could not be set up.
    public struct Unavailable: Error, CustomStringConvertible {
        /// The failing call and its errno.
        public var reason: String
        /// The reason.
        public var description: String { reason }
    }

    /// Stops the thread and ends `events`.
    public func stop() { stopped.store(true, ordering: .releasing) }

    private var isStopped: Bool { stopped.load(ordering: .acquiring) }

    private func loop() {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while !isStopped {
            let ready = poll(&pfd, 1, 200)
            if ready <= 0 { continue }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { continue }
            var off = 0
            buffer.withUnsafeBytes { raw in
                while off + 16 <= n {
                    let mask = raw.loadUnaligned(fromByteOffset: off + 4, as: UInt32.self)
                    let len = Int(raw.loadUnaligned(fromByteOffset: off + 12, as: UInt32.self))
                    var name = ""
                    var validName = true
                    if len > 0 {
                        let bytes = UnsafeRawBufferPointer(rebasing: raw[(off + 16)..<(off + 16 + len)])
                        let end = bytes.firstIndex(of: 0) ?? len
                        if let n = String(validating: UnsafeRawBufferPointer(rebasing: bytes[0..<end]), as: UTF8.self) {
                            name = n
                        } else {
                            validName = false
                        }
                    }
                    off += 16 + len
                    if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                        continuation.yield(.overflow)
                        continue
                    }
                    if !validName {
                        if mask & UInt32(IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE) != 0 {
                            continuation.yield(.invalidName)
                        }
                        continue
                    }
                    if name.isEmpty { continue }
                    if mask & UInt32(IN_CREATE) != 0 {
                        // Only a regular file created by open(2) is written after its creation;
                        // a hard link (link count above 1) or a directory, symlink or FIFO made
                        // in place is complete (the latter are refused when read).
                        var st = stat()
                        if lstat(directory + "/" + name, &st) == 0,
                            (st.st_mode & S_IFMT) != S_IFREG || st.st_nlink > 1
                        {
                            continuation.yield(.closed(name))
                            continue
                        }
                    }
                    if mask & UInt32(IN_ISDIR) != 0 && mask & UInt32(IN_MOVED_TO | IN_CREATE) == 0 { continue }
                    if mask & UInt32(IN_MOVED_TO) != 0 {
                        continuation.yield(.movedIn(name))
                    } else if mask & UInt32(IN_CLOSE_WRITE) != 0 {
                        continuation.yield(.closed(name))
                    } else if mask & UInt32(IN_CREATE | IN_MODIFY) != 0 {
                        continuation.yield(.written(name))
                    } else if mask & UInt32(IN_DELETE | IN_MOVED_FROM) != 0 {
                        continuation.yield(.gone(name))
                    }
                }
            }
        }
        close(fd)
        continuation.finish()
    }
}

/// Decides when a file in the drop directory is ready to be read (pure; the daemon feeds it
/// inotify changes, scans and the time).
///
/// - Renamed in (`IN_MOVED_TO`): ready at once; a rename is atomic, the file is complete.
/// - Written in place: not ready while it is open for writing (`IN_CREATE`/`IN_MODIFY` seen, no
///   `IN_CLOSE_WRITE` yet); after the close, ready once its size and mtime have stayed the same
///   for `settle` seconds.
/// - Found by a scan (start, overflow, `rescan_interval`, or polling without inotify): ready when
///   it is not known to be open for writing and its mtime is at least `settle` seconds old and
///   unchanged since it was first seen.
public struct DropScheduler: Sendable {
    /// Seconds a file written in place must stay unchanged.
    public let settle: Double
    private var writing: Set<String> = []
    private var settling: [String: (identity: DropDirectory.FileIdentity?, since: Double)] = [:]
    private var readyQueue: [String] = []
    private var queued: Set<String> = []
    /// Files believed open for writing, with their identity when a scan first saw them so.
    private var writingSeen: [String: (identity: DropDirectory.FileIdentity, since: Double)] = [:]
    /// Files seen (being written or settling) that disappeared before they were read, in order;
    /// `takeVanished()` hands them over.
    private var vanished: [String] = []
    /// Seconds a file believed open for writing may stay unchanged before scans treat it as
    /// complete: a file linked in with `linkat(2)` from an `O_TMPFILE` descriptor gets only
    /// `IN_CREATE` if its writer keeps the descriptor open.
    public let staleWriting: Double

    /// Creates a scheduler.
    public init(settle: Double, staleWriting: Double = 60) {
        self.settle = settle
        self.staleWriting = staleWriting
    }

    /// Applies one inotify change.
    public mutating func apply(_ change: DropWatcher.Change, now: Double) {
        switch change {
        case .movedIn(let name):
            guard !DropDirectory.isIgnored(name) else { return }
            writing.remove(name)
            settling[name] = nil
            enqueue(name)
        case .written(let name):
            guard !DropDirectory.isIgnored(name) else { return }
            writing.insert(name)
            settling[name] = nil
        case .closed(let name):
            guard !DropDirectory.isIgnored(name) else { return }
            writing.remove(name)
            if !queued.contains(name) { settling[name] = (nil, now) }
        case .gone(let name):
            // Seen and not read yet: someone else renamed or deleted it. (The daemon's own moves
            // happen after `next()` handed the name out, so they are not reported; a queued
            // name is reported by the read that finds it gone.)
            let wasWriting = writing.remove(name) != nil
            let wasSettling = settling.removeValue(forKey: name) != nil
            if (wasWriting || wasSettling) && !queued.contains(name) && !DropDirectory.isIgnored(name) {
                vanished.append(name)
            }
        case .invalidName:
            break
        case .overflow:
            // Lost events: who is still writing is unknown now; the scan's settle rule decides.
            writing.removeAll()
        }
    }

    /// Applies a scan of the directory (`DropDirectory.scan()`).
    public mutating func scanned(_ files: [(name: String, identity: DropDirectory.FileIdentity)], now: Double) {
        let present = Set(files.map(\.name))
        for name in settling.keys.sorted() where !present.contains(name) { vanished.append(name) }
        settling = settling.filter { present.contains($0.key) }
        writing = writing.filter { present.contains($0) }
        writingSeen = writingSeen.filter { writing.contains($0.key) }
        for f in files where writing.contains(f.name) {
            if let seen = writingSeen[f.name], seen.identity == f.identity {
                if now - seen.since >= staleWriting {
                    writing.remove(f.name)
                    writingSeen[f.name] = nil
                }
            } else {
                writingSeen[f.name] = (f.identity, now)
            }
        }
        for f in files where !queued.contains(f.name) && !writing.contains(f.name) {
            if let s = settling[f.name] {
                if s.identity != f.identity { settling[f.name] = (f.identity, now) }
                continue
            }
            let age = now - Double(f.identity.mtime) / 1e9
            if age >= settle {
                enqueue(f.name)
            } else {
                settling[f.name] = (f.identity, now)
            }
        }
    }

    /// Moves settled files to the ready queue: those whose identity (`identity(name)`, `nil` when
    /// gone) is unchanged for `settle` seconds.
    public mutating func tick(now: Double, identity: (String) -> DropDirectory.FileIdentity?) {
        for (name, s) in settling {
            guard let current = identity(name) else {
                settling[name] = nil
                vanished.append(name)
                continue
            }
            if s.identity != current {
                settling[name] = (current, now)
            } else if now - s.since >= settle {
                settling[name] = nil
                enqueue(name)
            }
        }
    }

    /// Reads `name` again after the settle period (its read was interrupted and not counted).
    public mutating func retryLater(_ name: String, now: Double) {
        settling[name] = (nil, now)
    }

    /// The files seen that disappeared before they were read since the last call.
    public mutating func takeVanished() -> [String] {
        defer { vanished = [] }
        return vanished
    }

    /// The next file to read, `nil` when none is ready.
    public mutating func next() -> String? {
        guard !readyQueue.isEmpty else { return nil }
        let name = readyQueue.removeFirst()
        queued.remove(name)
        return name
    }

    private mutating func enqueue(_ name: String) {
        if queued.insert(name).inserted { readyQueue.append(name) }
    }
}
