import Foundation

/// One alert as Alertmanager's API v2 takes it (`POST /api/v2/alerts`, a JSON array of these):
/// labels identify it, annotations describe it, `endsAt` in the past resolves it.
public struct AlertmanagerAlert: Codable, Sendable, Equatable {
    /// Identity and routing labels (`alertname`, `sla`, `objective`, …).
    public var labels: [String: String]
    /// Human text: `summary` (the entry's MESSAGE), `episode`.
    public var annotations: [String: String]
    /// When it started, RFC 3339.
    public var startsAt: String
    /// When it ended (a recovery), RFC 3339; `nil` while firing.
    public var endsAt: String?

    /// An alert.
    public init(labels: [String: String], annotations: [String: String], startsAt: String, endsAt: String? = nil) {
        self.labels = labels
        self.annotations = annotations
        self.startsAt = startsAt
        self.endsAt = endsAt
    }

    /// Its identity: `alertname` and every label, sorted (what Alertmanager fingerprints).
    public var key: String { labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") }
}

/// What `slawatch forward` keeps across restarts: the journal cursor of the last entry
/// delivered, and the alerts firing (re-sent while they fire, as Alertmanager expects).
public struct ForwardState: Codable, Sendable, Equatable {
    /// `sd_journal_get_cursor(3)` of the last entry whose alerts were delivered.
    public var cursor: String?
    /// Firing alerts by `AlertmanagerAlert.key`.
    public var firing: [String: AlertmanagerAlert] = [:]

    /// An empty state (start of the journal window).
    public init(cursor: String? = nil, firing: [String: AlertmanagerAlert] = [:]) {
        self.cursor = cursor
        self.firing = firing
    }
}

/// Maps slawatch's journal entries to Alertmanager alerts (docs/forward.md).
///
/// | entry (`SLAWATCH_TRANSITION`) | alert |
/// | --- | --- |
/// | `breach` / `recovery` | `SLAObjectiveBreached` fires / resolves |
/// | `nodata` / `data_resumed` | `SLAObjectiveNoData` fires / resolves |
/// | `burn_rate` / `burn_rate_resolved` | `SLABurnRate` (label `burn_rule`) fires / resolves |
/// | `pace_at_risk` / `pace_on_track` | `SLAOffPace` fires / resolves |
/// | `period_result`, `period_report` with `SLAWATCH_RESULT=missed` | `SLAPeriodMissed`, one hour long |
///
/// Labels: `alertname`, `sla`, `objective`, `slawatch_instance`, `provider`, `customer`,
/// `severity` (from `PRIORITY`), `host` (`_HOSTNAME`), and `burn_rule` or `period`.
public enum AlertForwarding {
    /// A change an entry makes: the alert, and whether it fires (`false`: resolves, or a
    /// one-shot alert with its own end).
    public struct Change: Sendable, Equatable {
        /// The alert as sent.
        public var alert: AlertmanagerAlert
        /// Whether it is kept as firing (re-sent until it resolves).
        public var firing: Bool
    }

    /// `PRIORITY` as Alertmanager's usual `severity` values.
    static func severity(_ priority: String?) -> String {
        switch Int(priority ?? "") ?? 4 {
        case 0...2: return "critical"
        case 3: return "error"
        case 4: return "warning"
        default: return "info"
        }
    }

