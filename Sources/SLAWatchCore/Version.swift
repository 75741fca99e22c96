/// The version of slawatch, kept in this one place: `slawatch --version`, `version` in
/// `slawatch status --json`, and `SLAWATCH_VERSION` in the "started" and "stopped" journal
/// entries all read it. Semantic Versioning 2.0.0; raise it in the commit that changes behaviour.
public enum SLAWatchVersion {
    /// `MAJOR.MINOR.PATCH`.
    public static let current = "0.9.0"
}
