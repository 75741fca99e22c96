import Foundation

/// When the daemon writes its reports (`reports:` in `slawatch.yaml`, docs/reports.md).
///
/// ```yaml
/// reports:
///   weekly: "mon 09:00"     # day and local time; false for none
///   monthly: true           # each month's report once it closed
///   time_zone: Europe/Paris # of the schedule and the file names; default UTC
///   directory: reports      # default state_directory/reports
///   formats: [html, markdown, json]
/// ```
///
/// The weekly report is named after the ISO week it is written in (`2026-W49`), the monthly
/// after the month it covers (`2026-11`), written at the weekly time of day on the first day
/// after it closed (`monthly_at`, default 00:30 local, so the month's verdicts are committed).
public struct ReportSchedule: Sendable, Equatable {
    /// Weekly: ISO weekday (1 = Monday … 7 = Sunday) and minutes after local midnight; `nil` for
    /// no weekly report.
    public var weekly: (weekday: Int, minute: Int)?
    /// Whether each month's report is written once it closed.
    public var monthly: Bool
    /// Minutes after local midnight of a month's first day at which the month before is
    /// reported.
    public var monthlyMinute: Int
    /// IANA zone of the schedule and the names.
    public var timeZone: String
    /// Where report files go; `nil`: `state_directory/reports`.
    public var directory: String?
    /// The files written per report, by extension (`html`, `md`, `json`, `csv`, `txt`).
    public var formats: [ReportFormat]

    /// The default: weekly on Monday 09:00, monthly at 00:30, UTC, HTML, Markdown and JSON.
    public init(
        weekly: (weekday: Int, minute: Int)? = (1, 9 * 60),
        monthly: Bool = true,
        monthlyMinute: Int = 30,
        timeZone: String = "UTC",
        directory: String? = nil,
        formats: [ReportFormat] = [.html, .markdown, .json]
    ) {
        self.weekly = weekly
        self.monthly = monthly
        self.monthlyMinute = monthlyMinute
        self.timeZone = timeZone
        self.directory = directory
        self.formats = formats
    }

    public static func == (a: ReportSchedule, b: ReportSchedule) -> Bool {
        a.weekly?.weekday == b.weekly?.weekday && a.weekly?.minute == b.weekly?.minute && a.monthly == b.monthly
            && a.monthlyMinute == b.monthlyMinute && a.timeZone == b.timeZone && a.directory == b.directory
            && a.formats == b.formats
    }

    /// One report the schedule calls for.
    public struct Due: Sendable, Equatable {
        /// `weekly` or `monthly`.
        public var kind: String
        /// The file name without extension: `2026-W49`, `2026-11`.
        public var name: String
        /// When it was due, unix seconds.
        public var at: Double
        /// The span it covers, unix seconds `[start, end)`: the ISO week it is written in up to
        /// `at` (weekly), the month (monthly).
        public var start: Double
        /// See `start`.
        public var end: Double
    }

    /// The latest weekly and monthly reports due at or before `now` (at most one of each);
    /// empty for an unknown time zone.
    public func latestDue(now: Double) -> [Due] {
        guard let periods = CalendarPeriods(timeZoneIdentifier: timeZone) else { return [] }
        var out: [Due] = []
        if let w = weekly {
            // This week's slot, else last week's.
            var week = periods.period(.week, containing: now)
            for _ in 0..<2 {
                let day = dayStart(periods, week.start, plus: w.weekday - 1)
                let at = day + Double(w.minute) * 60
                if at <= now {
                    out.append(
                        Due(
                            kind: "weekly",
                            name: PeriodReport.label(start: week.start, end: week.end, zone: periods.timeZone),
                            at: at,
                            start: week.start,
                            end: at
                        )
                    )
                    break
                }
                week = periods.period(.week, containing: week.start - 1)
            }
        }
        if monthly {
            var month = periods.period(.month, containing: now)
            for _ in 0..<2 {
                let at = month.start + Double(monthlyMinute) * 60
                if at <= now {
                    let previous = periods.period(.month, containing: month.start - 1)
                    out.append(
                        Due(
                            kind: "monthly",
                            name: PeriodReport.label(start: previous.start, end: previous.end, zone: periods.timeZone),
                            at: at,
                            start: previous.start,
                            end: previous.end
                        )
                    )
                    break
                }
                month = periods.period(.month, containing: month.start - 1)
            }
        }
        return out
    }

    /// Local midnight `days` days after the local midnight `start` (daylight-saving safe).
    private func dayStart(_ periods: CalendarPeriods, _ start: Double, plus days: Int) -> Double {
        var t = start
        for _ in 0..<days { t = periods.period(.day, containing: t).end }
        return t
    }

    /// Parses `"mon 09:00"` (day: `mon`…`sun` or `monday`…; time `HH:MM`, 24 h) into an ISO
    /// weekday and minutes after midnight; `nil` when it is neither.
    public static func parseWeekly(_ text: String) -> (weekday: Int, minute: Int)? {
        let parts = text.lowercased().split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2 else { return nil }
        let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        let names = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        guard let d = days.indices.first(where: { parts[0] == days[$0] || parts[0] == names[$0] }) else { return nil }
        guard let minute = parseTime(String(parts[1])) else { return nil }
        return (d + 1, minute)
    }

    /// `HH:MM` (00:00 … 23:59) as minutes after midnight.
    public static func parseTime(_ text: String) -> Int? {
        let hm = text.split(separator: ":")
        guard hm.count == 2, hm[1].count == 2, let h = Int(hm[0]), let m = Int(hm[1]), (0..<24).contains(h),
            (0..<60).contains(m)
        else { return nil }
        return h * 60 + m
    }
}
