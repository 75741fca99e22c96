import Foundation

/// An SLA: an agreement between a provider and a customer holding objectives.
public struct SLA: Sendable, Hashable, Codable {
    /// SLA name, e.g. `leads-to-sales`.
    public var name: String
    /// The party that promises (e.g. `marketing`).
    public var provider: String
    /// The party promised to (e.g. `sales`).
    public var customer: String
    /// Calendar periods every objective of the SLA is judged over (`report_periods`, default
    /// week and month), in each objective's `time_zone` (docs/reports.md).
    public var reportPeriods: [CalendarUnit] = [.week, .month]
    /// `compliance_target` as a share (0.995 for `99.5%`): the share of a period's judged time
    /// an objective judged continuously must be met for the period to be met; `nil`: met means
    /// never breached in the period.
    public var complianceTarget: Double?
    /// What a missed period costs, for every objective of the SLA (`consequences:`); an
    /// objective's own replace these.
    public var consequences: Consequences?
    /// The hours anything is promised in (`service_hours:`), for every objective of the SLA
    /// that has none of its own; `nil`: always.
    public var serviceHours: ServiceHours?
    /// Announced maintenance of every objective of the SLA (`maintenance:`).
    public var maintenance: [MaintenanceWindow] = []
    /// How far ahead maintenance announced at run time must start (`maintenance_notice:`,
    /// seconds; 0: any time, also at once).
    public var maintenanceNotice: Double = 0
    /// When the SLA is to be reviewed (`review_by:`, a date: 00:00 UTC of it, unix seconds):
    /// an "SLA due for review" entry then and each week after, until the SLA is edited.
    public var reviewBy: Double?
    /// Where the SLA sits in a multi-level agreement (`level:`); `nil`: on its own.
    public var level: SLALevel?
    /// The SLAs whose objectives it inherits (`inherits:`, or every corporate SLA of its
    /// provider for a customer level); `nil` or empty: none.
    public var parents: [String]?

    /// Creates an SLA header.
    public init(name: String, provider: String, customer: String) {
        self.name = name
        self.provider = provider
        self.customer = customer
    }
}

