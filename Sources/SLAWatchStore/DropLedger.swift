import Foundation
import GRDB
import SLAWatchCore

/// A drop file recorded in the same transaction as its events (the exactly-once ledger): if the
/// daemon stops after the commit but before the file is moved to `processed/`, the next start
/// finds the file here and moves it to `archivedName` without counting it again; a later file
/// with the same content is recognized as a repeat (`StateStore.ledgerEntry(contentHash:)`).
public struct LedgerEntry: Sendable, Equatable {
    /// The file name in the drop directory.
    public var name: String
    /// `st_dev`.
    public var device: UInt64
    /// `st_ino`.
    public var inode: UInt64
    /// Size in bytes.
    public var size: Int64
    /// Modification time in nanoseconds since the epoch.
    public var mtimeNanoseconds: Int64
    /// Hex digest of the content (`DropDirectory.contentHash`).
    public var contentHash: String
    /// Events accepted from it.
    public var accepted: Int
    /// Lines rejected.
    public var rejected: Int
    /// The name it gets (or got) in `processed/`, chosen before the commit so that a move
    /// interrupted by a crash is finished under the same name.
    public var archivedName: String
    /// Events in it that carried an explicit time (a repeat of the file skips these).
    public var timestamped: Int
    /// Events in it without a time (arrival time; a repeat counts these again).
    public var untimestamped: Int
    /// Unix seconds of the commit (set by the store when read back; ignored when written).
    public var ingestedAt: Double
    /// Ordinals (positions among the file's parsed events) of events that were not counted
    /// (unauthorized, too late, in the future): a repeat counts these. `nil` when unknown (more
    /// than 100,000, or an entry from before this was recorded): a repeat then skips every
    /// timestamped event.
    public var notCounted: [Int]?

    /// Creates a ledger entry.
    public init(
        name: String,
        device: UInt64,
        inode: UInt64,
        size: Int64,
        mtimeNanoseconds: Int64,
        contentHash: String,
        accepted: Int,
        rejected: Int,
        archivedName: String = "",
        timestamped: Int = 0,
        untimestamped: Int = 0,
        ingestedAt: Double = 0,
        notCounted: [Int]? = []
    ) {
        self.notCounted = notCounted
        self.name = name
        self.device = device
        self.inode = inode
        self.size = size
        self.mtimeNanoseconds = mtimeNanoseconds
        self.contentHash = contentHash
        self.accepted = accepted
        self.rejected = rejected
        self.archivedName = archivedName
        self.timestamped = timestamped
        self.untimestamped = untimestamped
        self.ingestedAt = ingestedAt
    }
}

extension StateStore {
    private static let ledgerColumns = """
        name, device, inode, size, mtime_ns, content_hash, accepted, rejected, archived_name, timestamped,
        untimestamped, ingested_at, not_counted
        """

    static func ledgerEntry(_ row: Row) -> LedgerEntry {
        LedgerEntry(
            name: row["name"],
            device: UInt64(bitPattern: row["device"]),
            inode: UInt64(bitPattern: row["inode"]),
            size: row["size"],
            mtimeNanoseconds: row["mtime_ns"],
            contentHash: row["content_hash"],
            accepted: row["accepted"],
            rejected: row["rejected"],
            archivedName: row["archived_name"],
            timestamped: row["timestamped"],
            untimestamped: row["untimestamped"],
            ingestedAt: row["ingested_at"],
            notCounted: (row["not_counted"] as String?).flatMap {
                try? JSONDecoder().decode([Int].self, from: Data($0.utf8))
            }
        )
    }

    /// The ledger entry of this very file (same identity and content), `nil` when it was never
    /// committed.
    /// - Throws: GRDB's `DatabaseError`.
    public func ledgerEntry(
        device: UInt64,
        inode: UInt64,
        size: Int64,
        mtimeNanoseconds: Int64,
        contentHash: String
    ) throws -> LedgerEntry? {
        try db.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT \(Self.ledgerColumns) FROM drop_ledger
                    WHERE device = ? AND inode = ? AND size = ? AND mtime_ns = ? AND content_hash = ?
                    ORDER BY id LIMIT 1
                    """,
                arguments: [
                    Int64(bitPattern: device), Int64(bitPattern: inode), size, mtimeNanoseconds, contentHash,
                ]
            ).map(Self.ledgerEntry)
        }
    }

    /// The earliest ingested file with this content (any name and identity), `nil` when none.
    /// - Throws: GRDB's `DatabaseError`.
    public func ledgerEntry(contentHash: String) throws -> LedgerEntry? {
        try db.read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT \(Self.ledgerColumns) FROM drop_ledger WHERE content_hash = ? ORDER BY id LIMIT 1",
                arguments: [contentHash]
            ).map(Self.ledgerEntry)
        }
    }

    /// Deletes ledger entries committed before `cutoff` (unix seconds).
    /// - Returns: the number deleted.
    /// - Throws: GRDB's `DatabaseError`.
    @discardableResult
    public func pruneLedger(before cutoff: Double) throws -> Int {
        try db.write { db in
            try db.execute(sql: "DELETE FROM drop_ledger WHERE ingested_at < ?", arguments: [cutoff])
            return db.changesCount
        }
    }
}
