import Foundation

/// The hours an SLA promises anything in (`service_hours:`): weekly spans in the objective's
/// time zone, less holidays. Time and events outside them are excluded from windows, budgets,
/// compliance and period verdicts, and no breach opens there (docs/objectives.md).
public struct ServiceHours: Sendable, Hashable, Codable, CustomStringConvertible {
    /// One weekly span: on these ISO weekdays (1 Monday … 7 Sunday), from `from` to `to`
    /// minutes after local midnight (`to` 1440 for 24:00).
    public struct Span: Sendable, Hashable, Codable {
        /// ISO weekdays, 1 (Monday) to 7 (Sunday).
        public var days: Set<Int>
        /// Start, minutes after local midnight (inclusive).
        public var from: Int
        /// End, minutes after local midnight (exclusive; 1440 is midnight at the day's end).
        public var to: Int
    }

    /// The spans; a time in any of them is in service (unless a holiday).
    public var spans: [Span]
    /// Local dates (`YYYY-MM-DD`) without service.
    public var holidays: Set<String>
    /// The spans as written, for messages (`mon-fri 08:00-20:00`).
    public var text: [String]

    static let dayNames = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    /// A schedule that parses `text`: each `DAYS HH:MM-HH:MM`, DAYS a day (`mon`), a range
    /// (`mon-fri`), a list (`mon,wed,fri`) or `daily`; times from 00:00 to 24:00, from before to.
    /// - Throws: `ServiceHours.Invalid` naming the span and what is wrong.
    public init(parsing text: [String], holidays: Set<String> = []) throws {
        self.text = text
        self.holidays = holidays
        self.spans = try text.map(Self.span)
    }

    /// A span that does not parse.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        /// What is wrong, quoting the span.
        public var description: String
    }

    static func span(_ text: String) throws -> Span {
        let parts = text.lowercased().split(whereSeparator: \.isWhitespace).map(String.init)
        guard parts.count == 2 else {
            throw Invalid(
                description: "'\(text)' is not a span of service hours: write days and hours, as mon-fri 08:00-20:00"
            )
        }
        var days: Set<Int> = []
        if parts[0] == "daily" {
            days = Set(1...7)
        } else {
            for item in parts[0].split(separator: ",") {
                let ends = item.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
                guard (1...2).contains(ends.count),
                    let a = dayNames.firstIndex(of: ends[0]).map({ $0 + 1 }),
                    let b = ends.count == 2 ? dayNames.firstIndex(of: ends[1]).map({ $0 + 1 }) : a
                else {
                    throw Invalid(
                        description: "'\(item)' in '\(text)' is not a day (mon … sun), a range (mon-fri) or daily"
                    )
                }
                // A range may wrap the week's end (fri-mon).
                var d = a
                while true {
                    days.insert(d)
                    if d == b { break }
                    d = d % 7 + 1
                }
            }
        }
        let times = parts[1].split(separator: "-").map(String.init)
        guard times.count == 2, let from = minutes(times[0]), let to = minutes(times[1]), from < to else {
            throw Invalid(
                description: "'\(parts[1])' in '\(text)' is not hours from before to (08:00-20:00, up to 24:00)"
            )
        }
        return Span(days: days, from: from, to: to)
    }

    static func minutes(_ s: String) -> Int? {
        let hm = s.split(separator: ":")
        guard hm.count == 2, hm[1].count == 2, let h = Int(hm[0]), let m = Int(hm[1]), (0...24).contains(h),
            (0...59).contains(m), h * 60 + m <= 1440
        else { return nil }
        return h * 60 + m
    }

    /// Whether unix time `t` is in service in `zone`.
    public func contains(_ t: Double, zone: TimeZone) -> Bool {
        let local = t + Double(zone.secondsFromGMT(for: Date(timeIntervalSince1970: t)))
        let day = (local / 86_400).rounded(.down)
        // 1970-01-01 was a Thursday (ISO weekday 4).
        let weekday = (Int(day) % 7 + 7 + 3) % 7 + 1
        let minute = Int((local - day * 86_400) / 60)
        guard spans.contains(where: { $0.days.contains(weekday) && minute >= $0.from && minute < $0.to }) else {
            return false
        }
        if holidays.isEmpty { return true }
        return !holidays.contains(String(RFC3339.format(day * 86_400).prefix(10)))
    }

    /// `mon-fri 08:00-20:00, sat 10:00-14:00`.
    public var description: String { text.joined(separator: ", ") }
}

/// Announced maintenance (`maintenance:`): time excluded like time outside service hours, with
/// an entry when it starts and ends.
public struct MaintenanceWindow: Sendable, Hashable, Codable {
    /// Start, unix seconds (inclusive).
    public var from: Double
    /// End, unix seconds (exclusive).
    public var to: Double
    /// Why, as announced.
    public var reason: String

    /// A window from its parts.
    public init(from: Double, to: Double, reason: String) {
        self.from = from
        self.to = to
        self.reason = reason
    }
}

/// Why an objective is not judged at some time.
public enum Exclusion: Sendable, Hashable {
    /// Outside its service hours.
    case outsideServiceHours
    /// In announced maintenance, for this reason.
    case maintenance(String)

