import Foundation

/// The baseline an instance is judged against now.
extension Engine {
    /// The baseline in force for objective `i`: the adaptive value (`nil` while untrusted), or
    /// the configured number.
    func baselineInForce(_ i: Int) -> Double? {
        let b = table.objectives[i].baseline
        if b.adaptive != nil { return table.states[i].baselineValue }
        if b.references.isEmpty { return b.value }
        // `${objective}` references: the other objectives' latest values (this evaluation's for
        // those judged earlier in config order); untrusted while any has none.
        return try? BaselineExpression.evaluate(b.source) { name in
            guard let k = self.table.id(named: name) else { return nil }
            return self.table.lastValues[k]
        }
    }
}
