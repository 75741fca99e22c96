import Foundation
import Yams

/// Objective unit tests (`slawatch test FILE.yaml`), in the spirit of `promtool test rules`:
/// input events at offsets from a start time, evaluations every `step`, and the exact entries
/// expected. The engine is the daemon's own, with the offsets as its clock.
///
/// ```yaml
/// objectives: ../objectives.d          # a directory or a file, relative to this file
/// tests:
///   - name: two slow checkouts breach after for
///     start: 2026-11-02T10:00:00Z       # offset 0 (default 2026-01-01T00:00:00Z)
///     step: 30s                         # evaluation interval (default 1m)
///     until: 5m                         # last evaluation offset (default: last input + step)
///     input:                            # lines in the socket grammar (statsd or JSON)
///       - {at: 0s, lines: ["checkout.latency:480|ms|#service:checkout"]}
///     ignore: [pending_cleared]         # transition kinds not compared (optional)
///     expect:                           # every other entry, in order
///       - {at: 0s, objective: checkout-latency-5m, transition: pending}
///       - {at: 2m, objective: checkout-latency-5m, transition: breach, value: 480}
/// ```
public enum ObjectiveTests {
    /// One expected (or actual) entry.
    public struct Entry: Sendable, Equatable, CustomStringConvertible {
        /// Seconds from the test's start.
        public var at: Double
        /// Objective name.
        public var objective: String
        /// Transition kind (`breach`, `recovery`, …).
        public var transition: String
        /// The SLI value, when the expectation names one (compared to 1e-9 relative).
        public var value: Double?

        /// `2m checkout-latency-5m breach value=480`.
        public var description: String {
            "\(DurationText.format(at)) \(objective) \(transition)"
                + (value.map { " value=\(AlertEntry.number($0))" } ?? "")
        }
    }

    /// One test case as read from the file.
    public struct Case: Sendable {
        var name: String
        var start: Double
        var step: Double
        var until: Double?
        var input: [(at: Double, lines: [String])]
        var ignore: Set<String>
        var expect: [Entry]
    }

    /// A test file: its objectives and cases.
    public struct Suite: Sendable {
        /// The objectives under test.
        public var objectives: [Objective]
        var cases: [Case]
        /// Number of cases.
        public var count: Int { cases.count }
    }

    /// The outcome of one case.
    public struct Result: Sendable {
        /// The case's name.
        public var name: String
        /// Mismatches as `- expected` / `+ actual` lines (empty: passed), plus rejected input.
        public var diff: [String]
        /// Whether the case passed.
        public var passed: Bool { diff.isEmpty }
    }

    /// Reads a test file.
    /// - Throws: `ConfigErrors` naming file, line and key (for the test file and the objective
    ///   files it names).
    public static func load(path: String) throws(ConfigErrors) -> Suite {
        let text: String
        do {
            text = try TextFile.read(path)
        } catch {
            throw ConfigErrors([error.configError])
        }
        var r = YAMLReader(file: path)
        guard let root = r.compose(text) else {
            if r.errors.isEmpty {
                r.errors.append(
                    ConfigError(
                        file: path,
                        line: 1,
                        key: "",
                        message: "the file is empty (expected objectives: and tests:)"
                    )
                )
            }
            throw ConfigErrors(r.errors)
        }
        let m = r.mapping(root, "", allowed: ["objectives", "tests"])
        var objectives: [Objective] = []
        if let s = r.requiredString(m, "objectives", "", parent: root) {
            let base = URL(fileURLWithPath: path).deletingLastPathComponent()
            let target = s.hasPrefix("/") ? s : base.appendingPathComponent(s).standardizedFileURL.path
            var st = stat()
            if stat(target, &st) == 0 {
                objectives =
                    st.st_mode & S_IFMT == S_IFDIR
                    ? try ObjectivesConfig.loadRequired(directory: target) : try loadFile(target)
                if objectives.isEmpty { r.fail(m["objectives"], "objectives", "'\(s)' holds no objective") }
            } else {
                r.fail(m["objectives"], "objectives", "'\(s)' (\(target)): \(String(cString: strerror(errno)))")
            }
        }
        var cases: [Case] = []
        if let list = m["tests"] {
            let items = r.sequence(list, "tests")
            if items.isEmpty, r.errors.isEmpty {
                r.fail(list, "tests", "no test case (a list of tests, each with input and expect)")
            }
            for (k, node) in items.enumerated() {
                if let c = testCase(node, path: "tests[\(k)]", reader: &r) { cases.append(c) }
            }
        } else {
            r.fail(root, "tests", "missing required key (a list of tests)")
        }
        // An expected entry must name an objective of the suite (or an instance of a group_by one).
        let names = Set(objectives.map(\.name))
        for (k, c) in cases.enumerated() {
            for (e, entry) in c.expect.enumerated() where !entry.objective.isEmpty && !names.contains(entry.objective) {
                let parent = entry.objective.split(separator: "{", maxSplits: 1).first.map(String.init) ?? ""
                if entry.objective.hasSuffix("}"),
                    objectives.contains(where: { $0.name == parent && !$0.groupBy.isEmpty })
                {
                    continue
                }
                let node = Self.expectNode(root, test: k, entry: e)
                let hint = Suggestion.closest(to: entry.objective, among: names).map { "; did you mean \($0)?" } ?? ""
                r.fail(
                    node,
                    "tests[\(k)].expect[\(e)].objective",
                    "'\(entry.objective)' is not an objective of this file's objectives\(hint)"
                )
            }
        }
        if !r.errors.isEmpty { throw ConfigErrors(r.errors) }
        return Suite(objectives: objectives, cases: cases)
    }

