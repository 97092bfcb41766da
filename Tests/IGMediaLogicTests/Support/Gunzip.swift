import CZlib

/// The test side of `Gzip`: zlib's own inflate, so a round trip checks the stream against zlib's
/// decoder rather than against the code under test.
enum Gunzip {
    /// The content of one gzip member, or nil when `stream` is not exactly one valid member
    /// (bad header, bad CRC or length trailer, truncated, or followed by more bytes).
    static func decompress(_ stream: [UInt8]) -> [UInt8]? {
        var z = z_stream()
        // 15 + 16: gzip wrapper only (no zlib or raw deflate accepted), 32 KB window.
        guard igm_inflate_init2(&z, 15 + 16) == Z_OK else { return nil }
        defer { inflateEnd(&z) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        var status = Z_OK
        stream.withUnsafeBufferPointer { source in
            z.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            z.avail_in = uInt(source.count)
            while status == Z_OK {
                let produced = chunk.withUnsafeMutableBufferPointer { target -> Int in
                    z.next_out = target.baseAddress
                    z.avail_out = uInt(target.count)
                    status = inflate(&z, Z_NO_FLUSH)
                    return target.count - Int(z.avail_out)
                }
                output += chunk[..<produced]
            }
        }
        guard status == Z_STREAM_END, z.avail_in == 0 else { return nil }
        return output
    }
}
