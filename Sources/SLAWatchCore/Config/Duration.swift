/// Durations as written in config files: `500ms`, `5s`, `5m`, `1h`, `7d`, `2w`, combinations such as
/// `1h30m`, or a bare number of seconds. Prometheus duration syntax, without `y` (years are not a
/// fixed length; use a calendar window).
public enum DurationText {
    /// The longest duration accepted: 10 years in seconds. Longer values are typos, and would
    /// overflow timers.
    public static let maximum: Double = 10 * 366 * 86400

    /// Parses a duration into seconds. Returns `nil` for anything that is not a non-negative
    /// duration in the syntax above, or longer than `maximum`.
    public static func seconds(_ text: String) -> Double? {
        guard let v = parse(text), v <= maximum else { return nil }
        return v
    }

    private static func parse(_ text: String) -> Double? {
        let s = text.trimmingCharactersInWhitespace()
        if s.isEmpty { return nil }
        if s.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == UInt8(ascii: ".") }), let plain = Double(s) {
            return plain
        }
        var total = 0.0
        var number = ""
        var unit = ""
        var sawAny = false
        func flush() -> Bool {
            guard let n = Double(number), n >= 0 else { return false }
            let scale: Double
            switch unit {
            case "ms": scale = 0.001
            case "s": scale = 1
            case "m": scale = 60
            case "h": scale = 3600
            case "d": scale = 86400
            case "w": scale = 604800
            default: return false
            }
            total += n * scale
            number = ""
            unit = ""
            sawAny = true
            return true
        }
        for ch in s {
            if ch.isNumber || ch == "." {
                if !unit.isEmpty { guard flush() else { return nil } }
                number.append(ch)
            } else if ch.isLetter {
                if number.isEmpty { return nil }
                unit.append(ch)
            } else {
                return nil
            }
        }
        if !number.isEmpty || !unit.isEmpty { guard flush() else { return nil } }
        return sawAny ? total : nil
    }

    /// Formats seconds compactly (`300` → `5m`, `90` → `1m30s`, `0.5` → `500ms`).
    public static func format(_ seconds: Double) -> String {
        if !seconds.isFinite || seconds > 1e15 { return "\(seconds)s" }
        if seconds < 1 && seconds > 0 { return "\(Int((seconds * 1000).rounded()))ms" }
        var rest = Int(seconds.rounded())
        if rest == 0 { return "0s" }
        var out = ""
        for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)] where rest >= size {
            out += "\(rest / size)\(unit)"
            rest %= size
        }
        return out
    }
}

extension String {
    func trimmingCharactersInWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
