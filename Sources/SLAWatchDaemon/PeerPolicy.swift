import CLinux
import Foundation
import SLAWatchCore
import Synchronization

/// A socket peer, from `SO_PEERCRED` (stream) or `SCM_CREDENTIALS` (datagram), unix(7).
public struct Peer: Sendable, Hashable, CustomStringConvertible {
    /// Process id (-1 when the kernel gave none).
    public var pid: Int32
    /// User id.
    public var uid: UInt32
    /// Group id.
    public var gid: UInt32

    /// `pid=… uid=… gid=…`.
    public var description: String { "pid=\(pid) uid=\(uid) gid=\(gid)" }
}

/// Resolves a peer to the metric patterns it may write (`Authorization`), with user and group
/// names from the passwd and group databases, cached per uid/gid for a minute.
public final class PeerPolicy: Sendable {
    private let rules: Authorization
    private let clock: any DaemonClock
    private let cache = Mutex<[UInt64: (patterns: [String]?, at: Double)]>([:])
    private let ownUID = getuid()

    /// Creates the policy for a config's rules.
    /// - Parameter clock: the time cached group lookups expire by (60 s).
    public init(_ rules: Authorization, clock: any DaemonClock = SystemClock()) {
        self.rules = rules
        self.clock = clock
    }

    /// Like `patterns(for:)`; a peer whose credentials are unknown may write nothing when rules
    /// are configured (and everything when none are).
    public func patterns(forOptional peer: Peer?) -> [String]? {
        if let peer { return patterns(for: peer) }
        return rules.isEnabled ? [] : nil
    }

    /// `nil` when the peer may write every metric (no rules configured, root, or the daemon's own
    /// user); otherwise the patterns it may write.
    public func patterns(for peer: Peer) -> [String]? {
        guard rules.isEnabled, peer.uid != 0, peer.uid != ownUID else { return nil }
        let key = UInt64(peer.uid) << 32 | UInt64(peer.gid)
        let now = clock.now
        if let hit = cache.withLock({ $0[key] }), now - hit.at < 60 { return hit.patterns }
        let user = Self.userName(peer.uid)
        var groupIDs: [UInt32] = [peer.gid]
        if let user {
            var buffer = [UInt32](repeating: 0, count: 256)
            let n = clinux_user_groups(user, peer.gid, &buffer, Int32(buffer.count))
            if n > 0 { groupIDs += buffer[0..<Int(n)] }
        }
        let groupNames = Set(groupIDs).compactMap(Self.groupName)
        let patterns = rules.patterns(user: user, groups: groupNames)
        cache.withLock { $0[key] = (patterns, now) }
        return patterns
    }

    static func userName(_ uid: UInt32) -> String? {
        var pwd = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buf = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid, &pwd, &buf, buf.count, &result) == 0, let r = result else { return nil }
        return String(cString: r.pointee.pw_name)
    }

    static func groupName(_ gid: UInt32) -> String? {
        var grp = group()
        var result: UnsafeMutablePointer<group>?
        var buf = [CChar](repeating: 0, count: 4096)
        guard getgrgid_r(gid, &grp, &buf, buf.count, &result) == 0, let r = result else { return nil }
        return String(cString: r.pointee.gr_name)
    }
}

/// Filters a parsed batch by what its peer may write: refused events become `unauthorized`
/// rejections on their lines. Decided once per distinct metric name in the batch.
func authorize(
    events: inout EventBatch,
    lines: inout [Int],
    rejections: inout [LineRejection],
    patterns: [String]?
) {
    guard let patterns else { return }
    let allowed = events.names.map { Authorization.allows(patterns, $0) }
    if allowed.allSatisfy({ $0 }) { return }
    var keep: [Int] = []
    for i in events.indices {
        if allowed[Int(events.records[i].nameIndex)] {
            keep.append(i)
        } else {
            rejections.append(LineRejection(line: lines[i], reason: .unauthorized, excerpt: events.metric(at: i)))
        }
    }
    rejections.sort { $0.line < $1.line }
    events = events.selecting(keep)
    lines = keep.map { lines[$0] }
}
