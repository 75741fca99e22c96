import Foundation
import SLAWatchCore

/// The control protocol's answer to `status` (`slawatch status --json`): the daemon, its input
/// counters and every objective instance. Times are RFC 3339 strings, "never" is `null` (every
/// key is present), numbers are rounded to the digits they carry (`JSONNumber.rounded`).
public struct StatusReply: Sendable, Codable {
    /// `SLAWatchVersion.current` of the running daemon.
    public var version: String
    /// The daemon's pid.
    public var pid: Int32
    /// When the daemon started (RFC 3339).
    public var startedAt: String
    /// The last evaluation (RFC 3339), `nil` before the first.
    public var lastEvaluation: String?
    /// Successful store commits since start.
    public var commits: Int
    /// Every objective instance, in config order.
    public var objectives: [Engine.Status]
    /// Events accepted from every source (the sum of `sources`).
    public var accepted: Int
    /// Input items rejected from every source.
    public var rejected: Int
    /// Harmless input ignored from every source.
    public var ignored: Int
    /// `rejected` per reason code, every source together.
    public var rejectedByReason: [String: Int]
    /// Counts per source: `stream`, `datagram`, `drop`.
    public var sources: [String: SourceCounts]
    /// Rejected items per sending peer or file (`socket … peer pid=… uid=…`).
    public var rejectedBySource: [String: Int]
    /// Stream connections open now.
    public var connections: Int
    /// Stream connections refused (`max_connections`).
    public var connectionsRefused: Int
    /// Datagrams received.
    public var datagrams: Int
    /// Datagrams longer than `max_datagram_bytes`, dropped whole.
    public var datagramsTooLong: Int
    /// Journal entries written.
    public var journalWritten: Int
    /// Journal entries dropped because the writer's queue was full.
    public var journalDropped: Int
    /// Drop files by outcome.
    public var files: FileCounts.Snapshot
    /// Events parsed and waiting for the engine now, and the most that ever waited
    /// (`max_queued_events` bounds it, up to one read's worth).
    public var queuedEvents: Int
    /// See `queuedEvents`.
    public var queuedEventsPeak: Int
    /// The descriptor limit and the connection caps derived from it (`nil` in a reply from a
    /// daemon older than them).
    public var limits: Limits?
    /// The evaluator's and the store's own counters (`nil` in a reply from an older daemon).
    public var engine: EngineCounters?
    /// The last closed period of each instance and kind of period (a calendar window's period
    /// verdict, or a report period's compliance), by instance; `nil` in a reply from an older
    /// daemon.
    public var lastPeriods: [LastPeriod]?

    /// What the engine actor counts about its own work since start.
    public struct EngineCounters: Sendable, Codable, Equatable {
        /// Store writes that failed (each retried with the next one; nothing taken is lost).
        public var storeFailures: Int
        /// Evaluations of every objective.
        public var evaluations: Int
        /// Seconds spent in those evaluations, in all.
        public var evaluationSeconds: Double
        /// Seconds the last evaluation took.
        public var lastEvaluationSeconds: Double

        /// Creates the counters.
        public init(
            storeFailures: Int = 0,
            evaluations: Int = 0,
            evaluationSeconds: Double = 0,
            lastEvaluationSeconds: Double = 0
        ) {
            self.storeFailures = storeFailures
            self.evaluations = evaluations
            self.evaluationSeconds = evaluationSeconds
            self.lastEvaluationSeconds = lastEvaluationSeconds
        }
    }

    /// An instance's last closed period of one kind: a calendar window's period verdict
    /// (`value`, `met`), or a report period of an objective judged continuously (`compliance`:
    /// the share of the period's judged time that was met, and `met` against the SLA's
    /// `compliance_target`). docs/reports.md.
    public struct LastPeriod: Sendable, Codable, Equatable {
        /// The instance (`NAME`, `NAME{customer=acme}`).
        public var objective: String
        /// The kind of period: `day`, `week`, `month`, `quarter` or `year`.
        public var period: String
        /// The period `[start, end)`, unix seconds.
        public var start: Double
        /// See `start`.
        public var end: Double
        /// The period's SLI (a report period of a ratio objective: good ÷ total over the
        /// period); `nil` when it has none.
        public var value: Double?
        /// Report periods: the share of judged time that was met (0–1), `nil` when nothing
        /// was judged or for a calendar window's verdict.
        public var compliance: Double?
        /// Whether the period was met, `nil` when it was not judged.
        public var met: Bool?

