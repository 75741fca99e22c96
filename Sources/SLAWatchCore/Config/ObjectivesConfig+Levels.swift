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
        var effective: [String: [LevelEntry]] = [:]
        let order: [SLALevel?] = [nil, .corporate, .customer, .service]
        for level in order {
            for s in slas where s.level == level {
                let entries: [LevelEntry] = s.own.map {
                    LevelEntry(name: $0.name, baseName: $0.name, node: $0.node, file: s.file, ancestors: [])
                }
                var parents = s.inherits ?? []
                if s.inherits == nil, s.level == .customer {
                    parents = slas.filter { $0.level == .corporate && $0.provider == s.provider }.map(\.name)
                }
                // Only levels above: a reference sideways or down is reported by the parse.
                parents = parents.filter { p in
                    guard let parentLevel = slas.first(where: { $0.name == p })?.level else { return false }
                    return s.level.map { parentLevel.rank < $0.rank } ?? false
                }
                plan.parents[s.name] = parents
                var inherited: [LevelEntry] = []
                var taken = Set<String>()
                for p in parents {
                    for e in effective[p] ?? [] where taken.insert(e.baseName).inserted {
                        let ancestors = [e.name] + e.ancestors
                        if let o = s.overrides.first(where: { $0.target == e.baseName || $0.target == e.name }) {
                            let explicit = o.node.mapping?["name"]?.string
                            inherited.append(
                                LevelEntry(
                                    name: explicit ?? "\(s.name)/\(e.baseName)",
                                    baseName: e.baseName,
                                    node: overlay(o.node, on: e.node, name: explicit ?? "\(s.name)/\(e.baseName)"),
                                    file: s.file,
                                    ancestors: ancestors,
                                    from: p,
                                    parent: (e.node, e.file),
                                    override: (o.node, o.path)
                                )
                            )
                        } else {
                            inherited.append(
                                LevelEntry(
                                    name: "\(s.name)/\(e.baseName)",
                                    baseName: e.baseName,
                                    node: overlay(nil, on: e.node, name: "\(s.name)/\(e.baseName)"),
                                    file: e.file,
                                    ancestors: ancestors,
                                    from: p,
                                    parent: (e.node, e.file)
                                )
                            )
                        }
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
    static func overlay(_ override: Node?, on base: Node, name: String) -> Node {
        guard case .mapping(let b) = base else { return base }
        let o = override?.mapping
        let setsBaseline = o?["baseline"] != nil || o?["baselines"] != nil
        var pairs: [(Node, Node)] = []
        for (k, v) in b {
            guard let key = k.string, key != "name" else { continue }
            if o?[key] != nil { continue }
            if setsBaseline && (key == "baseline" || key == "baselines") { continue }
            pairs.append((k, v))
        }
        for (k, v) in o ?? [:] {
            guard let key = k.string, key != "name", key != "overrides" else { continue }
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
        let parentSite = "\(parentFile):\(YAMLReader.line(parentNode.mapping?["baseline"] ?? parentNode))"
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
        // The values the child promises: its baseline, and each per-label baseline.
        var promised: [(label: String?, value: Double, node: Node?)] = []
        let childFixed: Bool
        if case .fixed = child.baseline.kind { childFixed = true } else { childFixed = false }
        let parentFixed: Bool
        if case .fixed = parent.baseline.kind { parentFixed = true } else { parentFixed = false }
        if child.baseline.source != parent.baseline.source, !(childFixed && parentFixed),
            child.labelBaselines == nil
        {
            r.fail(
                om?["baseline"] ?? overrideNode,
                "\(path).baseline",
                "an override may only tighten a fixed baseline: \(parent.name)'s is \(parent.baseline.source) (\(parentSite)); cannot tell whether \(child.baseline.source) is tighter"
            )
            return
        }
        if om?["baseline"] != nil || child.labelBaselines == nil {
            promised.append((nil, child.baseline.value, om?["baseline"]))
        }
        if let b = child.labelBaselines {
            for (value, v) in b.values.sorted(by: { $0.key < $1.key }) {
                promised.append(("\(b.label)=\(value)", v, om?["baselines"]))
            }
            if om?["baseline"] == nil { promised.append((nil, child.baseline.value, om?["baselines"])) }
        }
        for p in promised {
            // Against the parent's value for the same label value, else its baseline.
            var theirs = parent.baseline.value
            if let label = p.label, let b = parent.labelBaselines {
                let parts = label.split(separator: "=", maxSplits: 1).map(String.init)
                if parts.count == 2, b.label == parts[0], let v = b.values[parts[1]] { theirs = v }
            }
            let looser = child.direction == .atLeast ? p.value < theirs : p.value > theirs
            guard looser else { continue }
            let mine = AlertEntry.value(p.value, sli: child.sli)
            let limit = AlertEntry.value(theirs, sli: child.sli)
            let side = child.direction == .atLeast ? "below" : "above"
            let scope = p.label.map { " for \($0)" } ?? ""
            r.fail(
                p.node ?? overrideNode,
                "\(path).\(p.label == nil ? "baseline" : "baselines")",
                "loosens \(parent.name)\(scope): \(mine) is \(side) the \(parentLevel) level's \(limit) (\(parentSite)); a lower level may only tighten a baseline"
            )
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
