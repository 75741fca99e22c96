import Foundation

/// The formats of drop files, chosen by extension, as the drop directory and `slawatch replay`
/// both read them (one definition, so the two agree):
/// - `.statsd`, `.jsonl`: the socket grammar, one statsd/DogStatsD or JSON line at a time;
/// - `.prom`: Prometheus text exposition 0.0.4;
/// - `.csv`: CSV with a header row, through the first `CSVMapping` whose pattern matches the
///   file name (or slawatch's own columns);
/// - `.json`: one JSON document (an array of event objects, or one object), read whole
///   (`JSONDocumentReader`), at most `max_json_bytes`.
public enum DropFileFormat: Sendable, Equatable {
    /// Read line by line.
    case lines(LineBatcher.Format)
    /// Read whole as one JSON document.
    case json

    /// The extensions accepted, for messages.
    public static let expected = ".statsd, .jsonl, .json, .csv or .prom"

    /// The format of `fileName` by its extension (case-insensitive), `nil` for another one.
    /// - Parameter csv: mappings for CSV files without slawatch's own columns; first match wins.
    public static func of(fileName: String, csv: [CSVMapping]) -> DropFileFormat? {
        switch (fileName as NSString).pathExtension.lowercased() {
        case "statsd", "jsonl": return .lines(.socket)
        case "prom": return .lines(.prometheus)
        case "csv": return .lines(.csv(csv.first { $0.matches(fileName) }))
        case "json": return .json
        default: return nil
        }
    }

    /// "no extension" or "unknown extension '.x'" for `fileName`, with what is expected.
    public static func unknownExtension(_ fileName: String) -> String {
        let ext = (fileName as NSString).pathExtension
        return (ext.isEmpty ? "no extension" : "unknown extension '.\(ext)'") + " (expected \(expected))"
    }

    /// How the format reads bytes, for the drop ledger's content key: the same bytes read
    /// through another CSV mapping are other events.
    public var ledgerKey: String {
        switch self {
        case .json: return "json"
        case .lines(.socket): return "lines"
        case .lines(.prometheus): return "prom"
        case .lines(.csv(nil)): return "csv"
        case .lines(.csv(let m?)):
            let labels = m.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            return "csv:\(m.metric)|\(m.timeColumn ?? "")|\(m.valueColumn)|\(m.kind.rawValue)|\(labels)|\(m.timeZone)"
        }
    }
}

/// Reads a `.json` drop file: one JSON document, an array of event objects (or one object).
/// The document must be JSON as a whole (else nothing of it counts); then each element is
/// judged on its own, and a rejected element is reported at the line it starts on.
public enum JSONDocumentReader {
    /// The default largest document, in bytes (`max_json_bytes`): 256 MiB.
    public static let defaultMaxBytes = 256 << 20

    /// What a document held.
    public struct Document: Sendable {
        /// The events, in document order.
        public var events: EventBatch
        /// The 1-based line each event's element starts on, parallel to `events`.
        public var eventLines: [Int]
        /// Rejected elements: the line each starts on, the reason, `[element k]`.
        public var rejections: [LineRejection]
        /// Unknown fields and messages skipped.
        public var ignored: ParseStats
        /// Lines in the file.
        public var lineCount: Int
    }

    /// A document that cannot be read at all (nothing of it counts).
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// Larger than `max_json_bytes` (bytes, limit).
        case tooLarge(Int, limit: Int)
        /// Does not start with `[` or `{`.
        case notAnArray
        /// Not valid JSON (the parser's message).
        case invalidJSON(String)

