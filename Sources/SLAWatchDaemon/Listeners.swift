import CLinux
import Foundation
import NIOCore
import NIOPosix
import SLAWatchCore
import Synchronization

/// File descriptors passed by systemd socket activation (`sd_listen_fds_with_names(3)`), by their
/// `FileDescriptorName=`: `ingest` (stream), `ingest-dgram` (datagram), `control` (stream),
/// `metrics` (stream, HTTP).
public struct ActivatedSockets: Sendable, Equatable {
    /// Stream socket for events.
    public var ingest: Int32?
    /// Datagram socket for events.
    public var ingestDatagram: Int32?
    /// Stream socket for `slawatch status`.
    public var control: Int32?
    /// Stream socket answering `GET /metrics` (HTTP/1.1).
    public var metrics: Int32?

    /// No activated sockets: the daemon binds its own.
    public init(ingest: Int32? = nil, ingestDatagram: Int32? = nil, control: Int32? = nil, metrics: Int32? = nil) {
        self.ingest = ingest
        self.ingestDatagram = ingestDatagram
        self.control = control
        self.metrics = metrics
    }

    /// Picks fds by name and checks their type (`SO_TYPE`): a stream fd named for datagrams is
    /// an error, not a silent misroute. Unknown names are errors too (a typo in the .socket unit).
    /// - Throws: `SocketPath.StartupError` naming the fd and the problem.
    public init(named fds: [(fd: Int32, name: String)]) throws {
        for (fd, name) in fds {
            let type = clinux_socket_type(fd)
            let expected: Int32
            switch name {
            case "ingest", "control", "metrics": expected = Int32(SOCK_STREAM.rawValue)
            case "ingest-dgram": expected = Int32(SOCK_DGRAM.rawValue)
            default:
                throw SocketPath.StartupError(
                    description:
                        "activated fd \(fd) has FileDescriptorName=\(name); expected ingest, ingest-dgram, control or metrics"
                )
            }
            guard type == expected else {
                throw SocketPath.StartupError(
                    description:
                        "activated fd \(fd) named \(name) is not a \(expected == 1 ? "stream" : "datagram") socket"
                )
            }
            switch name {
            case "ingest": ingest = fd
            case "ingest-dgram": ingestDatagram = fd
            case "metrics": metrics = fd
            default: control = fd
            }
        }
    }
}

/// Counts the connections of one listening socket to enforce its cap (`max_connections`, or
/// what `DescriptorBudget` allows), and the times `accept(2)` failed and accepting paused.
final class ConnectionLimiter: Sendable {
    /// Connections allowed at once.
    let limit: Int
    private let state = Mutex((open: 0, refused: 0))
    private let backoffs = Atomic<Int>(0)

    init(limit: Int) { self.limit = limit }

    /// Times `accept(2)` failed (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`) and the listener
    /// stopped accepting for `acceptBackoff` instead of retrying at once.
    var acceptBackoffs: Int { backoffs.load(ordering: .relaxed) }

    /// How long a listener stops accepting after `accept(2)` failed: the pending connections
    /// wait in the backlog meanwhile (a failing accept retried at once spins a core).
    static let acceptBackoff = TimeAmount.milliseconds(250)

    /// The server channel's back-off handler (NIO's `AcceptBackoffHandler`), counting here.
    func backoffHandler() -> AcceptBackoffHandler {
        AcceptBackoffHandler(shouldForwardIOErrorCaught: false) { [self] _ in
            backoffs.add(1, ordering: .relaxed)
            return Self.acceptBackoff
        }
    }

    /// Takes a slot; `false` (and counted) when all are in use.
    func acquire() -> Bool {
        state.withLock { s in
            if s.open >= limit {
                s.refused += 1
                return false
            }
            s.open += 1
            return true
        }
    }

    func release() { state.withLock { $0.open -= 1 } }

    var counts: (open: Int, refused: Int) { state.withLock { $0 } }
}

/// The peer of a Unix stream connection (`SO_PEERCRED`), `nil` when unavailable.
func peerCredentials(_ channel: Channel) -> EventLoopFuture<Peer?> {
    guard let provider = channel as? SocketOptionProvider else {
        return channel.eventLoop.makeSucceededFuture(nil)
    }
    let future: EventLoopFuture<PeerCredentials> = provider.unsafeGetSocketOption(
        level: .socket,
        name: NIOBSDSocket.Option(rawValue: SO_PEERCRED)
    )
    return future.map { Peer(pid: $0.pid, uid: $0.uid, gid: $0.gid) }.recover { _ in nil }
}