        /// Creates a period record.
        public init(
            objective: String,
            period: String,
            start: Double,
            end: Double,
            value: Double?,
            compliance: Double?,
            met: Bool?
        ) {
            self.objective = objective
            self.period = period
            self.start = start
            self.end = end
            self.value = value
            self.compliance = compliance
            self.met = met
        }
    }

    /// The caps on what clients can hold (`DescriptorBudget`), and how often they were hit.
    public struct Limits: Sendable, Codable, Equatable {
        /// The soft `RLIMIT_NOFILE` in force.
        public var descriptors: Int
        /// Stream connections allowed at once (`max_connections`, lowered to fit `descriptors`).
        public var connections: Int
        /// Control connections allowed at once.
        public var controlConnections: Int
        /// Control connections closed at once because `controlConnections` were open.
        public var controlRefused: Int
        /// Times `accept(2)` failed (out of descriptors or memory) and accepting paused.
        public var acceptBackoffs: Int

        /// Creates the limits.
        public init(
            descriptors: Int = 0,
            connections: Int = 0,
            controlConnections: Int = 0,
            controlRefused: Int = 0,
            acceptBackoffs: Int = 0
        ) {
            self.descriptors = descriptors
            self.connections = connections
            self.controlConnections = controlConnections
            self.controlRefused = controlRefused
            self.acceptBackoffs = acceptBackoffs
        }
    }

    /// Creates a reply; the totals are summed from `sources`.
    public init(
        pid: Int32,
        startedAt: Double,
        lastEvaluation: Double?,
        commits: Int,
        objectives: [Engine.Status],
        sources: [String: SourceCounts],
        rejectedBySource: [String: Int],
        connections: Int,
        connectionsRefused: Int,
        datagrams: Int,
        datagramsTooLong: Int,
        journalWritten: Int,
        journalDropped: Int,
        files: FileCounts.Snapshot,
        queued: (now: Int, peak: Int) = (0, 0),
        limits: Limits? = nil,
        engine: EngineCounters? = nil,
        lastPeriods: [LastPeriod]? = nil
    ) {
        version = SLAWatchVersion.current
        self.pid = pid
        self.startedAt = RFC3339.formatMilliseconds(startedAt)
        self.lastEvaluation = lastEvaluation.map(RFC3339.formatMilliseconds)
        self.commits = commits
        self.objectives = objectives
        let total = sources.values.reduce(SourceCounts(), +)
        accepted = total.accepted
        rejected = total.rejected
        ignored = total.ignored
        rejectedByReason = total.rejectedByReason
        self.sources = sources
        self.rejectedBySource = rejectedBySource
        self.connections = connections
        self.connectionsRefused = connectionsRefused
        self.datagrams = datagrams
        self.datagramsTooLong = datagramsTooLong
        self.journalWritten = journalWritten
        self.journalDropped = journalDropped
        self.files = files
        queuedEvents = queued.now
        queuedEventsPeak = queued.peak
        self.limits = limits
        self.engine = engine
        self.lastPeriods = lastPeriods
    }

    private enum CodingKeys: String, CodingKey {
        case version, pid, startedAt, lastEvaluation, commits, objectives, accepted, rejected, ignored,
            rejectedByReason, sources, rejectedBySource, connections, connectionsRefused, datagrams,
            datagramsTooLong, journalWritten, journalDropped, files, queuedEvents, queuedEventsPeak, limits, engine,
            lastPeriods
    }

    /// Writes every key, `null` for a missing `lastEvaluation`.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(version, forKey: .version)
        try c.encode(pid, forKey: .pid)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(lastEvaluation, forKey: .lastEvaluation)
        try c.encode(commits, forKey: .commits)
        try c.encode(objectives, forKey: .objectives)
        try c.encode(accepted, forKey: .accepted)
        try c.encode(rejected, forKey: .rejected)
        try c.encode(ignored, forKey: .ignored)
        try c.encode(rejectedByReason, forKey: .rejectedByReason)
        try c.encode(sources, forKey: .sources)
        try c.encode(rejectedBySource, forKey: .rejectedBySource)
        try c.encode(connections, forKey: .connections)
        try c.encode(connectionsRefused, forKey: .connectionsRefused)
        try c.encode(datagrams, forKey: .datagrams)
        try c.encode(datagramsTooLong, forKey: .datagramsTooLong)
        try c.encode(journalWritten, forKey: .journalWritten)
        try c.encode(journalDropped, forKey: .journalDropped)
        try c.encode(files, forKey: .files)
        try c.encode(queuedEvents, forKey: .queuedEvents)
        try c.encode(queuedEventsPeak, forKey: .queuedEventsPeak)
        try c.encode(limits, forKey: .limits)
        try c.encode(engine, forKey: .engine)
        try c.encode(lastPeriods, forKey: .lastPeriods)
    }

    /// The JSON text: sorted keys, infinities as `"+Inf"`/`"-Inf"`, NaN as `"NaN"`.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "+Inf",
            negativeInfinity: "-Inf",
            nan: "NaN"
        )
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }

    /// Reads the daemon's JSON answer.
    /// - Throws: `DecodingError` when it is not a status reply of this version's shape.
    public static func decode(_ text: String) throws -> StatusReply {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "+Inf",
            negativeInfinity: "-Inf",
            nan: "NaN"
        )
        return try decoder.decode(StatusReply.self, from: Data(text.utf8))
    }
}

