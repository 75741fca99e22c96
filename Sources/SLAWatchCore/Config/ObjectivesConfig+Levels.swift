import Foundation
import Yams

/// SLA levels (`level: corporate | customer | service`, `inherits:`): which objectives an SLA
/// takes from the levels above it, tightened by `overrides:` and checked never to loosen.
///
/// Resolution works on the composed YAML of every file before any objective is parsed: an
/// override is the parent's objective mapping with the override's keys laid over it, parsed
/// under the child's SLA, so a customer writes only what it changes
/// (`- {overrides: availability, baseline: 99.95%}`).
extension ObjectivesConfig {
    /// One objective an SLA holds as the levels below it see it: its own, inherited, or an
    /// override.
    struct LevelEntry {
        /// Its name in this SLA (`availability`, `acme/availability`).
        var name: String
        /// The name of the corporate objective it descends from (its own name when it is the
        /// SLA's own objective).
        var baseName: String
        /// The mapping to parse (an override's keys laid over its parent's).
        var node: Node
        /// The file whose lines `node`'s keys come from (an override: the child's).
        var file: String
        /// The objectives it inherits from, nearest first.
        var ancestors: [String]
        /// The SLA its nearest ancestor belongs to (`nil` for the SLA's own objective).
        var from: String? = nil
        /// Where its parent is written, for a loosening error: (parent mapping, its file).
        var parent: (node: Node, file: String)?
        /// The file each key of `node` is written in (an override's keys in the child's file,
        /// the rest where the parent has them), for errors and loosening sites.
        var keyFiles: [String: String] = [:]
        /// The parent's `keyFiles`.
        var parentKeyFiles: [String: String] = [:]
        /// Its `effective_from` (unix seconds), `nil` for a version in force from the start.
        var date: Double? = nil
        /// An override: its own mapping and key path in the child's file.
        var override: (node: Node, path: String)?
    }

    /// One SLA as written, before its objectives are parsed.
    struct LevelSLA {
        var name: String
        var level: SLALevel?
        var provider: String?
        var inherits: [String]?
        var file: String
        /// The SLA's own objective mappings (not overrides), with their names.
        var own: [(name: String, node: Node)]
        /// `overrides:` mappings: the overridden name, the mapping and its key path.
        var overrides: [(target: String, node: Node, path: String)]
    }

    /// What each SLA inherits, by SLA name: the entries to parse under it besides its own
    /// objectives.
    struct LevelPlan {
        var inherited: [String: [LevelEntry]] = [:]
        /// SLA name → the SLAs it inherits from (resolved, for `status` and errors).
        var parents: [String: [String]] = [:]
        /// SLA name → what it inherits from two SLAs of one level at once (an error).
        var conflicts: [String: [String]] = [:]
        /// Override key path → why it is not used (overridden twice with one date).
        var overrideErrors: [String: String] = [:]
    }

    /// `effective_from` of an objective mapping (its `time_zone`, else `zone`), `nil` when
    /// absent or unreadable (the parse reports that).
    static func mappingDate(_ node: Node, zone: String? = nil) -> Double? {
        guard let m = node.mapping, let text = m["effective_from"]?.string else { return nil }
        return effectiveDate(text, zone: m["time_zone"]?.string ?? zone ?? "UTC")
    }

    /// The SLAs of a composed document, read leniently (the full parse reports what is wrong).
    static func levelSLAs(_ root: Node, file: String) -> [LevelSLA] {
        guard case .mapping(let top) = root, let slas = top["slas"], case .sequence(let list) = slas else { return [] }
        var out: [LevelSLA] = []
        for (si, slaNode) in list.enumerated() {
            guard case .mapping(let m) = slaNode, let name = m["name"]?.string else { continue }
            var inherits: [String]?
            if let n = m["inherits"] {
                if let s = n.string {
                    inherits = [s]
                } else if case .sequence(let items) = n {
                    inherits = items.compactMap(\.string)
                }
            }
            var own: [(String, Node)] = []
            var overrides: [(String, Node, String)] = []
            if case .sequence(let objectives)? = m["objectives"] {
                for (oi, o) in objectives.enumerated() {
                    guard case .mapping(let om) = o else { continue }
                    if let target = om["overrides"]?.string {
                        overrides.append((target, o, "slas[\(si)].objectives[\(oi)]"))
                    } else if let n = om["name"]?.string {
                        own.append((n, o))
                    }
                }
            }
            out.append(
                LevelSLA(
                    name: name,
                    level: m["level"]?.string.flatMap(SLALevel.init(rawValue:)),
                    provider: m["provider"]?.string,
                    inherits: inherits,
                    file: file,
                    own: own,
                    overrides: overrides
                )
            )
        }
        return out
    }

