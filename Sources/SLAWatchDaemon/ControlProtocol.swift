import CLinux
import Foundation
import Logging
import NIOCore
import NIOPosix
import SLAWatchCore
import SLAWatchStore
import ServiceLifecycle
import Synchronization
import Systemd
import UnixSignals

/// The control socket's protocol (`control.sock`).
extension Daemon {
    /// The control protocol: `status` → `StatusReply` as JSON; `metrics` → the same as the
    /// Prometheus text exposition (`MetricsExposition`).
    static func answer(
        _ request: String,
        actor: EngineActor,
        limiter: ConnectionLimiter,
        controlLimiter: ConnectionLimiter,
        descriptorLimit: Int,
        datagrams: DatagramListener,
        reporter: RejectionReporter,
        counters: IngestCounters,
        pipeline: IngestPipeline,
        files: FileCounts,
        journal: JournalEmitter,
        startedAt: Double
    ) async -> String {
        switch request {
        case "status", "metrics":
            let last = await actor.lastEvaluation
            let reply = StatusReply(
                pid: getpid(),
                startedAt: startedAt,
                lastEvaluation: last > 0 ? last : nil,
                commits: await actor.commits,
                objectives: await actor.status(),
                sources: counters.snapshot,
                rejectedBySource: reporter.totals,
                connections: limiter.counts.open,
                connectionsRefused: limiter.counts.refused,
                datagrams: datagrams.counts.datagrams,
                datagramsTooLong: datagrams.counts.tooLong,
                journalWritten: journal.writtenCount,
                journalDropped: journal.droppedCount,
                files: files.snapshot,
                queued: pipeline.queued,
                limits: StatusReply.Limits(
                    descriptors: descriptorLimit,
                    connections: limiter.limit,
                    controlConnections: controlLimiter.limit,
                    controlRefused: controlLimiter.counts.refused,
                    acceptBackoffs: limiter.acceptBackoffs + controlLimiter.acceptBackoffs
                ),
                engine: await actor.counters,
                lastPeriods: await actor.closedPeriods()
            )
            // `metrics`: the Prometheus exposition of the same reply (the textfile's content).
            return request == "metrics" ? MetricsExposition.render(reply) : reply.json
        case let r
        where r.hasPrefix("debug wedge-engine ")
            && ProcessInfo.processInfo.environment["SLAWATCH_DEBUG_COMMANDS"] == "1":
            let seconds = Double(r.dropFirst("debug wedge-engine ".count)) ?? 1
            Task { await actor.wedge(seconds: min(seconds, 60)) }
            return "{\"wedged\": \(seconds)}"
        case "objectives":
            // `slawatch check --diff`: each running objective's definition, by name.
            let objectives = await actor.objectives()
            var out: [String: [String: String]] = [:]
            for o in objectives {
                out[o.name] = Dictionary(o.definitionFields.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            }
            return json(["objectives": out])
        case let r where r.hasPrefix("maintenance "):
            return await maintenance(r, actor: actor)
        case let r where r.hasPrefix("silence "):
            return await silence(r, actor: actor)
        default:
            return
                "{\"error\": \"unknown request (expected: status, metrics, objectives, maintenance add|list|end, silence add|list|end)\"}"
        }
    }
}

extension Daemon {
    /// A maintenance request as the control protocol answers it:
    /// - `maintenance add {"sla", "objective"?, "from", "to", "reason"}` (times RFC 3339) →
    ///   `{"added": MAINTENANCE}`;
    /// - `maintenance list` → `{"maintenance": [MAINTENANCE, …]}`;
    /// - `maintenance end ID` → `{"ended": MAINTENANCE}`;
    /// - anything refused → `{"error": TEXT}`.
    ///
    /// MAINTENANCE is `{"id", "sla", "objective", "from", "to", "reason", "announced", "ended",
    /// "state"}` with times in RFC 3339 and `state` one of `planned`, `active`, `over`.
    static func maintenance(_ request: String, actor: EngineActor) async -> String {
        func error(_ text: String) -> String { json(["error": text]) }
        let now = Date().timeIntervalSince1970
        if request == "maintenance list" {
            // A maintenance whose SLA or objective a reload removed is listed, and says so.
            let objectives = await actor.objectives()
            return json([
                "maintenance": await actor.listMaintenance().map { m in
                    var d = describe(m, now: now)
                    d["applies"] = objectives.contains { m.applies(to: $0) }
                    return d
                }
            ])
        }
        if request.hasPrefix("maintenance end ") {
            guard let id = Int(request.dropFirst("maintenance end ".count).trimmingCharacters(in: .whitespaces)) else {
                return error("maintenance end takes the maintenance's number (see maintenance list)")
            }
            do {
                guard let m = try await actor.endMaintenance(id: id) else {
                    return error("no maintenance \(id) that is planned or running (see maintenance list)")
                }
                return json(["ended": describe(m, now: Date().timeIntervalSince1970)])
            } catch {
                return json(["error": "the state file refused the change: \(error)"])
            }
        }
        guard request.hasPrefix("maintenance add ") else {
            return error(
                "unknown maintenance request (expected: maintenance add JSON, maintenance list, maintenance end ID)"
            )
        }
        let body = Data(request.dropFirst("maintenance add ".count).utf8)
        guard let fields = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            return error("maintenance add takes a JSON object: {\"sla\", \"objective\", \"from\", \"to\", \"reason\"}")
        }
        guard let sla = fields["sla"] as? String, let fromText = fields["from"] as? String,
            let toText = fields["to"] as? String, let reason = fields["reason"] as? String
        else { return error("maintenance add needs sla, from, to and reason") }
        guard let from = RFC3339.parse(fromText) else { return error("from '\(fromText)' is not an RFC 3339 time") }
        guard let to = RFC3339.parse(toText) else { return error("to '\(toText)' is not an RFC 3339 time") }
        do {
            let m = try await actor.addMaintenance(
                sla: sla,
                objective: fields["objective"] as? String,
                from: from,
                to: to,
                reason: reason
            )
            return json(["added": describe(m, now: Date().timeIntervalSince1970)])
        } catch {
            return json(["error": "\(error)"])
        }
    }

