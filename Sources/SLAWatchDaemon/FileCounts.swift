import CLinux
import Foundation
import Logging
import NIOCore
import NIOPosix
import SLAWatchCore
import SLAWatchStore
import ServiceLifecycle
import Synchronization
import Systemd
import UnixSignals

/// Drop files by outcome since start, for `slawatch status` (`files`).
public final class FileCounts: Sendable {
    /// The counts as `status` reports them.
    public struct Snapshot: Sendable, Codable {
        /// Files ingested and moved to `processed/` (repeats included).
        public var processed = 0
        /// Files moved to `failed/`.
        public var failed = 0
        /// Files found in the ledger after a restart and moved without a recount.
        public var recovered = 0
        /// Files that repeated an earlier file's content.
        public var repeats = 0
        /// Files that disappeared after they were seen, before they were read (nothing counted).
        public var vanished = 0
        /// Files ingested but stuck in the drop directory (could not be moved).
        public var stuck = 0
        /// Reads interrupted and retried (reload, changed while read, store error).
        public var retried = 0

        /// All zero.
        public init() {}

        /// Reads a reply; a count an older daemon did not send is 0.
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            func count(_ key: CodingKeys) throws -> Int { try c.decodeIfPresent(Int.self, forKey: key) ?? 0 }
            processed = try count(.processed)
            failed = try count(.failed)
            recovered = try count(.recovered)
            repeats = try count(.repeats)
            vanished = try count(.vanished)
            stuck = try count(.stuck)
            retried = try count(.retried)
        }
    }

    private let counts = Mutex(Snapshot())

    func count(_ outcome: DropDirectory.Outcome) {
        counts.withLock { counts in
            switch outcome {
            case .processed(let r):
                counts.processed += 1
                if r.duplicateOf != nil { counts.repeats += 1 }
            case .failed: counts.failed += 1
            case .alreadyIngested: counts.recovered += 1
            case .stuck: counts.stuck += 1
            case .retry: counts.retried += 1
            case .vanished: counts.vanished += 1
            case .notInput: break
            }
        }
    }

    var snapshot: Snapshot { counts.withLock { $0 } }
}