/// One objective: SLI over a window compared with a baseline (design §1 and §3).
public struct Objective: Sendable, Hashable {
    /// Unique name across all SLAs, e.g. `qualified-leads-monthly`.
    public var name: String
    /// The SLA it belongs to.
    public var sla: SLA
    /// The metric whose events feed the SLI.
    public var metric: String
    /// Label filter: only events whose labels satisfy all of these count (label name →
    /// `LabelMatcher` text: `value`, `!=value`, `=~regex`, `!~regex`).
    public var match: [String: String]
    /// Ratio SLIs: the good events (the objective's `metric` and `match` select the total).
    public var good: GoodSelector?
    /// The aggregation judged.
    public var sli: SLIKind
    /// Rolling or calendar window.
    public var window: WindowSpec
    /// IANA time zone for calendar windows (default `UTC`).
    public var timeZone: String
    /// Which side of the baseline is good.
    public var direction: Direction
    /// The number to reach (or stay under).
    public var baseline: Baseline
    /// Seconds the SLI must stay bad before a breach is declared (`for:`); 0 breaches at once.
    public var forSeconds: Double
    /// Calendar cumulative objectives: seconds after period end during which late events are
    /// still accepted before the period is judged (default 0).
    public var lateTolerance: Double
    /// Journal priority of breach entries.
    public var severity: Severity
    /// What an empty window means.
    public var nodata: NodataPolicy
    /// Word for the counted thing in messages (`leads`); defaults to the SLI name.
    public var unit: String?
    /// Seconds a breach keeps firing after the SLI is good again (`keep_firing_for`, as in
    /// Prometheus alerting rules); 0 recovers at the first good evaluation.
    public var keepFiringFor: Double = 0
    /// Recovery threshold (`clear_at`): a breach recovers only once the SLI is back past this
    /// value (at least it for `at_least`, at most it for `at_most`), so a value hovering at the
    /// baseline does not flap. `nil`: the baseline itself.
    public var clearAt: Double?
    /// Label names that split the objective into one instance per combination of their values
    /// (`group_by:`, e.g. `[customer]`): each instance has its own window, state and journal
    /// entries (`SLAWATCH_INSTANCE=customer=acme`).
    public var groupBy: [String] = []
    /// Per-customer targets of a `group_by` objective (`baselines: {customer: {acme: 99.95%}}`):
    /// the instance whose label has one of these values takes its baseline; the others keep
    /// `baseline` (the map's `default`, when given).
    public var labelBaselines: LabelBaselines?
    /// Most instances a `group_by` objective creates (`max_instances`, default 100); events of
    /// further label values are refused, with one journal entry.
    public var maxInstances: Int = 100
    /// For an instance: the `group_by` objective it belongs to and its key (`customer=acme`).
    public var instanceOf: (objective: String, key: String)? {
        get { instanceParent.map { ($0, instanceKey ?? "") } }
        set {
            instanceParent = newValue?.objective
            instanceKey = newValue?.key
        }
    }
    private var instanceParent: String?
    private var instanceKey: String?
    /// Ratio SLIs: multi-window burn-rate alerts (`burn_rate_alerts:`).
    public var burnRateAlerts: [BurnRateRule] = []
    /// When this definition takes effect (`effective_from:`, unix seconds); `nil`: in force
    /// from the start. Several definitions of one objective, each with its own date, are its
    /// versions (`Objective.inForce(_:at:)` picks one).
    public var effectiveFrom: Double?
    /// The objectives of higher SLA levels this one inherits from (a customer SLA's copy or
    /// override of a corporate objective), nearest first; empty for an objective of its own.
    /// While any of them is breached, this one's breach entries are inhibited.
    public var ancestors: [String] = []
    /// Cumulative calendar targets: the pace rule (`pace:`), `nil` for no pace entries.
    public var pace: PaceRule?
    /// What a missed period of this objective costs (`consequences:`), replacing the SLA's;
    /// see `consequencesInForce`.
    public var consequences: Consequences?
    /// The hours the objective is judged in (its own `service_hours:`, else its SLA's); `nil`:
    /// always. Events outside them are not counted; no breach opens outside them.
    public var serviceHours: ServiceHours?
    /// Announced maintenance (its SLA's and its own `maintenance:`): excluded like time outside
    /// service hours, with an entry when each starts and ends.
    public var maintenance: [MaintenanceWindow] = []
    /// Time-slice budgeting (`timeslices:`): the objective judges the share of good slices
    /// (its `sli` is then `ratio` of slices, the slice SLI is the rule's); `nil`: occurrences.
    public var timeslices: TimesliceRule?
    /// Fewest events the window must hold to be judged (`min_events`; ratio SLIs: total events);
    /// with fewer the state stays as it is. 0: any non-empty window is judged.
    public var minEvents: Int = 0
    /// Seconds the window must stay empty before no data is declared (`nodata_after`); 0
    /// declares it at the first empty evaluation.
    public var nodataAfter: Double = 0

    /// Creates an objective. Defaults follow design §3.
    public init(
        name: String,
        sla: SLA,
        metric: String,
        match: [String: String] = [:],
        sli: SLIKind,
        window: WindowSpec,
        timeZone: String = "UTC",
        direction: Direction,
        baseline: Baseline,
        forSeconds: Double = 0,
        lateTolerance: Double = 0,
        severity: Severity = .warning,
        nodata: NodataPolicy = .alert,
        unit: String? = nil,
        good: GoodSelector? = nil
    ) {
        self.good = good
        self.name = name
        self.sla = sla
        self.metric = metric
        self.match = match
        self.sli = sli
        self.window = window
        self.timeZone = timeZone
        self.direction = direction
        self.baseline = baseline
        self.forSeconds = forSeconds
        self.lateTolerance = lateTolerance
        self.severity = severity
        self.nodata = nodata
        self.unit = unit
    }

    /// A cumulative target (`count`/`sum` at least N per calendar period) is judged when its
    /// period closes, as met or missed (design §3); everything else at every evaluation.
    public var isCumulative: Bool {
        guard case .calendar = window else { return false }
        return (sli == .count || sli == .sum) && direction == .atLeast
    }