    /// Resolves what every SLA inherits, corporate first, then customer, then service (a level
    /// inherits only from levels above it, so there is no cycle). A customer SLA without
    /// `inherits:` takes every corporate SLA of its provider.
    static func levelPlan(_ slas: [LevelSLA]) -> LevelPlan {
        var plan = LevelPlan()
        guard slas.contains(where: { $0.level != nil }) else { return plan }
        let rank = Dictionary(slas.map { ($0.name, $0.level?.rank ?? -1) }, uniquingKeysWith: { a, _ in a })
        var effective: [String: [LevelEntry]] = [:]
        let order: [SLALevel?] = [nil, .corporate, .customer, .service]
        for level in order {
            for s in slas where s.level == level {
                let entries: [LevelEntry] = s.own.map { own in
                    var keys: [String: String] = [:]
                    for (k, _) in own.node.mapping ?? [:] { if let key = k.string { keys[key] = s.file } }
                    return LevelEntry(
                        name: own.name,
                        baseName: own.name,
                        node: own.node,
                        file: s.file,
                        ancestors: [],
                        keyFiles: keys,
                        date: mappingDate(own.node)
                    )
                }
                var parents = s.inherits ?? []
                if s.inherits == nil, s.level == .customer {
                    parents = slas.filter { $0.level == .corporate && $0.provider == s.provider }.map(\.name)
                }
                // Only levels above: a reference sideways or down is reported by the parse.
                var seen = Set<String>()
                parents = parents.filter { p in
                    guard seen.insert(p).inserted, let parentLevel = slas.first(where: { $0.name == p })?.level else {
                        return false
                    }
                    return s.level.map { parentLevel.rank < $0.rank } ?? false
                }
                plan.parents[s.name] = parents
                // Each inherited objective from the nearest level that has it (a service takes
                // its customer's tightened version, not the corporate one); two SLAs of one
                // level giving it is a conflict the parse reports.
                var bases: [String] = []
                var byBase: [String: (parent: String, versions: [LevelEntry])] = [:]
                for p in parents.sorted(by: { (rank[$0] ?? 0) > (rank[$1] ?? 0) }) {
                    for e in effective[p] ?? [] {
                        if let current = byBase[e.baseName] {
                            if current.parent == p {
                                byBase[e.baseName]!.versions.append(e)
                            } else if rank[current.parent] == rank[p] {
                                plan.conflicts[s.name, default: []].append(
                                    "\(e.baseName) is inherited from both \(current.parent) and \(p); inherit one of them, or override it in one"
                                )
                            }
                        } else {
                            bases.append(e.baseName)
                            byBase[e.baseName] = (p, [e])
                        }
                    }
                }
                var inherited: [LevelEntry] = []
                for base in bases {
                    guard let (p, versions) = byBase[base] else { continue }
                    let names = Set(versions.map(\.name))
                    let overrides = s.overrides.filter { $0.target == base || names.contains($0.target) }
                    let zone = versions.first?.node.mapping?["time_zone"]?.string
                    // Two overrides with one date: the second is an error.
                    var byDate: [Double?: String] = [:]
                    var used: [(target: String, node: Node, path: String)] = []
                    for o in overrides {
                        let d = mappingDate(o.node, zone: zone)
                        if let first = byDate[d] {
                            plan.overrideErrors[o.path] =
                                "'\(o.target)' is overridden twice in this SLA\(d == nil ? "" : " with the same effective_from") (also \(first)); give each version its own effective_from"
                        } else {
                            byDate[d] = o.path
                            used.append(o)
                        }
                    }
                    let explicit = used.compactMap { $0.node.mapping?["name"]?.string }.first
                    let name = explicit ?? "\(s.name)/\(base)"
                    // One version per date of either side: the parent's version in force then,
                    // with the override in force then laid over it.
                    let dates = Set(versions.map(\.date) + used.map { mappingDate($0.node, zone: zone) })
                    for d in dates.sorted(by: { ($0 ?? -.infinity) < ($1 ?? -.infinity) }) {
                        let at = d ?? -.infinity
                        guard
                            let pv = versions.filter({ ($0.date ?? -.infinity) <= at })
                                .max(by: { ($0.date ?? -.infinity) < ($1.date ?? -.infinity) })
                        else { continue }
                        let ov = used.filter { (mappingDate($0.node, zone: zone) ?? -.infinity) <= at }
                            .max(by: {
                                (mappingDate($0.node, zone: zone) ?? -.infinity)
                                    < (mappingDate($1.node, zone: zone) ?? -.infinity)
                            })
                        var keys = pv.keyFiles
                        if let ov {
                            let setsBaseline =
                                ov.node.mapping?["baseline"] != nil || ov.node.mapping?["baselines"] != nil
                            if setsBaseline {
                                keys["baseline"] = nil
                                keys["baselines"] = nil
                            }
                            for (k, _) in ov.node.mapping ?? [:] { if let key = k.string { keys[key] = s.file } }
                        }
                        inherited.append(
                            LevelEntry(
                                name: name,
                                baseName: base,
                                node: overlay(ov?.node, on: pv.node, name: name, date: d),
                                file: ov == nil ? pv.file : s.file,
                                ancestors: [pv.name] + pv.ancestors,
                                from: p,
                                parent: (pv.node, pv.file),
                                keyFiles: keys,
                                parentKeyFiles: pv.keyFiles,
                                date: d,
                                override: ov.map { ($0.node, $0.path) }
                            )
                        )
                    }
                }
                plan.inherited[s.name] = inherited
                effective[s.name] = entries + inherited
            }
        }
        return plan
    }

