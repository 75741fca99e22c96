import Foundation

/// A calendar period, in the objective's IANA time zone.
public enum CalendarUnit: String, Sendable, Hashable, Codable, CaseIterable {
    /// Midnight to midnight (23 or 25 hours on DST change days).
    case day
    /// ISO 8601 week: Monday 00:00 to the next Monday 00:00.
    case week
    /// The 1st 00:00 to the next month's 1st 00:00 (never "30 days").
    case month
    /// January, April, July or October 1st to the next quarter's start.
    case quarter
}

/// What an objective's SLI is aggregated over.
public enum WindowSpec: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The last `seconds` seconds ending now, bucketed (see `Window`).
    case rolling(seconds: Int)
    /// The current calendar period containing now.
    case calendar(CalendarUnit)

    /// Parses `day`, `week`, `month`, `quarter`, or a rolling duration such as `5m`, `1h`, `7d`
    /// (whole seconds, at least 1 s). Returns `nil` otherwise.
    public init?(_ text: String) {
        if let unit = CalendarUnit(rawValue: text) {
            self = .calendar(unit)
            return
        }
        guard let s = DurationText.seconds(text), s >= 1, s == s.rounded() else { return nil }
        self = .rolling(seconds: Int(s))
    }

    /// `5m`, `month`, …: the same text a config would use.
    public var description: String {
        switch self {
        case .rolling(let s): return DurationText.format(Double(s))
        case .calendar(let u): return u.rawValue
        }
    }
}

/// Calendar period arithmetic in one IANA time zone (Foundation's Gregorian calendar; ISO 8601
/// calendar for weeks). Periods are half-open `[start, end)` in unix seconds.
public struct CalendarPeriods: Sendable {
    /// The zone periods are computed in.
    public let timeZone: TimeZone
    private let calendar: Calendar

    /// - Returns: `nil` when `timeZoneIdentifier` is not a known IANA zone.
    public init?(timeZoneIdentifier: String) {
        guard let tz = TimeZone(identifier: timeZoneIdentifier) else { return nil }
        timeZone = tz
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = tz
        cal.firstWeekday = 2
        cal.minimumDaysInFirstWeek = 4
        calendar = cal
    }

    /// Weekday of the local day containing `t`: 1 = Monday … 7 = Sunday (ISO 8601).
    public func isoWeekday(_ t: Double) -> Int {
        let w = calendar.component(.weekday, from: Date(timeIntervalSince1970: t))  // 1 = Sunday
        return w == 1 ? 7 : w - 1
    }

    /// The local date of `t` as `YYYY-MM-DD`.
    public func localDate(_ t: Double) -> String {
        let c = calendar.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: t))
        func p(_ v: Int, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(p(c.year ?? 0, 4))-\(p(c.month ?? 0, 2))-\(p(c.day ?? 0, 2))"
    }

    /// The period of kind `unit` containing `t`, as `[start, end)` unix seconds.
    public func period(_ unit: CalendarUnit, containing t: Double) -> (start: Double, end: Double) {
        let date = Date(timeIntervalSince1970: t)
        let start: Date
        let end: Date
        switch unit {
        case .day:
            start = calendar.startOfDay(for: date)
            end = calendar.date(byAdding: .day, value: 1, to: start).map { calendar.startOfDay(for: $0) } ?? start
        case .week:
            let day = calendar.startOfDay(for: date)
            let weekday = calendar.component(.weekday, from: day)  // 1 = Sunday … 7 = Saturday
            let back = (weekday + 5) % 7  // days since Monday
            start = calendar.startOfDay(
                for: calendar.date(byAdding: .day, value: -back, to: day)!.addingTimeInterval(43200)
            )
            end = calendar.startOfDay(
                for: calendar.date(byAdding: .day, value: 7, to: start)!.addingTimeInterval(43200)
            )
        case .month, .quarter:
            var c = calendar.dateComponents([.year, .month], from: date)
            if unit == .quarter { c.month = ((c.month! - 1) / 3) * 3 + 1 }
            c.day = 1
            start = calendar.startOfDay(for: calendar.date(from: c)!)
            end = calendar.startOfDay(
                for: calendar.date(byAdding: .month, value: unit == .quarter ? 3 : 1, to: start)!
            )
        }
        return (start.timeIntervalSince1970, end.timeIntervalSince1970)
    }
}
