import Foundation
import SLAWatchCore
import SLAWatchStore

/// Taking a file out of the way under a hidden name, archiving it to `processed/` or `failed/`,
/// and pruning what is past its retention.
extension DropDirectory {
    /// The hidden name a file is held under while it is moved (`.slawatch-taking-INODE-RANDOM[.EXT]`,
    /// never an existing name).
    static let takingPrefix = ".slawatch-taking-"

    /// Takes `name` out of the input atomically: renames it to a hidden name, and keeps it only
    /// if it is still the file that was read (`identity`). If a producer renamed another file
    /// over the name meanwhile, that file is given back under its name (or `NAME.returned-N`
    /// if the name is taken again) without being overwritten, and `nil` is returned.
    /// - Returns: the hidden path now holding the file that was read, or `nil`.
    func take(_ name: String, identity: FileIdentity) -> String? {
        let full = path + "/" + name
        let ext = (name as NSString).pathExtension
        let unique = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let hidden =
            path + "/" + Self.takingPrefix + String(identity.inode) + "-" + unique + (ext.isEmpty ? "" : "." + ext)
        do throws(PosixError) { try Posix.rename(full, hidden) } catch { return nil }
        if let st = try? Posix.lstat(hidden), UInt64(st.st_ino) == identity.inode, UInt64(st.st_dev) == identity.device
        {
            return hidden
        }
        // Not ours: given back under its name, or NAME.returned-N.
        Self.linkUnique(hidden, first: full) { path + "/" + Self.fitted(name, suffix: ".returned-\($0)") }
        _ = try? Posix.unlink(hidden)
        return nil
    }

    /// Links `source` to `first`, or to `next(1)`, `next(2)`, … (up to 1,000) while the name is
    /// taken: `link(2)` never replaces an existing name. Best effort: another error stops it.
    static func linkUnique(_ source: String, first: String, next: (Int) -> String) {
        var target = first
        for k in 1...1000 {
            do throws(PosixError) {
                try Posix.link(source, target)
                return
            } catch {
                guard error.code == EEXIST else { return }
                target = next(k)
            }
        }
    }

    /// Files left under a hidden taking name by a crash: renamed back into the input as
    /// `recovered-INODE-RANDOM[.EXT]` (the ledger recognizes them and only finishes their move).
    public func recoverTaken() {
        for name in listNames().valid where name.hasPrefix(Self.takingPrefix) {
            let rest = String(name.dropFirst(Self.takingPrefix.count))
            Self.linkUnique(path + "/" + name, first: path + "/recovered-" + rest) { path + "/recovered-\($0)-" + rest }
            _ = try? Posix.unlink(path + "/" + name)
        }
    }

    /// A file found in the ledger: finish its interrupted move under the name chosen before the
    /// commit. When a cross-device copy had completed (the archived copy exists with the same
    /// size), only the source is unlinked.
    func finishMove(_ name: String, to archived: String, identity: FileIdentity) -> Outcome {
        let full = path + "/" + name
        let partialSidecar = processedPath + "/." + archived + ".rejects.partial"
        if FileManager.default.fileExists(atPath: partialSidecar) {
            _ = try? Posix.rename(partialSidecar, processedPath + "/" + archived + ".rejects")
        }
        if let st = try? Posix.lstat(processedPath + "/" + archived), Int64(st.st_size) == identity.size,
            UInt64(st.st_ino) != identity.inode || UInt64(st.st_dev) != identity.device
        {
            if (try? Posix.unlink(full)) != nil { return .alreadyIngested(name: archived) }
        }
        let target =
            FileManager.default.fileExists(atPath: processedPath + "/" + archived)
            ? uniqueName(name, in: processedPath) : archived
        do {
            try FileMover.move(from: full, toDirectory: processedPath, name: target)
        } catch {
            return .stuck(name: name, identity: identity, reason: "already ingested, but could not move: \(error)")
        }
        return .alreadyIngested(name: target)
    }

    func fail(_ name: String, _ reason: String) -> Outcome {
        try? FileManager.default.createDirectory(atPath: failedPath, withIntermediateDirectories: true)
        let finalName = uniqueName(name, in: failedPath)
        let src = path + "/" + name
        let isDirectory = (try? Posix.lstat(src)).map { ($0.st_mode & S_IFMT) == S_IFDIR } ?? false
        do {
            if isDirectory {
                try Posix.rename(src, failedPath + "/" + finalName)
            } else {
                try FileMover.move(from: src, toDirectory: failedPath, name: finalName)
            }
        } catch {
            if let id = identity(of: name) {
                return .stuck(name: name, identity: id, reason: "\(reason); could not move it to failed/: \(error)")
            }
            return .vanished
        }
        _ = FileManager.default.createFile(
            atPath: failedPath + "/" + finalName + ".error",
            contents: Data("\(name): \(reason)\n".utf8)
        )
        return .failed(name: finalName, reason: reason)
    }

    /// `name`, or `name.1`, `name.2`, … when an earlier file of that name is already there (a
    /// same-named later file never overwrites an earlier one).
    func uniqueName(_ name: String, in dir: String) -> String {
        var candidate = Self.fitted(name, suffix: "")
        var n = 0
        while FileManager.default.fileExists(atPath: dir + "/" + candidate)
            || FileManager.default.fileExists(atPath: dir + "/" + candidate + ".rejects")
            || FileManager.default.fileExists(atPath: dir + "/" + candidate + ".error")
        {
            n += 1
            candidate = Self.fitted(name, suffix: ".\(n)")
        }
        return candidate
    }

    /// Longest archived name: `.NAME.rejects.partial` must still fit in 255 bytes (NAME_MAX).
    static let maxArchivedName = 255 - ".".utf8.count - ".rejects.partial".utf8.count

    /// `name + suffix`, shortened when it would be too long for its sidecars: the middle of the
    /// name is replaced by `~` and 8 hex digits of its hash, keeping its start and extension.
    static func fitted(_ name: String, suffix: String) -> String {
        if name.utf8.count + suffix.utf8.count <= maxArchivedName { return name + suffix }
        let ext = (name as NSString).pathExtension
        let tail = (ext.isEmpty ? "" : "." + ext) + suffix
        var h: UInt32 = 2_166_136_261
        for b in name.utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
        let mark = "~" + String(h, radix: 16)
        var head = ""
        for c in name {
            if head.utf8.count + String(c).utf8.count + mark.utf8.count + tail.utf8.count > maxArchivedName { break }
            head.append(c)
        }
        return head + mark + tail
    }

    // MARK: - Retention

    /// Deletes files in `processed/` that arrived there (ctime) more than
    /// `processed_retention` ago.
    /// - Returns: the number of files deleted.
    @discardableResult
    public func pruneProcessed(now: Double) -> Int {
        guard settings.processedRetention > 0,
            let names = try? FileManager.default.contentsOfDirectory(atPath: processedPath)
        else { return 0 }
        var removed = 0
        for name in names {
            let full = processedPath + "/" + name
            guard let st = try? Posix.lstat(full), (st.st_mode & S_IFMT) == S_IFREG else { continue }
            let ctime = Double(st.st_ctim.tv_sec) + Double(st.st_ctim.tv_nsec) / 1e9
            if now - ctime > settings.processedRetention, (try? Posix.unlink(full)) != nil { removed += 1 }
        }
        return removed
    }
}
