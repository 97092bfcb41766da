import CZlib

/// gzip (RFC 1952) for pre-compressed response bodies. The only zlib user.
public enum Gzip {
    /// One complete single-member gzip stream of `input` (deflate level 6, a 32 KB window), or nil
    /// when zlib fails in any way; callers then send the identity body.
    ///
    /// One `deflate(Z_FINISH)` call into a buffer of `deflateBound` bytes, which zlib guarantees
    /// is enough for the whole stream, header and trailer included.
    public static func compress(_ input: [UInt8]) -> [UInt8]? {
        // avail_in and avail_out are 32-bit.
        guard input.count < Int(UInt32.max) / 2 else { return nil }
        var stream = z_stream()
        // windowBits 15 + 16: the largest window, with a gzip header and trailer instead of zlib's.
        guard igm_deflate_init2(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK else { return nil }
        defer { deflateEnd(&stream) }
        let capacity = Int(deflateBound(&stream, uLong(input.count)))
        var output = [UInt8](repeating: 0, count: capacity)
        let status = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                // zlib never writes through next_in; the pointer type is only C's lack of const.
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END, stream.avail_in == 0 else { return nil }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }
}
