import Foundation
import GRDB
import SLAWatchCore

/// One stored version of an objective's definition (`objective_version`, schema 13).
public struct ObjectiveVersion: Sendable, Equatable {
    /// The objective's name.
    public var objective: String
    /// When the definition took (or takes) effect, unix seconds: its `effective_from`, or the
    /// start or reload that first ran it.
    public var effectiveFrom: Double
    /// The definition, key → value (`Objective.definitionFields`).
    public var definition: [String: String]
    /// When the version was recorded, unix seconds.
    public var recordedAt: Double

    /// A version.
    public init(objective: String, effectiveFrom: Double, definition: [String: String], recordedAt: Double) {
        self.objective = objective
        self.effectiveFrom = effectiveFrom
        self.definition = definition
        self.recordedAt = recordedAt
    }

    /// What changed from `previous`, `key old → new` per differing key in `definitionFields`
    /// order (`baseline 99.5% → 99.9%`); empty when nothing did.
    public func changes(from previous: ObjectiveVersion) -> [String] {
        let order = Objective.definitionKeys
        let keys = Set(definition.keys).union(previous.definition.keys).sorted {
            (order.firstIndex(of: $0) ?? .max, $0) < (order.firstIndex(of: $1) ?? .max, $1)
        }
        return keys.compactMap { k in
            let (a, b) = (previous.definition[k] ?? "", definition[k] ?? "")
            return a == b ? nil : "\(k) \(a.isEmpty ? "(none)" : a) → \(b.isEmpty ? "(none)" : b)"
        }
    }
}

/// A change of an objective's definition: when it took effect and what it changed.
public struct DefinitionChange: Sendable, Equatable {
    /// The objective.
    public var objective: String
    /// Its `effective_from`, unix seconds.
    public var at: Double
    /// `key old → new` per changed key.
    public var changes: [String]
}

/// Objective versions: every definition that ran, or is dated to run, with its
/// `effective_from` (the `objective_version` table).
extension StateStore {
    /// Records the versions of `objectives` (every version of each, `Engine.versions`) at `now`:
    /// a dated version (`effective_from`) under its date; the undated one, when it is the
    /// version in force, under `now` unless the latest stored version in force already has its
    /// definition (a restart or a reload that changed nothing adds no row). Dated rows after
    /// `now` that the config no longer holds are deleted (a planned change withdrawn).
    /// - Returns: the objectives whose version in force was recorded anew.
    /// - Throws: GRDB's `DatabaseError`.
    @discardableResult
    public func recordVersions(_ objectives: [Objective], at now: Double) throws -> [String] {
        let undatedInForce = Set(Objective.inForce(objectives, at: now).filter { $0.effectiveFrom == nil }.map(\.name))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try db.write { db in
            func insert(_ name: String, _ from: Double, _ text: String) throws {
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO objective_version (objective, effective_from, definition, recorded_at)
                        VALUES (?, ?, ?, ?)
                        """,
                    arguments: [name, from, text, now]
                )
            }
            var recorded: [String] = []
            var planned: [String: Set<Double>] = [:]
            for o in objectives {
                let fields = Dictionary(o.definitionFields.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                let text = String(decoding: try encoder.encode(fields), as: UTF8.self)
                if let from = o.effectiveFrom {
                    planned[o.name, default: []].insert(from)
                    let existing = try String.fetchOne(
                        db,
                        sql: "SELECT definition FROM objective_version WHERE objective = ? AND effective_from = ?",
                        arguments: [o.name, from]
                    )
                    if existing != text {
                        try insert(o.name, from, text)
                        if from <= now { recorded.append(o.name) }
                    }
                    continue
                }
                guard undatedInForce.contains(o.name) else { continue }
                let latest = try String.fetchOne(
                    db,
                    sql: """
                        SELECT definition FROM objective_version WHERE objective = ? AND effective_from <= ?
                        ORDER BY effective_from DESC LIMIT 1
                        """,
                    arguments: [o.name, now]
                )
                if latest != text {
                    try insert(o.name, now, text)
                    recorded.append(o.name)
                }
            }
            // Planned versions withdrawn from the config.
            for row in try Row.fetchAll(
                db,
                sql: "SELECT objective, effective_from FROM objective_version WHERE effective_from > ?",
                arguments: [now]
            ) {
                let name: String = row["objective"]
                let from: Double = row["effective_from"]
                if !(planned[name]?.contains(from) ?? false) {
                    try db.execute(
                        sql: "DELETE FROM objective_version WHERE objective = ? AND effective_from = ?",
                        arguments: [name, from]
                    )
                }
            }
            return recorded
        }
    }

    /// Every stored version, by objective then `effective_from`.
    /// - Throws: GRDB's `DatabaseError`; a definition that is not a JSON object reads as empty.
    public func objectiveVersions() throws -> [ObjectiveVersion] { try db.read(Self.versionRows) }

    /// `objectiveVersions()` of the state file at `path`, read-only (reports); none in a state
    /// file from before schema 13.
    /// - Throws: as `periodResults(atPath:)`.
    public static func objectiveVersions(atPath path: String) throws -> [ObjectiveVersion] {
        try readOnly(path) { db in try db.tableExists("objective_version") ? try versionRows(db) : [] }
    }

    /// The definition changes among `versions`: each version after an objective's first, at its
    /// `effective_from`, with what it changed (`ObjectiveVersion.changes(from:)`).
    public static func definitionChanges(_ versions: [ObjectiveVersion]) -> [DefinitionChange] {
        var out: [DefinitionChange] = []
        for (name, list) in Dictionary(grouping: versions, by: \.objective) {
            let sorted = list.sorted { $0.effectiveFrom < $1.effectiveFrom }
            for (a, b) in zip(sorted, sorted.dropFirst()) {
                let what = b.changes(from: a)
                if !what.isEmpty { out.append(DefinitionChange(objective: name, at: b.effectiveFrom, changes: what)) }
            }
        }
        return out.sorted { ($0.objective, $0.at) < ($1.objective, $1.at) }
    }

    private static func versionRows(_ db: Database) throws -> [ObjectiveVersion] {
        try Row.fetchAll(
            db,
            sql:
                "SELECT objective, effective_from, definition, recorded_at FROM objective_version ORDER BY objective, effective_from"
        ).map { r in
            let text: String = r["definition"]
            let fields = (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? [:]
            return ObjectiveVersion(
                objective: r["objective"],
                effectiveFrom: r["effective_from"],
                definition: fields,
                recordedAt: r["recorded_at"]
            )
        }
    }
}