    /// Identity of the stored window data: restored buckets are used only when this matches
    /// (same metric, filter, window and zone). Stable across runs (no hashing seed).
    public var dataFingerprint: String {
        let filter = match.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        var goodPart = ""
        if let good {
            goodPart =
                "|good:\(good.metric)|"
                + good.match.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            if let v = good.value { goodPart += "|value:\(v.comparison.rawValue)\(v.bound)" }
        }
        return "\(metric)|\(filter)|\(window)|\(timeZone)" + (sli.isPercentile ? "|sketch" : "") + goodPart
    }

    /// The instance of a `group_by` objective for one combination of label values: the same
    /// objective with those labels added to its selector, named `NAME{customer=acme}`.
    public func instance(_ values: [String: String]) -> Objective {
        var o = self
        let key = groupBy.map { "\($0)=\(values[$0] ?? "")" }.joined(separator: ",")
        o.name = name + "{" + key + "}"
        for l in groupBy { o.match[l] = values[l] ?? "" }
        if o.sli == .ratio, var g = o.good {
            for l in groupBy { g.match[l] = values[l] ?? "" }
            o.good = g
        }
        o.groupBy = []
        o.instanceOf = (name, key)
        if let b = labelBaselines, let value = values[b.label], let v = b.values[value] {
            o.baseline = Baseline(value: v, kind: .fixed, source: b.sources[value] ?? NumberText.format(v))
        }
        o.labelBaselines = nil
        return o
    }

    /// The hidden objective that keeps the `seconds`-long window of a burn-rate rule: the same
    /// selectors and SLI over another rolling window (its buckets are stored like any other).
    public func burnWindow(_ seconds: Int) -> Objective {
        var o = self
        o.name = name + "/burn:" + DurationText.format(Double(seconds))
        o.window = .rolling(seconds: seconds)
        o.burnRateAlerts = []
        o.pace = nil
        return o
    }

    /// The distinct window lengths (seconds, ascending) of the burn-rate rules: one hidden
    /// window each (per `group_by` instance when grouped).
    public var burnWindowLengths: [Int] { Set(burnRateAlerts.flatMap { [$0.long, $0.short] }).sorted() }

    /// Whether `value` is on the bad side of the baseline.
    public func isBad(_ value: Double) -> Bool { isBad(value, baseline: baseline.value) }

    /// Whether `value` is on the bad side of `baseline` (an adaptive baseline's current value).
    public func isBad(_ value: Double, baseline b: Double) -> Bool {
        direction == .atLeast ? value < b : value > b
    }

    /// The SLI of an aggregate; `nil` when the aggregate is empty (no data).
    /// - Parameter seconds: the time span `rate` divides by.
    public func sliValue(_ agg: Aggregate, seconds: Double) -> Double? {
        if agg.isEmpty { return nil }
        switch sli {
        case .count: return agg.distinctMembers.map(Double.init) ?? agg.count
        case .sum: return agg.sum
        case .avg: return agg.valueSum / Double(agg.samples)
        case .min: return agg.min
        case .max: return agg.max
        case .rate: return agg.count / max(seconds, 1)
        case .ratio: return agg.count > 0 ? agg.good / agg.count : nil
        case .percentile(let p): return agg.quantile(p / 100)
        }
    }
}

/// Fixed baselines by the value of one `group_by` label (`baselines:`): a corporate target with
/// tighter terms for some customers.
public struct LabelBaselines: Sendable, Hashable, Codable {
    /// The label (one of the objective's `group_by`).
    public var label: String
    /// Label value → baseline, in the SLI's unit (a ratio's share: 0.9995).
    public var values: [String: Double]
    /// Label value → the baseline as written (`99.95%`), for entries and status.
    public var sources: [String: String]

    /// Baselines of `label`'s values.
    public init(label: String, values: [String: Double] = [:], sources: [String: String] = [:]) {
        self.label = label
        self.values = values
        self.sources = sources
    }
}

