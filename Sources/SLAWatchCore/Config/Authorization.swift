/// Which peers may write which metrics (the socket's file mode and group are the first gate; this
/// is the second). Config (`slawatch.yaml`):
///
/// ```yaml
/// authorization:
///   users:  {alice: ["leads.*"]}
///   groups: {marketing: ["leads.*"], platform: ["api.*", "checkout.*"]}
/// ```
///
/// Without an `authorization` section anyone who can open the socket may write anything. With
/// one, a peer may write a metric when a pattern of its user, or of one of its groups, matches;
/// root and the daemon's own user may always write. Patterns: `*` (everything), `prefix*`
/// (`leads.*` matches `leads.qualified`), or an exact name.
public struct Authorization: Sendable, Equatable {
    /// User name → metric name patterns.
    public var users: [String: [String]]
    /// Group name → metric name patterns.
    public var groups: [String: [String]]

    /// Creates rules; empty rules mean "no authorization configured".
    public init(users: [String: [String]] = [:], groups: [String: [String]] = [:]) {
        self.users = users
        self.groups = groups
    }

    /// Whether any rule is configured.
    public var isEnabled: Bool { !users.isEmpty || !groups.isEmpty }

    /// The patterns that apply to a peer, given its user name and group names.
    public func patterns(user: String?, groups groupNames: [String]) -> [String] {
        var out = user.flatMap { users[$0] } ?? []
        for g in groupNames { out += groups[g] ?? [] }
        return out
    }

    /// Whether `metric` matches one of `patterns`.
    public static func allows(_ patterns: [String], _ metric: String) -> Bool {
        for p in patterns {
            if p == "*" || p == metric { return true }
            if p.hasSuffix("*"), metric.hasPrefix(p.dropLast()) { return true }
        }
        return false
    }
}