        /// A sentence for the journal and the CLI.
        public var description: String {
            switch self {
            case .tooLarge(let n, let limit):
                return "a .json document of \(n) bytes exceeds max_json_bytes (\(limit)); send it as .jsonl"
            case .notAnArray: return "not a JSON document with an array of events (expected '[' first)"
            case .invalidJSON(let m): return "not valid JSON (\(m)); nothing of it was counted"
            }
        }
    }

    /// Reads `data` (a UTF-8 BOM is skipped; surrounding blanks are allowed; an empty document
    /// holds no event).
    /// - Throws: `Failure` when the document is larger than `maxBytes`, not an array or an
    ///   object, or not JSON.
    public static func read(_ data: [UInt8], maxBytes: Int) throws(Failure) -> Document {
        guard data.count <= maxBytes else { throw .tooLarge(data.count, limit: maxBytes) }
        var data = data
        if data.starts(with: [0xEF, 0xBB, 0xBF]) { data.removeFirst(3) }
        var lineCount = data.reduce(into: 1) { if $1 == UInt8(ascii: "\n") { $0 += 1 } }
        if data.last == UInt8(ascii: "\n") { lineCount -= 1 }
        var doc = Document(
            events: EventBatch(),
            eventLines: [],
            rejections: [],
            ignored: ParseStats(),
            lineCount: lineCount
        )
        func blank(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 }
        guard let from = data.firstIndex(where: { !blank($0) }), let to = data.lastIndex(where: { !blank($0) }) else {
            return doc  // an empty document: no events, like an empty .jsonl
        }
        let body = Array(data[from...to])
        guard body[0] == UInt8(ascii: "[") || body[0] == UInt8(ascii: "{") else { throw .notAnArray }
        // The document must be JSON as a whole; only then are its elements judged one by one.
        do {
            _ = try JSONSerialization.jsonObject(with: Data(body))
        } catch {
            throw .invalidJSON(error.localizedDescription)
        }
        // Element start lines are counted in the whole file (blanks before the body included).
        let elementLines = Self.elementLines(data)
        var cache = ParseCache.disabled
        let outcome = body.withUnsafeBytes {
            LineParser().parse($0, into: &doc.events, stats: &doc.ignored, cache: &cache)
        }
        switch outcome {
        case .accepted(let n):
            doc.eventLines = Array(elementLines.prefix(n))
            if doc.eventLines.count < n { doc.eventLines += Array(repeating: 1, count: n - doc.eventLines.count) }
        case .partial(_, let reasons, let positions):
            let bad = Set(positions)
            doc.eventLines = elementLines.indices.filter { !bad.contains($0) }.map { elementLines[$0] }
            for (reason, k) in zip(reasons, positions) {
                doc.rejections.append(
                    LineRejection(
                        line: k < elementLines.count ? elementLines[k] : 1,
                        reason: reason,
                        excerpt: "[element \(k)]",
                        grammar: .json
                    )
                )
            }
        case .rejected(let reason):
            doc.rejections.append(
                LineRejection(line: elementLines.first ?? 1, reason: reason, excerpt: "[element 0]", grammar: .json)
            )
        case .ignored, .empty:
            break
        }
        while doc.eventLines.count < doc.events.count { doc.eventLines.append(doc.eventLines.last ?? 1) }
        return doc
    }

    /// Where the top-level elements of a JSON array document start, as 1-based line numbers.
    static func elementLines(_ data: [UInt8]) -> [Int] {
        var lines: [Int] = []
        var line = 1
        var depth = 0
        var inString = false
        var escaped = false
        var expectElement = false
        for c in data {
            if c == UInt8(ascii: "\n") { line += 1 }
            if inString {
                if escaped {
                    escaped = false
                } else if c == UInt8(ascii: "\\") {
                    escaped = true
                } else if c == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            let blank = c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09
            if depth == 1 && expectElement && !blank && c != UInt8(ascii: "]") {
                lines.append(line)
                expectElement = false
            }
            switch c {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth == 1 { expectElement = c == UInt8(ascii: "[") }
                if depth == 1 && c == UInt8(ascii: "{") { lines.append(line) }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            case UInt8(ascii: ","): if depth == 1 { expectElement = true }
            default: break
            }
        }
        return lines
    }
}