    static func describe(_ m: RuntimeMaintenance, now: Double) -> [String: Any] {
        let end = m.effective?.to ?? m.endedAt ?? m.window.to
        let state = m.effective == nil || now >= end ? "over" : now >= m.window.from ? "active" : "planned"
        return [
            "id": m.id, "sla": m.sla, "objective": m.objective ?? NSNull(), "from": RFC3339.format(m.window.from),
            "to": RFC3339.format(m.window.to), "reason": m.window.reason, "announced": RFC3339.format(m.announcedAt),
            "ended": m.endedAt.map(RFC3339.format) ?? NSNull(), "state": state,
        ]
    }

    static func json(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

extension Daemon {
    /// A silence request as the control protocol answers it:
    /// - `silence add {"sla"?, "objective"?, "from", "to", "reason"}` (times RFC 3339) →
    ///   `{"added": SILENCE}`;
    /// - `silence list` → `{"silences": [SILENCE, …]}`;
    /// - `silence end ID` → `{"ended": SILENCE}`;
    /// - anything refused → `{"error": TEXT}`.
    ///
    /// SILENCE is `{"id", "sla", "objective", "from", "to", "reason", "created", "muted",
    /// "state"}` with `state` one of `planned`, `active`, `over`.
    static func silence(_ request: String, actor: EngineActor) async -> String {
        func error(_ text: String) -> String { json(["error": text]) }
        func describe(_ s: Silence) -> [String: Any] {
            let now = Date().timeIntervalSince1970
            let state = s.endedAt != nil || now >= s.to ? "over" : now >= s.from ? "active" : "planned"
            return [
                "id": s.id, "sla": s.sla ?? NSNull(), "objective": s.objective ?? NSNull(),
                "from": RFC3339.format(s.from), "to": RFC3339.format(s.to), "reason": s.reason,
                "created": RFC3339.format(s.createdAt), "muted": s.muted, "state": state,
            ]
        }
        if request == "silence list" { return json(["silences": await actor.listSilences().map(describe)]) }
        if request.hasPrefix("silence end ") {
            guard let id = Int(request.dropFirst("silence end ".count).trimmingCharacters(in: .whitespaces)) else {
                return error("silence end takes the silence's number (see silence list)")
            }
            do {
                guard let s = try await actor.endSilence(id: id) else {
                    return error("no silence \(id) that is planned or running (see silence list)")
                }
                return json(["ended": describe(s)])
            } catch let e {
                return error("the state file refused the change: \(e)")
            }
        }
        guard request.hasPrefix("silence add ") else {
            return error("unknown silence request (expected: silence add JSON, silence list, silence end ID)")
        }
        guard
            let fields = (try? JSONSerialization.jsonObject(with: Data(request.dropFirst("silence add ".count).utf8)))
                as? [String: Any]
        else { return error("silence add takes a JSON object: {\"sla\", \"objective\", \"from\", \"to\", \"reason\"}") }
        guard let fromText = fields["from"] as? String, let toText = fields["to"] as? String,
            let reason = fields["reason"] as? String
        else { return error("silence add needs from, to and reason, and an sla or objective") }
        guard let from = RFC3339.parse(fromText) else { return error("from '\(fromText)' is not an RFC 3339 time") }
        guard let to = RFC3339.parse(toText) else { return error("to '\(toText)' is not an RFC 3339 time") }
        do {
            let s = try await actor.addSilence(
                sla: fields["sla"] as? String,
                objective: fields["objective"] as? String,
                from: from,
                to: to,
                reason: reason
            )
            return json(["added": describe(s)])
        } catch let e {
            return error("\(e)")
        }
    }
}
