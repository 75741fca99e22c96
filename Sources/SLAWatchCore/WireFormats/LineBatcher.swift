/// Splits a byte stream into newline-framed lines and parses them into a batch.
///
/// Framing rules (shared by the stream socket and drop files): lines end at `\n`; a trailing
/// `\r` is stripped by the parser; a line longer than `maxLineBytes` is discarded up to the next
/// newline and counted once as `line_too_long` (the stream goes on); `finish()` parses a final
/// line without `\n` (a clean EOF). Lines starting with `#` are control lines (e.g. `#sync 7`),
/// recorded with their position in the batch so the caller keeps their order; a `#` line that
/// is not a known command is rejected (`unknown_control`).
public struct LineBatcher: Sendable {
    /// The grammar of the lines.
    public enum Format: Sendable, Equatable {
        /// The socket grammar: statsd/DogStatsD lines and JSON lines, `#` control lines.
        case socket
        /// Prometheus text exposition 0.0.4 (`PrometheusTextParser`); `#` lines are HELP, TYPE
        /// or comments.
        case prometheus
        /// CSV with a header row (`CSVEventParser`), optionally read through a mapping.
        case csv(CSVMapping?)
    }

    /// Longest accepted line in bytes, without the `\n`.
    public let maxLineBytes: Int
    /// Parsed events, in line order.
    public private(set) var events = EventBatch()
    /// Source line number (1-based) of each event.
    public private(set) var eventLines: [Int] = []
    /// Rejected lines, in line order.
    public private(set) var rejections: [LineRejection] = []
    /// Control lines with the number of events and rejections that preceded them in this batch,
    /// and their line number.
    public private(set) var controls: [(events: Int, rejections: Int, line: Int, text: String)] = []
    /// Lines seen so far (including blank, rejected and control lines).
    public private(set) var lineCount = 0
    /// Ignored fields and non-metric messages seen so far.
    public private(set) var stats = ParseStats()
    private let parser: LineParser
    /// Allocated once a stream has shown it is busy (`cacheAfterLines`), so thousands of quiet
    /// connections cost little memory.
    private var cache = ParseCache.disabled
    private static let cacheAfterLines = 256
    /// Lines handed to the general parser since the batcher was made (all streams: a datagram
    /// listener's batcher serves every datagram, each a stream of its own).
    private var linesParsed = 0
    private var partial: [UInt8] = []
    private var discarding = false
    private let format: Format
    private let isSocket: Bool
    /// Whether busy streams try `LineParser.parseCommonStatsd` first (tests compare both lanes).
    let fastLane: Bool
    /// Lines the fast lane took (tests).
    private(set) var fastLaneLines = 0
    private var prometheus = PrometheusTextParser()
    private var csv: CSVEventParser

    /// Creates a batcher for lines of `format` (the socket grammar by default).
    public init(maxLineBytes: Int, options: ParserOptions = ParserOptions(), format: Format = .socket) {
        self.init(maxLineBytes: maxLineBytes, options: options, format: format, fastLane: true)
    }

    init(maxLineBytes: Int, options: ParserOptions, format: Format, fastLane: Bool) {
        self.maxLineBytes = maxLineBytes
        self.parser = LineParser(options: options)
        self.format = format
        self.isSocket = format == .socket
        self.fastLane = fastLane
        if case .csv(let mapping) = format { csv = CSVEventParser(mapping: mapping) } else { csv = CSVEventParser() }
    }

    /// A reason the whole input is unusable (a CSV header without the required columns; a
    /// Prometheus text file with one series twice), `nil` otherwise.
    public var fatalError: String? { csv.headerError ?? duplicateSeries }

    /// Prometheus text: each series (name, labels, timestamp) seen so far → its line, and the
    /// first one seen twice. A file holding a series twice was appended to instead of replaced
    /// (its second sample would read as a counter reset); node_exporter's textfile collector
    /// refuses it too ("was collected before with the same name and label values").
    private var promSeries: [String: Int] = [:]
    private var duplicateSeries: String?

