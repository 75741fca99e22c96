import Yams

/// Walks a composed YAML document (Yams `Node`) keeping file, line and key path for errors.
struct YAMLReader {
    /// The file errors name (a referenced document's while it is read: `OpenSLO`).
    var file: String
    var errors: [ConfigError] = []

    init(file: String) { self.file = file }

    static func line(_ n: Node?) -> Int { n?.mark?.line ?? 0 }

    mutating func fail(_ node: Node?, _ key: String, _ message: String) {
        errors.append(ConfigError(file: file, line: Self.line(node), key: key, message: message))
    }

    /// Parses every document of a stream (`---` separated); records a syntax error and returns
    /// `nil` when it does not parse.
    mutating func composeAll(_ text: String) -> [Node]? {
        do {
            // Yams's sequence keeps a document's error instead of throwing it: read it after.
            var documents = try Yams.compose_all(yaml: text)
            var out: [Node] = []
            while let node = documents.next() { out.append(node) }
            if let error = documents.error { throw error }
            return out
        } catch {
            record(error)
            return nil
        }
    }

    /// Parses a document; records a syntax error and returns `nil` when it does not parse.
    mutating func compose(_ text: String) -> Node? {
        do {
            return try Yams.compose(yaml: text)
        } catch {
            record(error)
            return nil
        }
    }

    /// A YAML error as a `ConfigError` at its line.
    private mutating func record(_ error: any Error) {
        do {
            throw error
        } catch let e as YamlError {
            var line = 0
            var message = "\(e)"
            switch e {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
                .composer(_, let problem, let mark, _):
                line = mark.line
                message = problem
            case .duplicatedKeysInMapping(let duplicates, let context):
                line = context.mark.line
                message = "duplicate key(s) \(duplicates.sorted().joined(separator: ", ")) in one mapping"
            default: break
            }
            errors.append(ConfigError(file: file, line: line, key: "", message: "YAML syntax error: \(message)"))
        } catch {
            errors.append(ConfigError(file: file, line: 0, key: "", message: "\(error)"))
        }
    }

    /// The pairs of a mapping, checking keys against `allowed` (unknown keys are errors: a typo
    /// must not silently become a default; the closest allowed key is suggested).
    mutating func mapping(_ node: Node, _ path: String, allowed: Set<String>) -> [String: Node] {
        guard case .mapping(let m) = node else {
            fail(node, path, "expected a mapping (key: value pairs)")
            return [:]
        }
        var out: [String: Node] = [:]
        for (k, v) in m {
            guard let key = k.string else {
                fail(k, path, "keys must be strings")
                continue
            }
            let full = path.isEmpty ? key : "\(path).\(key)"
            if !allowed.contains(key) {
                // Keys already in the mapping are not what the typo meant.
                let present = Set(m.compactMap { $0.key.string })
                if let near = Suggestion.closest(to: key, among: allowed.subtracting(present)) {
                    fail(k, full, "unknown key; did you mean \(near)?")
                } else {
                    fail(k, full, "unknown key (allowed: \(allowed.sorted().joined(separator: ", ")))")
                }
                continue
            }
            out[key] = v
        }
        return out
    }

    /// A scalar's text; `nil` for a missing key and for a YAML null (`~`, `null`, nothing), which
    /// means "not given".
    mutating func string(_ node: Node?, _ path: String) -> String? {
        guard let node, node.null == nil else { return nil }
        guard case .scalar(let s) = node else {
            fail(node, path, "expected a single value")
            return nil
        }
        return s.string
    }

    mutating func requiredString(_ m: [String: Node], _ key: String, _ path: String, parent: Node) -> String? {
        guard let n = m[key] else {
            fail(parent, path.isEmpty ? key : "\(path).\(key)", "missing required key")
            return nil
        }
        if n.null != nil {
            fail(n, path.isEmpty ? key : "\(path).\(key)", "has no value (null)")
            return nil
        }
        let s = string(n, path.isEmpty ? key : "\(path).\(key)")
        if s?.isEmpty == true {
            fail(n, path.isEmpty ? key : "\(path).\(key)", "must not be empty")
            return nil
        }
        return s
    }

    /// A whole number within `range`, or `nil` (with an error naming the key) when the node is
    /// missing or out of range.
    mutating func count(_ node: Node?, _ path: String, _ range: ClosedRange<Int>) -> Int? {
        guard let node, let s = string(node, path) else { return nil }
        guard let v = Int(s), range.contains(v) else {
            fail(node, path, "'\(s)' is not a whole number from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return v
    }

    mutating func duration(
        _ node: Node?,
        _ path: String,
        default d: Double,
        minimum: Double = 0,
        maximum: Double = DurationText.maximum
    ) -> Double {
        guard let node, let text = string(node, path) else { return d }
        guard let s = DurationText.seconds(text), s >= minimum, s <= maximum else {
            fail(
                node,
                path,
                "'\(text)' is not a duration from \(DurationText.format(minimum)) to \(DurationText.format(maximum)) (e.g. 500ms, 5s, 1m, 1h, 7d)"
            )
            return d
        }
        return s
    }

    mutating func sequence(_ node: Node, _ path: String) -> [Node] {
        guard case .sequence(let s) = node else {
            fail(node, path, "expected a list")
            return []
        }
        return Array(s)
    }
}