    /// The `objective` value node of `tests[k].expect[e]`, for an error's line.
    private static func expectNode(_ root: Node, test k: Int, entry e: Int) -> Node? {
        guard let tests = root.mapping?["tests"]?.sequence, k < tests.count,
            let expect = tests[k].mapping?["expect"]?.sequence, e < expect.count
        else { return nil }
        return expect[e].mapping?["objective"] ?? expect[e]
    }

    private static func loadFile(_ path: String) throws(ConfigErrors) -> [Objective] {
        let text: String
        do {
            text = try TextFile.read(path)
        } catch {
            throw ConfigErrors([error.configError])
        }
        return try ObjectivesConfig.parse(text, file: path)
    }

    private static func testCase(_ node: Node, path p: String, reader r: inout YAMLReader) -> Case? {
        let m = r.mapping(node, p, allowed: ["name", "start", "step", "until", "input", "ignore", "expect"])
        let before = r.errors.count
        var c = Case(
            name: r.string(m["name"], "\(p).name") ?? p,
            start: 1_767_225_600,
            step: r.duration(m["step"], "\(p).step", default: 60, minimum: 0.001),
            until: m["until"].map { r.duration($0, "\(p).until", default: 0) },
            input: [],
            ignore: [],
            expect: []
        )
        if let n = m["start"], let s = r.string(n, "\(p).start") {
            if let t = RFC3339.parse(s) {
                c.start = t
            } else {
                r.fail(n, "\(p).start", "'\(s)' is not an RFC 3339 time")
            }
        }
        if let list = m["input"] {
            for (k, item) in r.sequence(list, "\(p).input").enumerated() {
                let ip = "\(p).input[\(k)]"
                let im = r.mapping(item, ip, allowed: ["at", "lines"])
                let at = r.duration(im["at"], "\(ip).at", default: 0)
                var lines: [String] = []
                if let ln = im["lines"] {
                    for l in r.sequence(ln, "\(ip).lines") { if let s = r.string(l, "\(ip).lines") { lines.append(s) } }
                } else {
                    r.fail(item, "\(ip).lines", "missing required key (lines in the socket grammar)")
                }
                c.input.append((at, lines))
            }
        }
        if let list = m["ignore"] {
            for n in r.sequence(list, "\(p).ignore") {
                guard let s = r.string(n, "\(p).ignore") else { continue }
                if TransitionKind(rawValue: s) == nil {
                    r.fail(n, "\(p).ignore", "'\(s)' is not a transition kind\(Self.transitionHint(s))")
                } else {
                    c.ignore.insert(s)
                }
            }
        }
        if let list = m["expect"] {
            for (k, item) in r.sequence(list, "\(p).expect").enumerated() {
                let ep = "\(p).expect[\(k)]"
                let em = r.mapping(item, ep, allowed: ["at", "objective", "transition", "value"])
                let at = r.duration(em["at"], "\(ep).at", default: 0)
                let objective = r.requiredString(em, "objective", ep, parent: item) ?? ""
                let transition = r.requiredString(em, "transition", ep, parent: item) ?? ""
                if !transition.isEmpty, TransitionKind(rawValue: transition) == nil {
                    r.fail(
                        em["transition"],
                        "\(ep).transition",
                        "'\(transition)' is not a transition kind\(Self.transitionHint(transition))"
                    )
                }
                var value: Double?
                if let vn = em["value"], let s = r.string(vn, "\(ep).value") {
                    if let v = Double(s) { value = v } else { r.fail(vn, "\(ep).value", "'\(s)' is not a number") }
                }
                c.expect.append(Entry(at: at, objective: objective, transition: transition, value: value))
            }
        }
        return r.errors.count == before ? c : nil
    }

