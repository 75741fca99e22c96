import Foundation

/// What a missed period costs: `consequences:` of an SLA (every objective of it) or of one
/// objective (replacing the SLA's). Service credits in tiers, as hosting and SaaS contracts
/// write them ("below 99.9 % monthly uptime, 10 % of the monthly fee; below 99 %, 25 %"), a fee
/// they are a share of, a cap, and the words of the contract (docs/objectives.md).
public struct Consequences: Sendable, Hashable, Codable {
    /// What the tiers read.
    public enum Reading: String, Sendable, Hashable, Codable, CaseIterable {
        /// The period's SLI: good/total over the period for a ratio objective, the period's
        /// value for a cumulative target (`count` of leads in the month).
        case sli
        /// The share of the period's judged time the objective was met (`compliance`).
        case compliance
    }

    /// One tier: below (or above) a bound, a credit of a share of the fee.
    public struct Tier: Sendable, Hashable, Codable {
        /// The tier applies when the reading is below this (`below: 99.9%` is 0.999).
        public var below: Double?
        /// The tier applies when the reading is above this (SLIs promised "at most").
        public var above: Double?
        /// The credit, a share of the fee (0.1 for `10%`), more than 0 and at most 1.
        public var credit: Double
        /// Whether the bound was written as a percentage (`99.9%`): a share, which only a
        /// share reading (compliance, a ratio) can be compared with.
        public var percent: Bool

        /// A tier from its parts; exactly one of `below` and `above` is set.
        public init(below: Double? = nil, above: Double? = nil, credit: Double, percent: Bool = false) {
            self.below = below
            self.above = above
            self.credit = credit
            self.percent = percent
        }

        /// The bound, whichever side.
        public var bound: Double { below ?? above ?? 0 }

        /// Whether the tier applies to `reading`.
        public func applies(to reading: Double) -> Bool {
            if let below { return reading < below }
            if let above { return reading > above }
            return false
        }
    }

    /// A cap on the credit of one period.
    public enum Cap: Sendable, Hashable, Codable {
        /// At most this share of the fee (`cap: 30%`).
        case share(Double)
        /// At most this amount, in the fee's currency (`cap: 1500`).
        case amount(Double)
    }

    /// What the tiers read; `nil`: the period SLI for ratio objectives and cumulative targets,
    /// compliance for the others (`reading(for:)`).
    public var on: Reading?
    /// The report period credits are computed for (`month` by default); a cumulative target's
    /// own calendar period must be this unit.
    public var period: CalendarUnit = .month
    /// The tiers; the period's credit is the largest credit of the tiers that apply.
    public var tiers: [Tier] = []
    /// The fee per period the credit is a share of; `nil`: credits are shares only.
    public var fee: Double?
    /// The fee's currency (`EUR`).
    public var currency: String?
    /// The most one period's credit can be.
    public var cap: Cap?
    /// What else a miss brings, in the contract's words (`penalty:`), said with every missed
    /// or credited period.
    public var penalty: String?
    /// Whom to tell (`escalation:`), said with every missed or credited period.
    public var escalation: String?

    /// Empty consequences (no tiers, no fee).
    public init() {}

    /// What the tiers read for objective `o`: `on`, or its default.
    public func reading(for o: Objective) -> Reading {
        on ?? (o.sli == .ratio || o.isCumulative ? .sli : .compliance)
    }
}

/// The consequence of one closed period: the credit its reading earns, in the period report
/// entry (`SLAWATCH_CREDIT`, `SLAWATCH_CREDIT_AMOUNT`, `SLAWATCH_CONSEQUENCE`) and reports.
public struct CreditOutcome: Sendable, Equatable, Codable {
    /// What the tiers read.
    public var reading: Consequences.Reading
    /// The reading's value (a share for compliance and ratios, the SLI's unit otherwise).
    public var value: Double
    /// The credit as a share of the fee, after the cap; 0 when no tier applies.
    public var credit: Double
    /// `credit` × the fee, after the cap; `nil` without a fee.
    public var amount: Double?
    /// The fee's currency.
    public var currency: String?
    /// The contract's words of a miss (`penalty`), when the period was missed or credited.
    public var consequence: String?
    /// Whom to tell (`escalation`), when the period was missed or credited.
    public var escalation: String?

