import Foundation
import SLAWatchCore

/// An objectives file and a daemon configuration: either refused with errors that name the file
/// (and a line when there is one), or loaded into objectives an engine can run.
func fuzzYAML(_ bytes: UnsafeRawBufferPointer) {
    guard let text = String(validating: bytes, as: UTF8.self) else { return }
    do {
        let objectives = try ObjectivesConfig.parse(text, file: "fuzz.yaml")
        var engine = Engine(objectives: objectives)
        _ = engine.ingest([Event(metric: "m", value: 1, kind: .counter, time: 1_764_410_000)], now: 1_764_410_000)
        _ = engine.evaluate(at: 1_764_410_060)
        _ = engine.status(at: 1_764_410_060)
    } catch {
        precondition(!error.errors.isEmpty, "a refusal without an error")
        precondition(error.errors.allSatisfy { $0.file == "fuzz.yaml" }, "an error naming another file")
    }
    do {
        let config = try DaemonConfig.parse(text, file: "slawatch.yaml")
        precondition(config.maxConnections >= 1 && config.maxLineBytes >= 1, "a limit below 1 accepted")
    } catch {
        precondition(!error.errors.isEmpty, "a refusal without an error")
    }
}

/// A baseline expression: a finite value, or an error whose position is inside the text.
func fuzzExpression(_ bytes: UnsafeRawBufferPointer) {
    guard let text = String(validating: bytes, as: UTF8.self) else { return }
    let values: (String) -> Double? = { name in
        switch name.count % 4 {
        case 0: return nil
        case 1: return 0
        case 2: return -1e308
        default: return Double(name.utf8.count)
        }
    }
    for evaluate in [
        { try BaselineExpression.evaluate(text) }, { try BaselineExpression.evaluate(text, values: values) },
    ] {
        do {
            let v = try evaluate()
            precondition(v.isFinite, "a non-finite baseline \(v) from \(text.debugDescription)")
        } catch let e as BaselineExpression.ParseError {
            precondition(e.position >= 0 && e.position <= text.count, "error position \(e.position) outside the text")
        } catch {
            preconditionFailure("unexpected error \(error)")
        }
    }
}

/// A label matcher from `labels:` (`=~…`, `!~…`, `!=…`, a value), tried on values: a regex
/// either compiles or is refused, and `!~`/`!=` always answer the opposite of `=~`/`=`.
func fuzzRegex(_ bytes: UnsafeRawBufferPointer) {
    // The first line is the pattern, the following lines are values to match.
    let text = String(decoding: bytes, as: UTF8.self)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard let pattern = lines.first, pattern.utf8.count <= 256 else { return }
    let values = Array(lines.dropFirst().prefix(8)) + [""]
    let positive = try? LabelMatcher(name: "route", text: "=~" + pattern)
    let negative = try? LabelMatcher(name: "route", text: "!~" + pattern)
    precondition((positive == nil) == (negative == nil), "=~ and !~ disagree on whether the regex compiles")
    let equal = try? LabelMatcher(name: "route", text: pattern)
    for v in values {
        if let p = positive, let n = negative {
            precondition(p.matches(v) != n.matches(v), "=~ and !~ agree on \(v.debugDescription)")
        }
        if let e = equal, e.op == .equal { precondition(e.matches(v) == (v == pattern), "= is not equality") }
    }
}
