import Foundation

/// One label condition of an objective's selector, written as the value in `labels:` with
/// Prometheus's matcher operators (https://prometheus.io/docs/prometheus/latest/querying/basics/):
/// `value` (equal), `!=value` (not equal), `=~regex` (matches), `!~regex` (does not match).
/// Regexes are anchored at both ends, like Prometheus's (`5..` matches `503`, not `1503`). A
/// missing label reads as the empty string, so `status: "!~5.."` holds for events without a
/// `status` label and `status: "=~.*"` holds for every event.
public struct LabelMatcher: Sendable, Hashable {
    /// The comparison.
    public enum Op: String, Sendable, Hashable {
        case equal = "="
        case notEqual = "!="
        case matches = "=~"
        case notMatches = "!~"
    }
    /// The label name.
    public let name: String
    /// The comparison.
    public let op: Op
    /// The value or the regex text.
    public let value: String
    private let regex: SendableRegex?
    /// A histogram bound `le` or a `quantile`: `value` as `PrometheusTextParser.canonicalBound(_:)`
    /// spells it (computed once), to compare label values as numbers; `nil` for other labels.
    private let canonicalBound: String?

    /// Parses `labels:` value text (`503`, `!=503`, `=~5..`, `!~5..`).
    /// - Throws: `LabelMatcher.BadRegex` when a regex does not compile.
    public init(name: String, text: String) throws {
        self.name = name
        // The operator is the first two scalars, not the first two characters: a value that
        // starts with a combining mark (`=~\u{301}…`) would otherwise fuse with `~` into one
        // character and turn a regex into a literal (found by the regex fuzz target).
        let scalars = text.unicodeScalars
        let rest = String(String.UnicodeScalarView(scalars.dropFirst(2)))
        if scalars.starts(with: "!=".unicodeScalars) {
            op = .notEqual
            value = rest
        } else if scalars.starts(with: "=~".unicodeScalars) {
            op = .matches
            value = rest
        } else if scalars.starts(with: "!~".unicodeScalars) {
            op = .notMatches
            value = rest
        } else {
            op = .equal
            value = text
        }
        if op == .matches || op == .notMatches {
            do {
                regex = SendableRegex(try NSRegularExpression(pattern: "^(?:" + value + ")$"))
            } catch {
                throw BadRegex(pattern: value)
            }
        } else {
            regex = nil
        }
        canonicalBound = name == "le" || name == "quantile" ? PrometheusTextParser.canonicalBound(value) : nil
    }

    /// `v` is the matcher's value, or the same bound or quantile spelled otherwise.
    private func sameValue(_ v: String) -> Bool {
        v == value || (canonicalBound.map { PrometheusTextParser.canonicalBound(v) == $0 } ?? false)
    }

    /// A matcher no label value satisfies (what the engine uses for a selector that does not
    /// parse, which the config loader refuses first: a bad selector never matches everything).
    static let nothing = try! LabelMatcher(name: "", text: "=~(?!)")

    /// A regex in `labels:` that does not compile.
    public struct BadRegex: Error, CustomStringConvertible {
        /// The regex text.
        public var pattern: String
        /// What was wrong.
        public var description: String { "'\(pattern)' is not a valid regular expression" }
    }

    /// Whether a label value (`nil`: the label is absent) satisfies the matcher. A histogram
    /// bound `le` or a `quantile` is one number however it is spelled (`1`, `1.0`, `1e0`:
    /// `PrometheusTextParser.canonicalBound(_:)`), for `=` and `!=`.
    public func matches(_ labelValue: String?) -> Bool {
        let v = labelValue ?? ""
        switch op {
        case .equal: return sameValue(v)
        case .notEqual: return !sameValue(v)
        case .matches, .notMatches:
            let ns = v as NSString
            let hit = regex!.regex.firstMatch(in: v, range: NSRange(location: 0, length: ns.length)) != nil
            return op == .matches ? hit : !hit
        }
    }

    public static func == (a: LabelMatcher, b: LabelMatcher) -> Bool {
        a.name == b.name && a.op == b.op && a.value == b.value
    }

    public func hash(into h: inout Hasher) {
        h.combine(name)
        h.combine(op)
        h.combine(value)
    }

    /// The matchers of a `labels:` mapping, sorted by label name.
    /// - Throws: `BadRegex`.
    public static func parse(_ labels: [String: String]) throws -> [LabelMatcher] {
        try labels.sorted { $0.key < $1.key }.map { try LabelMatcher(name: $0.key, text: $0.value) }
    }

    /// Whether every matcher holds for `labels`.
    public static func all(_ matchers: [LabelMatcher], _ labels: [String: String]) -> Bool {
        for m in matchers where !m.matches(labels[m.name]) { return false }
        return true
    }
}

/// A compiled regex shared read-only between threads (`NSRegularExpression` is immutable and
/// documented as thread-safe for matching).
final class SendableRegex: @unchecked Sendable {
    let regex: NSRegularExpression
    init(_ r: NSRegularExpression) { regex = r }
}
