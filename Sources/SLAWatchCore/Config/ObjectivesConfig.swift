import Foundation
import Yams

/// Loads SLAs and their objectives from `objectives.d/*.yaml` (design §3 shape).
public enum ObjectivesConfig {
    static let slaKeys: Set<String> = [
        "name", "provider", "customer", "description", "objectives", "report_periods", "compliance_target",
        "consequences", "service_hours", "maintenance", "maintenance_notice", "review_by", "level", "inherits",
    ]
    static let objectiveKeys: Set<String> = [
        "name", "description", "metric", "labels", "sli", "window", "time_zone", "direction", "baseline", "for",
        "late_tolerance", "severity", "nodata", "unit", "good", "keep_firing_for", "clear_at", "nodata_after",
        "min_events", "pace", "burn_rate_alerts", "group_by", "max_instances", "consequences", "baselines",
        "service_hours", "maintenance", "timeslices", "overrides", "effective_from",
    ]

    /// Loads every `*.yaml`/`*.yml` file of `directory` in name order. A missing directory
    /// yields no objectives (the daemon runs and says so).
    /// - Throws: `ConfigErrors` with every problem found in any file (file, line, key), including
    ///   objective names used twice.
    public static func load(directory: String) throws(ConfigErrors) -> [Objective] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            return []
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && !$0.hasPrefix(".") }
            .sorted()
        var all: [Objective] = []
        var errors: [ConfigError] = []
        var seen: [String: String] = [:]
        // Where each objective's baseline is written, for errors about its references.
        var baselineSites: [String: ConfigError] = [:]
        var docs: [(text: String, file: String)] = []
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name)
            do {
                // Only regular files: a FIFO named *.yaml would block the load forever.
                docs.append((try TextFile.read(path, regularFileOnly: true), path))
            } catch {
                errors.append(error.configError)
            }
        }
        // All files at once: an SLA may inherit from an SLA of another file (`inherits:`).
        let (objectives, errs, sites) = parseDocuments(docs)
        errors += errs
        // Versions: one name more than once, each with its own effective_from.
        var dates: [String: [Double?]] = [:]
        for (o, site) in zip(objectives, sites) {
            let path = site.file
            let line = site.line
            if seen[o.name] != nil, let d = dates[o.name], !d.contains(o.effectiveFrom),
                o.effectiveFrom != nil || !d.contains(nil)
            {
                dates[o.name, default: []].append(o.effectiveFrom)
                all.append(o)
                continue
            }
            dates[o.name, default: []].append(o.effectiveFrom)
            if let first = seen[o.name] {
                errors.append(
                    ConfigError(
                        file: path,
                        line: line,
                        key: "\(site.path).name",
                        message:
                            "objective '\(o.name)' is already defined at \(first)\(o.effectiveFrom == nil ? "" : " with the same effective_from")"
                    )
                )
            } else {
                seen[o.name] = "\(path):\(line)"
                baselineSites[o.name] = ConfigError(
                    file: path,
                    line: site.baselineLine,
                    key: site.baselineKey,
                    message: ""
                )
                all.append(o)
            }
        }
        errors += referenceErrors(all, sites: baselineSites)
        if !errors.isEmpty { throw ConfigErrors(errors) }
        return all
    }

    /// `${name}` references in baselines that name no objective (or the objective itself), each
    /// reported at the baseline's own line and key path.
    static func referenceErrors(_ all: [Objective], sites: [String: ConfigError]) -> [ConfigError] {
        let defined = Set(all.map(\.name))
        var errors: [ConfigError] = []
        for o in all {
            for ref in o.baseline.references where !defined.contains(ref) || ref == o.name {
                var e = sites[o.name] ?? ConfigError(file: "", line: 0, key: "baseline", message: "")
                if ref == o.name {
                    e.message = "the baseline of '\(o.name)' refers to itself"
                } else if let near = Suggestion.closest(to: ref, among: defined.subtracting([o.name])) {
                    e.message = "'${\(ref)}' is not an objective; did you mean ${\(near)}?"
                } else {
                    e.message = "'${\(ref)}' is not an objective (a reference names an objective of any file)"
                }
                errors.append(e)
            }
        }
        return errors
    }

    /// Loads the objectives of `directory` for a command that has nothing to do without them
    /// (`check`, `replay`, `test`): unlike `load(directory:)`, a directory that does not exist,
    /// is not a directory, or holds no objective is an error.
    /// - Throws: `ConfigErrors`: the OS reason for a missing or unreadable directory ("No such
    ///   file or directory"), "holds no objective files" or "holds no objective", or every
    ///   problem `load(directory:)` finds.
    public static func loadRequired(directory: String) throws(ConfigErrors) -> [Objective] {
        try requireObjectiveFiles(in: directory)
        let objectives = try load(directory: directory)
        if objectives.isEmpty {
            throw ConfigErrors([
                ConfigError(file: directory, line: 0, key: "", message: "objectives directory holds no objective")
            ])
        }
        return objectives
    }

    /// Checks that `directory` exists, is a readable directory and holds `*.yaml`/`*.yml` files.
    /// - Throws: `ConfigErrors` with one error saying which of these fails (the OS reason for a
    ///   missing or unreadable directory).
    public static func requireObjectiveFiles(in directory: String) throws(ConfigErrors) {
        var st = stat()
        guard stat(directory, &st) == 0 else {
            // The OS's own reason: a missing directory, or one behind a directory this user may
            // not search (Permission denied), are different problems.
            let reason = String(cString: strerror(errno))
            throw ConfigErrors([
                ConfigError(file: directory, line: 0, key: "", message: "objectives directory: \(reason)")
            ])
        }
        guard st.st_mode & S_IFMT == S_IFDIR else {
            throw ConfigErrors([
                ConfigError(
                    file: directory,
                    line: 0,
                    key: "",
                    message: "objectives directory: Not a directory (give the directory holding the *.yaml files)"
                )
            ])
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            let reason = access(directory, R_OK | X_OK) != 0 ? String(cString: strerror(errno)) : "\(error)"
            throw ConfigErrors([
                ConfigError(file: directory, line: 0, key: "", message: "objectives directory: \(reason)")
            ])
        }
        if !names.contains(where: { ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && !$0.hasPrefix(".") }) {
            throw ConfigErrors([
                ConfigError(
                    file: directory,
                    line: 0,
                    key: "",
                    message: "objectives directory holds no objective files (*.yaml, *.yml)"
                )
            ])
        }
    }

    /// Parses one SLA file.
    /// - Throws: `ConfigErrors` naming file, line and key for each problem.
    public static func parse(_ text: String, file: String) throws(ConfigErrors) -> [Objective] {
        let (objectives, errors, sites) = parseDetailed(text, file: file)
        if !errors.isEmpty { throw ConfigErrors(errors) }
        var first: [String: Int] = [:]
        var duplicates: [ConfigError] = []
        // Versions: one name more than once, each with its own effective_from.
        var dates: [String: [Double?]] = [:]
        for (o, site) in zip(objectives, sites) {
            defer { dates[o.name, default: []].append(o.effectiveFrom) }
            if first[o.name] != nil, let d = dates[o.name], !d.contains(o.effectiveFrom) { continue }
            if let line = first[o.name] {
                duplicates.append(
                    ConfigError(
                        file: file,
                        line: site.line,
                        key: "\(site.path).name",
                        message: "objective '\(o.name)' is already defined at \(file):\(line)"
                    )
                )
            } else {
                first[o.name] = site.line
            }
        }
        if !duplicates.isEmpty { throw ConfigErrors(duplicates) }
        var baselineSites: [String: ConfigError] = [:]
        for (o, site) in zip(objectives, sites) {
            baselineSites[o.name] = ConfigError(file: file, line: site.baselineLine, key: site.baselineKey, message: "")
        }
        let refs = referenceErrors(objectives, sites: baselineSites)
        if !refs.isEmpty { throw ConfigErrors(refs) }
        return objectives
    }

    /// Where an objective and its baseline are written in their file.
    struct Site {
        /// Line of the objective's mapping.
        var line: Int
        /// Its key path: `slas[0].objectives[2]`.
        var path: String
        /// Line of its `baseline` value.
        var baselineLine: Int
        /// Full key path of the baseline: `slas[0].objectives[2].baseline`.
        var baselineKey: String
        /// The file it is written in (an inherited objective: the inheriting SLA's file).
        var file: String
    }

    static func parseDetailed(_ text: String, file: String) -> ([Objective], [ConfigError], [Site]) {
        parseDocuments([(text, file)])
    }

    /// Parses several files together, so SLA levels resolve across them (`inherits:`).
    /// Returns the objectives in file order (each SLA's own, then what it inherits), every
    /// problem found, and where each objective is written.
    static func parseDocuments(_ docs: [(text: String, file: String)]) -> ([Objective], [ConfigError], [Site]) {
        var readers = docs.map { YAMLReader(file: $0.file) }
        var roots: [Node?] = []
        for k in docs.indices { roots.append(readers[k].compose(docs[k].text)) }
        var slas: [LevelSLA] = []
        for k in docs.indices { if let root = roots[k] { slas += levelSLAs(root, file: docs[k].file) } }
        let plan = levelPlan(slas)
        let levels = Dictionary(slas.map { ($0.name, $0.level) }, uniquingKeysWith: { a, _ in a })
        var out: [Objective] = []
        var errors: [ConfigError] = []
        var sites: [Site] = []
        for k in docs.indices {
            if let root = roots[k] {
                let (o, s) = parseRoot(root, file: docs[k].file, plan: plan, levels: levels, reader: &readers[k])
                out += o
                sites += s
            }
            errors += readers[k].errors
        }
        return (out, errors, sites)
    }

    static func parseRoot(
        _ root: Node,
        file: String,
        plan: LevelPlan,
        levels: [String: SLALevel?],
        reader r: inout YAMLReader
    ) -> ([Objective], [Site]) {
        var out: [Objective] = []
        var lines: [Site] = []
        let top = r.mapping(root, "", allowed: ["slas"])
        guard let slasNode = top["slas"] else {
            r.fail(root, "slas", "missing required key (a list of SLAs)")
            return ([], [])
        }
        for (si, slaNode) in r.sequence(slasNode, "slas").enumerated() {
            let sp = "slas[\(si)]"
            let sm = r.mapping(slaNode, sp, allowed: slaKeys)
            if sm.isEmpty { continue }
            let name = r.requiredString(sm, "name", sp, parent: slaNode)
            let provider = r.requiredString(sm, "provider", sp, parent: slaNode)
            let level = slaLevel(sm, path: sp, name: name, levels: levels, reader: &r)
            // A corporate level applies to every customer: naming one is optional.
            let customer =
                level == .corporate && sm["customer"] == nil
                ? "every customer" : r.requiredString(sm, "customer", sp, parent: slaNode)
            guard let objsNode = sm["objectives"] else {
                r.fail(slaNode, "\(sp).objectives", "missing required key (a list of objectives)")
                continue
            }
            var sla = SLA(name: name ?? "", provider: provider ?? "", customer: customer ?? "")
            sla.level = level
            if let name, let parents = plan.parents[name], !parents.isEmpty { sla.parents = parents }
            if let n = sm["report_periods"] {
                var units: [CalendarUnit] = []
                for (k, u) in r.sequence(n, "\(sp).report_periods").enumerated() {
                    guard let s = r.string(u, "\(sp).report_periods[\(k)]") else { continue }
                    if let unit = CalendarUnit(rawValue: s) {
                        if !units.contains(unit) { units.append(unit) }
                    } else {
                        r.fail(u, "\(sp).report_periods[\(k)]", "'\(s)' is not day, week, month or quarter")
                    }
                }
                sla.reportPeriods = units
            }
            if let n = sm["compliance_target"], let s = r.string(n, "\(sp).compliance_target") {
                let text = s.trimmingCharactersInWhitespace()
                // `99.9%` parsed as `99.9e-2`: exactly the double of 0.999 (99.9 / 100 is not).
                let number =
                    text.hasSuffix("%") ? String(text.dropLast()).trimmingCharactersInWhitespace() + "e-2" : text
                if let v = Double(number), v.isFinite, v > 0, v <= 1 {
                    sla.complianceTarget = v
                } else {
                    r.fail(n, "\(sp).compliance_target", "'\(s)' is not a share of time such as 99.5% or 0.995")
                }
            }
            if let n = sm["consequences"] { sla.consequences = consequences(n, path: "\(sp).consequences", reader: &r) }
            if let n = sm["service_hours"] {
                sla.serviceHours = serviceHours(n, path: "\(sp).service_hours", reader: &r)
            }
            if let n = sm["maintenance"] { sla.maintenance = maintenance(n, path: "\(sp).maintenance", reader: &r) }
            sla.maintenanceNotice = r.duration(sm["maintenance_notice"], "\(sp).maintenance_notice", default: 0)
            if let n = sm["review_by"], let text = r.string(n, "\(sp).review_by") {
                let t = text.trimmingCharactersInWhitespace()
                if t.count == 10, let day = RFC3339.parse(t + "T00:00:00Z") {
                    sla.reviewBy = day
                } else {
                    r.fail(n, "\(sp).review_by", "'\(text)' is not a date (YYYY-MM-DD)")
                }
            }
            let inherited = name.flatMap { plan.inherited[$0] } ?? []
            for conflict in name.flatMap({ plan.conflicts[$0] }) ?? [] {
                r.fail(sm["inherits"] ?? sm["level"] ?? slaNode, "\(sp).inherits", conflict)
            }
            let inheritedNames = Set(inherited.map(\.name))
            for (oi, oNode) in r.sequence(objsNode, "\(sp).objectives").enumerated() {
                if let target = oNode.mapping?["overrides"] {
                    // Parsed with what it overrides, below.
                    if let why = plan.overrideErrors["\(sp).objectives[\(oi)]"] {
                        r.fail(target, "\(sp).objectives[\(oi)].overrides", why)
                        continue
                    }
                    checkOverrideTarget(
                        target,
                        path: "\(sp).objectives[\(oi)]",
                        level: level,
                        inherited: inherited,
                        parents: sla.parents ?? [],
                        reader: &r
                    )
                    continue
                }
                if let own = oNode.mapping?["name"], let n = own.string, inheritedNames.contains(n) {
                    r.fail(
                        own,
                        "\(sp).objectives[\(oi)].name",
                        "'\(n)' is the objective this SLA inherits; change it with overrides: \(inherited.first { $0.name == n }?.baseName ?? n)"
                    )
                    continue
                }
                let before = r.errors.count
                if let o = objective(oNode, path: "\(sp).objectives[\(oi)]", sla: sla, reader: &r),
                    r.errors.count == before, name != nil, provider != nil, customer != nil
                {
                    out.append(o)
                    let p = "\(sp).objectives[\(oi)]"
                    let baselineNode = oNode.mapping?["baseline"]
                    lines.append(
                        Site(
                            line: YAMLReader.line(oNode),
                            path: p,
                            baselineLine: YAMLReader.line(baselineNode ?? oNode),
                            baselineKey: "\(p).baseline",
                            file: file
                        )
                    )
                }
            }
            guard name != nil, provider != nil, customer != nil else { continue }
            for e in inherited {
                if let (overrideNode, p) = e.override {
                    let before = r.errors.count
                    let parsed = objective(e.node, path: p, sla: sla, reader: &r)
                    // An error in a key the override does not write is where that key is.
                    for k in before..<r.errors.count {
                        let rest = r.errors[k].key.dropFirst(p.count + 1)
                        let top = String(rest.prefix { $0 != "." && $0 != "[" })
                        if overrideNode.mapping?[top] == nil, let other = e.keyFiles[top], other != file {
                            r.errors[k].file = other
                            r.errors[k].message += " (inherited by \(sla.name) through \(p))"
                        }
                    }
                    guard var o = parsed, r.errors.count == before else { continue }
                    if let explicit = overrideNode.mapping?["name"],
                        e.ancestors.contains(o.name) || o.name == e.baseName
                    {
                        r.fail(
                            explicit,
                            "\(p).name",
                            "an override cannot take the name of what it overrides ('\(o.name)'); leave name out (\(sla.name)/\(e.baseName)) or give a new one"
                        )
                        continue
                    }
                    if let (parentNode, parentFile) = e.parent {
                        var scratch = YAMLReader(file: parentFile)
                        if let parent = objective(parentNode, path: p, sla: sla, reader: &scratch) {
                            var parentObjective = parent
                            parentObjective.name = e.ancestors.first ?? parent.name
                            parentObjective.sla.level = e.from.flatMap { levels[$0] } ?? nil
                            checkOverride(o, parent: parentObjective, entry: e, reader: &r)
                        }
                    }
                    if r.errors.count != before { continue }
                    o.ancestors = e.ancestors
                    out.append(o)
                    lines.append(
                        Site(
                            line: YAMLReader.line(overrideNode),
                            path: p,
                            baselineLine: YAMLReader.line(e.node.mapping?["baseline"] ?? overrideNode),
                            baselineKey: "\(p).baseline",
                            file: file
                        )
                    )
                } else {
                    // A copy: its keys are the parent's (whose own parse reports their errors);
                    // what fails only under this SLA is reported here.
                    var scratch = YAMLReader(file: e.file)
                    guard var o = objective(e.node, path: "\(sp).inherits", sla: sla, reader: &scratch),
                        scratch.errors.isEmpty
                    else {
                        if let first = scratch.errors.first {
                            let top = String(
                                first.key.dropFirst("\(sp).inherits.".count).prefix { $0 != "." && $0 != "[" }
                            )
                            r.fail(
                                sm["inherits"] ?? sm["level"] ?? slaNode,
                                "\(sp).inherits",
                                "inherited objective \(e.ancestors.first ?? e.baseName) (\(e.keyFiles[top] ?? first.file):\(first.line)) cannot be judged under this SLA: \(first.message)"
                            )
                        }
                        continue
                    }
                    o.ancestors = e.ancestors
                    out.append(o)
                    lines.append(
                        Site(
                            line: YAMLReader.line(slaNode),
                            path: "\(sp).inherits[\(e.baseName)]",
                            baselineLine: YAMLReader.line(slaNode),
                            baselineKey: "\(sp).inherits[\(e.baseName)].baseline",
                            file: file
                        )
                    )
                }
            }
        }
        return (out, lines)
    }

    /// `level:` and `inherits:` of an SLA: a known level; `inherits` only on a customer or
    /// service level, naming SLAs of a higher level; a service level must name one.
    static func slaLevel(
        _ sm: [String: Node],
        path sp: String,
        name: String?,
        levels: [String: SLALevel?],
        reader r: inout YAMLReader
    ) -> SLALevel? {
        var level: SLALevel?
        if let n = sm["level"], let s = r.string(n, "\(sp).level") {
            level = SLALevel(rawValue: s)
            if level == nil { r.fail(n, "\(sp).level", "'\(s)' is not a level (corporate, customer or service)") }
        }
        var names: [(String, Node)] = []
        if let n = sm["inherits"] {
            if case .sequence = n {
                for item in r.sequence(n, "\(sp).inherits") {
                    if let s = r.string(item, "\(sp).inherits") { names.append((s, item)) }
                }
            } else if let s = r.string(n, "\(sp).inherits") {
                names.append((s, n))
            }
            guard let level, level != .corporate else {
                r.fail(
                    n,
                    "\(sp).inherits",
                    level == .corporate
                        ? "a corporate level is the top: it inherits from nothing"
                        : "inherits needs level: customer or service"
                )
                return level
            }
            for (s, item) in names {
                guard let entry = levels[s] else {
                    let near = Suggestion.closest(to: s, among: Set(levels.keys).subtracting([name ?? ""]))
                    r.fail(
                        item,
                        "\(sp).inherits",
                        "no SLA is named '\(s)'\(near.map { "; did you mean \($0)?" } ?? "")"
                    )
                    continue
                }
                guard let parentLevel = entry, parentLevel.rank < level.rank else {
                    r.fail(
                        item,
                        "\(sp).inherits",
                        "'\(s)' is \(entry.map { "a \($0.rawValue)-level SLA" } ?? "an SLA without a level"); a \(level.rawValue) level inherits from \(level == .customer ? "a corporate level" : "a customer or corporate level")"
                    )
                    continue
                }
            }
            if names.isEmpty, level == .service {
                r.fail(n, "\(sp).inherits", "a service level sits below a customer's SLA: name it with inherits: SLA")
            }
        } else if level == .service {
            r.fail(
                sm["level"],
                "\(sp).inherits",
                "a service level sits below a customer's SLA: name it with inherits: SLA"
            )
        }
        return level
    }

    /// An `overrides:` objective: allowed in a customer or service level, naming an objective
    /// the SLA inherits.
    static func checkOverrideTarget(
        _ target: Node,
        path p: String,
        level: SLALevel?,
        inherited: [LevelEntry],
        parents: [String],
        reader r: inout YAMLReader
    ) {
        guard level == .customer || level == .service else {
            r.fail(target, "\(p).overrides", "overrides applies in a customer- or service-level SLA")
            return
        }
        guard let name = r.string(target, "\(p).overrides") else { return }
        if inherited.contains(where: { $0.override?.path == p }) { return }
        let known = Set(inherited.flatMap { [$0.baseName] + $0.ancestors.prefix(1) })
        let near = Suggestion.closest(to: name, among: known)
        let from = parents.isEmpty ? "it inherits from no SLA" : "inherited from \(parents.joined(separator: ", "))"
        r.fail(
            target,
            "\(p).overrides",
            "'\(name)' is not an objective this SLA inherits (\(from))\(near.map { "; did you mean \($0)?" } ?? "")"
        )
    }
}
