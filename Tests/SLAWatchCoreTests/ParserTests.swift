import Foundation
import Testing

@testable import SLAWatchCore

@Suite struct StatsdParserTests {
    @Test func counter() {
        let (outcome, events) = parseLine("page.views:3|c")
        #expect(outcome == .accepted(1))
        #expect(events == [Event(metric: "page.views", value: 3, kind: .counter)])
    }

    @Test func gaugeIncludingNegativeIsAbsolute() {
        let (o1, e1) = parseLine("queue.depth:12.5|g")
        #expect(o1 == .accepted(1))
        #expect(e1.first?.kind == .gauge)
        #expect(e1.first?.value == 12.5)
        let (o2, e2) = parseLine("temperature:-3|g")
        #expect(o2 == .accepted(1))
        #expect(e2 == [Event(metric: "temperature", value: -3, kind: .gauge)])
    }

    @Test(arguments: ["ms", "h", "d"])
    func distributionTypes(type: String) {
        let (outcome, events) = parseLine("latency:250.75|\(type)")
        #expect(outcome == .accepted(1))
        #expect(events == [Event(metric: "latency", value: 250.75, kind: .distribution)])
    }

    @Test func packedValues() {
        let (outcome, events) = parseLine("x:1:2:3|h")
        #expect(outcome == .accepted(3))
        #expect(events.map(\.value) == [1, 2, 3])
        #expect(events.allSatisfy { $0.metric == "x" && $0.kind == .distribution })
    }

    @Test func packedValuesShareTagsRateAndTime() {
        let (outcome, events) = parseLine("x:4:5|c|@0.25|#env:prod|T1700000000")
        #expect(outcome == .accepted(2))
        #expect(events.map(\.value) == [4, 5])
        for e in events {
            #expect(e.sampleRate == 0.25)
            #expect(e.labels == ["env": "prod"])
            #expect(e.time == 1_700_000_000)
        }
    }

    @Test func tagsBecomeLabels() {
        let (outcome, events) = parseLine("req:1|c|#service:api,region:eu-west:1,canary")
        #expect(outcome == .accepted(1))
        #expect(events.first?.labels == ["service": "api", "region": "eu-west:1", "canary": ""])
    }

    @Test func sampleRateStoredOnEvent() {
        let (outcome, events) = parseLine("req:1|c|@0.5")
        #expect(outcome == .accepted(1))
        #expect(events.first?.sampleRate == 0.5)
        #expect(parseLine("req:1|c").1.first?.sampleRate == 1)
        #expect(parseLine("req:1|c|@1").1.first?.sampleRate == 1)
    }

    @Test func eventTimestamp() {
        let (outcome, events) = parseLine("req:1|c|T1700000000")
        #expect(outcome == .accepted(1))
        #expect(events.first?.time == 1_700_000_000)
        #expect(parseLine("req:1|c").1.first?.time == nil)
    }

    @Test func unknownFieldsAreIgnored() {
        let (outcome, events) = parseLine("req:2|c|c:abc|e:foo|#k:v")
        #expect(outcome == .accepted(1))
        #expect(events == [Event(metric: "req", value: 2, kind: .counter, labels: ["k": "v"])])
    }

    @Test func trailingCarriageReturnAndSpaces() {
        #expect(parseLine("req:2|c\r") == (.accepted(1), [Event(metric: "req", value: 2, kind: .counter)]))
        #expect(parseLine("req:2|c \r") == (.accepted(1), [Event(metric: "req", value: 2, kind: .counter)]))
    }

    @Test func leadingByteOrderMark() {
        let (outcome, events) = parseBytes([0xEF, 0xBB, 0xBF] + Array("req:7|g".utf8))
        #expect(outcome == .accepted(1))
        #expect(events == [Event(metric: "req", value: 7, kind: .gauge)])
        #expect(parseLine("\u{FEFF}req:7|g").0 == .accepted(1))
    }

    @Test func blankLinesAreEmpty() {
        #expect(parseLine("") == (.empty, []))
        #expect(parseLine("   \r") == (.empty, []))
        #expect(parseLine("\t ") == (.empty, []))
    }

