import Foundation
import Synchronization
import Testing

@testable import SLAWatchDaemon

/// A `DaemonClock` the test advances by hand: `sleep` returns when `advance` passes its deadline
/// (or throws `CancellationError` when its task is cancelled), so a service's timing is tested
/// without waiting for real time.
final class ManualClock: DaemonClock {
    private struct Sleeper {
        var deadline: Double
        var continuation: CheckedContinuation<Void, any Error>
    }
    private struct State {
        var now: Double
        var sleepers: [Int: Sleeper] = [:]
        var next = 0
        /// Sleeps started since the clock was made.
        var started = 0
    }
    private let state: Mutex<State>

    init(now: Double = 1_790_000_000) { state = Mutex(State(now: now)) }

    var now: Double { state.withLock { $0.now } }

    /// Sleeps started so far (a service that started its n-th sleep has done n-1 ticks' work).
    var sleepsStarted: Int { state.withLock { $0.started } }

    func sleep(seconds: Double) async throws {
        let id = state.withLock { s in
            s.next += 1
            return s.next
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let resumeNow = state.withLock { s -> Bool in
                    s.started += 1
                    if Task.isCancelled { return true }
                    s.sleepers[id] = Sleeper(deadline: s.now + seconds, continuation: c)
                    return false
                }
                if resumeNow { c.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock forward and wakes every sleeper whose deadline has come.
    func advance(by seconds: Double) {
        let due = state.withLock { s -> [Sleeper] in
            s.now += seconds
            let due = s.sleepers.filter { $0.value.deadline <= s.now }
            for k in due.keys { s.sleepers[k] = nil }
            return Array(due.values)
        }
        for s in due { s.continuation.resume() }
    }

    /// Waits (real time, at most `timeout` seconds) until `n` sleeps have started: the service
    /// finished the work of the tick before. Generous: while other suites run, processes they
    /// wait for can hold the two threads of the cooperative pool for tens of seconds.
    func waitForSleeps(_ n: Int, timeout: Double = 180) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while sleepsStarted < n {
            guard Date() < deadline else { throw TimeoutError(sleeps: sleepsStarted, wanted: n) }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    struct TimeoutError: Error {
        var sleeps: Int
        var wanted: Int
    }
}

/// The test clock itself: a sleep ends exactly when its deadline is passed, and cancelling
/// its task ends it with `CancellationError`.
@Suite struct ManualClockTests {
    @Test func sleepsEndWhenTheirDeadlineIsPassed() async throws {
        let clock = ManualClock(now: 100)
        let woke = Task { () -> Double in
            try await clock.sleep(seconds: 5)
            return clock.now
        }
        try await clock.waitForSleeps(1)
        clock.advance(by: 4.9)
        #expect(clock.now == 104.9)
        clock.advance(by: 0.1)
        #expect(try await woke.value == 105)
    }

    @Test func cancellingASleepThrowsCancellationError() async throws {
        let clock = ManualClock()
        let sleeper = Task { try await clock.sleep(seconds: 60) }
        try await clock.waitForSleeps(1)
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
    }
}
