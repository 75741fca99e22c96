import Foundation
import Testing

@testable import SLAWatchCore

/// Deterministic 64-bit generator (Steele, Lea, Flood: "Fast splittable pseudorandom number
/// generators"), so every randomized test is reproducible from its seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Unix seconds of a UTC wall-clock time, computed with Foundation's Gregorian calendar (not with
/// the code under test).
func utc(_ y: Int, _ mo: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0, _ s: Int = 0) -> Double {
    var cal = Calendar(identifier: .gregorian)
    cal.timeZone = TimeZone(identifier: "UTC")!
    let date = cal.date(from: DateComponents(year: y, month: mo, day: d, hour: h, minute: mi, second: s))!
    return date.timeIntervalSince1970
}

/// Unix seconds of a local wall-clock time written with an explicit UTC offset in hours
/// (`local(2026, 11, 1, offset: 1)` is 2026-11-01T00:00:00+01:00).
func local(_ y: Int, _ mo: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0, offset: Int) -> Double {
    utc(y, mo, d, h, mi) - Double(offset * 3600)
}

/// Parses one string line and returns the outcome plus the events appended.
func parseLine(_ line: String) -> (LineOutcome, [Event]) {
    var events: [Event] = []
    let outcome = LineParser().parse(line, into: &events)
    return (outcome, events)
}

/// Parses one raw line and returns the outcome plus the events appended.
func parseBytes(_ bytes: [UInt8]) -> (LineOutcome, [Event]) {
    var events: [Event] = []
    let outcome = bytes.withUnsafeBytes { LineParser().parse($0, into: &events) }
    return (outcome, events)
}

extension LineBatcher {
    mutating func feed(bytes: [UInt8]) {
        bytes.withUnsafeBytes { feed($0) }
    }

    mutating func feed(text: String) {
        feed(bytes: Array(text.utf8))
    }
}

/// True when `name` matches `^[A-Z][A-Z0-9_]{0,63}$` (journald's rule for field names).
func isJournalFieldName(_ name: String) -> Bool {
    let u = Array(name.utf8)
    guard (1...64).contains(u.count), (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(u[0]) else { return false }
    return u.dropFirst().allSatisfy {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
            || $0 == UInt8(ascii: "_")
    }
}

@Test func supportHelpersAgreeWithKnownUnixTimes() {
    // `date -u -d 2026-11-29T10:15:00Z +%s`
    #expect(utc(2026, 11, 29, 10, 15) == 1_795_947_300)
    // 2026-03-29T00:00:00+01:00 == 2026-03-28T23:00:00Z
    #expect(local(2026, 3, 29, offset: 1) == 1_774_738_800)
    #expect(isJournalFieldName("SLAWATCH_OBJECTIVE"))
    #expect(!isJournalFieldName("slawatch"))
    #expect(!isJournalFieldName("_X"))
    #expect(!isJournalFieldName("A" + String(repeating: "B", count: 64)))
    #expect(isJournalFieldName("A" + String(repeating: "B", count: 63)))
    var a = SplitMix64(seed: 7)
    var b = SplitMix64(seed: 7)
    #expect((0..<5).map { _ in a.next() } == (0..<5).map { _ in b.next() })
}

/// The errors of an objectives file (`ObjectivesConfig.parse`), empty when it parses.
func objectiveErrors(_ text: String, file: String = "o.yaml") -> [ConfigError] {
    do throws(ConfigErrors) {
        _ = try ObjectivesConfig.parse(text, file: file)
        return []
    } catch {
        return error.errors
    }
}
