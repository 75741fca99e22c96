import Foundation

/// statsd and DogStatsD lines (the fast lane for the commonest shape, then the full grammar).
extension LineParser {
    /// A line of the fast lane's shape, taken apart (`commonStatsdLine`): where its name and
    /// tags are in the `ParseCache`, and its value and kind (time: arrival; sample rate 1).
    struct CommonLine {
        /// The line's length in bytes, its `\n` not counted.
        var length: Int
        /// The name's cache slot (`ParseCache.string(at:)`), id and `fnvHash`.
        var nameSlot: Int
        var nameID: Int
        var nameHash: Int
        /// The tag set's cache slot (`ParseCache.labelSet(at:)`, -1: no tags) and id (0: none).
        var tagSlot: Int
        var labelsID: Int
        var value: Double
        var kind: MetricKind
    }

    /// The fast lane for the commonest statsd line, tried before `parse` on busy streams:
    /// `name:digits|c` (or `|g`, `|ms`, `|h`, `|d`), optionally followed by one `|#tags` field
    /// whose bytes are already in `cache`, with an ASCII name, 1–15 digits and nothing else (no
    /// sign, sample rate, timestamp, trailing `\r` or space), taken apart: the event `parse`
    /// would append. The line is `b` whole (`untilNewline` false), or, on a chunk read from a
    /// stream (`untilNewline` true), `b`'s bytes up to the first `\n`, which must be within `b`
    /// and at most `maxLineBytes` bytes on (one pass over a common line, no memchr first).
    /// `nil`, having touched nothing but the name cache, for any other line, which then takes
    /// `parse` (so errors and rare shapes are judged in one place). `FastLaneTests` checks both
    /// lanes agree on generated lines.
    @inline(__always)
    func commonStatsdLine(
        _ b: UnsafeRawBufferPointer,
        untilNewline: Bool,
        maxLineBytes: Int,
        cache: inout ParseCache
    ) -> CommonLine? {
        let n = b.count
        guard n >= 5, let p = b.baseAddress else { return nil }
        // The first byte: not what `parse` strips or routes elsewhere (space, BOM, JSON, `_e{`).
        switch p.load(as: UInt8.self) {
        case UInt8(ascii: " "), UInt8(ascii: "_"), UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "#"): return nil
        default: break
        }
        // The name, as `scanName` reads it (same hash), but giving up at any byte ≥ 0x80.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        var i = 0
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func has(_ w: UInt64, _ c: UInt8) -> Bool {
            let x = w ^ (ones &* UInt64(c))
            return (x &- ones) & ~x & highs != 0
        }
        while i + 8 <= n {
            let w = p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            if w & highs != 0 || (w &- ones &* 0x20) & ~w & highs != 0 || has(w, 0x7F) || has(w, UInt8(ascii: ":"))
                || has(w, UInt8(ascii: "|")) || has(w, UInt8(ascii: "#"))
            {
                break
            }
            h = mixWord(h, w)
            i += 8
        }
        while true {
            guard i < n else { return nil }
            let c = p.load(fromByteOffset: i, as: UInt8.self)
            if c == UInt8(ascii: ":") { break }
            if c < 0x20 || c >= 0x7F || c == UInt8(ascii: "|") || c == UInt8(ascii: "#") { return nil }
            h = (h ^ UInt64(c)) &* 0x100_0000_01b3
            i += 1
        }
        let colon = i
        guard colon > 0 else { return nil }
        // The value: 1 to 15 decimal digits, then '|'.
        i += 1
        var m: UInt64 = 0
        while i < n {
            let d = p.load(fromByteOffset: i, as: UInt8.self) &- UInt8(ascii: "0")
            if d > 9 { break }
            m = m &* 10 &+ UInt64(d)
            i += 1
        }
        let digits = i - colon - 1
        guard digits >= 1, digits <= 15, i + 1 < n, p.load(fromByteOffset: i, as: UInt8.self) == UInt8(ascii: "|")
        else { return nil }
        // The type, then the end of the line or '|'.
        let kind: MetricKind
        switch p.load(fromByteOffset: i + 1, as: UInt8.self) {
        case UInt8(ascii: "c"): kind = .counter
        case UInt8(ascii: "g"): kind = .gauge
        case UInt8(ascii: "h"), UInt8(ascii: "d"): kind = .distribution
        case UInt8(ascii: "m"):
            guard i + 2 < n, p.load(fromByteOffset: i + 2, as: UInt8.self) == UInt8(ascii: "s") else { return nil }
            kind = .distribution
            i += 1
        default: return nil
        }
        i += 2
        var tagSlot = -1
        var labelsID = 0
        var end = n
        if untilNewline && i < n && p.load(fromByteOffset: i, as: UInt8.self) == UInt8(ascii: "\n") {
            end = i
        } else if i < n {
            // Only `|#tags` to the end of the line, already cached (a cached key holds no '|'
            // and no trailing space: it came from a line `parse` took apart). One pass finds the
            // line's end and hashes the tags as `ParseCache.hash` does (words, then bytes).
            guard i + 1 < n, p.load(fromByteOffset: i, as: UInt8.self) == UInt8(ascii: "|"),
                p.load(fromByteOffset: i + 1, as: UInt8.self) == UInt8(ascii: "#")
            else { return nil }
            let tags = i + 2
            var th: UInt64 = 0xcbf2_9ce4_8422_2325
            var k = tags
            while k + 8 <= n {
                let w = p.loadUnaligned(fromByteOffset: k, as: UInt64.self)
                if untilNewline && has(w, UInt8(ascii: "\n")) { break }
                th = mixWord(th, w)
                k += 8
            }
            while k < n {
                let c = p.load(fromByteOffset: k, as: UInt8.self)
                if untilNewline && c == UInt8(ascii: "\n") { break }
                th = (th ^ UInt64(c)) &* 0x100_0000_01b3
                k += 1
            }
            if untilNewline && k == n { return nil }
            end = k
            guard
                let (slot, id) = cache.labelsEntry(
                    UnsafeRawBufferPointer(rebasing: b[tags..<end]),
                    hash: Int(truncatingIfNeeded: finishHash(th))
                )
            else { return nil }
            (tagSlot, labelsID) = (slot, id)
        } else if untilNewline {
            return nil
        }
        if untilNewline && end > maxLineBytes { return nil }
        let hash = Int(truncatingIfNeeded: finishHash(h))
        let (slot, nameID) = cache.entry(UnsafeRawBufferPointer(rebasing: b[0..<colon]), hash: hash)
        guard slot >= 0 else { return nil }
        return CommonLine(
            length: end,
            nameSlot: slot,
            nameID: nameID,
            nameHash: hash,
            tagSlot: tagSlot,
            labelsID: labelsID,
            value: Double(m),
            kind: kind
        )
    }

    func parseStatsd<Sink: EventSink>(
        _ b: UnsafeRawBufferPointer,
        into events: inout Sink,
        stats: inout ParseStats,
        cache: inout ParseCache
    ) -> LineOutcome {
        // ASCII is valid UTF-8; only lines with high bytes pay for full validation.
        let ascii = isASCII(b)
        if !ascii && String(validating: b, as: UTF8.self) == nil { return .rejected(.invalidUTF8) }
        // One pass over the name: find the ':', check the name's bytes, hash them for the cache.
        let (colon, badName, h) = scanName(b)
        if colon < 0 { return .rejected(.missingValue) }
        if colon == 0 { return .rejected(.emptyName) }
        if badName { return .rejected(.invalidName) }
        // Fields after the name, split at '|' by index: values, type, then optional fields.
        guard let firstBar = find(UInt8(ascii: "|"), in: b, from: colon + 1) else {
            return b.count == colon + 1 ? .rejected(.missingValue) : .rejected(.missingType)
        }
        let valueField = UnsafeRawBufferPointer(rebasing: b[(colon + 1)..<firstBar])
        if valueField.isEmpty { return .rejected(.missingValue) }
        let typeEnd = find(UInt8(ascii: "|"), in: b, from: firstBar + 1) ?? b.count
        let typeField = UnsafeRawBufferPointer(rebasing: b[(firstBar + 1)..<typeEnd])
        let kind: MetricKind
        var isTimer = false
        if typeField.count == 1 {
            switch typeField[0] {
            case UInt8(ascii: "c"): kind = .counter
            case UInt8(ascii: "g"): kind = .gauge
            case UInt8(ascii: "h"), UInt8(ascii: "d"): kind = .distribution
            case UInt8(ascii: "s"): kind = .set
            default: return .rejected(.unknownType)
            }
        } else if typeField.count == 2 && typeField[0] == UInt8(ascii: "m") && typeField[1] == UInt8(ascii: "s") {
            kind = .distribution
            isTimer = true
        } else {
            return .rejected(typeField.isEmpty ? .missingType : .unknownType)
        }
        var rate = 1.0
        var labels: [String: String]?
        var labelsID = 0
        var time: Double?
        var fieldStart = typeEnd + 1
        while fieldStart <= b.count {
            let fieldEnd =
                fieldStart < b.count ? (find(UInt8(ascii: "|"), in: b, from: fieldStart) ?? b.count) : b.count
            let field = UnsafeRawBufferPointer(rebasing: b[fieldStart..<fieldEnd])
            fieldStart = fieldEnd + 1
            if field.isEmpty { continue }
            let rest = UnsafeRawBufferPointer(rebasing: field[1...])
            switch field[0] {
            case UInt8(ascii: "@"):
                guard let r = parseNumber(rest), r > 0, r <= 1, (1 / r).isFinite else {
                    return .rejected(.invalidSampleRate)
                }
                rate = r
            case UInt8(ascii: "#"):
                var parsed: [String: String]
                var id: Int
                if let (cached, cachedID) = cache.labels(rest) {
                    (parsed, id) = (cached, cachedID)
                } else {
                    parsed = [:]
                    guard parseTags(rest, into: &parsed) else { return .rejected(.invalidTag) }
                    id = cache.store(labels: parsed, for: rest)
                }
                if labels == nil {
                    (labels, labelsID) = (parsed, id)
                } else {
                    // Several #-fields: their union is a new label set, not a cached one.
                    labels!.merge(parsed) { _, new in new }
                    labelsID = -1
                }
            case UInt8(ascii: "T"):
                // Whole seconds or milliseconds (EventTime), as DogStatsD writes them.
                guard let n = parseNumber(rest), n == n.rounded(), let t = EventTime.unixSeconds(n) else {
                    return .rejected(.invalidTimestamp)
                }
                time = t
            default:
                // Unknown DogStatsD fields (c:, e:, card:, …) are ignored, as the agent does.
                stats.ignoredFields += 1
            }
        }
        let nameBytes = UnsafeRawBufferPointer(rebasing: b[0..<colon])
        var (slot, nameID) = cache.entry(nameBytes, hash: Int(truncatingIfNeeded: h))
        if !ascii { (slot, nameID) = (-1, -1) }
        // The name's String only when the batch meets this id for the first time.
        func name() -> String {
            if slot >= 0 { return cache.string(at: slot) }
            let decoded = String(decoding: nameBytes, as: UTF8.self)
            return ascii ? decoded : decoded.precomposedStringWithCanonicalMapping
        }
        if kind == .set {
            // A set member is any text (user id, session id); packing does not apply to sets.
            let member = String(decoding: valueField, as: UTF8.self)
            events.appendFields(
                name: name(),
                nameID: nameID,
                nameHash: ascii ? Int(truncatingIfNeeded: h) : nil,
                labels: labels ?? [:],
                labelsID: labelsID,
                value: 1,
                kind: .set,
                time: time,
                sampleRate: rate,
                member: member,
                isDelta: false
            )
            return .accepted(1)
        }
        // Packed values (DogStatsD v1.1): name:1:2:3|h is three samples; empty ones are skipped.
        let first = events.count
        var vStart = 0
        while vStart <= valueField.count {
            let vEnd =
                vStart < valueField.count
                ? (find(UInt8(ascii: ":"), in: valueField, from: vStart) ?? valueField.count) : valueField.count
            let piece = UnsafeRawBufferPointer(rebasing: valueField[vStart..<vEnd])
            vStart = vEnd + 1
            if piece.isEmpty { continue }
            guard let v = parseNumber(piece) else {
                events.truncate(to: first)
                return .rejected(.invalidValue)
            }
            guard v.isFinite else {
                events.truncate(to: first)
                return .rejected(.nonFiniteValue)
            }
            if isTimer && v < 0 {
                events.truncate(to: first)
                return .rejected(.negativeDuration)
            }
            // The value scaled by the sample rate must stay finite (1e308|c|@0.01 would be +Inf).
            if rate != 1 && !(v / rate).isFinite {
                events.truncate(to: first)
                return .rejected(.nonFiniteValue)
            }
            let isDelta =
                kind == .gauge && options.gaugeDeltas
                && (piece[0] == UInt8(ascii: "+") || piece[0] == UInt8(ascii: "-"))
            events.appendFields(
                name: name(),
                nameID: nameID,
                nameHash: ascii ? Int(truncatingIfNeeded: h) : nil,
                labels: labels ?? [:],
                labelsID: labelsID,
                value: v,
                kind: kind,
                time: time,
                sampleRate: rate,
                member: nil,
                isDelta: isDelta
            )
        }
        if events.count == first { return .rejected(.missingValue) }
        return .accepted(events.count - first)
    }

    func parseTags(_ b: UnsafeRawBufferPointer, into labels: inout [String: String]) -> Bool {
        var start = 0
        for i in 0...b.count where i == b.count || b[i] == UInt8(ascii: ",") {
            let tag = UnsafeRawBufferPointer(rebasing: b[start..<i])
            start = i + 1
            if tag.isEmpty { continue }
            if let c = tag.firstIndex(of: UInt8(ascii: ":")) {
                if c == 0 { return false }
                labels[String(decoding: tag[0..<c], as: UTF8.self)] = String(decoding: tag[(c + 1)...], as: UTF8.self)
            } else {
                labels[String(decoding: tag, as: UTF8.self)] = ""
            }
        }
        return true
    }
}
