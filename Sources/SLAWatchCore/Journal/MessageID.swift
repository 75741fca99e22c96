/// Constant journal `MESSAGE_ID`s, one per kind of entry (generated once with
/// `systemd-id128 new`; systemd.journal-fields(7): 128-bit, lowercase hex, no dashes).
public enum MessageID {
    /// An objective breached its baseline.
    public static let breach = "d03b73f39f6845398b064ba39a9de3d1"
    /// A breached objective is back on the good side.
    public static let recovery = "d8228992dbe54767b191bfba707d39b9"
    /// An objective's window holds no event.
    public static let nodata = "ca4aa3bcfad54dbe9619ed80c4b3981a"
    /// An objective went bad and waits for `for:`.
    public static let pending = "16e1436a36eb442b87335f426ad01a01"
    /// A pending objective went good before breaching.
    public static let pendingCleared = "6dd6a40805784ba9829b3657ac9001a0"
    /// Data arrived again for an objective in `nodata` with no open episode.
    public static let dataResumed = "02b1daf99f2e4736afc92bc3e0e81bd9"
    /// A cumulative calendar period closed: met or missed.
    public static let periodResult = "44b623953a8a43d48c76776e689f0483"
    /// A drop file or socket line was rejected (summary).
    public static let inputRejected = "79b212cc2e7e410bbedad7cf51a58315"
    /// A drop file was ingested.
    public static let fileIngested = "586bccbbb66644bbb3e8882b5d7ae612"
    /// A drop file could not be read at all.
    public static let fileFailed = "ff40387b0c2040e38a555351235daede"
    /// A drop file disappeared (renamed or deleted by someone else) after it was seen and before
    /// it was read: nothing of it was counted.
    public static let fileVanished = "c421380899d54e5d9d26bc3d2d73d11e"
    /// A stream connection was closed because its peer left the daemon's answers unread.
    public static let connectionStalled = "1f993977500a405cbdf0949c8baa8493"
    /// The state file was written by a newer slawatch: the daemon refuses to start (versions).
    public static let stateRefused = "1a78bec838b141ff9be2d47dac90b254"
    /// A row of the state file could not be decoded: its instance starts empty (table, row,
    /// objective, and the copy kept as evidence).
    public static let stateDamaged = "b5914ffcc6d849429d16cafbfcddc80d"
    /// Commits to the state file succeed again after failures.
    public static let storeRecovered = "9e04e148f4f74e87818eb8aeb2825dce"
    /// The daemon started (with what it restored).
    public static let started = "93b48843133d463e9754cfea9831d5f5"
    /// `max_series` refused a new gauge or cumulative series (once per run).
    public static let seriesLimit = "94f91916f427446e8283436205c832f4"
    /// The daemon stopped, and why (SIGTERM, SIGINT, a fatal error); pairs with `started`.
    public static let stopped = "02114f350b4a4ed9b2b5a8b06af8de9a"
    /// Writing a snapshot to the store failed.
    public static let storeFailure = "75fc0dcc855349e8b41df840901c8b18"
    /// Journal entries were dropped because the writer queue was full (summary with count).
    public static let journalDropped = "730668d3285d42d4aa05cd4dbfe7004c"
    /// SIGHUP: the new configuration was applied (what changed).
    public static let configReloaded = "7056babaefa64f879a1c0b82f1267034"
    /// SIGHUP: the new configuration was refused (file, line, reason); the old one stays.
    public static let configRefused = "3e0b4609f0a0413c9a3da8065e0d80e0"
    /// An alert storm: transitions beyond `max_alerts_per_minute` were counted, not written.
    public static let alertsSuppressed = "b9b5dace85a74ab3bbe58df0d06b4d4d"
    /// A cumulative target is off pace for its period.
    public static let paceAtRisk = "9191729741074ed5928929b05d2d856e"
    /// A cumulative target is back on pace.
    public static let paceOnTrack = "32122f71d0e14a9283b3ac2ce97fa1f2"
    /// A burn-rate alert fired on a ratio objective's error budget.
    public static let burnRate = "585073d3c61d4010a292b182eb743540"
    /// A burn-rate alert stopped.
    public static let burnRateResolved = "b56b49f32cba446da144563220cd031f"
    /// A `group_by` objective reached `max_instances`.
    public static let instanceLimit = "3bf8bbc29b844704b59372de030e2cff"
    /// A ratio objective's window holds more good events than events in all: its SLI is invalid.
    public static let ratioInvalid = "c7e36c8640c3455985d2cce298b9c29b"
    /// An objective judged continuously closed a report period: compliance, time in breach,
    /// episodes, worst moment.
    public static let periodReport = "ced48672e8db44c1810ff9382b179566"
    /// The daemon wrote a scheduled report (weekly or monthly) into its reports directory.
    public static let reportWritten = "bab007b0c9f44a7ba684cacbf5dc7e88"
    /// A scheduled report could not be written.
    public static let reportFailed = "5d4c1e0b8f7a4d0c9e53a1f2b6c7d8e9"

    /// Announced maintenance of an objective began (not judged until it ends).
    public static let maintenanceStarted = "9f4df988bbd54d618246817ef83b4b3e"
    /// An objective's maintenance ended.
    public static let maintenanceEnded = "836bd360396c436db1251eee8ba4e7ec"

    /// An objective inherited by lower SLA levels recovered: how many of their breach entries
    /// it inhibited while breached.
    public static let inhibitionEnded = "74046639ef6c4fbcaf65648ad7ba2e5d"

    /// A silence ended: how many entries it muted.
    public static let silenceEnded = "509584b195334aee85cc255ce9cea77b"

    /// An SLA is due for review (`review_by:`), written on that date and each week after until
    /// the SLA is edited.
    public static let slaReview = "4f127d05b77540cda5d93d31557dd080"

    /// The id for a transition kind.
    public static func of(_ kind: TransitionKind) -> String {
        switch kind {
        case .breach: return breach
        case .recovery: return recovery
        case .nodata: return nodata
        case .pending: return pending
        case .pendingCleared: return pendingCleared
        case .dataResumed: return dataResumed
        case .periodResult: return periodResult
        case .paceAtRisk: return paceAtRisk
        case .paceOnTrack: return paceOnTrack
        case .burnRate: return burnRate
        case .burnRateResolved: return burnRateResolved
        case .instanceLimit: return instanceLimit
        case .ratioInvalid: return ratioInvalid
        case .periodReport: return periodReport
        case .maintenanceStarted: return maintenanceStarted
        case .maintenanceEnded: return maintenanceEnded
        case .inhibitionEnded: return inhibitionEnded
        }
    }
}