    /// `base` with `override`'s keys laid over it (but `overrides`), named `name`. A baseline
    /// given either way (`baseline`, `baselines`) replaces both of the parent's.
    static func overlay(_ override: Node?, on base: Node, name: String, date: Double? = nil) -> Node {
        guard case .mapping(let b) = base else { return base }
        let o = override?.mapping
        let setsBaseline = o?["baseline"] != nil || o?["baselines"] != nil
        var pairs: [(Node, Node)] = []
        // The version's date, written as an RFC 3339 time (read back exactly).
        if let date {
            let mark = (o?["effective_from"] ?? b["effective_from"])?.mark
            pairs.append(
                (
                    .scalar(Node.Scalar("effective_from", .implicit, .any, mark)),
                    .scalar(Node.Scalar(RFC3339.format(date), .implicit, .any, mark))
                )
            )
        }
        for (k, v) in b {
            guard let key = k.string, key != "name", key != "effective_from" else { continue }
            if o?[key] != nil { continue }
            if setsBaseline && (key == "baseline" || key == "baselines") { continue }
            pairs.append((k, v))
        }
        for (k, v) in o ?? [:] {
            guard let key = k.string, key != "name", key != "overrides", key != "effective_from" else { continue }
            pairs.append((k, v))
        }
        let nameNode = o?["name"] ?? b["name"] ?? Node(name)
        pairs.insert((.scalar(Node.Scalar("name", .implicit, .any, nameNode.mark)), renamed(nameNode, name)), at: 0)
        return .mapping(Node.Mapping(pairs, b.tag, b.style, override?.mark ?? base.mark))
    }

    private static func renamed(_ node: Node, _ name: String) -> Node {
        .scalar(Node.Scalar(name, .implicit, .any, node.mark))
    }