    /// An outcome from its parts.
    public init(
        reading: Consequences.Reading,
        value: Double,
        credit: Double,
        amount: Double? = nil,
        currency: String? = nil,
        consequence: String? = nil,
        escalation: String? = nil
    ) {
        self.reading = reading
        self.value = value
        self.credit = credit
        self.amount = amount
        self.currency = currency
        self.consequence = consequence
        self.escalation = escalation
    }

    /// "credit 10% (500 EUR)", "no credit".
    public var phrase: String { credit > 0 ? "credit " + cell : "no credit" }

    /// A report cell: "10% (500 EUR)", "0%".
    public var cell: String {
        let share = NumberText.format((credit * 100_000).rounded() / 1000) + "%"
        guard let amount, credit > 0 else { return share }
        return "\(share) (\(NumberText.format((amount * 100).rounded() / 100))\(currency.map { " " + $0 } ?? ""))"
    }
}

extension Consequences {
    /// The outcome of a closed period of `unit` with period SLI `sli`, `compliance` and verdict
    /// `met`, for objective `o`; `nil` when `unit` is not `period` or the reading is unknown (no
    /// data in the period: nothing was judged, nothing is credited).
    public func outcome(
        for o: Objective,
        unit: CalendarUnit,
        sli: Double?,
        compliance: Double?,
        met: Bool?
    ) -> CreditOutcome? {
        guard unit == period else { return nil }
        let reading = reading(for: o)
        guard let value = reading == .sli ? sli : compliance, value.isFinite else { return nil }
        var credit = tiers.filter { $0.applies(to: value) }.map(\.credit).max() ?? 0
        if case .share(let s)? = cap { credit = min(credit, s) }
        var amount = fee.map { credit * $0 }
        if case .amount(let a)? = cap, let x = amount, x > a {
            amount = a
            if let fee, fee > 0 { credit = a / fee }
        }
        let owed = credit > 0 || met == false
        return CreditOutcome(
            reading: reading,
            value: value,
            credit: credit,
            amount: amount,
            currency: currency,
            consequence: owed ? penalty : nil,
            escalation: owed ? escalation : nil
        )
    }
}

extension Objective {
    /// The consequences in force: the objective's own, else its SLA's.
    public var consequencesInForce: Consequences? { consequences ?? sla.consequences }
}

extension Transition {
    /// The credit of a closed period (`period_report`, or a cumulative target's
    /// `period_result`) under `o`'s consequences; `nil` for other transitions, without
    /// consequences, for another period unit or without a reading.
    public func creditOutcome(_ o: Objective) -> CreditOutcome? {
        guard let c = o.consequencesInForce else { return nil }
        switch kind {
        case .periodReport:
            guard let r = report else { return nil }
            return c.outcome(for: o, unit: r.unit, sli: value, compliance: r.compliance, met: met)
        case .periodResult:
            guard case .calendar(let unit) = o.window else { return nil }
            return c.outcome(for: o, unit: unit, sli: value, compliance: nil, met: met)
        default:
            return nil
        }
    }
}

/// What is owed to one customer over one span (`slawatch report --credits --period quarter`).
public struct CreditTotal: Sendable, Equatable, Codable {
    /// The customer owed.
    public var customer: String
    /// The span's name in its time zone (`2026-Q4`).
    public var period: String
    /// Start of the span, unix seconds.
    public var periodStart: Double
    /// The amounts' currency (`nil`: credits without a fee, shares only).
    public var currency: String?
    /// Closed periods with consequences in the span.
    public var periods: Int
    /// Those with a credit above 0.
    public var credited: Int
    /// Those missed.
    public var missed: Int
    /// The credited amounts summed; `nil` without a fee.
    public var amount: Double?
    /// Each credited period: objective instance, period name, credit share, amount.
    public var items: [Item]

    /// One credited period of a total.
    public struct Item: Sendable, Equatable, Codable {
        /// The SLA.
        public var sla: String
        /// The instance (`NAME` or `NAME{customer=acme}`).
        public var instance: String
        /// The period's name (`2026-11`).
        public var period: String
        /// The credit, a share of the fee.
        public var credit: Double
        /// The amount, `nil` without a fee.
        public var amount: Double?
    }