    /// The alert change of one journal entry (its fields and realtime timestamp, unix
    /// seconds), `nil` for an entry that is not an alert (reloads, files, maintenance, …).
    /// `firing` gives the `startsAt` of an alert that resolves.
    public static func change(
        _ fields: [String: String],
        time: Double,
        firing: [String: AlertmanagerAlert] = [:]
    ) -> Change? {
        guard let kind = fields["SLAWATCH_TRANSITION"], let sla = fields["SLAWATCH_SLA"],
            let objective = fields["SLAWATCH_OBJECTIVE"]
        else { return nil }
        let name: String
        var fires: Bool
        var extra: [String: String] = [:]
        switch kind {
        case "breach": (name, fires) = ("SLAObjectiveBreached", true)
        case "recovery": (name, fires) = ("SLAObjectiveBreached", false)
        case "nodata": (name, fires) = ("SLAObjectiveNoData", true)
        case "data_resumed": (name, fires) = ("SLAObjectiveNoData", false)
        case "burn_rate", "burn_rate_resolved":
            (name, fires) = ("SLABurnRate", kind == "burn_rate")
            extra["burn_rule"] = fields["SLAWATCH_BURN_RULE"] ?? ""
        case "pace_at_risk": (name, fires) = ("SLAOffPace", true)
        case "pace_on_track": (name, fires) = ("SLAOffPace", false)
        case "period_result", "period_report":
            guard fields["SLAWATCH_RESULT"] == "missed" else { return nil }
            (name, fires) = ("SLAPeriodMissed", false)
            extra["period"] = fields["SLAWATCH_PERIOD"] ?? ""
            extra["period_start"] = fields["SLAWATCH_WINDOW_START"] ?? ""
        default: return nil
        }
        var labels: [String: String] = [
            "alertname": name, "sla": sla, "objective": objective,
            "slawatch_instance": fields["SLAWATCH_INSTANCE"] ?? objective,
            "provider": fields["SLAWATCH_PROVIDER"] ?? "", "customer": fields["SLAWATCH_CUSTOMER"] ?? "",
        ]
        if let host = fields["_HOSTNAME"] { labels["host"] = host }
        for (k, v) in extra { labels[k] = v }
        // A resolution keeps the labels the alert fired with (its severity included).
        var alert = AlertmanagerAlert(
            labels: labels,
            annotations: ["summary": fields["MESSAGE"] ?? "", "episode": fields["SLAWATCH_EPISODE"] ?? ""],
            startsAt: RFC3339.format(time)
        )
        if fires {
            alert.labels["severity"] = severity(fields["PRIORITY"])
            return Change(alert: alert, firing: true)
        }
        if name == "SLAPeriodMissed" {
            alert.labels["severity"] = severity(fields["PRIORITY"])
            alert.endsAt = RFC3339.format(time + 3600)
            return Change(alert: alert, firing: false)
        }
        let open = firing.values.first { a in
            a.labels["alertname"] == name && labels.allSatisfy { a.labels[$0.key] == $0.value }
        }
        alert.labels["severity"] = open?.labels["severity"] ?? severity(fields["PRIORITY"])
        alert.startsAt = open?.startsAt ?? alert.startsAt
        alert.endsAt = RFC3339.format(time)
        return Change(alert: alert, firing: false)
    }
}

extension AlertForwarding {
    /// The body `slawatch forward --webhook` POSTs and `--exec` writes on standard input for one
    /// alert change: Alertmanager's webhook format (version 4), so receivers written for
    /// Alertmanager take it as is (docs/forward.md). `now` decides `status` (`resolved` once
    /// `endsAt` has passed).
    public static func webhookBody(_ alert: AlertmanagerAlert, now: Double) -> [String: Any] {
        let ended = alert.endsAt.flatMap(RFC3339.parse).map { $0 <= now } ?? false
        let status = ended ? "resolved" : "firing"
        let item: [String: Any] = [
            "status": status, "labels": alert.labels, "annotations": alert.annotations, "startsAt": alert.startsAt,
            "endsAt": alert.endsAt ?? "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": fingerprint(alert.key),
        ]
        return [
            "version": "4", "receiver": "slawatch", "status": status, "groupKey": alert.key, "truncatedAlerts": 0,
            "groupLabels": ["alertname": alert.labels["alertname"] ?? ""], "commonLabels": alert.labels,
            "commonAnnotations": alert.annotations, "externalURL": "", "alerts": [item],
        ]
    }

    /// A stable 16-hex-digit identity of an alert's labels (FNV-1a of `key`).
    static func fingerprint(_ key: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in key.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
