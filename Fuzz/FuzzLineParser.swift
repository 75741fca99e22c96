// libFuzzer target for the wire-format parser and the line framing (docs/protocol.md).
// Built by scripts/fuzz.sh with `swiftc -sanitize=fuzzer,address` together with the sources of
// SLAWatchCore that do not need Yams. Checks, besides "no crash", that every event the parser
// accepts obeys the protocol's promises.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLineParser(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
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
            if let t = e.time { precondition(t.isFinite && t > 0, "bad event time") }
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
    return 0
}
