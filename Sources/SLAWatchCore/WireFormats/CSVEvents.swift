import Foundation

/// How a CSV export whose columns are not slawatch's own is read: files whose name matches
/// `pattern` take their metric name (and kind and labels) from here, and their time and value
/// from the named columns. Configured under `drop.csv` in `slawatch.yaml`.
///
/// Example (the NAB corpus, header `timestamp,value`): `{match: "nyc_taxi*.csv", metric:
/// taxi.passengers}`.
public struct CSVMapping: Sendable, Equatable {
    /// A shell glob matched against the file name (`fnmatch(3)`), e.g. `leads-*.csv`.
    public var pattern: String
    /// The metric every row becomes.
    public var metric: String
    /// The column holding the event time (default `timestamp`, falling back to `time`).
    public var timeColumn: String?
    /// The column holding the value (default `value`).
    public var valueColumn: String
    /// The kind of every row (default `counter`: a row is a number of things that happened).
    public var kind: MetricKind
    /// Labels added to every row.
    public var labels: [String: String]
    /// Zone for times written without an offset (default UTC).
    public var timeZone: String

    /// Creates a mapping.
    public init(
        pattern: String,
        metric: String,
        timeColumn: String? = nil,
        valueColumn: String = "value",
        kind: MetricKind = .counter,
        labels: [String: String] = [:],
        timeZone: String = "UTC"
    ) {
        self.pattern = pattern
        self.metric = metric
        self.timeColumn = timeColumn
        self.valueColumn = valueColumn
        self.kind = kind
        self.labels = labels
        self.timeZone = timeZone
    }

    /// Whether `fileName` (no directory) matches the pattern.
    public func matches(_ fileName: String) -> Bool { fnmatch(pattern, fileName, 0) == 0 }
}

/// CSV event files (`.csv` drop files), one row at a time, RFC 4180 quoting.
///
/// The first non-blank line is the header (required). Without a mapping, the columns are
/// `time`, `metric`, `value` (required) and optionally `kind` (`counter`, `gauge`,
/// `distribution`, `set`, `cumulative` or the statsd letters; default `counter`) and `label.NAME` (a label
/// per column; an empty cell adds no label). With a `CSVMapping` the metric, kind and labels come
/// from the mapping and only its time and value columns are read. Column names are matched
/// without regard to case or surrounding blanks. Times: RFC 3339, `YYYY-MM-DD HH:MM:SS[.fff]`
/// (wall-clock time in the mapping's zone, UTC without one), or unix seconds (milliseconds when
/// above 10^11). A bad row is rejected on its own (`invalid_csv` for a wrong number of cells or
/// an unterminated quote); a header without the required columns fails the whole file
/// (`headerError`).
public struct CSVEventParser: Sendable {
    private let mapping: CSVMapping?
    private let zone: TimeZone?
    private var timeIndex: Int?
    private var metricIndex: Int?
    private var valueIndex: Int?
    private var kindIndex: Int?
    private var labelIndexes: [(name: String, index: Int)] = []
    private var columnCount = 0
    /// Set when the header lacks a required column: the file cannot be read (its message names
    /// the missing columns and the header found).
    public private(set) var headerError: String?
    /// Whether the header has been read.
    public private(set) var hasHeader = false

    /// Creates a parser for one file, with the mapping that matched its name, if any.
    public init(mapping: CSVMapping? = nil) {
        self.mapping = mapping
        self.zone = TimeZone(identifier: mapping?.timeZone ?? "UTC") ?? TimeZone(identifier: "UTC")
    }

    /// Parses one line (without `\n`; a trailing `\r` and a leading BOM are ignored).
    /// - Returns: `.empty` for a blank line or the header, `.accepted(1)` for a row,
    ///   `.rejected(reason)` for a bad row (and for every row once `headerError` is set).
    public mutating func parse<Sink: EventSink>(_ line: UnsafeRawBufferPointer, into events: inout Sink)
        -> LineOutcome
    {
        var end = line.count
        var start = 0
        if end >= 3, line[0] == 0xEF, line[1] == 0xBB, line[2] == 0xBF { start = 3 }
        while end > start, line[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let body = UnsafeRawBufferPointer(rebasing: line[start..<end])
        if body.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { return .empty }
        guard let text = String(validating: body, as: UTF8.self) else { return .rejected(.invalidUTF8) }
        guard let cells = Self.split(text) else { return .rejected(.invalidCSV) }
        if !hasHeader {
            header(cells)
            return .empty
        }
        if headerError != nil { return .rejected(.invalidCSV) }
        guard cells.count == columnCount else { return .rejected(.invalidCSV) }
        let name: String
        if let mapping {
            name = mapping.metric
        } else {
            name = cells[metricIndex!].csvTrimmed
            if name.isEmpty { return .rejected(.emptyName) }
            if name.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) { return .rejected(.invalidName) }
        }
        let valueText = cells[valueIndex!].csvTrimmed
        if valueText.isEmpty { return .rejected(.missingValue) }
        var time: Double?
        if let t = timeIndex {
            let raw = cells[t].csvTrimmed
            if !raw.isEmpty {
                guard let parsed = Self.time(raw, zone: zone) else { return .rejected(.invalidTimestamp) }
                time = parsed
            }
        }
        var kind = mapping?.kind ?? .counter
        if let k = kindIndex {
            let raw = cells[k].csvTrimmed.lowercased()
            if !raw.isEmpty {
                switch raw {
                case "counter", "c": kind = .counter
                case "cumulative": kind = .cumulative
                case "gauge", "g": kind = .gauge
                case "distribution", "d", "h", "histogram", "timer", "ms": kind = .distribution
                case "set", "s": kind = .set
                default: return .rejected(.unknownType)
                }
                if raw == "ms" || raw == "timer", let v = Double(valueText), v < 0 {
                    return .rejected(.negativeDuration)
                }
            }
        }
        // A set's value is its member (any text); every other kind needs a finite number.
        var value = 1.0
        if kind != .set {
            guard let v = Double(valueText) else { return .rejected(.invalidValue) }
            guard v.isFinite else { return .rejected(.nonFiniteValue) }
            value = v
        }
        var labels = mapping?.labels ?? [:]
        for (label, index) in labelIndexes {
            let v = cells[index]
            if !v.isEmpty { labels[label] = v }
        }
        events.appendFields(
            name: name.utf8.contains(where: { $0 >= 0x80 }) ? name.precomposedStringWithCanonicalMapping : name,
            nameID: -1,
            nameHash: nil,
            labels: labels,
            labelsID: -1,
            value: kind == .set ? 1 : value,
            kind: kind,
            time: time,
            sampleRate: 1,
            member: kind == .set ? valueText : nil,
            isDelta: false
        )
        return .accepted(1)
    }

