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
    /// Reading is off while the ingest queue is full (an idle timeout then is not the peer's).
    private var paused = false
    /// Whether the client sent a `#sync` (its answers must go out before the connection closes).
    private var sawSync = false
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
        // Back-pressure: while the engine is behind, read no more from this peer (its writes
        // wait in the socket buffer); reading resumes once the queue is below half its limit.
        if pipeline.isFull && !paused {
            paused = true
            let channel = context.channel
            _ = channel.setOption(ChannelOptions.autoRead, value: false)
            let loop = context.eventLoop
            let resume = NIOLoopBound(self, eventLoop: loop)
            pipeline.whenRoom {
                loop.execute {
                    resume.value.paused = false
                    _ = channel.setOption(ChannelOptions.autoRead, value: true)
                }
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed {
            // Half-closed (a clean end of input): a final line without \n counts; answer what
            // was sent, then close our side.
            finish(context: context, close: true, cleanEnd: true)
        } else if let e = event as? IdleStateHandler.IdleStateEvent, e == .read, !paused {
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
        // Close our side once everything sent before the half-close went through the pipeline,
        // and, when the client asked for acknowledgements, once they are written.
        let channel = context.channel
        let close: @Sendable () -> Void = { channel.close(promise: nil) }
        pipeline.submit(sawSync ? .afterAnswers(done: close) : .barrier(done: close))
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
        // #sync lines ride with the batch: it is ingested whole, then each sync is answered for
        // the lines before it.
        var events = b.events
        var lines = b.eventLines
        var rejections = b.rejections
        authorize(events: &events, lines: &lines, rejections: &rejections, patterns: patterns)
        if !b.controls.isEmpty { sawSync = true }
        let syncs = b.controls.compactMap { control in
            syncRequest(control.text).map { (line: control.line, prepare: $0) }
        }
        pipeline.submit(
            .batchWithSyncs(
                events: events,
                lines: lines,
                parseRejections: rejections,
                tally: tally,
                syncs: syncs,
                deliver: { [channel = context.channel] reply in
                    if !reply.isEmpty { channel.writeAndFlush(ByteBuffer(string: reply), promise: nil) }
                }
            )
        )
    }

    /// The `prepare` of a `#sync` line (nil for anything else): run when everything before the
    /// line is ingested, it reads the connection's tallies then, and returns the answer's text
    /// (`ok ID ACCEPTED REJECTED`, after a `rejected` line per rejection) once the commit is
    /// durable or failed.
    private func syncRequest(_ text: String) -> (@Sendable () -> @Sendable (Bool) -> String)? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.first == "#sync" else { return nil }
        let id = parts.count > 1 ? String(parts[1]) : "-"
        let tally = self.tally
        return {
            // The tallies as of this line: later lines of the connection are not in this answer.
            var rejected = ""
            for r in tally.takeRejectionsSinceAck() {
                rejected +=
                    "rejected \(r.line) \(r.reason.rawValue) \(r.excerpt.replacingOccurrences(of: "\n", with: " "))\n"
            }
            let s = tally.totals
            let lines = rejected
            return { committed in
                lines + (committed ? "ok \(id) \(s.accepted) \(s.rejected)\n" : "error \(id) commit failed\n")
            }
        }
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