    /// The loosening check of an override: its baseline (and any per-label baseline) must be
    /// at least as strict as the parent's, and it must judge the same metric, SLI and
    /// direction. Errors name the override's file and line and the parent's.
    static func checkOverride(
        _ child: Objective,
        parent: Objective,
        entry: LevelEntry,
        reader r: inout YAMLReader
    ) {
        guard let (overrideNode, path) = entry.override, let (parentNode, parentFile) = entry.parent else { return }
        let om = overrideNode.mapping
        // Where the parent's baseline is written (a customer's override, or the corporate file).
        let baselineKey = parentNode.mapping?["baseline"] != nil ? "baseline" : "baselines"
        let parentSite =
            "\(entry.parentKeyFiles[baselineKey] ?? parentFile):\(YAMLReader.line(parentNode.mapping?[baselineKey] ?? parentNode))"
        for (key, same) in [
            ("metric", child.metric == parent.metric), ("sli", child.sli == parent.sli),
            ("direction", child.direction == parent.direction),
        ] where !same {
            r.fail(
                om?[key] ?? overrideNode,
                "\(path).\(key)",
                "an override judges the objective it overrides: \(key) differs from \(parent.name)'s (\(parentFile):\(YAMLReader.line(parentNode))); write a new objective instead"
            )
        }
        guard child.metric == parent.metric, child.sli == parent.sli, child.direction == parent.direction else {
            return
        }
        let parentLevel = parent.sla.level?.rawValue ?? "parent"
        // Only an override that writes a baseline can loosen one.
        guard om?["baseline"] != nil || om?["baselines"] != nil else { return }
        let node = om?["baselines"] ?? om?["baseline"] ?? overrideNode
        let key = "\(path).\(om?["baselines"] != nil ? "baselines" : "baseline")"
        func fixed(_ o: Objective) -> Bool {
            if case .fixed = o.baseline.kind { return true }
            return false
        }
        guard fixed(parent), fixed(child) else {
            r.fail(
                node,
                key,
                "an override may only tighten a fixed baseline: \(parent.name)'s is \(parent.baseline.source) (\(parentSite)), this one \(child.baseline.source); cannot tell which is tighter"
            )
            return
        }
        // Each population the parent promises something to (its default, each per-label
        // value), against every target the override gives that population.
        let pb = parent.labelBaselines
        let cb = child.labelBaselines
        func targets(value: String?, excluding: Set<String>) -> [(label: String?, target: Double)] {
            guard let cb else { return [(nil, child.baseline.value)] }
            if let pb, cb.label == pb.label {
                if let value {
                    return [
                        (
                            cb.values[value] != nil ? "\(cb.label)=\(value)" : nil,
                            cb.values[value] ?? child.baseline.value
                        )
                    ]
                }
                return [(nil, child.baseline.value)]
                    + cb.values.filter { !excluding.contains($0.key) }.sorted { $0.key < $1.key }.map {
                        ("\(cb.label)=\($0.key)", $0.value)
                    }
            }
            return [(nil, child.baseline.value)]
                + cb.values.sorted { $0.key < $1.key }.map { ("\(cb.label)=\($0.key)", $0.value) }
        }
        var checks: [(scope: String?, theirs: Double, mine: [(label: String?, target: Double)])] = [
            (nil, parent.baseline.value, targets(value: nil, excluding: Set(pb?.values.keys ?? [:].keys)))
        ]
        for (value, t) in (pb?.values ?? [:]).sorted(by: { $0.key < $1.key }) {
            checks.append(("\(pb!.label)=\(value)", t, targets(value: value, excluding: [])))
        }
        for c in checks {
            let looser = c.mine.filter { child.direction == .atLeast ? $0.target < c.theirs : $0.target > c.theirs }
            guard
                let worst = looser.min(by: {
                    child.direction == .atLeast ? $0.target < $1.target : $0.target > $1.target
                })
            else { continue }
            let mine = AlertEntry.value(worst.target, sli: child.sli)
            let limit = AlertEntry.value(c.theirs, sli: child.sli)
            let side = child.direction == .atLeast ? "below" : "above"
            let scope = (c.scope ?? worst.label).map { " for \($0)" } ?? ""
            let which = worst.label.map { " (\($0))" } ?? ""
            r.fail(
                node,
                key,
                "loosens \(parent.name)\(scope): \(mine)\(c.scope != nil && worst.label != c.scope ? which : "") is \(side) the \(parentLevel) level's \(limit) (\(parentSite)); a lower level may only tighten a baseline"
            )
            return
        }
    }
}

/// Where an SLA sits among the levels of a multi-level agreement (`level:`).
public enum SLALevel: String, Sendable, Hashable, Codable, CaseIterable {
    /// Applies to every customer of its provider: each customer-level SLA inherits its
    /// objectives.
    case corporate
    /// One customer's terms: inherits the corporate level's objectives, may tighten a baseline
    /// (`overrides:`) or add objectives.
    case customer
    /// One service under a customer's terms (`inherits:` names the customer SLA).
    case service

    /// Corporate 0, customer 1, service 2: a level inherits only from a lower rank.
    public var rank: Int {
        switch self {
        case .corporate: return 0
        case .customer: return 1
        case .service: return 2
        }
    }
}
