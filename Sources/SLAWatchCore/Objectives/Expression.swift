/// Arithmetic baseline expressions: numbers, `${objective}` (another objective's current SLI
/// value), `+ - * /`, unary minus and parentheses, with the usual precedence.
/// `10000 / 500 / 0.20` (a sales target over deal size over close rate) is 100;
/// `${sales-target} / ${deal-size} / 0.20` takes the first two from objectives.
public enum BaselineExpression {
    /// Why an expression could not be evaluated; `position` is a 0-based character offset.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        /// What went wrong, e.g. "division by zero".
        public var message: String
        /// 0-based character offset in the expression.
        public var position: Int
        /// "message at character N".
        public var description: String { "\(message) at character \(position + 1)" }
    }

    /// Evaluates an expression.
    /// - Throws: `ParseError` for syntax errors, division by zero or a non-finite result.
    public static func evaluate(_ text: String) throws(ParseError) -> Double {
        try evaluate(text) { _ in nil }
    }

    /// Evaluates an expression whose `${name}` references take `values(name)`.
    /// - Throws: `ParseError` as above, and for a reference `values` has no value for.
    public static func evaluate(_ text: String, values: (String) -> Double?) throws(ParseError) -> Double {
        try withoutActuallyEscaping(values) { (values) throws(ParseError) -> Double in
            try evaluate(text, escaping: values)
        }
    }

    private static func evaluate(_ text: String, escaping values: @escaping (String) -> Double?) throws(ParseError)
        -> Double
    {
        var p = Parser(chars: Array(text), values: values)
        let v = try p.expression()
        p.skipSpaces()
        if p.pos < p.chars.count { throw ParseError(message: "unexpected '\(p.chars[p.pos])'", position: p.pos) }
        guard v.isFinite else { throw ParseError(message: "result is not finite", position: 0) }
        return v
    }

    /// The objective names an expression references (`${name}`, spaces around the name
    /// ignored), in order of appearance.
    public static func references(_ text: String) -> [String] {
        var out: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "${") {
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { break }
            out.append(rest[open.upperBound..<close].trimmingCharacters(in: .whitespaces))
            rest = rest[rest.index(after: close)...]
        }
        return out
    }

    private struct Parser {
        var chars: [Character]
        var values: (String) -> Double?
        var pos = 0

        mutating func skipSpaces() { while pos < chars.count, chars[pos].isWhitespace { pos += 1 } }

        mutating func expression() throws(ParseError) -> Double {
            var v = try term()
            while true {
                skipSpaces()
                guard pos < chars.count, chars[pos] == "+" || chars[pos] == "-" else { return v }
                let op = chars[pos]
                pos += 1
                let r = try term()
                v = op == "+" ? v + r : v - r
            }
        }

        mutating func term() throws(ParseError) -> Double {
            var v = try factor()
            while true {
                skipSpaces()
                guard pos < chars.count, chars[pos] == "*" || chars[pos] == "/" else { return v }
                let op = chars[pos]
                let at = pos
                pos += 1
                let r = try factor()
                if op == "/" {
                    if r == 0 { throw ParseError(message: "division by zero", position: at) }
                    v /= r
                } else {
                    v *= r
                }
            }
        }

        mutating func factor() throws(ParseError) -> Double {
            skipSpaces()
            guard pos < chars.count else { throw ParseError(message: "expression ends early", position: pos) }
            if chars[pos] == "-" {
                pos += 1
                return -(try factor())
            }
            if chars[pos] == "+" {
                pos += 1
                return try factor()
            }
            if chars[pos] == "$", pos + 1 < chars.count, chars[pos + 1] == "{" {
                let open = pos
                guard let close = chars[pos...].firstIndex(of: "}") else {
                    throw ParseError(message: "unclosed '${'", position: open)
                }
                let name = String(chars[(pos + 2)..<close]).trimmingCharacters(in: .whitespaces)
                if name.isEmpty {
                    throw ParseError(message: "empty reference '${}' (write ${objective-name})", position: open)
                }
                pos = close + 1
                guard let v = values(name) else {
                    throw ParseError(message: "no current value for objective '\(name)'", position: open)
                }
                return v
            }
            if chars[pos] == "(" {
                let open = pos
                pos += 1
                let v = try expression()
                skipSpaces()
                guard pos < chars.count, chars[pos] == ")" else {
                    throw ParseError(message: "unclosed '('", position: open)
                }
                pos += 1
                return v
            }
            let start = pos
            while pos < chars.count, chars[pos].isNumber || chars[pos] == "." || chars[pos] == "_" { pos += 1 }
            // Exponent: 1e6, 2.5E-3
            if pos < chars.count, chars[pos] == "e" || chars[pos] == "E", pos > start {
                var q = pos + 1
                if q < chars.count, chars[q] == "+" || chars[q] == "-" { q += 1 }
                if q < chars.count, chars[q].isNumber {
                    pos = q
                    while pos < chars.count, chars[pos].isNumber { pos += 1 }
                }
            }
            let text = String(chars[start..<pos]).replacingUnderscores()
            guard pos > start, let v = Double(text) else {
                throw ParseError(message: "expected a number", position: start)
            }
            return v
        }
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String { String(self.filter { $0 != "_" }) }
}
