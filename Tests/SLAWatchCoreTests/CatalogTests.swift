import Foundation
import Testing

@testable import SLAWatchCore

/// `systemd/slawatch.catalog` explains every MESSAGE_ID the daemon writes (journalctl -x).
@Suite struct CatalogTests {
    static let catalog: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("systemd/slawatch.catalog"), encoding: .utf8)) ?? ""
    }()

    static let ids = [
        MessageID.breach, MessageID.recovery, MessageID.nodata, MessageID.pending, MessageID.pendingCleared,
        MessageID.dataResumed, MessageID.periodResult, MessageID.inputRejected, MessageID.fileIngested,
        MessageID.fileFailed, MessageID.fileVanished, MessageID.connectionStalled,
        MessageID.stateRefused, MessageID.stateDamaged, MessageID.storeRecovered, MessageID.started, MessageID.stopped,
        MessageID.seriesLimit, MessageID.storeFailure,
        MessageID.journalDropped,
        MessageID.configReloaded, MessageID.configRefused, MessageID.alertsSuppressed, MessageID.paceAtRisk,
        MessageID.paceOnTrack, MessageID.burnRate, MessageID.burnRateResolved, MessageID.instanceLimit,
        MessageID.ratioInvalid, MessageID.periodReport, MessageID.reportWritten, MessageID.reportFailed,
        MessageID.maintenanceStarted, MessageID.maintenanceEnded, MessageID.silenceEnded,
        MessageID.slaReview, MessageID.inhibitionEnded,
    ]

    @Test func everyMessageIDHasAnEntryWithSubjectDefinedByAndDocumentation() throws {
        let entries = Self.catalog.components(separatedBy: "\n-- ").dropFirst()
        var byID: [String: String] = [:]
        for e in entries { byID[String(e.prefix(32))] = e }
        #expect(Set(byID.keys) == Set(Self.ids))
        for id in Self.ids {
            let entry = try #require(byID[id])
            #expect(entry.contains("\nSubject: "), "\(id) has no Subject")
            #expect(entry.contains("\nDefined-By: slawatch"), "\(id) has no Defined-By")
            #expect(entry.contains("\nDocumentation: "), "\(id) has no Documentation")
        }
    }

    @Test func placeholdersNameFieldsTheDaemonWrites() {
        // Every @FIELD@ in the catalog must be a field some entry carries, or journalctl -x
        // prints its bare name.
        let written: Set<String> = [
            "SLAWATCH_OBJECTIVE", "SLAWATCH_SLA", "SLAWATCH_PROVIDER", "SLAWATCH_CUSTOMER", "SLAWATCH_STATE",
            "SLAWATCH_VALUE", "SLAWATCH_BASELINE", "SLAWATCH_BASELINE_KIND", "SLAWATCH_BASELINE_SOURCE",
            "SLAWATCH_DIRECTION", "SLAWATCH_SLI", "SLAWATCH_METRIC", "SLAWATCH_WINDOW", "SLAWATCH_WINDOW_START",
            "SLAWATCH_WINDOW_END", "SLAWATCH_EPISODE", "SLAWATCH_RESULT", "SLAWATCH_SOURCE", "SLAWATCH_REJECTED",
            "SLAWATCH_ACCEPTED", "SLAWATCH_REJECT_REASONS", "SLAWATCH_FIRST_ERROR_LINE", "SLAWATCH_FIRST_ERROR",
            "SLAWATCH_FILE", "SLAWATCH_LINES", "SLAWATCH_ERROR", "SLAWATCH_OBJECTIVES", "SLAWATCH_RESTORED",
            "SLAWATCH_DROPPED", "SLAWATCH_CONFIG", "SLAWATCH_ADDED", "SLAWATCH_CHANGED", "SLAWATCH_REMOVED",
            "SLAWATCH_ERROR_FILE", "SLAWATCH_ERROR_LINE", "SLAWATCH_ERROR_KEY", "SLAWATCH_ERRORS",
            "SLAWATCH_SUPPRESSED", "SLAWATCH_WRITTEN", "SLAWATCH_SUPPRESSED_KINDS", "SLAWATCH_EXPECTED",
            "SLAWATCH_PROJECTION", "SLAWATCH_BURN_RATE_LONG", "SLAWATCH_BURN_RATE_SHORT", "SLAWATCH_BURN_RULE",
            "SLAWATCH_BURN_FACTOR", "SLAWATCH_MAX_INSTANCES", "SLAWATCH_REFUSED_INSTANCE", "SLAWATCH_VERSION",
            "SLAWATCH_REASON", "SLAWATCH_UPTIME", "SLAWATCH_MAX_SERIES", "SLAWATCH_SECONDS", "SLAWATCH_BYTES",
            "SLAWATCH_STATE_FILE", "SLAWATCH_SCHEMA_FOUND", "SLAWATCH_SCHEMA_KNOWN", "SLAWATCH_TABLE", "SLAWATCH_ROW",
            "SLAWATCH_EVIDENCE", "SLAWATCH_FAILURES", "SLAWATCH_SINCE", "SLAWATCH_GOOD_EVENTS",
            "SLAWATCH_TOTAL_EVENTS", "SLAWATCH_PERIOD", "SLAWATCH_COMPLIANCE", "SLAWATCH_TIME_MET",
            "SLAWATCH_TIME_IN_BREACH", "SLAWATCH_TIME_UNJUDGED", "SLAWATCH_EPISODES", "SLAWATCH_WORST_VALUE",
            "SLAWATCH_WORST_BASELINE", "SLAWATCH_WORST_AT", "SLAWATCH_REPORT", "SLAWATCH_REPORT_NAME",
            "SLAWATCH_REPORT_FILE", "SLAWATCH_REPORT_FILES", "SLAWATCH_REPORT_DIRECTORY", "SLAWATCH_MAINTENANCE_REASON",
            "SLAWATCH_CREDIT", "SLAWATCH_CREDIT_AMOUNT", "SLAWATCH_CREDIT_CURRENCY", "SLAWATCH_CONSEQUENCE",
            "SLAWATCH_ESCALATION", "SLAWATCH_TIME_EXCLUDED", "SLAWATCH_SILENCE", "SLAWATCH_SILENCE_SCOPE",
            "SLAWATCH_MUTED", "SLAWATCH_REVIEW_BY", "SLAWATCH_OVERDUE_DAYS", "SLAWATCH_INHIBITED",
            "SLAWATCH_STILL_BREACHED", "SLAWATCH_INHIBITED_BY", "SLAWATCH_BREACHED_SINCE",
        ]
        let regex = /@([A-Z][A-Z0-9_]*)@/
        let used = Set(Self.catalog.matches(of: regex).map { String($0.1) })
        #expect(!used.isEmpty)
        #expect(used.subtracting(written).isEmpty, "unknown fields: \(used.subtracting(written))")
    }
}