    /// "; did you mean breach?", or the list of kinds when nothing is close.
    private static func transitionHint(_ s: String) -> String {
        let kinds = TransitionKind.allCases.map(\.rawValue)
        if let near = Suggestion.closest(to: s, among: kinds) { return "; did you mean \(near)?" }
        return " (\(kinds.joined(separator: ", ")))"
    }

    /// Runs every case of a suite.
    public static func run(_ suite: Suite) -> [Result] {
        suite.cases.map { run($0, objectives: suite.objectives) }
    }

    static func run(_ c: Case, objectives: [Objective]) -> Result {
        var engine = Engine(objectives: objectives, maxFutureSkew: 0)
        var diff: [String] = []
        let parser = LineParser()
        var pending = c.input.sorted { $0.at < $1.at }
        var actual: [Entry] = []
        let until = c.until ?? ((pending.last?.at ?? 0) + c.step)
        var offset = 0.0
        while offset <= until + 1e-9 {
            let now = c.start + offset
            var batch: [Event] = []
            while let first = pending.first, first.at <= offset + 1e-9 {
                pending.removeFirst()
                for line in first.lines {
                    var events: [Event] = []
                    var copy = line
                    let outcome = copy.withUTF8 { parser.parse(UnsafeRawBufferPointer($0), into: &events) }
                    if case .rejected(let reason) = outcome {
                        diff.append(
                            "! input at \(DurationText.format(first.at)) rejected (\(reason.rawValue)): \(line)"
                        )
                    }
                    for var e in events {
                        if e.time == nil { e.time = c.start + first.at }
                        batch.append(e)
                    }
                }
            }
            if !batch.isEmpty {
                for (_, reason) in engine.ingest(batch, now: now).rejected {
                    diff.append("! an input event was rejected (\(reason.rawValue)) at \(DurationText.format(offset))")
                }
            }
            for t in engine.evaluate(at: now) where !c.ignore.contains(t.kind.rawValue) {
                actual.append(Entry(at: offset, objective: t.objective, transition: t.kind.rawValue, value: t.value))
            }
            offset += c.step
        }
        // Compare in order; an expectation without a value matches any value.
        func matches(_ e: Entry, _ a: Entry) -> Bool {
            guard abs(e.at - a.at) < 1e-6, e.objective == a.objective, e.transition == a.transition else {
                return false
            }
            guard let v = e.value else { return true }
            guard let w = a.value else { return false }
            return abs(v - w) <= 1e-9 * max(1, abs(v))
        }
        var i = 0
        var j = 0
        while i < c.expect.count || j < actual.count {
            if i < c.expect.count, j < actual.count, matches(c.expect[i], actual[j]) {
                i += 1
                j += 1
            } else if i < c.expect.count, !actual[j...].contains(where: { matches(c.expect[i], $0) }) {
                diff.append("- \(c.expect[i])")
                i += 1
            } else if j < actual.count {
                diff.append("+ \(actual[j])")
                j += 1
            } else {
                diff.append("- \(c.expect[i])")
                i += 1
            }
        }
        return Result(name: c.name, diff: diff)
    }
}
