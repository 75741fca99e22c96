/// Prometheus text exposition format 0.0.4 (the node_exporter textfile format), one line at a
/// time, for `.prom` drop files.
///
/// Grammar (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format):
/// `# HELP name text` and `# TYPE name counter|gauge|histogram|summary|untyped` lines describe a
/// family; other `#` lines (including OpenMetrics' `# EOF`) are comments; a sample is
/// `name[{label="value",…}] value [timestamp_ms]`, fields separated by spaces or tabs, label
/// values escaped with `\\`, `\"` and `\n`, values in Go `ParseFloat` syntax (`NaN`, `+Inf` too).
///
/// Each sample becomes one event named by its sample name (`http_requests_total`,
/// `rpc_seconds_bucket` with its `le` label, `rpc_seconds_sum`, `rpc_seconds_count`), labels kept
/// (`le` of a `_bucket` sample and `quantile` normalised as Prometheus 3 does,
/// `canonicalBound(_:)`).
/// Counter samples, and histograms' and summaries' `_bucket`/`_count`/`_sum`, are running totals:
/// kind `cumulative`, which the engine counts as the increase since the series' previous sample
/// (reset-aware, like PromQL's `increase()` without extrapolation; a series' first sample is a
/// base). Gauges, untyped samples and summary quantiles are `gauge`. The sample timestamp (milliseconds) becomes the
/// event time; without one the event takes its arrival time. A non-finite value (a summary's
/// `NaN` quantile before any observation) is rejected (`non_finite_value`), costing that line.
public struct PrometheusTextParser: Sendable {
    /// Metric family name → declared type, from `# TYPE` lines seen so far.
    public private(set) var types: [String: String] = [:]

    /// Creates a parser for one file.
    public init() {}

    /// Parses one line (without `\n`; a trailing `\r` is ignored) into `events`.
    /// - Returns: `.accepted(1)` for a sample, `.empty` for blank, `HELP`, `TYPE` and comment
    ///   lines, `.rejected(reason)` for a malformed line (nothing appended).
    public mutating func parse<Sink: EventSink>(_ line: UnsafeRawBufferPointer, into events: inout Sink)
        -> LineOutcome
    {
        var end = line.count
        var start = 0
        if end >= 3, line[0] == 0xEF, line[1] == 0xBB, line[2] == 0xBF { start = 3 }
        while end > start, line[end - 1] == UInt8(ascii: "\r") || Self.isBlank(line[end - 1]) { end -= 1 }
        while start < end, Self.isBlank(line[start]) { start += 1 }
        if start == end { return .empty }
        guard let text = String(validating: UnsafeRawBufferPointer(rebasing: line[start..<end]), as: UTF8.self)
        else {
            return .rejected(.invalidUTF8)
        }
        let u = Array(text.utf8)
        if u[0] == UInt8(ascii: "#") {
            comment(u)
            return .empty
        }
        return sample(u, into: &events)
    }