    private mutating func notePrometheusSeries(_ i: Int) {
        guard duplicateSeries == nil, i < events.count else { return }
        let e = events[i]
        let labels = e.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ",")
        let series = labels.isEmpty ? e.metric : "\(e.metric){\(labels)}"
        let key = series + (e.time.map { " @\($0)" } ?? "")
        if let first = promSeries[key] {
            duplicateSeries =
                "the series \(series) appears twice, at lines \(first) and \(lineCount) (a writer that appends to the file instead of replacing it?)"
        } else {
            promSeries[key] = lineCount
        }
    }

    /// Feeds a chunk of bytes; complete lines are parsed into the batch.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer) {
        var start = 0
        while start < chunk.count {
            // Whether the line at `start` was already offered to the fast lane (and refused).
            var laneTried = false
            if partial.isEmpty && !discarding && isSocket && fastLane && cache.isEnabled {
                // Common lines in one pass each (no memchr first); the first other line, or a
                // line cut by the chunk's end, goes the general way below.
                start = fastLane(chunk, from: start)
                if start >= chunk.count { return }
                laneTried = true
            }
            guard let nl = findFar(UInt8(ascii: "\n"), in: chunk, from: start) else {
                let rest = UnsafeRawBufferPointer(rebasing: chunk[start...])
                if discarding { return }
                if partial.count + rest.count > maxLineBytes {
                    lineCount += 1
                    reject(.lineTooLong, Array(partial.prefix(200)) + Array(rest.prefix(max(0, 200 - partial.count))))
                    partial = []
                    discarding = true
                } else {
                    partial.append(contentsOf: rest)
                }
                return
            }
            let piece = UnsafeRawBufferPointer(rebasing: chunk[start..<nl])
            start = nl + 1
            if discarding {
                discarding = false
                partial = []
                continue
            }
            if partial.isEmpty {
                handle(piece, laneTried: laneTried)
            } else if partial.count + piece.count > maxLineBytes {
                lineCount += 1
                reject(.lineTooLong, Array(partial.prefix(200)))
                partial = []
            } else {
                partial.append(contentsOf: piece)
                let line = partial
                partial = []
                line.withUnsafeBytes { handle($0) }
            }
        }
    }

    /// Parses the chunk's lines from `start` on while they are of the fast lane's shape
    /// (`LineParser.commonStatsdLine`); returns where the first other line (or a line cut by
    /// the chunk's end) starts. Records go through `laneRecords` into the batch a few hundred
    /// at a time, their line numbers as one range.
    private mutating func fastLane(_ chunk: UnsafeRawBufferPointer, from start: Int) -> Int {
        var start = start
        var scratch = laneRecords
        laneRecords = []
        if scratch.isEmpty { scratch = Array(repeating: EventBatch.Record.empty, count: Self.laneBatch) }
        scratch.withUnsafeMutableBufferPointer { scratch in
            var n = 0
            while true {
                let line =
                    start < chunk.count
                    ? parser.commonStatsdLine(
                        UnsafeRawBufferPointer(rebasing: chunk[start...]),
                        untilNewline: true,
                        maxLineBytes: maxLineBytes,
                        cache: &cache
                    ) : nil
                if let line {
                    scratch[n] = record(line)
                    n += 1
                    start += line.length + 1
                }
                if n == scratch.count || (line == nil && n > 0) {
                    events.append(records: UnsafeBufferPointer(rebasing: scratch[0..<n]))
                    eventLines.append(contentsOf: (lineCount + 1)...(lineCount + n))
                    lineCount += n
                    fastLaneLines &+= n
                    n = 0
                }
                if line == nil { break }
            }
        }
        laneRecords = scratch
        return start
    }

    /// The batch's record of a line the fast lane took apart.
    @inline(__always)
    private mutating func record(_ line: LineParser.CommonLine) -> EventBatch.Record {
        events.record(
            name: cache.string(at: line.nameSlot),
            nameID: line.nameID,
            nameHash: line.nameHash,
            labels: line.tagSlot < 0 ? [:] : cache.labelSet(at: line.tagSlot),
            labelsID: line.labelsID,
            value: line.value,
            kind: line.kind,
            time: nil,
            sampleRate: 1,
            isDelta: false
        )
    }

    /// The fast lane's buffer of records (`laneBatch` of them once a lane ran).
    private var laneRecords: [EventBatch.Record] = []
    private static let laneBatch = 256

    /// Ends the stream: a final line without `\n` is parsed (unless it was too long).
    public mutating func finish() {
        if discarding {
            discarding = false
            partial = []
            return
        }
        if !partial.isEmpty {
            let line = partial
            partial = []
            line.withUnsafeBytes { handle($0) }
        }
    }

    /// Ends the stream without a clean end of input (idle timeout, reset): a partial final line
    /// is not parsed (it may be cut short: `x:1|c|@0.01` read as `x:1|c`) but rejected as
    /// `incomplete_line`.
    public mutating func abandon() {
        if !partial.isEmpty || discarding {
            lineCount += 1
            if !discarding { reject(.incompleteLine, Array(partial.prefix(200))) }
        }
        partial = []
        discarding = false
    }

    /// Hands over the batch parsed so far and starts a new one (line numbering continues).
    public mutating func take() -> (
        events: EventBatch, eventLines: [Int], rejections: [LineRejection],
        controls: [(events: Int, rejections: Int, line: Int, text: String)]
    ) {
        take(reusing: nil)
    }

    /// Like `take()`, continuing into a spare batch from `pool` (emptied batches handed back by
    /// the consumer) so the next batch reuses their storage instead of allocating.
    public mutating func take(reusing pool: EventBatchPool?) -> (
        events: EventBatch, eventLines: [Int], rejections: [LineRejection],
        controls: [(events: Int, rejections: Int, line: Int, text: String)]
    ) {
        var nextEvents: EventBatch
        var nextLines: [Int]
        if let pool, let spare = pool.take() {
            (nextEvents, nextLines) = spare
            nextEvents.removeAll()
            nextLines.removeAll(keepingCapacity: true)
        } else {
            nextEvents = EventBatch()
            nextLines = []
        }
        swap(&events, &nextEvents)
        swap(&eventLines, &nextLines)
        let out = (nextEvents, nextLines, rejections, controls)
        if !rejections.isEmpty { rejections = [] }
        if !controls.isEmpty { controls = [] }
        return out
    }

    /// Starts numbering lines from 1 again for a new, independent stream (the next datagram),
    /// keeping the parse cache. Call after `finish()` and `take()`.
    public mutating func startNewStream() {
        lineCount = 0
        partial = []
        discarding = false
    }

    /// Whether anything is waiting in the batch.
    public var isEmpty: Bool { events.isEmpty && rejections.isEmpty && controls.isEmpty }

    /// Parses one complete line; `laneTried`: the fast lane already refused it (in `feed`).
    private mutating func handle(_ line: UnsafeRawBufferPointer, laneTried: Bool = false) {
        lineCount += 1
        if line.count > maxLineBytes {
            reject(.lineTooLong, Array(line.prefix(200)))
            return
        }
        // A busy stream's common lines (`name:1|c`) take the fast lane; the rest fall through.
        if !laneTried && isSocket && cache.isEnabled && fastLane,
            let common = parser.commonStatsdLine(line, untilNewline: false, maxLineBytes: .max, cache: &cache)
        {
            events.append(records: CollectionOfOne(record(common)))
            eventLines.append(lineCount)
            fastLaneLines &+= 1
            return
        }
        switch format {
        case .socket: break
        case .prometheus:
            let before = events.count
            record(prometheus.parse(line, into: &events), line)
            if events.count > before { notePrometheusSeries(before) }
            return
        case .csv:
            record(csv.parse(line, into: &events), line)
            return
        }
        if let first = line.first, first == UInt8(ascii: "#") {
            // Control commands: `#sync ID`. Metric names cannot start with '#', so anything else
            // starting with '#' is an error, not silently a comment.
            var text = String(decoding: line, as: UTF8.self)
            while text.hasSuffix("\r") || text.hasSuffix(" ") { text.removeLast() }
            if text == "#sync" || text.hasPrefix("#sync ") {
                controls.append((events.count, rejections.count, lineCount, text))
            } else {
                reject(.unknownControl, Array(line.prefix(200)))
            }
            return
        }
        linesParsed &+= 1
        if !cache.isEnabled && linesParsed >= Self.cacheAfterLines { cache = ParseCache() }
        record(parser.parse(line, into: &events, stats: &stats, cache: &cache), line)
    }

    private mutating func record(_ outcome: LineOutcome, _ line: UnsafeRawBufferPointer) {
        switch outcome {
        case .accepted(let n):
            for _ in 0..<n { eventLines.append(lineCount) }
        case .rejected(let reason):
            reject(reason, Array(line.prefix(200)))
        case .partial(let n, let reasons, let positions):
            for _ in 0..<n { eventLines.append(lineCount) }
            for (reason, k) in zip(reasons, positions) {
                reject(reason, Array("[element \(k)] ".utf8) + Array(line.prefix(180)))
            }
        case .ignored, .empty:
            break
        }
    }

    private mutating func reject(_ reason: RejectReason, _ excerpt: [UInt8]) {
        var text = String(decoding: excerpt, as: UTF8.self)
        while text.hasSuffix("\r") { text.removeLast() }
        rejections.append(LineRejection(line: lineCount, reason: reason, excerpt: text, grammar: grammar(of: excerpt)))
    }

    private func grammar(of line: [UInt8]) -> LineGrammar {
        switch format {
        case .socket: return line.starts(with: Array("[element ".utf8)) ? .json : LineGrammar.socket(line)
        case .prometheus: return .prometheus
        case .csv: return .csv
        }
    }
}
