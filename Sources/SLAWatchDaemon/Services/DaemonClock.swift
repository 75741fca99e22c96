import Foundation

/// The time the daemon's services run on: wall time in unix seconds (event times, journal
/// entries, `status`) and sleeping between ticks. The composition root (`slawatch daemon`) passes
/// `SystemClock`; tests pass a clock they advance by hand, so timing logic is tested without
/// sleeping.
public protocol DaemonClock: Sendable {
    /// Wall time now, unix seconds.
    var now: Double { get }
    /// Returns once `seconds` have passed on this clock.
    /// - Throws: `CancellationError` when the task is cancelled first.
    func sleep(seconds: Double) async throws
}

/// The machine's clocks: `Date` for wall time, `ContinuousClock` for sleeping (monotonic, counts
/// time suspended).
public struct SystemClock: DaemonClock {
    /// The system clocks.
    public init() {}

    /// `Date().timeIntervalSince1970`.
    public var now: Double { Date().timeIntervalSince1970 }

    /// `ContinuousClock` sleep.
    public func sleep(seconds: Double) async throws {
        try await ContinuousClock().sleep(for: .seconds(max(0, seconds)))
    }
}
