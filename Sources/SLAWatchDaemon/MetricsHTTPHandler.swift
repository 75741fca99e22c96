import NIOCore
import NIOHTTP1

/// One HTTP/1.1 connection of the metrics socket: `GET /metrics` (or `HEAD`) gets the
/// exposition, any other path `404`, any other method `405` with `Allow: GET, HEAD`; keep-alive
/// as the client asks (Prometheus keeps its connection).
final class MetricsHTTPHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let exposition: @Sendable () async -> String

    init(exposition: @escaping @Sendable () async -> String) { self.exposition = exposition }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let keepAlive = head.isKeepAlive
        let version = head.version
        let channel = context.channel
        let loop = context.eventLoop
        guard head.method == .GET || head.method == .HEAD else {
            respond(
                channel,
                loop,
                version,
                keepAlive,
                .methodNotAllowed,
                "method not allowed: GET /metrics\n",
                [("Allow", "GET, HEAD")],
                head: false
            )
            return
        }
        guard path == "/metrics" || path == "/" else {
            respond(
                channel,
                loop,
                version,
                keepAlive,
                .notFound,
                "not found: GET /metrics\n",
                [],
                head: head.method == .HEAD
            )
            return
        }
        let isHead = head.method == .HEAD
        let exposition = self.exposition
        Task {
            let body = await exposition()
            self.respond(
                channel,
                loop,
                version,
                keepAlive,
                .ok,
                body,
                [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")],
                head: isHead
            )
        }
    }

    /// Writes one response on the channel's event loop; closes the connection unless kept alive.
    private func respond(
        _ channel: Channel,
        _ loop: EventLoop,
        _ version: HTTPVersion,
        _ keepAlive: Bool,
        _ status: HTTPResponseStatus,
        _ body: String,
        _ extra: [(String, String)],
        head: Bool
    ) {
        loop.execute {
            var headers = HTTPHeaders(extra)
            headers.add(name: "Content-Length", value: String(body.utf8.count))
            if extra.allSatisfy({ $0.0 != "Content-Type" }) {
                headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
            }
            headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
            channel.write(
                HTTPServerResponsePart.head(HTTPResponseHead(version: version, status: status, headers: headers)),
                promise: nil
            )
            if !head {
                var buffer = channel.allocator.buffer(capacity: body.utf8.count)
                buffer.writeString(body)
                channel.write(HTTPServerResponsePart.body(.byteBuffer(buffer)), promise: nil)
            }
            let done = channel.writeAndFlush(HTTPServerResponsePart.end(nil))
            if !keepAlive { done.whenComplete { _ in channel.close(promise: nil) } }
        }
    }
}