    /// Totals of `rows` per customer, span of `unit` holding each period's start (in the zone
    /// `zone(row)` gives) and currency, in customer then time order. Rows without a credit
    /// outcome are left out.
    public static func totals(
        _ rows: [PeriodVerdictRow],
        unit: CalendarUnit,
        zone: (PeriodVerdictRow) -> String
    ) -> [CreditTotal] {
        var out: [String: CreditTotal] = [:]
        for r in rows {
            guard let c = r.credit, let periods = CalendarPeriods(timeZoneIdentifier: zone(r)) else { continue }
            let span = periods.period(unit, containing: r.periodStart)
            let name = PeriodReport.label(start: span.start, end: span.end, zone: periods.timeZone)
            let key = "\(r.customer)\u{0}\(span.start)\u{0}\(c.currency ?? "")"
            var t =
                out[key]
                ?? CreditTotal(
                    customer: r.customer,
                    period: name,
                    periodStart: span.start,
                    currency: c.currency,
                    periods: 0,
                    credited: 0,
                    missed: 0,
                    amount: nil,
                    items: []
                )
            t.periods += 1
            if r.met == false { t.missed += 1 }
            if c.credit > 0 {
                t.credited += 1
                t.items.append(
                    .init(sla: r.sla, instance: r.instance, period: r.period, credit: c.credit, amount: c.amount)
                )
            }
            if let a = c.amount { t.amount = (t.amount ?? 0) + a }
            out[key] = t
        }
        return out.values.sorted {
            ($0.customer, $0.periodStart, $0.currency ?? "") < ($1.customer, $1.periodStart, $1.currency ?? "")
        }
    }

    /// The totals as text or Markdown (one line per customer and span, the credited periods
    /// under it), JSON (`{"credits": […]}`) or CSV (one line per total).
    public static func render(_ totals: [CreditTotal], format: ReportFormat) -> String {
        func money(_ t: CreditTotal) -> String {
            guard let a = t.amount else { return "–" }
            return NumberText.format((a * 100).rounded() / 100) + (t.currency.map { " " + $0 } ?? "")
        }
        func share(_ v: Double) -> String { NumberText.format((v * 100_000).rounded() / 1000) + "%" }
        switch format {
        case .json, .html:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = (try? encoder.encode(["credits": totals])) ?? Data("{\"credits\":[]}".utf8)
            return String(decoding: data, as: UTF8.self) + "\n"
        case .csv:
            var out = "customer,period,period_start,currency,periods,credited,missed,amount\r\n"
            for t in totals {
                out +=
                    [
                        t.customer, t.period, RFC3339.format(t.periodStart), t.currency ?? "", String(t.periods),
                        String(t.credited), String(t.missed),
                        t.amount.map { NumberText.format(($0 * 100).rounded() / 100) } ?? "",
                    ].map(PeriodReport.csvField).joined(separator: ",") + "\r\n"
            }
            return out
        case .text, .markdown:
            if totals.isEmpty {
                return format == .markdown
                    ? "_No credit: no closed period has consequences._\n"
                    : "No credit: no closed period of an objective with consequences.\n"
            }
            var out =
                format == .markdown
                ? "| customer | period | periods | credited | missed | owed |\n| --- | --- | ---: | ---: | ---: | ---: |\n"
                : ""
            for t in totals {
                if format == .markdown {
                    out +=
                        "| \(t.customer) | \(t.period) | \(t.periods) | \(t.credited) | \(t.missed) | \(money(t)) |\n"
                    continue
                }
                out +=
                    "\(t.customer) \(t.period): \(money(t)) owed, \(t.credited) of \(t.periods) period(s) credited, \(t.missed) missed\n"
                for i in t.items {
                    let amount =
                        i.amount.map {
                            " = " + NumberText.format(($0 * 100).rounded() / 100) + (t.currency.map { " " + $0 } ?? "")
                        } ?? ""
                    out +=
                        "  \(i.sla.isEmpty ? "" : i.sla + ": ")\(i.instance) \(i.period): \(share(i.credit))\(amount)\n"
                }
            }
            return out
        }
    }
}
