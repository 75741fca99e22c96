import Foundation

/// Points in time as people type them on a command line (`--since`, `--until`), the forms
/// `journalctl --since` (systemd.time(7)) accepts that operators use:
/// - `now`, `today`, `yesterday`, `tomorrow` (local midnight, in `timeZone`);
/// - a duration ago: `7d`, `12h`, `1h30m`, also written `-7d` as journalctl does;
/// - an RFC 3339 time with an offset: `2026-12-01T09:00:00Z`, `2026-12-01 10:00:00+01:00`;
/// - a local date: `2026-12-01` (its midnight), or a local date-time: `2026-12-01 14:30`,
///   `2026-12-01 14:30:15`, `2026-12-01T14:30` (read in `timeZone`).
public enum TimeArgument {
    /// The forms accepted, for error messages.
    public static let forms =
        "a duration ago (7d, 12h), now, today, yesterday, tomorrow, a date (2026-12-01), a local date-time (2026-12-01 14:30), or an RFC 3339 time"

    /// Parses `text` into unix seconds, or `nil` when it is none of the forms above.
    /// - Parameters:
    ///   - now: the current time (unix seconds) for relative forms.
    ///   - timeZone: the zone of local dates and date-times (the machine's by default).
    public static func parse(_ text: String, now: Double, timeZone: TimeZone = .current) -> Double? {
        let s = text.trimmingCharacters(in: .whitespaces)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let today = calendar.startOfDay(for: Date(timeIntervalSince1970: now))
        switch s.lowercased() {
        case "now": return now
        case "today": return today.timeIntervalSince1970
        case "yesterday": return calendar.date(byAdding: .day, value: -1, to: today)?.timeIntervalSince1970
        case "tomorrow": return calendar.date(byAdding: .day, value: 1, to: today)?.timeIntervalSince1970
        default: break
        }
        if let t = RFC3339.parse(s, naiveIn: timeZone) { return t }
        let ago = s.hasPrefix("-") ? String(s.dropFirst()) : s
        if let d = DurationText.seconds(ago), ago.first?.isNumber == true, !ago.allSatisfy(\.isNumber) {
            return now - d
        }
        // A date, or a date-time without seconds: complete it to `YYYY-MM-DD HH:MM:SS`.
        let u = Array(s.utf8)
        if u.count == 10 { return RFC3339.parse(s + " 00:00:00", naiveIn: timeZone) }
        if u.count == 16 { return RFC3339.parse(s + ":00", naiveIn: timeZone) }
        return nil
    }
}