    private mutating func header(_ cells: [String]) {
        hasHeader = true
        columnCount = cells.count
        let names = cells.map { $0.csvTrimmed.lowercased() }
        func index(_ n: String) -> Int? { names.firstIndex(of: n.lowercased()) }
        var missing: [String] = []
        if let mapping {
            if let t = mapping.timeColumn {
                timeIndex = index(t)
                if timeIndex == nil { missing.append(t) }
            } else {
                timeIndex = index("timestamp") ?? index("time")
            }
            valueIndex = index(mapping.valueColumn)
            if valueIndex == nil { missing.append(mapping.valueColumn) }
        } else {
            timeIndex = index("time") ?? index("timestamp")
            metricIndex = index("metric")
            valueIndex = index("value")
            kindIndex = index("kind")
            if timeIndex == nil { missing.append("time") }
            if metricIndex == nil { missing.append("metric") }
            if valueIndex == nil { missing.append("value") }
            for (k, n) in names.enumerated() where n.hasPrefix("label.") && n.count > 6 {
                labelIndexes.append((String(cells[k].csvTrimmed.dropFirst(6)), k))
            }
        }
        var seen = Set<String>()
        let repeated = names.filter { !$0.isEmpty && !seen.insert($0).inserted }
        if !repeated.isEmpty {
            headerError =
                "CSV header \(cells.joined(separator: ",")) names column \(Set(repeated).sorted().joined(separator: ", ")) more than once"
            return
        }
        if !missing.isEmpty {
            let how =
                mapping == nil
                ? "expected columns time, metric, value (optional kind, label.NAME), or a drop.csv mapping for this file name"
                : "the drop.csv mapping '\(mapping!.pattern)' names them"
            headerError =
                "CSV header \(cells.joined(separator: ",")) has no column \(missing.joined(separator: ", ")) (\(how))"
        }
    }

    /// Splits one CSV record (RFC 4180: `"` quotes a cell, `""` inside quotes is a quote).
    /// Returns `nil` for an unterminated quote or text after a closing quote.
    static func split(_ line: String) -> [String]? {
        var cells: [String] = []
        var cell: [UInt8] = []
        let u = Array(line.utf8)
        var i = 0
        var quoted = false
        var wasQuoted = false
        while i < u.count {
            let c = u[i]
            if quoted {
                if c == UInt8(ascii: "\"") {
                    if i + 1 < u.count, u[i + 1] == UInt8(ascii: "\"") {
                        cell.append(c)
                        i += 2
                        continue
                    }
                    quoted = false
                    i += 1
                    continue
                }
                cell.append(c)
                i += 1
                continue
            }
            switch c {
            case UInt8(ascii: ","):
                cells.append(String(decoding: cell, as: UTF8.self))
                cell = []
                wasQuoted = false
            case UInt8(ascii: "\""):
                // A quote opens a quoted cell only at the cell's start (after blanks).
                guard !wasQuoted, cell.allSatisfy({ $0 == UInt8(ascii: " ") }) else { return nil }
                cell = []
                quoted = true
                wasQuoted = true
            default:
                if wasQuoted && c != UInt8(ascii: " ") { return nil }
                cell.append(c)
            }
            i += 1
        }
        if quoted { return nil }
        cells.append(String(decoding: cell, as: UTF8.self))
        return cells
    }

    /// RFC 3339, a local `YYYY-MM-DD HH:MM:SS` in `zone`, or a unix time by `EventTime`'s rule.
    static func time(_ s: String, zone: TimeZone?) -> Double? {
        if let n = Double(s) { return EventTime.unixSeconds(n) }
        guard let t = RFC3339.parse(s, naiveIn: zone), t >= 0 else { return nil }
        return t
    }
}

extension String {
    /// Without leading and trailing spaces and tabs (the string itself when there are none,
    /// without Foundation's character-set machinery).
    var csvTrimmed: String {
        let u = utf8
        guard let first = u.first, let last = u.last else { return self }
        func blank(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }
        if !blank(first) && !blank(last) { return self }
        guard let start = u.firstIndex(where: { !blank($0) }), let end = u.lastIndex(where: { !blank($0) }) else {
            return ""
        }
        return String(self[start...end])
    }
}
