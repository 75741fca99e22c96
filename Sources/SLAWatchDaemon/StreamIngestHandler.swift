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
///
/// Bounds per connection: `idleTimeout` is the longest time between two complete lines (a
/// client that drips a byte at a time holds no slot longer than one that sends nothing); while
/// the answers waiting to be written exceed NIO's write-buffer high-water mark (the peer does
/// not read them), no more is read from the connection, and after `stallTimeout` of that it is
/// closed (`onStalled` says so).
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
    /// Reading is off while the peer does not read its answers (the channel is not writable).
    private var stalled = false
    /// Longest time without a complete line; longest time the peer may leave answers unread.
    private let idleTimeout: TimeAmount
    private let stallTimeout: TimeAmount
    /// When the last complete line arrived (or the connection opened, or reading resumed).
    private var lastLine = NIODeadline.now()
    private var linesSeen = 0
    private var idleCheck: Scheduled<Void>?
    private var stallCheck: Scheduled<Void>?
    private let source: String
    private let onStalled: @Sendable (_ source: String, _ pendingBytes: Int, _ seconds: Double) -> Void
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
        patterns: [String]?,
        idleTimeout: TimeAmount,
        stallTimeout: TimeAmount,
        onStalled: @escaping @Sendable (_ source: String, _ pendingBytes: Int, _ seconds: Double) -> Void
    ) {
        self.idleTimeout = idleTimeout
        self.stallTimeout = stallTimeout
        self.source = source
        self.onStalled = onStalled
        self.pipeline = pipeline
        self.batcher = LineBatcher(maxLineBytes: maxLineBytes, options: options)
        self.tally = SourceTally(source: source, kind: .stream)
        self.patterns = patterns
    }

    func handlerAdded(context: ChannelHandlerContext) {
        lastLine = .now()
        scheduleIdleCheck(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        stallCheck?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        buffer.withUnsafeReadableBytes { batcher.feed($0) }
        if batcher.lineCount != linesSeen {
            linesSeen = batcher.lineCount
            lastLine = .now()
        }
    }

    /// Closes the connection once `idleTimeout` passed without a complete line (not while
    /// reading is paused by the daemon itself); checked once per timeout, not per read.
    private func scheduleIdleCheck(context: ChannelHandlerContext) {
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        idleCheck = loop.scheduleTask(deadline: lastLine + idleTimeout) {
            let (handler, context) = bound.value
            guard !handler.finished else { return }
            if handler.paused || handler.stalled {
                handler.lastLine = .now()
            } else if NIODeadline.now() >= handler.lastLine + handler.idleTimeout {
                // idle_timeout: complete lines already sent are processed; a partial one is not.
                handler.finish(context: context, close: true, cleanEnd: false)
                return
            }
            handler.scheduleIdleCheck(context: context)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let writable = context.channel.isWritable
        if !writable && !stalled {
            // The peer does not read its answers: read nothing more from it (its writes wait in
            // the socket buffer) until it does, and close it if it does not within stallTimeout.
            stalled = true
            updateAutoRead(context.channel)
            let started = NIODeadline.now()
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            stallCheck = context.eventLoop.scheduleTask(in: stallTimeout) {
                let (handler, context) = bound.value
                guard handler.stalled, !handler.finished else { return }
                handler.finished = true
                let pending = (try? context.channel.syncOptions?.getOption(ChannelOptions.bufferedWritableBytes)) ?? 0
                let seconds = Double((NIODeadline.now() - started).nanoseconds) / 1e9
                handler.onStalled(handler.source, pending, seconds)
                context.close(promise: nil)
            }
        } else if writable && stalled {
            stalled = false
            stallCheck?.cancel()
            stallCheck = nil
            lastLine = .now()
            updateAutoRead(context.channel)
        }
        context.fireChannelWritabilityChanged()
    }

    /// Reading is on unless the ingest queue is full or the peer leaves its answers unread.
    private func updateAutoRead(_ channel: Channel) {
        _ = channel.setOption(ChannelOptions.autoRead, value: !paused && !stalled)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush(context: context)
        // Back-pressure: while the engine is behind, read no more from this peer (its writes
        // wait in the socket buffer); reading resumes once the queue is below half its limit.
        if pipeline.isFull && !paused {
            paused = true
            let channel = context.channel
            updateAutoRead(channel)
            let loop = context.eventLoop
            let resume = NIOLoopBound(self, eventLoop: loop)
            pipeline.whenRoom {
                loop.execute {
                    resume.value.paused = false
                    resume.value.lastLine = .now()
                    resume.value.updateAutoRead(channel)
                }
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed {
            // Half-closed (a clean end of input): a final line without \n counts; answer what
            // was sent, then close our side.
            finish(context: context, close: true, cleanEnd: true)
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
/// request ends at a newline or, for clients that half-close without one, at end of input. A
/// request not complete within `requestTimeout` of connecting (nothing sent, or a slow drip)
/// closes the connection.
final class ControlHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var request: [UInt8] = []
    private var answered = false
    private let respond: @Sendable (String) async -> String
    private let requestTimeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(respond: @escaping @Sendable (String) async -> String, requestTimeout: TimeAmount = .seconds(10)) {
        self.respond = respond
        self.requestTimeout = requestTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: requestTimeout) {
            let (handler, context) = bound.value
            if !handler.answered { context.close(promise: nil) }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) { deadline?.cancel() }

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
        if let e = event as? ChannelEvent, e == .inputClosed {
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
