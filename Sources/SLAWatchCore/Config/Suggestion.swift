/// "Did you mean …?" for a mistyped name: a config key, a command, a metric.
public enum Suggestion {
    /// The candidate closest to `word` by optimal-string-alignment distance (insertions,
    /// deletions, substitutions and swaps of two neighbours each cost 1), case-insensitive, when
    /// it is close enough to be a typo: at most 1 edit for words up to 4 characters, 2 up to 8, 3
    /// beyond; or else the only candidate that starts with `word` (`stat` → `status`). `nil` when
    /// nothing is that close; ties go to the first candidate in sorted order.
    public static func closest<S: Sequence<String>>(to word: String, among candidates: S) -> String? {
        let w = Array(word.lowercased())
        let limit = w.count <= 4 ? 1 : (w.count <= 8 ? 2 : 3)
        var best: (distance: Int, name: String)?
        for c in Set(candidates).sorted() where c != word {
            let d = distance(w, Array(c.lowercased()))
            if d <= limit && (best == nil || d < best!.distance) { best = (d, c) }
        }
        if let best { return best.name }
        let prefixed = Set(candidates).filter { $0.lowercased().hasPrefix(word.lowercased()) && $0 != word }
        return !word.isEmpty && prefixed.count == 1 ? prefixed.first : nil
    }

    /// Optimal string alignment distance between two character arrays.
    public static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }
}
