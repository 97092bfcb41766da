/// FastCGI record framing for a whole response (FastCGI 1.0, §3.3 and §5.5): the CGI response as
/// `FCGI_STDOUT` records, the empty `FCGI_STDOUT` record that ends the stream, and
/// `FCGI_END_REQUEST`. Built in one buffer so the responder hands a response to the socket in one
/// write; libfcgi's own writer cuts it into 8 KB records and writes each one separately.
public enum FastCGIRecords {
    static let version: UInt8 = 1
    static let typeEndRequest: UInt8 = 3
    static let typeStdout: UInt8 = 6
    static let requestComplete: UInt8 = 0
    static let headerLength = 8
    /// The content length field is 16 bits; 65,528 keeps every full record 8-byte aligned.
    static let maxContent = 65_528

    /// `head` and `body` are the CGI response (status line, headers, blank line; then the body).
    public static func response(requestID: UInt16, head: [UInt8], body: [UInt8], appStatus: UInt32 = 0) -> [UInt8] {
        let total = head.count + body.count
        let records = (total + maxContent - 1) / maxContent
        var out: [UInt8] = []
        out.reserveCapacity(total + headerLength * (records + 1) + 16 + 7 * records)
        var remaining = total
        var headOffset = 0
        var bodyOffset = 0
        while remaining > 0 {
            let length = min(remaining, maxContent)
            let padding = (8 - length % 8) % 8
            appendHeader(type: typeStdout, requestID: requestID, contentLength: length, padding: padding, to: &out)
            var wanted = length
            if headOffset < head.count {
                let take = min(wanted, head.count - headOffset)
                out.append(contentsOf: head[headOffset..<(headOffset + take)])
                headOffset += take
                wanted -= take
            }
            if wanted > 0 {
                out.append(contentsOf: body[bodyOffset..<(bodyOffset + wanted)])
                bodyOffset += wanted
            }
            out.append(contentsOf: repeatElement(0, count: padding))
            remaining -= length
        }
        appendEnd(requestID: requestID, appStatus: appStatus, to: &out)
        return out
    }

    /// For a response that fits one record: the bytes before and after the content (record
    /// header; padding, end of stdout and FCGI_END_REQUEST), so head and body can be written with
    /// writev and the body is never copied. nil when the content needs several records.
    public static func singleRecordFrame(requestID: UInt16, contentLength: Int, appStatus: UInt32 = 0)
        -> (header: [UInt8], trailer: [UInt8])?
    {
        guard contentLength > 0, contentLength <= maxContent else { return nil }
        let padding = (8 - contentLength % 8) % 8
        var header: [UInt8] = []
        header.reserveCapacity(headerLength)
        appendHeader(type: typeStdout, requestID: requestID, contentLength: contentLength, padding: padding, to: &header)
        var trailer = [UInt8](repeating: 0, count: padding)
        trailer.reserveCapacity(padding + 2 * headerLength + 8)
        appendEnd(requestID: requestID, appStatus: appStatus, to: &trailer)
        return (header, trailer)
    }

    private static func appendEnd(requestID: UInt16, appStatus: UInt32, to out: inout [UInt8]) {
        appendHeader(type: typeStdout, requestID: requestID, contentLength: 0, padding: 0, to: &out)
        appendHeader(type: typeEndRequest, requestID: requestID, contentLength: 8, padding: 0, to: &out)
        out.append(UInt8(truncatingIfNeeded: appStatus >> 24))
        out.append(UInt8(truncatingIfNeeded: appStatus >> 16))
        out.append(UInt8(truncatingIfNeeded: appStatus >> 8))
        out.append(UInt8(truncatingIfNeeded: appStatus))
        out.append(requestComplete)
        out.append(contentsOf: [0, 0, 0])
    }

    private static func appendHeader(type: UInt8, requestID: UInt16, contentLength: Int, padding: Int,
                                     to out: inout [UInt8]) {
        out.append(version)
        out.append(type)
        out.append(UInt8(truncatingIfNeeded: requestID >> 8))
        out.append(UInt8(truncatingIfNeeded: requestID))
        out.append(UInt8(truncatingIfNeeded: contentLength >> 8))
        out.append(UInt8(truncatingIfNeeded: contentLength))
        out.append(UInt8(truncatingIfNeeded: padding))
        out.append(0)
    }
}