    @Test func numbersParseLikeStrtod() {
        for text in ["0.1", "1e3", "123456789.123456", "1234567890123456789", "-0.5", "0.000001", "3.14159265358979"] {
            let (outcome, events) = parseLine("v:\(text)|g")
            #expect(outcome == .accepted(1), "\(text)")
            #expect(events.first?.value == strtod(text, nil), "\(text)")
        }
    }
}

@Suite struct JSONLineParserTests {
    @Test func fullObjectWithRFC3339OffsetAndFraction() throws {
        let line =
            #"{"metric":"leads.qualified","value":1,"kind":"counter","labels":{"source":"web","paid":true,"tier":2},"time":"2026-11-29T11:15:00.250+01:00"}"#
        let (outcome, events) = parseLine(line)
        #expect(outcome == .accepted(1))
        let e = try #require(events.first)
        #expect(e.metric == "leads.qualified")
        #expect(e.value == 1)
        #expect(e.kind == .counter)
        #expect(e.labels == ["source": "web", "paid": "true", "tier": "2"])
        #expect(e.time == utc(2026, 11, 29, 10, 15) + 0.25)
    }

    @Test func rfc3339Zulu() {
        let (_, events) = parseLine(#"{"metric":"a","value":2,"kind":"g","time":"2026-11-29T10:15:00Z"}"#)
        #expect(events.first?.time == 1_795_947_300)
        #expect(events.first?.kind == .gauge)
    }

    @Test func unixSecondsAndMilliseconds() {
        let (_, s) = parseLine(#"{"metric":"a","value":2,"kind":"d","time":1700000000}"#)
        #expect(s.first?.time == 1_700_000_000)
        let (_, ms) = parseLine(#"{"metric":"a","value":2,"kind":"d","time":1700000000500}"#)
        #expect(ms.first?.time == 1_700_000_000.5)
        let (_, frac) = parseLine(#"{"metric":"a","value":2,"kind":"d","time":1700000000.25}"#)
        #expect(frac.first?.time == 1_700_000_000.25)
    }

    @Test func kindsAndAliases() {
        let table: [(String, MetricKind)] = [
            ("counter", .counter), ("c", .counter), ("gauge", .gauge), ("g", .gauge), ("distribution", .distribution),
            ("histogram", .distribution), ("timer", .distribution), ("ms", .distribution), ("h", .distribution),
            ("d", .distribution),
        ]
        for (text, kind) in table {
            let (outcome, events) = parseLine(#"{"metric":"a","value":5,"kind":"\#(text)"}"#)
            #expect(outcome == .accepted(1), "\(text)")
            #expect(events.first?.kind == kind, "\(text)")
            #expect(events.first?.time == nil)
        }
    }

    @Test func leadingSpacesAndCarriageReturn() {
        let (outcome, events) = parseLine("  {\"metric\":\"a\",\"value\":-2,\"kind\":\"gauge\"}\r")
        #expect(outcome == .accepted(1))
        #expect(events == [Event(metric: "a", value: -2, kind: .gauge)])
    }
}

@Suite struct RFC3339Tests {
    @Test func parsesVariants() {
        let base = utc(2026, 11, 29, 10, 15)
        #expect(RFC3339.parse("2026-11-29T10:15:00Z") == base)
        #expect(RFC3339.parse("2026-11-29t10:15:00z") == base)
        #expect(RFC3339.parse("2026-11-29 10:15:00Z") == base)
        #expect(RFC3339.parse("2026-11-29T05:15:00-05:00") == base)
        #expect(RFC3339.parse("2026-11-29T15:45:00+05:30") == base)
        #expect(RFC3339.parse("2026-11-29T10:15:00.5Z") == base + 0.5)
        #expect(RFC3339.parse("2024-02-29T00:00:00Z") == utc(2024, 2, 29))
        #expect(RFC3339.parse("1970-01-01T00:00:00Z") == 0)
    }

    @Test(arguments: [
        "", "2026-11-29", "2026-11-29T10:15:00", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
        "2026-11-31T00:00:00Z", "2026-11-29T24:00:00Z", "2026-11-29T10:60:00Z", "2026-11-29T10:15:00.Z",
        "2026-11-29T10:15:00+0100", "2026-11-29T10:15:00Zjunk", "yesterday", "2026/11/29T10:15:00Z",
    ])
    func rejectsMalformed(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test func formatRoundTrips() {
        var rng = SplitMix64(seed: 3339)
        for _ in 0..<500 {
            let t = Double(Int.random(in: 0..<4_102_444_800, using: &rng))
            let text = RFC3339.format(t)
            #expect(RFC3339.parse(text) == t, "\(text)")
        }
        #expect(RFC3339.format(1_795_947_300) == "2026-11-29T10:15:00Z")
        #expect(RFC3339.format(utc(2000, 2, 29, 23, 59, 59) + 0.9) == "2000-02-29T23:59:59Z")
    }
}

/// One malformed line, the reason it must be rejected with, as raw bytes.
struct BadLine: Sendable, CustomTestStringConvertible {
    var bytes: [UInt8]
    var reason: RejectReason
    init(_ text: String, _ reason: RejectReason) {
        bytes = Array(text.utf8)
        self.reason = reason
    }
    init(bytes: [UInt8], _ reason: RejectReason) {
        self.bytes = bytes
        self.reason = reason
    }
    var testDescription: String { "\(String(decoding: bytes, as: UTF8.self).debugDescription) → \(reason)" }
}

let badLines: [BadLine] = [
    BadLine("a", .missingValue),
    BadLine("a:|c", .missingValue),
    BadLine("a::|c", .missingValue),
    BadLine(":1|c", .emptyName),
    BadLine("a:1", .missingType),
    BadLine("a:1|", .missingType),
    BadLine("a:1|zz", .unknownType),
    BadLine("a:x|c", .invalidValue),
    BadLine("a:1x|c", .invalidValue),
    BadLine("a:0x10|c", .invalidValue),
    BadLine("a:1:y|h", .invalidValue),
    BadLine("a:NaN|g", .nonFiniteValue),
    BadLine("a:inf|c", .nonFiniteValue),
    BadLine("a:-1|ms", .negativeDuration),
    BadLine("a:1|c|@0", .invalidSampleRate),
    BadLine("a:1|c|@1.5", .invalidSampleRate),
    BadLine("a:1|c|@-0.5", .invalidSampleRate),
    BadLine("a:1|c|@abc", .invalidSampleRate),
    BadLine("a:1|c|#:v", .invalidTag),
    BadLine("a:1|c|Tabc", .invalidTimestamp),
    BadLine("a:1|c|T17000.5", .invalidTimestamp),
    BadLine("a\u{01}b:1|c", .invalidName),
    BadLine("a\u{7F}:1|c", .invalidName),
    BadLine("a|b:1|c", .invalidName),
    BadLine(
        bytes: [
            UInt8(ascii: "a"), 0xFF, 0xFE, UInt8(ascii: ":"), UInt8(ascii: "1"), UInt8(ascii: "|"), UInt8(ascii: "c"),
        ],
        .invalidUTF8
    ),
    BadLine(
        bytes: Array(#"{"metric":"a"#.utf8) + [0xC3, 0x28] + Array(#"","value":1,"kind":"c"}"#.utf8),
        .invalidUTF8
    ),
    BadLine(#"{"metric":"a"}"#, .invalidJSON),
    BadLine(#"{"metric":"a","value":"x","kind":"c"}"#, .invalidValue),
    BadLine(#"{"metric":"a","value":true,"kind":"c"}"#, .invalidJSON),
    BadLine(#"{"metric":"a","value":1,"kind":"c""#, .invalidJSON),
    BadLine(#"{"value":1,"kind":"c"}"#, .invalidJSON),
    BadLine(#"{"metric":"","value":1,"kind":"c"}"#, .emptyName),
    BadLine(#"{"metric":"a:b","value":1,"kind":"c"}"#, .invalidName),
    BadLine(#"{"metric":"a","kind":"c"}"#, .missingValue),
    BadLine(#"{"metric":"a","value":1}"#, .missingType),
    BadLine(#"{"metric":"a","value":1,"kind":"zz"}"#, .unknownType),
    BadLine(#"{"metric":"a","value":-4,"kind":"ms"}"#, .negativeDuration),
    BadLine(#"{"metric":"a","value":1,"kind":"c","time":"yesterday"}"#, .invalidTimestamp),
    BadLine(#"{"metric":"a","value":1,"kind":"c","time":"2026-02-30T00:00:00Z"}"#, .invalidTimestamp),
    BadLine(#"{"metric":"a","value":1,"kind":"c","time":-5}"#, .invalidTimestamp),
    BadLine(#"{"metric":"a","value":1,"kind":"c","labels":{"":"x"}}"#, .invalidTag),
]

@Suite struct MalformedLineTests {
    @Test func coversManyReasons() {
        #expect(badLines.count >= 12)
        let reasons = Set(badLines.map(\.reason))
        // Every parser-level reason is exercised (the engine-level ones are tested in StateMachineTests,
        // the framing and socket ones in LineBatcherTests and the daemon's SocketTests, CSV in
        // CSVEventTests).
        let notParser: Set<RejectReason> = [
            .lineTooLong, .futureEvent, .tooLate, .unknownControl, .unauthorized, .datagramTooLong, .incompleteLine,
            .invalidCSV, .instanceLimit, .seriesLimit,
        ]
        #expect(reasons == Set(RejectReason.allCases).subtracting(notParser))
    }

    @Test(arguments: badLines)
    func rejectedWithReason(bad: BadLine) {
        let (outcome, events) = parseBytes(bad.bytes)
        #expect(outcome == .rejected(bad.reason))
        #expect(events.isEmpty)
    }

    @Test(arguments: badLines)
    func rejectionLeavesPreviousEventsAlone(bad: BadLine) {
        var events = [Event(metric: "earlier", value: 1, kind: .counter)]
        let outcome = bad.bytes.withUnsafeBytes { LineParser().parse($0, into: &events) }
        #expect(outcome == .rejected(bad.reason))
        #expect(events == [Event(metric: "earlier", value: 1, kind: .counter)])
    }

    @Test(arguments: badLines)
    func batchKeepsFollowingGoodLine(bad: BadLine) throws {
        var b = LineBatcher(maxLineBytes: 1024)
        b.feed(text: "first:1|c\n")
        b.feed(bytes: bad.bytes + [UInt8(ascii: "\n")])
        b.feed(text: "good:5|g|#k:v\n")
        #expect(b.lineCount == 3)
        #expect(
            b.events == [
                Event(metric: "first", value: 1, kind: .counter),
                Event(metric: "good", value: 5, kind: .gauge, labels: ["k": "v"]),
            ]
        )
        #expect(b.eventLines == [1, 3])
        let r = try #require(b.rejections.first)
        #expect(b.rejections.count == 1)
        #expect(r.line == 2)
        #expect(r.reason == bad.reason)
        #expect(r.excerpt == String(decoding: bad.bytes, as: UTF8.self))
    }

    @Test(arguments: badLines)
    func batchKeepsFollowingGoodLineInOneChunk(bad: BadLine) {
        var b = LineBatcher(maxLineBytes: 1024)
        b.feed(bytes: bad.bytes + Array("\r\ngood:1:2|h\n".utf8))
        #expect(b.events.map(\.value) == [1, 2])
        #expect(b.eventLines == [2, 2])
        #expect(b.rejections.map(\.line) == [1])
        #expect(b.rejections.map(\.reason) == [bad.reason])
    }
}

@Suite struct LineBatcherTests {
    @Test func longLineInOneChunk() {
        var b = LineBatcher(maxLineBytes: 16)
        b.feed(text: "a:1|c\n" + String(repeating: "x", count: 40) + "\nb:2|c\n")
        #expect(b.events.map(\.metric) == ["a", "b"])
        #expect(b.eventLines == [1, 3])
        #expect(b.rejections.map(\.reason) == [.lineTooLong])
        #expect(b.rejections.map(\.line) == [2])
        #expect(b.lineCount == 3)
    }

    @Test(arguments: [1, 2, 3, 5, 7, 16, 17, 100])
    func longLineSplitAcrossChunks(chunkSize: Int) {
        let maxBytes = 16
        let long = "long.metric.name.that.goes.on:1|c"  // 33 bytes
        let stream = Array(("a:1|c\n" + long + "\n" + "b:2|g\n" + long + long + "\n" + "c:3|ms").utf8)
        var b = LineBatcher(maxLineBytes: maxBytes)
        var i = 0
        while i < stream.count {
            b.feed(bytes: Array(stream[i..<min(stream.count, i + chunkSize)]))
            i += chunkSize
        }
        #expect(b.events.map(\.metric) == ["a", "b"])
        b.finish()
        #expect(b.events.map(\.metric) == ["a", "b", "c"])
        #expect(b.events.map(\.value) == [1, 2, 3])
        #expect(b.eventLines == [1, 3, 5])
        #expect(b.rejections.map(\.reason) == [.lineTooLong, .lineTooLong])
        #expect(b.rejections.map(\.line) == [2, 4])
        #expect(
            b.rejections.allSatisfy { $0.excerpt.utf8.count <= 200 && long.hasPrefix(String($0.excerpt.prefix(8))) }
        )
        #expect(b.lineCount == 5)
    }

    @Test func lineOfExactlyMaxBytesIsAccepted() {
        let line = "abcdefghij:1|c"  // 14 bytes
        for chunk in [1, 3, 14, 15] {
            var b = LineBatcher(maxLineBytes: 14)
            let stream = Array((line + "\n" + line + "x\n" + line + "\n").utf8)
            var i = 0
            while i < stream.count {
                b.feed(bytes: Array(stream[i..<min(stream.count, i + chunk)]))
                i += chunk
            }
            #expect(b.eventLines == [1, 3], "chunk \(chunk)")
            #expect(b.rejections.map(\.line) == [2], "chunk \(chunk)")
            #expect(b.rejections.map(\.reason) == [.lineTooLong], "chunk \(chunk)")
        }
    }

    @Test func overlongFinalLineWithoutNewlineIsDropped() {
        var b = LineBatcher(maxLineBytes: 8)
        b.feed(text: "a:1|c\n")
        b.feed(text: "bbbbbbbbbbbbbbbbbbb")
        b.feed(text: "bbbbbbbbbbbbbbbbbbb")
        b.finish()
        #expect(b.events.map(\.metric) == ["a"])
        #expect(b.rejections.map(\.reason) == [.lineTooLong])
        #expect(b.rejections.map(\.line) == [2])
    }

    @Test func finalLineWithoutNewlineWaitsForFinish() {
        var b = LineBatcher(maxLineBytes: 100)
        b.feed(text: "a:1|c\nb:2")
        b.feed(text: "|g")
        #expect(b.events.map(\.metric) == ["a"])
        #expect(b.lineCount == 1)
        b.finish()
        #expect(b.events == [Event(metric: "a", value: 1, kind: .counter), Event(metric: "b", value: 2, kind: .gauge)])
        #expect(b.eventLines == [1, 2])
        b.finish()
        #expect(b.events.count == 2)
        #expect(b.lineCount == 2)
    }

    @Test func lineSplitAcrossChunksIsJoined() {
        var b = LineBatcher(maxLineBytes: 100)
        for piece in ["le", "ads.qual", "ified:1", "|c|#sou", "rce:web\n"] { b.feed(text: piece) }
        #expect(b.events == [Event(metric: "leads.qualified", value: 1, kind: .counter, labels: ["source": "web"])])
    }

    @Test func controlLinesRecordTheirPosition() {
        var b = LineBatcher(maxLineBytes: 100)
        b.feed(text: "#hello\na:1|c\nb:2|c\n#sync 7\r\nbad\n\n#sync 8  \nc:3|c\n")
        // Only #sync is a control command; any other '#' line is rejected, not silently dropped.
        #expect(b.controls.map(\.text) == ["#sync 7", "#sync 8"])
        #expect(b.controls.map(\.events) == [2, 2])
        #expect(b.controls.map(\.rejections) == [1, 2])
        #expect(b.eventLines == [2, 3, 8])
        #expect(b.rejections.map(\.line) == [1, 5])
        #expect(b.rejections.first?.reason == .unknownControl)
        #expect(b.lineCount == 8)
    }

    @Test func takeStartsANewBatchButKeepsNumbering() {
        var b = LineBatcher(maxLineBytes: 100)
        b.feed(text: "a:1|c\nzz\n#sync 1\n")
        let first = b.take()
        #expect(first.events.map(\.metric) == ["a"])
        #expect(first.eventLines == [1])
        #expect(first.rejections.map(\.line) == [2])
        #expect(first.controls.map(\.text) == ["#sync 1"])
        #expect(b.isEmpty)
        b.feed(text: "b:1|c\n#sync 2\n")
        #expect(!b.isEmpty)
        #expect(b.eventLines == [4])
        #expect(b.controls.map(\.events) == [1])
        #expect(b.controls.map(\.text) == ["#sync 2"])
    }

    @Test func longLineExcerptIsTruncatedTo200Bytes() throws {
        var b = LineBatcher(maxLineBytes: 1000)
        b.feed(text: String(repeating: "y", count: 5000) + "\n")
        let r = try #require(b.rejections.first)
        #expect(r.reason == .lineTooLong)
        #expect(r.excerpt == String(repeating: "y", count: 200))
    }
}

/// The fast lane (`LineParser.parseCommonStatsd`) against the general parser: a stream of
/// generated lines, common shapes and near misses mixed, must give the same events, line
/// numbers, rejections and counters with the lane on and off.
@Suite struct FastLaneTests {
    static let prefixes = ["", "", "", " ", "\t", "\u{FEFF}", "_", "_e{1,1}", "_sc", "{", "#"]
    static let names = [
        "a", "page.views", "bench.s12345", "api.requests.total", "x-y_z/w", "exactly.eight",
        "sixteen.bytes.ab", "caf\u{E9}", "e\u{301}", "tab\tname", "del\u{7F}x", "bar|x", "hash#x",
        String(repeating: "n", count: 48), String(repeating: "n", count: 49), "", "with space", "a:b",
    ]
    static let values = [
        "1", "0", "007", "42", "123456789012345", "1234567890123456", "1.5", "-3", "+2", "", "1e3",
        "nan", "inf", "1:2:3", "1::2", "x",
    ]
    static let types = ["c", "c", "g", "ms", "h", "d", "s", "x", "m", "cc", "", "msx", "C"]
    static let suffixes = [
        "", "", "", "|#env:prod", "|#env:prod,az:b", "|#shard:7", "|#", "|@0.5", "|@2",
        "|#env:prod|T1700000000", "|T1700000000", "\r", " ", "|#env:prod\r", "|#env:prod ", "|c:abc",
        "|#env:prod|#az:b", "|", "||", "|#:x", "|#env:prod|",
    ]

    /// The lines through a batcher, fed whole or (`chunking`) in reads of 1 to 200 bytes, so
    /// lines are cut at every position by a read's end.
    func run(
        _ lines: [String],
        fastLane: Bool,
        maxLineBytes: Int = 4096,
        chunking seed: UInt64? = nil
    ) -> LineBatcher {
        var b = LineBatcher(maxLineBytes: maxLineBytes, options: ParserOptions(), format: .socket, fastLane: fastLane)
        let bytes = Array(lines.joined(separator: "\n").utf8) + [10]
        if let seed {
            var rng = SplitMix64(seed: seed)
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + Int.random(in: 1...200, using: &rng))
                b.feed(bytes: Array(bytes[start..<end]))
                start = end
            }
        } else {
            b.feed(bytes: bytes)
        }
        b.finish()
        return b
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8])
    func bothLanesAgree(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        // Past the 256 lines after which a stream gets its cache (and the lane opens), with
        // repeats so names and tag sets are cached by the time they come back.
        var lines: [String] = []
        for _ in 0..<3000 {
            if Bool.random(using: &rng) {
                // A common line (the lane's shape), with a tag set from a short list.
                lines.append(
                    Self.names.prefix(7).randomElement(using: &rng)! + ":"
                        + Self.values.prefix(5).randomElement(using: &rng)! + "|"
                        + Self.types.prefix(6).randomElement(using: &rng)!
                        + Self.suffixes.prefix(7).randomElement(using: &rng)!
                )
                continue
            }
            lines.append(
                Self.prefixes.randomElement(using: &rng)! + Self.names.randomElement(using: &rng)! + ":"
                    + Self.values.randomElement(using: &rng)! + "|" + Self.types.randomElement(using: &rng)!
                    + Self.suffixes.randomElement(using: &rng)!
            )
        }
        let general = run(lines, fastLane: false)
        // Whole, in short reads, and with a line limit that long tag sets exceed; each against
        // the general lane fed the same way.
        for (limit, chunking) in [(4096, nil), (4096, seed), (20, seed)] as [(Int, UInt64?)] {
            let fast = run(lines, fastLane: true, maxLineBytes: limit, chunking: chunking)
            let reference = run(lines, fastLane: false, maxLineBytes: limit, chunking: chunking)
            #expect(fast.events.count == reference.events.count)
            #expect(Array(fast.events) == Array(reference.events))
            #expect(fast.eventLines == reference.eventLines)
            #expect(fast.rejections.count == reference.rejections.count)
            #expect(fast.rejections == reference.rejections)
            #expect(fast.stats == reference.stats)
            #expect(fast.lineCount == 3000)
            #expect(fast.fastLaneLines > (limit == 4096 ? 1000 : 300))
        }
        #expect(general.fastLaneLines == 0)
        // The generator reaches both outcomes often enough to mean something.
        #expect(general.events.count > 300)
        #expect(general.rejections.count > 300)
    }

    @Test func commonLinesTakeTheLaneWithTheSameResult() {
        let lines = (0..<400).map { "svc.s\($0 % 10):\($0)|\(["c", "g", "ms", "h", "d"][$0 % 5])|#shard:\($0 % 3)" }
        let fast = run(lines, fastLane: true)
        #expect(fast.events.count == 400)
        #expect(fast.events[395] == Event(metric: "svc.s5", value: 395, kind: .counter, labels: ["shard": "2"]))
        #expect(fast.events[398].kind == .distribution)
        #expect(Array(fast.events) == Array(run(lines, fastLane: false).events))
        // Lines 257–400 (the cache opens at line 256), less the first sight of two tag sets
        // after it (`shard:1` and `shard:2` are cached by the general parser first).
        #expect(fast.fastLaneLines == 142)
    }
}

extension FastLaneTests {
    /// A datagram listener's batcher starts a new stream per datagram (line numbers from 1): the
    /// cache and the lane open after 256 lines in all, not 256 lines in one datagram.
    @Test func datagramsOpenTheLaneAcrossStreams() {
        var b = LineBatcher(maxLineBytes: 8192, options: ParserOptions(), format: .socket, fastLane: true)
        for d in 0..<40 {
            b.feed(text: (0..<20).map { "dgram.s\($0 % 4):\(d)|c" }.joined(separator: "\n"))
            b.finish()
            #expect(b.lineCount == 20)
            b.startNewStream()
        }
        #expect(b.events.count == 800)
        #expect(b.events[799] == Event(metric: "dgram.s3", value: 39, kind: .counter))
        // Datagrams 13 to 40 (the cache opens at the 256th line, in datagram 13).
        #expect(b.fastLaneLines == 800 - 256)
    }
}

@Suite struct ParseCacheTests {
    /// Ten thousand names seen round-robin: the table grows instead of evicting, and every name
    /// keeps the id it was first given (batches remember names by id).
    @Test func growsWithTheStreamsVarietyAndKeepsIDs() {
        var cache = ParseCache()
        #expect(cache.capacity.names == 4096)
        let names = (0..<10_000).map { Array("svc.requests.s\($0)".utf8) }
        var first: [Int] = []
        for n in names { n.withUnsafeBytes { first.append(cache.name($0).1) } }
        #expect(first == Array(1...10_000))
        var again: [Int] = []
        for n in names { n.withUnsafeBytes { again.append(cache.name($0).1) } }
        #expect(again == first)
        #expect(cache.capacity.names == 32_768)
        names[9_999].withUnsafeBytes { #expect(cache.name($0) == ("svc.requests.s9999", 10_000)) }
    }

    /// Past its largest size the table starts empty: names come back with new ids, and memory
    /// stays bounded.
    @Test func aFullTableStartsAgain() {
        var cache = ParseCache()
        let count = ParseCache.maxNameSlots / 2 + 10
        for k in 0..<count { Array("n\(k)".utf8).withUnsafeBytes { _ = cache.name($0) } }
        #expect(cache.capacity.names == ParseCache.maxNameSlots)
        // The last ten came after the reset; the first name is gone and gets a new id.
        Array("n0".utf8).withUnsafeBytes { #expect(cache.name($0).1 == count + 1) }
        Array("n\(count - 1)".utf8).withUnsafeBytes { #expect(cache.name($0).1 == count) }
    }

    @Test func tagSetsGrowAndKeepIDs() {
        var cache = ParseCache()
        let tags = (0..<2000).map { Array("shard:\($0),env:prod".utf8) }
        var ids: [Int] = []
        for (k, t) in tags.enumerated() {
            t.withUnsafeBytes { ids.append(cache.store(labels: ["shard": "\(k)", "env": "prod"], for: $0)) }
        }
        for (k, t) in tags.enumerated() {
            t.withUnsafeBytes { b in
                let hit = cache.labels(b)
                #expect(hit?.0 == ["shard": "\(k)", "env": "prod"])
                #expect(hit?.1 == ids[k])
            }
        }
        #expect(cache.capacity.tags == 4096)
    }

    /// Keys longer than a slot's 40 inline bytes keep their tail aside: keys equal in their first
    /// 40 bytes stay apart, survive the table's growth, and keys past `maxCachedTagBytes` are
    /// not cached (parsed each time) but still work.
    @Test func longTagSetsKeepTheirTails() {
        var cache = ParseCache()
        let prefix = "env:production,service:checkout-api,az:" + "x"  // 40 bytes
        #expect(prefix.utf8.count == 40)
        let tags = (0..<1500).map { Array("\(prefix)\($0),version:1.2.\($0 % 7)".utf8) }
        for (k, t) in tags.enumerated() {
            t.withUnsafeBytes { #expect(cache.store(labels: ["k": "\(k)"], for: $0) == k + 1) }
        }
        #expect(cache.capacity.tags == 4096)
        for (k, t) in tags.enumerated() {
            t.withUnsafeBytes { b in
                let hit = cache.labels(b)
                #expect(hit?.0 == ["k": "\(k)"])
                #expect(hit?.1 == k + 1)
            }
        }
        // Same length and first 40 bytes as a cached key, another tail: a miss.
        Array("\(prefix)9999,version:1.2.3".utf8).withUnsafeBytes { #expect(cache.labels($0) == nil) }
        let huge = Array(("big:" + String(repeating: "y", count: ParseCache.maxCachedTagBytes)).utf8)
        huge.withUnsafeBytes { b in
            #expect(cache.store(labels: ["big": "y"], for: b) == -1)
            #expect(cache.labels(b) == nil)
        }
        // A line with such tags still parses (the general parser, every time).
        var events: [Event] = []
        var lineCache = ParseCache()
        let line = Array("m:1|c|#".utf8) + huge
        for _ in 0..<2 {
            var stats = ParseStats()
            line.withUnsafeBytes { _ = LineParser().parse($0, into: &events, stats: &stats, cache: &lineCache) }
        }
        #expect(events.count == 2)
        #expect(events[1].labels == ["big": String(repeating: "y", count: ParseCache.maxCachedTagBytes)])
    }
}