    /// "outside service hours", "in maintenance (database upgrade)".
    public var phrase: String {
        switch self {
        case .outsideServiceHours: return "outside service hours"
        case .maintenance(let r): return "in maintenance (\(r))"
        }
    }
}

/// The time an objective excludes: outside its service hours and in its maintenance windows.
struct ExcludedTime: Sendable {
    var serviceHours: ServiceHours?
    var maintenance: [MaintenanceWindow]
    var zone: TimeZone

    /// The objective's, with maintenance announced at run time (`runtime`); `nil` when it
    /// excludes nothing.
    init?(_ o: Objective, runtime: [MaintenanceWindow] = []) {
        guard o.serviceHours != nil || !o.maintenance.isEmpty || !runtime.isEmpty else { return nil }
        serviceHours = o.serviceHours
        maintenance = o.maintenance + runtime
        zone = TimeZone(identifier: o.timeZone) ?? TimeZone(identifier: "UTC")!
    }

    /// Why `t` is excluded (maintenance first: it is announced, and reported as such), `nil`
    /// when it is not.
    func exclusion(at t: Double) -> Exclusion? {
        if let m = maintenance.first(where: { t >= $0.from && t < $0.to }) { return .maintenance(m.reason) }
        if let s = serviceHours, !s.contains(t, zone: zone) { return .outsideServiceHours }
        return nil
    }
}

/// Maintenance announced at run time (`slawatch maintenance add`): for one SLA, or one of its
/// objectives, persisted in the state file.
public struct RuntimeMaintenance: Sendable, Hashable, Codable {
    /// Its number (the state file's row id; 0 before it is stored).
    public var id: Int
    /// The SLA it applies to.
    public var sla: String
    /// The objective of the SLA it applies to; `nil`: every objective of the SLA.
    public var objective: String?
    /// When, and why.
    public var window: MaintenanceWindow
    /// When it was announced (unix seconds): `maintenance_notice` counts from here.
    public var announcedAt: Double
    /// When it was ended early (`slawatch maintenance end`); `nil`: runs to `window.to`.
    public var endedAt: Double?

    /// A maintenance from its parts.
    public init(
        id: Int = 0,
        sla: String,
        objective: String?,
        window: MaintenanceWindow,
        announcedAt: Double,
        endedAt: Double? = nil
    ) {
        self.id = id
        self.sla = sla
        self.objective = objective
        self.window = window
        self.announcedAt = announcedAt
        self.endedAt = endedAt
    }

    /// The window in force: up to `endedAt` when it was ended early; `nil` when ended before
    /// it began.
    public var effective: MaintenanceWindow? {
        var w = window
        if let endedAt { w.to = min(w.to, endedAt) }
        return w.to > w.from ? w : nil
    }

    /// Whether it applies to objective `o` (a `group_by` instance by its objective's name).
    public func applies(to o: Objective) -> Bool {
        o.sla.name == sla && (objective == nil || objective == (o.instanceOf?.objective ?? o.name))
    }
}

/// A silence (`slawatch silence add`): mutes the journal entries of matching instances for a
/// while (counted, with one summary entry when it ends) and changes no number: windows, states,
/// verdicts and reports go on as without it. Alertmanager's silences, kept by slawatch.
public struct Silence: Sendable, Hashable, Codable {
    /// Its number (the state file's row id; 0 before it is stored).
    public var id: Int
    /// The SLA whose instances it mutes; `nil`: any (then `objective` says which).
    public var sla: String?
    /// The objective (every instance of it) or one instance (`latency{customer=acme}`) it
    /// mutes; `nil`: every objective of `sla`.
    public var objective: String?
    /// Start, unix seconds.
    public var from: Double
    /// End, unix seconds (set to the time it was ended early).
    public var to: Double
    /// Why.
    public var reason: String
    /// When it was created.
    public var createdAt: Double
    /// When its summary entry was written (it ended); `nil` while it runs or is ahead.
    public var endedAt: Double?
    /// Entries muted so far.
    public var muted: Int

    /// A silence from its parts.
    public init(
        id: Int = 0,
        sla: String?,
        objective: String?,
        from: Double,
        to: Double,
        reason: String,
        createdAt: Double,
        endedAt: Double? = nil,
        muted: Int = 0
    ) {
        self.id = id
        self.sla = sla
        self.objective = objective
        self.from = from
        self.to = to
        self.reason = reason
        self.createdAt = createdAt
        self.endedAt = endedAt
        self.muted = muted
    }

    /// Whether it mutes the entry of transition `t` of instance objective `o` at time `t.at`:
    /// alert entries only (breach, recovery, no data, pending, data resumed, pace, burn rate,
    /// invalid ratio); period verdicts and maintenance are records, never muted.
    public func mutes(_ t: Transition, _ o: Objective) -> Bool {
        guard endedAt == nil, t.at >= from, t.at < to else { return false }
        switch t.kind {
        case .periodResult, .periodReport, .maintenanceStarted, .maintenanceEnded, .instanceLimit: return false
        default: break
        }
        if let sla, o.sla.name != sla { return false }
        if let objective { return objective == o.name || objective == (o.instanceOf?.objective ?? o.name) }
        return true
    }
}
