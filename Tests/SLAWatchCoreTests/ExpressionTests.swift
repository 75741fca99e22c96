import Testing

@testable import SLAWatchCore

private func eval(_ text: String) -> Result<Double, BaselineExpression.ParseError> {
    do throws(BaselineExpression.ParseError) {
        return .success(try BaselineExpression.evaluate(text))
    } catch {
        return .failure(error)
    }
}

@Suite struct BaselineExpressionTests {
    @Test func seedBaseline() {
        #expect(eval("10000 / 500 / 0.20") == .success(100))
        #expect(eval("10000/500/0.2") == .success(100))
    }

    @Test func precedenceAndAssociativity() {
        let cases: [(String, Double)] = [
            ("1 + 2 * 3", 7),
            ("2 * 3 + 1", 7),
            ("10 - 4 - 3", 3),
            ("100 / 10 / 5", 2),
            ("2 * 3 / 4", 1.5),
            ("1 + 2 - 3 + 4", 4),
            ("8 - 2 * 3 + 12 / 4", 5),
            ("  42  ", 42),
            ("0.5", 0.5),
            ("1_000 * 2", 2000),
            ("1e3 + 2.5E-1", 1000.25),
        ]
        for (text, value) in cases {
            #expect(eval(text) == .success(value), "\(text)")
        }
    }

    @Test func parentheses() {
        #expect(eval("(1 + 2) * 3") == .success(9))
        #expect(eval("2 * (3 + 4) * (1 + 1)") == .success(28))
        #expect(eval("((((5))))") == .success(5))
        #expect(eval("10 - (4 - 3)") == .success(9))
        #expect(eval("100 / (10 / 5)") == .success(50))
    }

    @Test func unaryMinusAndPlus() {
        #expect(eval("-5") == .success(-5))
        #expect(eval("2 * -3") == .success(-6))
        #expect(eval("-(2 + 3)") == .success(-5))
        #expect(eval("--2") == .success(2))
        #expect(eval("-2 * -2") == .success(4))
        #expect(eval("+7 - -3") == .success(10))
        #expect(eval("3 - -(-1)") == .success(2))
    }

    @Test func divisionByZero() throws {
        for (text, position) in [("1 / 0", 2), ("5 / (2 - 2)", 2), ("1 + 4 / 0.0", 6)] {
            guard case .failure(let e) = eval(text) else {
                Issue.record("\(text) evaluated")
                continue
            }
            #expect(e.message == "division by zero", "\(text)")
            #expect(e.position == position, "\(text)")
            #expect(e.description == "division by zero at character \(position + 1)")
        }
    }

    @Test(arguments: [
        ("", "expression ends early", 0),
        ("abc", "expected a number", 0),
        ("1 +", "expression ends early", 3),
        ("(1 + 2", "unclosed '('", 0),
        ("1 2", "unexpected '2'", 2),
        ("1 + * 2", "expected a number", 4),
        ("2 ** 3", "expected a number", 3),
        ("10 / 500 / 0.20 leads", "unexpected 'l'", 16),
        ("1..2", "expected a number", 0),
        ("1)", "unexpected ')'", 1),
        ("1e999", "result is not finite", 0),
    ])
    func garbage(text: String, message: String, position: Int) {
        guard case .failure(let e) = eval(text) else {
            Issue.record("'\(text)' evaluated to \(eval(text))")
            return
        }
        #expect(e.message == message)
        #expect(e.position == position)
    }
}

@Suite struct DurationTextTests {
    @Test func parses() {
        let cases: [(String, Double)] = [
            ("500ms", 0.5), ("5s", 5), ("5m", 300), ("1h", 3600), ("7d", 604_800), ("2w", 1_209_600),
            ("1h30m", 5400), ("1d2h3m4s", 93_784), ("90", 90), ("0", 0), ("0s", 0), ("1.5h", 5400), (" 5m ", 300),
            ("2.5", 2.5), ("1m500ms", 60.5),
        ]
        for (text, seconds) in cases {
            #expect(DurationText.seconds(text) == seconds, "\(text)")
        }
    }

    @Test(arguments: ["", " ", "m", "5x", "-5s", "5 m", "1y", "h1", "5s-", "1h 30m", "ms", "5mss", "five"])
    func rejects(text: String) {
        #expect(DurationText.seconds(text) == nil)
    }

    @Test func formats() {
        let cases: [(Double, String)] = [
            (300, "5m"), (90, "1m30s"), (0.5, "500ms"), (0, "0s"), (1, "1s"), (3600, "1h"), (86400, "1d"),
            (604_800, "7d"), (93_784, "1d2h3m4s"), (5400, "1h30m"), (0.001, "1ms"), (59.6, "1m"),
        ]
        for (seconds, text) in cases {
            #expect(DurationText.format(seconds) == text, "\(seconds)")
        }
    }

    @Test func formatThenParseRoundTrips() {
        var rng = SplitMix64(seed: 99)
        for _ in 0..<1000 {
            let s = Double(Int.random(in: 1...10_000_000, using: &rng))
            #expect(DurationText.seconds(DurationText.format(s)) == s, "\(s)")
        }
    }
}