/// Layout of Linux `struct ucred` (pid, uid, gid), which Glibc only declares under `_GNU_SOURCE`.
struct PeerCredentials {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

/// Starts the stream ingest server on an activated fd or a path of its own.
func startStreamIngest(
    group: EventLoopGroup,
    config: DaemonConfig,
    path: String,
    activatedFD: Int32?,
    pipeline: IngestPipeline,
    policy: PeerPolicy,
    limiter: ConnectionLimiter,
    onStalled: @escaping @Sendable (_ source: String, _ pendingBytes: Int, _ seconds: Double) -> Void
) async throws -> Channel {
    let maxLine = config.maxLineBytes
    let options = ParserOptions(gaugeDeltas: config.gaugeDeltas)
    let idle = TimeAmount.nanoseconds(Int64(config.idleTimeout * 1e9))
    let bootstrap = ServerBootstrap(group: group)
        .serverChannelOption(.backlog, value: 256)
        .serverChannelInitializer { ch in
            ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(limiter.backoffHandler()) }
        }
        .childChannelOption(.allowRemoteHalfClosure, value: true)
        // Answers waiting for a peer that does not read them: above 64 KiB the connection is
        // not writable and the handler stops reading from it (StreamIngestHandler).
        .childChannelOption(.writeBufferWaterMark, value: .init(low: 16 * 1024, high: 64 * 1024))
        // Reads grow to 256 KiB on a busy connection (NIO's default stops at 64 KiB): fewer
        // system calls, and batches of up to 1 MiB (4 reads) in which each distinct name is
        // interned and looked up once. A quiet connection's reads shrink back to a few KiB.
        .childChannelOption(
            .recvAllocator,
            value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 262_144)
        )
        .childChannelInitializer { ch in
            guard limiter.acquire() else {
                // max_connections reached: close at once (counted).
                return ch.close()
            }
            ch.closeFuture.whenComplete { _ in limiter.release() }
            return peerCredentials(ch).flatMapThrowing { peer in
                let source = "socket \(path) peer \(peer.map(\.description) ?? "unknown")"
                try ch.pipeline.syncOperations.addHandler(
                    StreamIngestHandler(
                        pipeline: pipeline,
                        maxLineBytes: maxLine,
                        options: options,
                        source: source,
                        patterns: policy.patterns(forOptional: peer),
                        idleTimeout: idle,
                        stallTimeout: idle,
                        onStalled: onStalled
                    )
                )
            }
        }
    return try await listen(bootstrap, path: path, activatedFD: activatedFD, mode: config.socketMode)
}

/// Starts the control server (`status`) on an activated fd or a path of its own; connections
/// beyond `limiter`'s cap are closed at once.
func startControl(
    group: EventLoopGroup,
    config: DaemonConfig,
    path: String,
    activatedFD: Int32?,
    limiter: ConnectionLimiter,
    respond: @escaping @Sendable (String) async -> String
) async throws -> Channel {
    let bootstrap = ServerBootstrap(group: group)
        .serverChannelOption(.backlog, value: 64)
        .serverChannelInitializer { ch in
            ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(limiter.backoffHandler()) }
        }
        .childChannelOption(.allowRemoteHalfClosure, value: true)
        .childChannelInitializer { ch in
            guard limiter.acquire() else { return ch.close() }
            ch.closeFuture.whenComplete { _ in limiter.release() }
            return ch.eventLoop.makeCompletedFuture {
                try ch.pipeline.syncOperations.addHandler(ControlHandler(respond: respond))
            }
        }
    return try await listen(bootstrap, path: path, activatedFD: activatedFD, mode: config.socketMode)
}

/// Starts the metrics socket: HTTP/1.1, `GET /metrics` answered with `exposition()` as
/// `text/plain; version=0.0.4` (the Prometheus text format), `404` for other paths, `405` for
/// other methods. Connections are capped by `limiter`.
func startMetricsHTTP(
    group: EventLoopGroup,
    config: DaemonConfig,
    path: String,
    activatedFD: Int32?,
    limiter: ConnectionLimiter,
    exposition: @escaping @Sendable () async -> String
) async throws -> Channel {
    let bootstrap = ServerBootstrap(group: group)
        .serverChannelOption(.backlog, value: 64)
        .serverChannelInitializer { ch in
            ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(limiter.backoffHandler()) }
        }
        .childChannelInitializer { ch in
            guard limiter.acquire() else { return ch.close() }
            ch.closeFuture.whenComplete { _ in limiter.release() }
            return ch.eventLoop.makeCompletedFuture {
                try ch.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                try ch.pipeline.syncOperations.addHandler(MetricsHTTPHandler(exposition: exposition))
            }
        }
    return try await listen(bootstrap, path: path, activatedFD: activatedFD, mode: config.socketMode)
}

/// Adopts the activated fd, or binds `path` (after the stale-socket check) with `mode`.
private func listen(_ bootstrap: ServerBootstrap, path: String, activatedFD: Int32?, mode: Int) async throws -> Channel
{
    if let fd = activatedFD {
        return try await bootstrap.withBoundSocket(fd).get()
    }
    try SocketPath.prepare(path)
    let channel = try await bootstrap.bind(unixDomainSocketPath: path).get()
    chmod(path, mode_t(mode))
    return channel
}
