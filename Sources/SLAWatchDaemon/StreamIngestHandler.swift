import Foundation
import NIOCore
import SLAWatchCore

/// Reads newline-framed statsd/JSON lines from one stream-socket connection, parses them straight
/// from the received bytes and hands whole batches (one per read burst) to the ingest pipeline.
///
/// Control line: `#sync <id>` asks for an acknowledgement. After every event before it is
/// committed to the store the daemon answers `rejected <line> <reason> <excerpt>` for each line
/// rejected since the previous acknowledgement, then `ok <id> <accepted> <rejected>` (totals for
/// the connection), or `error <id> commit failed`. Other `#` lines are ignored.
final class StreamIngestHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var batcher: LineBatcher
    private let pipeline: IngestPipeline
    private let tally: SourceTally
    private let patterns: [String]?
    private var finished = false
    private var reportedStats = ParseStats()

    /// - Parameters:
    ///   - patterns: metric patterns the peer may write, `nil` for everything.
    init(
        pipeline: IngestPipeline,
        maxLineBytes: Int,
        options: ParserOptions,
        source: String,
        patterns: [String]?
    ) {
        self.pipeline = pipeline
        self.batcher = LineBatcher(maxLineBytes: maxLineBytes, options: options)
        self.tally = SourceTally(source: source, kind: .stream)
        self.patterns = patterns
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        buffer.withUnsafeReadableBytes { batcher.feed($0) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush(context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed {
            // Half-closed (a clean end of input): a final line without \n counts; answer what
            // was sent, then close our side.
            finish(context: context, close: true, cleanEnd: true)
        } else if let e = event as? IdleStateHandler.IdleStateEvent, e == .read {
            // idle_timeout: complete lines already sent are processed; a partial one is not.
            finish(context: context, close: true, cleanEnd: false)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // Closed without a half-close first (reset, or a peer that closed both directions at
        // once): a partial final line is not trusted.
        finish(context: context, close: false, cleanEnd: false)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    private func finish(context: ChannelHandlerContext, close: Bool, cleanEnd: Bool) {
        guard !finished else { return }
        finished = true
        if cleanEnd { batcher.finish() } else { batcher.abandon() }
        flush(context: context)
        guard close else { return }
        // Close our side once everything sent before the half-close went through the pipeline.
        let channel = context.channel
        pipeline.submit(.barrier { channel.close(promise: nil) })
    }

    private func flush(context: ChannelHandlerContext) {
        guard !batcher.isEmpty else { return }
        pipeline.counters.addIgnored(.stream, batcher.stats, since: reportedStats)
        reportedStats = batcher.stats
        let b = batcher.take(reusing: pipeline.pool)
        if b.controls.isEmpty {
            // The common case: one batch as parsed, no copies.
            var events = b.events
            var lines = b.eventLines
            var rejections = b.rejections
            authorize(events: &events, lines: &lines, rejections: &rejections, patterns: patterns)
            pipeline.submit(.batch(events: events, lines: lines, parseRejections: rejections, tally: tally))
            return
        }
        var eventStart = 0
        var rejectionStart = 0
        for control in b.controls {
            submit(b, eventStart..<control.events, rejectionStart..<control.rejections)
            eventStart = control.events
            rejectionStart = control.rejections
            handleControl(control.text, channel: context.channel)
        }
        submit(b, eventStart..<b.events.count, rejectionStart..<b.rejections.count)
    }

    private func submit(
        _ b: (
            events: EventBatch, eventLines: [Int], rejections: [LineRejection],
            controls: [(events: Int, rejections: Int, text: String)]
        ),
        _ events: Range<Int>,
        _ rejections: Range<Int>
    ) {
        if events.isEmpty && rejections.isEmpty { return }
        var batchEvents = b.events.selecting(Array(events))
        var batchLines = Array(b.eventLines[events])
        var batchRejections = Array(b.rejections[rejections])
        authorize(events: &batchEvents, lines: &batchLines, rejections: &batchRejections, patterns: patterns)
        pipeline.submit(.batch(events: batchEvents, lines: batchLines, parseRejections: batchRejections, tally: tally))
    }

    private func handleControl(_ text: String, channel: Channel) {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.first == "#sync" else { return }
        let id = parts.count > 1 ? String(parts[1]) : "-"
        let tally = self.tally
        pipeline.submit(
            .sync {
                // The tallies as of this line: later lines of the connection are not in this answer.
                var rejected = ""
                for r in tally.takeRejectionsSinceAck() {
                    rejected +=
                        "rejected \(r.line) \(r.reason.rawValue) \(r.excerpt.replacingOccurrences(of: "\n", with: " "))\n"
                }
                let s = tally.totals
                let lines = rejected
                return { committed in
                    let reply =
                        lines
                        + (committed ? "ok \(id) \(s.accepted) \(s.rejected)\n" : "error \(id) commit failed\n")
                    channel.writeAndFlush(ByteBuffer(string: reply), promise: nil)
                }
            }
        )
    }
}

/// Answers one request line on `control.sock`: `status` (JSON: objectives and counters). The
/// request ends at a newline or, for clients that half-close without one, at end of input.
final class ControlHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var request: [UInt8] = []
    private var answered = false
    private let respond: @Sendable (String) async -> String

    init(respond: @escaping @Sendable (String) async -> String) { self.respond = respond }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        request += buffer.readableBytesView
        if let nl = request.firstIndex(of: UInt8(ascii: "\n")) {
            answer(String(decoding: request[..<nl], as: UTF8.self), channel: context.channel)
        } else if request.count > 4096 {
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else if let e = event as? ChannelEvent, e == .inputClosed {
            if request.isEmpty {
                context.close(promise: nil)
            } else {
                answer(String(decoding: request, as: UTF8.self), channel: context.channel)
            }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func answer(_ text: String, channel: Channel) {
        guard !answered else { return }
        answered = true
        let line = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let respond = self.respond
        Task {
            let answer = await respond(line)
            try? await channel.writeAndFlush(ByteBuffer(string: answer + "\n")).get()
            try? await channel.close().get()
        }
    }
}
