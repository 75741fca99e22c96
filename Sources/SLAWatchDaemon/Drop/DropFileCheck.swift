import Foundation
import SLAWatchCore
import SLAWatchStore

/// Pass 1 of a file: its content hash and whether it is UTF-8 without NUL bytes, in constant
/// memory.
extension DropDirectory {
    struct FileCheck {
        var hash: String
        var bytes: Int64
        var invalidUTF8Offset: Int64?
        var nulOffset: Int64?
    }

    struct CheckFailure: Error {
        var message: String
        /// A failure that says nothing about the file (`PosixError.isTransient`).
        var transient = false
    }

    /// Reads the whole file once: its content hash and the offset of the first byte that is not
    /// UTF-8 (a BOM is fine). Memory: one chunk.
    static func check(fd: Int32) -> Result<FileCheck, CheckFailure> {
        var hasher = ContentHasher()
        var buffer = [UInt8](repeating: 0, count: chunkBytes + 4)
        var carry = 0
        var offset: Int64 = 0
        var invalid: Int64?
        var nul: Int64?
        var read64: Int64 = 0
        while true {
            let n: Int
            do {
                let at = carry
                n = try buffer.withUnsafeMutableBytes { raw in
                    try Posix.read(fd, into: UnsafeMutableRawBufferPointer(rebasing: raw[at..<(at + chunkBytes)]))
                }
            } catch {
                let posix = error as? PosixError
                return .failure(
                    CheckFailure(
                        message: "read error: \(posix?.reason ?? "\(error)")",
                        transient: posix?.isTransient ?? false
                    )
                )
            }
            let total = carry + n
            buffer.withUnsafeBytes { raw in
                let fresh = UnsafeRawBufferPointer(rebasing: raw[carry..<total])
                hasher.update(fresh)
                if nul == nil, n > 0, let base = fresh.baseAddress, let hit = memchr(base, 0, n) {
                    nul = read64 + Int64(UnsafeRawPointer(hit) - base)
                }
            }
            read64 += Int64(max(n, 0))
            if invalid == nil {
                // Validate up to the last complete scalar; carry an incomplete tail (≤ 3 bytes).
                var end = total
                if n > 0 {
                    var k = total - 1
                    var back = 0
                    while k >= 0, back < 3, buffer[k] & 0xC0 == 0x80 {
                        k -= 1
                        back += 1
                    }
                    if k >= 0 {
                        let lead = buffer[k]
                        let need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
                        if total - k < need { end = k }
                    }
                }
                let ok = buffer.withUnsafeBytes {
                    String(validating: UnsafeRawBufferPointer(rebasing: $0[0..<end]), as: UTF8.self) != nil
                }
                if !ok {
                    invalid = offset + Int64(firstInvalid(buffer[0..<end]))
                } else if n == 0 && end < total {
                    invalid = offset + Int64(end)
                }
                let rest = total - end
                if rest > 0 { for i in 0..<rest { buffer[i] = buffer[end + i] } }
                offset += Int64(end)
                carry = rest
            } else {
                carry = 0
            }
            if n == 0 { break }
        }
        return .success(FileCheck(hash: hasher.hex, bytes: hasher.bytes, invalidUTF8Offset: invalid, nulOffset: nul))
    }

    static func firstInvalid(_ bytes: ArraySlice<UInt8>) -> Int {
        var offset = 0
        var it = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&it) {
            case .scalarValue(let s): offset += String(s).utf8.count
            case .emptyInput, .error: return offset
            }
        }
    }
}