extension StatusReply {
    /// The text view of `slawatch status`: the objectives as `StatusTable` draws them (grouped by
    /// SLA, one row per instance, detail lines for pace, budget, pending and silent metrics),
    /// then the daemon and its input per source.
    /// - Parameters:
    ///   - now: unix seconds, for "12s ago".
    ///   - table: width, Unicode and colours of the objectives table.
    public func text(now: Double, table: StatusTable = StatusTable()) -> String {
        let r = self
        var out: [String] = [table.render(r.objectives, now: now)]
        if r.objectives.isEmpty { out = ["no objectives are watched (see objectives_directory in the config)"] }
        out.append("")
        let started = RFC3339.parse(r.startedAt) ?? now
        let evaluated = r.lastEvaluation.flatMap(RFC3339.parse).map { "last evaluation \(Self.ago($0, now: now))" }
        out.append(
            "slawatch \(r.version), pid \(r.pid), up \(DurationText.format(max(0, now - started).rounded())), "
                + (evaluated ?? "not evaluated yet") + ", \(r.commits) commit(s)"
        )
        var input = [["INPUT", "ACCEPTED", "REJECTED", "IGNORED"]]
        for source in IngestSource.allCases {
            let c = r.sources[source.rawValue] ?? SourceCounts()
            input.append([source.rawValue, String(c.accepted), String(c.rejected), String(c.ignored)])
        }
        input.append(["total", String(r.accepted), String(r.rejected), String(r.ignored)])
        out += Self.table(input)
        if !r.rejectedByReason.isEmpty {
            out.append(
                "rejected by reason: "
                    + r.rejectedByReason.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(
                        separator: ", "
                    )
            )
        }
        let f = r.files
        out.append(
            "drop files: \(f.processed) processed (\(f.repeats) repeat(s)), \(f.failed) failed, \(f.recovered) recovered, \(f.vanished) vanished, \(f.stuck) stuck"
        )
        if let l = r.limits {
            out.append(
                "connections: \(r.connections) of \(l.connections) open, \(r.connectionsRefused) refused; control \(l.controlConnections) at most, \(l.controlRefused) refused; descriptor limit \(l.descriptors)"
                    + (l.acceptBackoffs > 0 ? ", accept paused \(l.acceptBackoffs) time(s)" : "")
            )
        }
        if r.journalDropped > 0 { out.append("journal: \(r.journalDropped) entries dropped (queue full)") }
        // Every line fits the table's width: the longer ones wrap at spaces.
        var lines: [String] = []
        for block in out {
            for line in block.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
                if StatusTable.visibleWidth(line) > table.width {
                    lines += table.wrap(line)
                } else {
                    lines.append(line)
                }
            }
        }
        return lines.joined(separator: "\n")
    }

    /// `12s ago`, `3m ago`, `2h 5m ago`, `in 10s` (a time ahead of now).
    static func ago(_ t: Double, now: Double) -> String {
        let d = now - t
        if abs(d) < 1 { return "now" }
        let text = DurationText.format(coarse(abs(d)))
        return d >= 0 ? "\(text) ago" : "in \(text)"
    }

    /// Seconds rounded to what people read: whole seconds under a minute, whole minutes under a
    /// day, whole hours beyond.
    private static func coarse(_ s: Double) -> Double {
        if s < 60 { return s.rounded() }
        if s < 86400 { return (s / 60).rounded(.down) * 60 }
        return (s / 3600).rounded(.down) * 3600
    }

    private static func table(_ rows: [[String]]) -> [String] {
        let widths = rows[0].indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
    }
}
