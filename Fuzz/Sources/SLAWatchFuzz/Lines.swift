import SLAWatchCore

/// The wire-format parser and the line framing (docs/protocol.md): besides "no crash", every
/// event the parser accepts obeys the protocol's promises.
func fuzzLines(_ bytes: UnsafeRawBufferPointer) {
    let count = bytes.count
    // 1. One line, both dialects.
    for options in [ParserOptions(gaugeDeltas: false), ParserOptions(gaugeDeltas: true)] {
        var events: [Event] = []
        let outcome = LineParser(options: options).parse(bytes, into: &events)
        switch outcome {
        case .accepted(let n):
            precondition(n == events.count, "accepted count differs from events appended")
        case .partial(let n, let rejected, let elements):
            precondition(
                n == events.count && !rejected.isEmpty && rejected.count == elements.count,
                "partial outcome inconsistent"
            )
        case .rejected, .ignored, .empty:
            precondition(events.isEmpty, "a rejected line appended events")
        }
        for e in events {
            precondition(!e.metric.isEmpty, "empty metric name accepted")
            precondition(e.value.isFinite, "non-finite value accepted")
            precondition(e.sampleRate > 0 && e.sampleRate <= 1, "sample rate out of (0, 1]")
            precondition((e.value / e.sampleRate).isFinite, "scaled value not finite")
            precondition(!e.metric.utf8.contains(UInt8(ascii: "|")), "'|' in a name")
            if let t = e.time { precondition(t.isFinite && t >= 0, "bad event time") }
        }
    }
    // 2. The same bytes as a stream, split in two chunks at a data-dependent point.
    var batcher = LineBatcher(maxLineBytes: 64)
    let cut = count == 0 ? 0 : Int(bytes[0]) % (count + 1)
    batcher.feed(UnsafeRawBufferPointer(rebasing: bytes[0..<cut]))
    batcher.feed(UnsafeRawBufferPointer(rebasing: bytes[cut..<count]))
    batcher.finish()
    let b = batcher.take()
    precondition(b.events.count == b.eventLines.count, "events and line numbers differ")
    precondition(b.rejections.allSatisfy { $0.line >= 1 && $0.line <= batcher.lineCount }, "bad line number")
    // 3. Aggregation of whatever was accepted never traps.
    var agg = Aggregate()
    for e in b.events { agg.add(e) }
    _ = AlertEntry.number(agg.sum)
}

/// The promises every accepted event keeps, whatever the format.
func checkEvent(_ e: Event) {
    precondition(!e.metric.isEmpty, "empty metric name accepted")
    precondition(e.value.isFinite, "non-finite value accepted")
    precondition(e.sampleRate > 0 && e.sampleRate <= 1, "sample rate out of (0, 1]")
    if let t = e.time { precondition(t.isFinite && t >= 0, "bad event time \(t)") }
}

/// Feeds `bytes` to a batcher of `format` in two chunks cut at a data-dependent point, and
/// checks the batch: one line number per event, rejections on lines that exist.
func checkBatch(_ bytes: UnsafeRawBufferPointer, format: LineBatcher.Format, maxLineBytes: Int = 65536) {
    var batcher = LineBatcher(maxLineBytes: maxLineBytes, format: format)
    let cut = bytes.isEmpty ? 0 : Int(bytes[bytes.count - 1]) % (bytes.count + 1)
    batcher.feed(UnsafeRawBufferPointer(rebasing: bytes[0..<cut]))
    batcher.feed(UnsafeRawBufferPointer(rebasing: bytes[cut...]))
    batcher.finish()
    let b = batcher.take()
    precondition(b.events.count == b.eventLines.count, "events and line numbers differ")
    precondition(b.rejections.allSatisfy { $0.line >= 1 && $0.line <= batcher.lineCount }, "bad line number")
    precondition(b.eventLines.allSatisfy { $0 >= 1 && $0 <= batcher.lineCount }, "bad event line")
    for i in 0..<b.events.count { checkEvent(b.events[i]) }
}