extension Objective {
    /// The definition as (key, value) pairs in a fixed order, for comparing two versions
    /// (`slawatch check --diff`, review reminders): what the objective reads, how it judges,
    /// and its SLA's contract. Stable across runs (no hashing seed).
    public var definitionFields: [(key: String, value: String)] {
        var f: [(String, String)] = [
            ("metric", metric),
            ("labels", match.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")),
            (
                "good",
                good.map { g in
                    ([g.metric] + g.match.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                        + [g.value?.description].compactMap { $0 })
                        .joined(separator: " ")
                } ?? ""
            ),
            ("sli", sli.rawValue), ("window", window.description), ("time_zone", timeZone),
            ("direction", direction.rawValue), ("baseline", baseline.source),
            ("for", DurationText.format(forSeconds)), ("severity", "\(severity)"), ("nodata", nodata.rawValue),
            ("group_by", groupBy.joined(separator: ",")),
            ("burn_rate_alerts", burnRateAlerts.map(\.id).joined(separator: ",")),
            (
                "timeslices",
                timeslices.map {
                    "\(DurationText.format(Double($0.slice))) \($0.sli.rawValue) \($0.average ? "average" : "\($0.good)")"
                } ?? ""
            ),
            ("provider", sla.provider), ("customer", sla.customer),
            ("report_periods", sla.reportPeriods.map(\.rawValue).joined(separator: ",")),
            ("compliance_target", sla.complianceTarget.map(NumberText.format) ?? ""),
            ("service_hours", serviceHours?.description ?? ""),
            (
                "maintenance",
                maintenance.map { "\(RFC3339.format($0.from))/\(RFC3339.format($0.to))" }.joined(separator: ",")
            ),
            (
                "consequences",
                consequencesInForce.map { c in
                    c.tiers.map {
                        "\($0.below != nil ? "below" : "above") \(NumberText.format($0.bound)): \(NumberText.format($0.credit))"
                    }
                    .joined(separator: ", ") + (c.fee.map { " fee \(NumberText.format($0)) \(c.currency ?? "")" } ?? "")
                } ?? ""
            ),
            ("review_by", sla.reviewBy.map { String(RFC3339.format($0).prefix(10)) } ?? ""),
        ]
        if let b = labelBaselines {
            f.append(
                (
                    "baselines",
                    b.sources.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                )
            )
        }
        return f
    }

    /// The version of each objective in force at `now` (unix seconds): per name, the definition
    /// with the latest `effectiveFrom` not after `now` (an undated one counts as in force from
    /// the start), in the order of `all`. An objective whose every version is dated after `now`
    /// is not in force yet.
    public static func inForce(_ all: [Objective], at now: Double) -> [Objective] {
        var chosen: [String: Int] = [:]
        for (k, o) in all.enumerated() {
            let from = o.effectiveFrom ?? -.infinity
            guard from <= now else { continue }
            if let c = chosen[o.name], (all[c].effectiveFrom ?? -.infinity) >= from { continue }
            chosen[o.name] = k
        }
        var seen = Set<String>()
        return all.indices.compactMap { k in
            guard let c = chosen[all[k].name], seen.insert(all[k].name).inserted else { return nil }
            return all[c]
        }
    }

    /// The first `effectiveFrom` after `now` among `all` (when the versions in force change
    /// next), `nil` for none.
    public static func nextVersionChange(_ all: [Objective], after now: Double) -> Double? {
        all.compactMap(\.effectiveFrom).filter { $0 > now }.min()
    }

    /// The keys of `definitionFields`, in their order.
    public static let definitionKeys = [
        "metric", "labels", "good", "sli", "window", "time_zone", "direction", "baseline", "for", "severity", "nodata",
        "group_by", "burn_rate_alerts", "timeslices", "provider", "customer", "report_periods", "compliance_target",
        "service_hours", "maintenance", "consequences", "review_by", "baselines",
    ]

    /// What an edit of the SLA changes, as text: each objective's `definitionFields`, in name
    /// order. An SLA is "edited" when this differs.
    public static func definitionText(_ objectives: [Objective]) -> String {
        objectives.sorted { $0.name < $1.name }.map { o in
            ([o.name] + o.definitionFields.map { "\($0.key)=\($0.value)" }).joined(separator: "|")
        }.joined(separator: "\n")
    }
}
