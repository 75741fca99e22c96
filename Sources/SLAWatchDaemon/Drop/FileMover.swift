import Foundation

/// Moves a file into a directory, durably, also across file systems.
enum FileMover {
    /// `rename(2)`, then `fsync` of the target directory. On `EXDEV` (another file system):
    /// copy to a hidden partial name in the target directory, `fsync` it, rename it into place,
    /// `fsync` the directory, and only then unlink the source; the source is never removed
    /// unless the copy is complete.
    /// - Throws: `PosixError` naming the step that failed (the source is then still in place).
    static func move(from src: String, toDirectory dir: String, name: String) throws(PosixError) {
        let dst = dir + "/" + name
        do {
            try Posix.rename(src, dst)
            Posix.syncDirectory(dir)
            return
        } catch  where error.code == EXDEV {
            // Another file system: copied below.
        }
        let input = try Posix.open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        defer { Glibc.close(input) }
        try copy(fd: input, toDirectory: dir, name: name)
        try Posix.unlink(src)
        Posix.syncDirectory((src as NSString).deletingLastPathComponent)
    }

    /// Copies an open file (from its start) to `dir/name`: a hidden partial copy, `fsync`, then
    /// a rename into place and an `fsync` of the directory. Nothing appears under `name` unless
    /// the copy is complete.
    /// - Throws: `PosixError` naming the step that failed (the partial copy is removed).
    static func copy(fd input: Int32, toDirectory dir: String, name: String) throws(PosixError) {
        let dst = dir + "/" + name
        let partial = dir + "/." + name + ".partial"
        try Posix.rewind(input)
        let st = try Posix.fstat(input)
        let output = try Posix.open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode: st.st_mode & 0o7777)
        do throws(PosixError) {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
            defer { buffer.deallocate() }
            while true {
                let n = try Posix.read(input, into: buffer)
                if n == 0 { break }
                try Posix.writeAll(output, UnsafeRawBufferPointer(rebasing: buffer[0..<n]), target: partial)
            }
            var times = [st.st_atim, st.st_mtim]
            futimens(output, &times)
            try Posix.fsync(output, target: partial)
        } catch {
            Glibc.close(output)
            _ = try? Posix.unlink(partial)
            throw error
        }
        do throws(PosixError) {
            try Posix.close(output, target: partial)
            try Posix.rename(partial, dst)
        } catch {
            _ = try? Posix.unlink(partial)
            throw error
        }
        Posix.syncDirectory(dir)
    }
}
