import Foundation

/// RFC 3339 timestamps (`2026-11-29T10:15:00Z`, `2026-11-29T11:15:00.250+01:00`), parsed without
/// Foundation formatters so parsing is allocation-light and thread-safe.
public enum RFC3339 {
    /// Parses an RFC 3339 date-time (section 5.6: `full-date "T" full-time`, `t`/space accepted in
    /// place of `T`, `z` for `Z`) into unix seconds. Returns `nil` when the text does not match.
    public static func parse(_ text: String) -> Double? { parse(text, naiveIn: nil) }

    /// Like `parse(_:)`, and when `zone` is given also accepts a local date-time without an
    /// offset (`2014-07-01 00:00:00`, as spreadsheets and the NAB corpus write them), read as
    /// wall-clock time in `zone` (an ambiguous time in a DST fall-back hour takes the first,
    /// daylight-saving reading; a skipped one is shifted forward by the gap).
    public static func parse(_ text: String, naiveIn zone: TimeZone?) -> Double? {
        let u = Array(text.utf8)
        func num(_ from: Int, _ len: Int) -> Int? {
            guard from + len <= u.count else { return nil }
            var v = 0
            for i in from..<(from + len) {
                let c = u[i]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        guard u.count >= 19,
            let year = num(0, 4), u[4] == UInt8(ascii: "-"), let month = num(5, 2), u[7] == UInt8(ascii: "-"),
            let day = num(8, 2), [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")].contains(u[10]),
            let hour = num(11, 2), u[13] == UInt8(ascii: ":"), let minute = num(14, 2), u[16] == UInt8(ascii: ":"),
            let second = num(17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour < 24, minute < 60,
            second <= 60
        else { return nil }
        var i = 19
        var fraction = 0.0
        if i < u.count, u[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 0.1
            let s = i
            while i < u.count, u[i] >= 48, u[i] <= 57 {
                fraction += Double(u[i] - 48) * scale
                scale /= 10
                i += 1
            }
            if i == s { return nil }
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        let wall = days * 86400 + hour * 3600 + minute * 60 + min(second, 59)
        if i == u.count {
            guard let zone else { return nil }
            if zone.identifier == "UTC" || zone.identifier == "GMT" { return Double(wall) + fraction }
            // Two rounds: the offset at the UTC reading, then at the corrected instant.
            var guess = Double(wall - zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(wall))))
            guess = Double(wall - zone.secondsFromGMT(for: Date(timeIntervalSince1970: guess)))
            return guess + fraction
        }
        var offset = 0
        if u[i] == UInt8(ascii: "Z") || u[i] == UInt8(ascii: "z") {
            i += 1
        } else if u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") {
            guard let oh = num(i + 1, 2), u.count > i + 3, u[i + 3] == UInt8(ascii: ":"), let om = num(i + 4, 2),
                oh < 24, om < 60
            else { return nil }
            offset = (oh * 3600 + om * 60) * (u[i] == UInt8(ascii: "+") ? 1 : -1)
            i += 6
        } else {
            return nil
        }
        guard i == u.count else { return nil }
        return Double(wall - offset) + fraction
    }

    /// Formats unix seconds as RFC 3339 in UTC with second precision, e.g. `2026-11-29T10:15:00Z`.
    public static func format(_ t: Double) -> String {
        let secs = Int(t.rounded(.down))
        let days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400
        let rem = secs - days * 86400
        let (y, m, d) = civilFromDays(days)
        func p(_ v: Int, _ w: Int = 2) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(p(y, 4))-\(p(m))-\(p(d))T\(p(rem / 3600)):\(p(rem % 3600 / 60)):\(p(rem % 60))Z"
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Howard Hinnant's days_from_civil: days since 1970-01-01 for a proleptic Gregorian date.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
