/// Numbers as people read them in journal messages, `status` and reports (presentation only:
/// the model never formats).
public enum NumberText {
    /// Integers without decimals, others with up to 3 decimals (`42`, `2.5`, `0.667`); very
    /// large or very small magnitudes in Swift's shortest form (`1e+15`, `0.0001`); `NaN`,
    /// `+Inf`, `-Inf`.
    public static func format(_ v: Double) -> String {
        if !v.isFinite { return v.isNaN ? "NaN" : (v < 0 ? "-Inf" : "+Inf") }
        if abs(v) >= 1e15 || (abs(v) < 1e-3 && v != 0) { return "\(v)" }
        if v == v.rounded() { return String(Int64(v)) }
        var s = threeDecimals(v)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }

    /// A value of an SLI: a ratio as a percentage (`0.995` → `99.5 %`, up to three decimals),
    /// anything else as `format(_:)` followed by `unit` when given.
    public static func value(_ v: Double, sli: SLIKind, unit: String? = nil) -> String {
        if sli == .ratio && v.isFinite { return "\(format(v * 100)) %" }
        return unit.map { "\(format(v)) \($0)" } ?? format(v)
    }

    /// `v` rounded to three decimals, all three written (`2.500`), without Foundation.
    static func threeDecimals(_ v: Double) -> String {
        let scaled = (v * 1000).rounded()
        let neg = scaled < 0
        let a = abs(scaled)
        let whole = Int64(a / 1000)
        let frac = Int64(a.truncatingRemainder(dividingBy: 1000))
        let fracText = String(frac)
        return (neg ? "-" : "") + "\(whole)." + String(repeating: "0", count: 3 - fracText.count) + fracText
    }
}
