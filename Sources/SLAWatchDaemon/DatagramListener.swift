import CLinux
import Foundation
import SLAWatchCore
import Synchronization

/// The DogStatsD-over-Unix-datagram listener (`ingest.dgram`): one or more newline-separated
/// lines per datagram, read in batches of up to 64 datagrams per `recvmmsg(2)` call on a dedicated
/// thread, with the sender's credentials from `SCM_CREDENTIALS` (`SO_PASSCRED`, unix(7)).
///
/// SwiftNIO's datagram channel also batches with `recvmmsg`, but it does not hand out
/// `SCM_CREDENTIALS`, which authorization needs; hence this small loop of our own.
///
/// A datagram longer than `maxDatagramBytes` is dropped whole (it is received into a buffer one
/// byte larger, and `MSG_TRUNC` is checked), never parsed from its prefix.
public final class DatagramListener: Sendable {
    /// The socket's path (for messages), or the activated fd's name.
    public let path: String
    private let fd: Int32
    private let maxDatagramBytes: Int
    private let options: ParserOptions
    private let pipeline: IngestPipeline
    private let policy: PeerPolicy
    private struct State {
        var stopped = false
        var tallies: [Peer: SourceTally] = [:]
        var datagrams = 0
        var tooLong = 0
    }
    private let state = Mutex(State())
    private let done = DispatchSemaphore(value: 0)

    /// Wraps a bound `SOCK_DGRAM` Unix socket and enables `SO_PASSCRED` on it.
    public init(
        fd: Int32,
        path: String,
        maxDatagramBytes: Int,
        options: ParserOptions,
        pipeline: IngestPipeline,
        policy: PeerPolicy
    ) {
        self.fd = fd
        self.path = path
        self.maxDatagramBytes = maxDatagramBytes
        self.options = options
        self.pipeline = pipeline
        self.policy = policy
        _ = clinux_enable_passcred(fd)
        var size: Int32 = 8 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        // Wake up regularly to notice stop().
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Binds a new datagram socket at `path` (after `SocketPath.prepare`) with `mode`.
    /// - Throws: `SocketPath.StartupError` naming the path.
    public static func bind(path: String, mode: Int) throws -> Int32 {
        try SocketPath.prepare(path, type: SOCK_DGRAM)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            throw SocketPath.StartupError(description: "socket(): \(String(cString: strerror(errno)))")
        }
        let rc: Int32
        do {
            rc = try withUnixSocketAddress(path) { Glibc.bind(fd, $0, $1) }
        } catch {
            close(fd)
            throw error
        }
        guard rc == 0 else {
            let e = errno
            close(fd)
            throw SocketPath.StartupError(description: "cannot bind \(path): \(String(cString: strerror(e)))")
        }
        chmod(path, mode_t(mode))
        return fd
    }

    /// Datagrams received and datagrams dropped for being too long, since start.
    public var counts: (datagrams: Int, tooLong: Int) { state.withLock { ($0.datagrams, $0.tooLong) } }

    /// Starts the receive thread.
    public func start() {
        let t = Thread { [self] in
            run()
            done.signal()
        }
        t.name = "slawatch-dgram"
        t.start()
    }

    /// Stops the thread (within 200 ms) and waits for it.
    public func stop() {
        state.withLock { $0.stopped = true }
        done.wait()
    }

    private var isStopped: Bool { state.withLock { $0.stopped } }

    private func run() {
        let batch = 64
        let slot = maxDatagramBytes + 1
        var buffers = [UInt8](repeating: 0, count: batch * slot)
        var infos = [clinux_datagram](repeating: clinux_datagram(), count: batch)
        var batcher = LineBatcher(maxLineBytes: maxDatagramBytes, options: options)
        var reportedStats = ParseStats()
        while !isStopped {
            // Back-pressure: while the engine is behind, datagrams wait in the socket's queue.
            pipeline.waitForRoom()
            let n = buffers.withUnsafeMutableBytes { raw in
                infos.withUnsafeMutableBufferPointer { info in
                    clinux_recv_datagrams(
                        fd,
                        raw.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        slot,
                        info.baseAddress,
                        Int32(batch)
                    )
                }
            }
            if n < 0 {
                if -n == EAGAIN || -n == EWOULDBLOCK || -n == EINTR { continue }
                break
            }
            // Consecutive datagrams of one peer (the usual case: one sender) go into one batch,
            // parsed straight from the receive buffer; a change of peer hands the batch over.
            var current: Peer?
            var oversize: [LineRejection] = []
            var tooLong = 0
            func handOver() {
                guard let peer = current, !batcher.isEmpty || !oversize.isEmpty else { return }
                let b = batcher.take(reusing: pipeline.pool)
                var events = b.events
                var lines = b.eventLines
                var rejections = b.rejections + oversize
                oversize = []
                authorize(events: &events, lines: &lines, rejections: &rejections, patterns: policy.patterns(for: peer))
                pipeline.submit(
                    .batch(events: events, lines: lines, parseRejections: rejections, tally: tally(for: peer))
                )
            }
            for i in 0..<Int(n) {
                let info = infos[i]
                let peer = Peer(pid: info.pid, uid: info.uid, gid: info.gid)
                if peer != current {
                    handOver()
                    current = peer
                }
                if info.truncated != 0 || Int(info.length) > maxDatagramBytes {
                    tooLong += 1
                    oversize.append(
                        LineRejection(
                            line: 1,
                            reason: .datagramTooLong,
                            excerpt: "datagram of more than \(maxDatagramBytes) bytes"
                        )
                    )
                } else {
                    // Each datagram is a stream of its own: lines numbered from 1, a final line
                    // without a newline complete.
                    batcher.startNewStream()
                    buffers.withUnsafeBytes { raw in
                        batcher.feed(UnsafeRawBufferPointer(rebasing: raw[(i * slot)..<(i * slot + Int(info.length))]))
                    }
                    batcher.finish()
                }
            }
            handOver()
            pipeline.counters.addIgnored(.datagram, batcher.stats, since: reportedStats)
            reportedStats = batcher.stats
            state.withLock { s in
                s.datagrams += Int(n)
                s.tooLong += tooLong
            }
        }
    }

    private func tally(for peer: Peer) -> SourceTally {
        state.withLock { s in
            if let t = s.tallies[peer] { return t }
            if s.tallies.count > 1000 { s.tallies.removeAll() }
            let t = SourceTally(source: "datagram \(path) peer \(peer)", kind: .datagram)
            s.tallies[peer] = t
            return t
        }
    }
}