    private static func isBlank(_ c: UInt8) -> Bool { c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") }

    private static func isNameStart(_ c: UInt8) -> Bool {
        (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || c == UInt8(ascii: "_") || c == UInt8(ascii: ":")
    }

    private static func isNameChar(_ c: UInt8) -> Bool { isNameStart(c) || (c >= 0x30 && c <= 0x39) }

    /// `# TYPE name type` records the family's type; everything else starting with `#` is a
    /// comment (HELP text is documentation only).
    private mutating func comment(_ u: [UInt8]) {
        let words = String(decoding: u, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\t" })
        if words.count >= 4, words[0] == "#", words[1] == "TYPE" {
            types[String(words[2])] = String(words[3])
        }
    }

    private func sample<Sink: EventSink>(_ u: [UInt8], into events: inout Sink) -> LineOutcome {
        var i = 0
        guard Self.isNameStart(u[0]) else { return .rejected(.invalidName) }
        while i < u.count, Self.isNameChar(u[i]) { i += 1 }
        let name = String(decoding: u[0..<i], as: UTF8.self)
        var labels: [String: String] = [:]
        while i < u.count, Self.isBlank(u[i]) { i += 1 }
        if i < u.count, u[i] == UInt8(ascii: "{") {
            i += 1
            while true {
                while i < u.count, Self.isBlank(u[i]) { i += 1 }
                guard i < u.count else { return .rejected(.invalidTag) }
                if u[i] == UInt8(ascii: "}") {
                    i += 1
                    break
                }
                let ks = i
                guard Self.isNameStart(u[i]), u[i] != UInt8(ascii: ":") else { return .rejected(.invalidTag) }
                while i < u.count, Self.isNameChar(u[i]), u[i] != UInt8(ascii: ":") { i += 1 }
                let key = String(decoding: u[ks..<i], as: UTF8.self)
                while i < u.count, Self.isBlank(u[i]) { i += 1 }
                guard i < u.count, u[i] == UInt8(ascii: "=") else { return .rejected(.invalidTag) }
                i += 1
                while i < u.count, Self.isBlank(u[i]) { i += 1 }
                guard i < u.count, u[i] == UInt8(ascii: "\"") else { return .rejected(.invalidTag) }
                i += 1
                var value: [UInt8] = []
                var closed = false
                while i < u.count {
                    let c = u[i]
                    if c == UInt8(ascii: "\\"), i + 1 < u.count {
                        switch u[i + 1] {
                        case UInt8(ascii: "n"): value.append(UInt8(ascii: "\n"))
                        case UInt8(ascii: "\\"): value.append(UInt8(ascii: "\\"))
                        case UInt8(ascii: "\""): value.append(UInt8(ascii: "\""))
                        default: value += [c, u[i + 1]]
                        }
                        i += 2
                        continue
                    }
                    if c == UInt8(ascii: "\"") {
                        closed = true
                        i += 1
                        break
                    }
                    value.append(c)
                    i += 1
                }
                guard closed, labels[key] == nil else { return .rejected(.invalidTag) }
                labels[key] = String(decoding: value, as: UTF8.self)
                while i < u.count, Self.isBlank(u[i]) { i += 1 }
                if i < u.count, u[i] == UInt8(ascii: ",") { i += 1 }
            }
        }
        // One bucket bound, one series: `le="1"`, `le="1.0"` and `le="1e0"` are the same
        // bucket (Prometheus 3 normalises them as it ingests, whatever the exposition format).
        if name.hasSuffix("_bucket"), let le = labels["le"] { labels["le"] = Self.canonicalBound(le) }
        if let q = labels["quantile"] { labels["quantile"] = Self.canonicalBound(q) }
        var restText = String(decoding: u[i...], as: UTF8.self)
        // An OpenMetrics exemplar (`value [ts] # {trace_id="…"} 1`) is not part of the sample.
        if let hash = restText.range(of: " # ") ?? restText.range(of: "\t# ") {
            restText = String(restText[..<hash.lowerBound])
        }
        let rest = restText.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let valueText = rest.first else { return .rejected(.missingValue) }
        guard rest.count <= 2 else { return .rejected(.invalidValue) }
        guard let value = Self.float(valueText) else { return .rejected(.invalidValue) }
        guard value.isFinite else { return .rejected(.nonFiniteValue) }
        var time: Double?
        if rest.count == 2 {
            // Always milliseconds (the exposition format says so); negative is before 1970.
            guard let ms = Int64(rest[1]), ms >= 0 else { return .rejected(.invalidTimestamp) }
            time = Double(ms) / 1000
        }
        events.appendFields(
            name: name,
            nameID: -1,
            nameHash: nil,
            labels: labels,
            labelsID: -1,
            value: value,
            kind: kind(of: name),
            time: time,
            sampleRate: 1,
            member: nil,
            isDelta: false
        )
        return .accepted(1)
    }

    /// A sample's kind from its family's `# TYPE`: counters, and the `_bucket`, `_count` and
    /// `_sum` series of histograms and summaries, are running totals (`cumulative`); everything
    /// else (gauges, untyped, summary quantiles) is a `gauge`. A counter family may be declared
    /// with or without its `_total` suffix.
    func kind(of name: String) -> MetricKind {
        if types[name] == "counter" { return .cumulative }
        for suffix in ["_total", "_bucket", "_count", "_sum", "_created"] where name.hasSuffix(suffix) {
            let family = String(name.dropLast(suffix.count))
            switch (types[family], suffix) {
            case ("counter", "_total"): return .cumulative
            case ("histogram", "_bucket"), ("histogram", "_count"), ("histogram", "_sum"): return .cumulative
            case ("summary", "_count"), ("summary", "_sum"): return .cumulative
            default: continue
            }
        }
        return .gauge
    }

    /// A histogram bound (`le`) or summary quantile (`quantile`) label value in the form
    /// Prometheus 3 stores it (`formatOpenMetricsFloat`: Go's shortest `%g`, with `.0` added
    /// to a whole number; `+Inf`, `-Inf`, `NaN`): `1`, `1.0` and `1e0` all become `1.0`,
    /// `0.25` stays, `1000000` becomes `1e+06`. A value that is no number is kept as written.
    public static func canonicalBound(_ text: String) -> String {
        guard let f = float(Substring(text)) else { return text }
        if f.isNaN { return "NaN" }
        if f.isInfinite { return f > 0 ? "+Inf" : "-Inf" }
        let s = goShortestG(f)
        return s.contains(where: { $0 == "." || $0 == "e" }) ? s : s + ".0"
    }

    /// Go's `strconv.FormatFloat(f, 'g', -1, 64)`: the shortest digits that read back as `f`,
    /// in exponent form (`1e+06`, `1.5e-05`) when the exponent is below −4 or at least 6, else
    /// in decimal form without trailing zeros.
    static func goShortestG(_ f: Double) -> String {
        if f == 0 { return f.sign == .minus ? "-0" : "0" }
        // Swift's description holds the same shortest digits (in its own layout).
        var text = "\(abs(f))"
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let whole = parts.first.map(String.init) ?? ""
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        var digits = whole + fraction
        // The decimal point sits after `point` digits of `digits`.
        var point = whole.count + exponent
        while digits.first == "0" && digits.count > 1 {
            digits.removeFirst()
            point -= 1
        }
        while digits.last == "0" && digits.count > 1 { digits.removeLast() }
        let sign = f < 0 ? "-" : ""
        let exp = point - 1
        if exp < -4 || exp >= 6 {
            let mantissa = digits.count > 1 ? "\(digits.first!).\(digits.dropFirst())" : digits
            let e = abs(exp) < 10 ? "0\(abs(exp))" : "\(abs(exp))"
            return "\(sign)\(mantissa)e\(exp < 0 ? "-" : "+")\(e)"
        }
        if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + digits }
        if point >= digits.count { return sign + digits + String(repeating: "0", count: point - digits.count) }
        let k = digits.index(digits.startIndex, offsetBy: point)
        return sign + digits[..<k] + "." + digits[k...]
    }

    /// Go `strconv.ParseFloat` spellings used by exporters: decimal and exponent forms, `NaN`,
    /// `Inf`/`+Inf`/`-Inf` (any case).
    static func float(_ s: Substring) -> Double? {
        switch s.lowercased() {
        case "nan": return .nan
        case "inf", "+inf": return .infinity
        case "-inf": return -.infinity
        default:
            // Decimal only: Swift's Double(_:) would also take hexadecimal (`0x200`).
            guard !s.contains(where: { $0 == "x" || $0 == "X" }), let d = Double(s) else { return nil }
            return d
        }
    }
}
