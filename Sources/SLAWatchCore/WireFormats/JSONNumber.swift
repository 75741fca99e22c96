import Foundation

/// Numbers as slawatch writes them in JSON (`slawatch status --json`, the control protocol).
public enum JSONNumber {
    /// `v` rounded to 12 significant digits: sums of binary fractions such as 0.1 + 0.2 or an
    /// average of −4, −4 and −3.999… carry about 15, of which the last few are noise
    /// (`-3.999999999999999` becomes `-4`, `0.30000000000000004` becomes `0.3`), while counts up
    /// to 10¹² and ratios such as 0.99987 keep every digit they have. Infinity and NaN are
    /// returned as they are (the encoder writes them as `"+Inf"`, `"-Inf"`, `"NaN"`).
    public static func rounded(_ v: Double) -> Double {
        guard v.isFinite, v != 0 else { return v }
        return Double(String(format: "%.12g", v)) ?? v
    }
}

extension RFC3339 {
    /// `2026-12-02T04:09:05Z`, or `2026-12-02T04:09:05.250Z` when the time has a fraction of a
    /// second (milliseconds, rounded down), for JSON documents.
    public static func formatMilliseconds(_ t: Double) -> String {
        let ms = Int64((t * 1000).rounded(.down))
        let secondsPart = Double(ms >= 0 ? ms / 1000 : (ms - 999) / 1000)
        let fraction = ms - Int64(secondsPart) * 1000
        let base = format(secondsPart)
        if fraction == 0 { return base }
        let f = String(fraction)
        return String(base.dropLast()) + "." + String(repeating: "0", count: 3 - f.count) + f + "Z"
    }
}
