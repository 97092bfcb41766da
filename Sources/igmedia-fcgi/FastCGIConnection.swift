import CFastCGI
import IGMediaLogic

#if canImport(Glibc)
import Glibc
#endif

/// One libfcgi request slot: accepts a request, reads its params and body, writes the whole
/// response in one system call and ends it. The only file that touches libfcgi.
///
/// An accepting thread reuses one slot for request after request; a request handed to the
/// outbound pool takes its slot with it (only one thread touches a slot at a time).
final class FastCGIConnection: @unchecked Sendable {
    private let request: UnsafeMutablePointer<FCGX_Request>

    /// A fresh slot on the listening socket; nil when libfcgi cannot set it up.
    init?(listenFD: Int32) {
        request = .allocate(capacity: 1)
        // FCGI_FAIL_ACCEPT_ON_INTR: a signal (SIGUSR2 at shutdown) makes accept give up.
        guard FCGX_InitRequest(request, listenFD, FCGI_FAIL_ACCEPT_ON_INTR) == 0 else {
            request.deallocate()
            return nil
        }
    }

    deinit { request.deallocate() }

    /// Waits for the next request (on a kept-alive connection, the next one on it). False on an
    /// error or an interrupted accept.
    func accept() -> Bool {
        FCGX_Accept_r(request) >= 0
    }

    /// Whether nginx asked to keep the connection after this request (`fastcgi_keep_conn on`).
    var keepRequested: Bool { igmedia_fcgx_keep_requested(request) != 0 }

    /// The CGI params, in the order nginx sent them.
    func params() -> [(String, String)] {
        var params: [(String, String)] = []
        guard var cursor = request.pointee.envp else { return params }
        params.reserveCapacity(40)
        while let entry = cursor.pointee {
            // Split at the first "=" on bytes: Character-wise String scanning showed up in profiles.
            if let eq = strchr(entry, 0x3D) {
                let name = UnsafeRawBufferPointer(start: entry, count: entry.distance(to: eq))
                let value = UnsafeRawBufferPointer(start: eq + 1, count: strlen(eq + 1))
                params.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
            }
            cursor += 1
        }
        return params
    }

    /// Up to `length` body bytes (fewer if nginx ends the stream early), then the rest of stdin
    /// is drained: nginx ends the body with an empty FCGI_STDIN record, and leaving it unread
    /// breaks the next request on a kept-alive connection.
    func readBody(length: Int) -> [UInt8] {
        defer { drain() }
        guard length > 0, let stream = request.pointee.in else { return [] }
        var body = [UInt8](repeating: 0, count: length)
        var filled = 0
        body.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            while filled < length {
                let chunk = min(length - filled, 1 << 20)
                let got = FCGX_GetStr(base.advanced(by: filled).assumingMemoryBound(to: CChar.self), Int32(chunk), stream)
                if got <= 0 { break }
                filled += Int(got)
            }
        }
        if filled < length { body.removeSubrange(filled...) }
        return body
    }

    /// Reads and drops whatever is left of stdin (a refused request's body).
    func discardBody() {
        drain()
    }

    private func drain() {
        guard let stream = request.pointee.in else { return }
        // Usually nothing is left; a small stack buffer avoids a heap allocation per request.
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 4096) { buffer in
            while FCGX_GetStr(buffer.baseAddress, Int32(buffer.count), stream) > 0 {}
        }
    }

    /// Writes the whole response in one system call (libfcgi's writer would cut it into 8 KB
    /// writes) and ends the request. The connection stays open only when nginx asked for that,
    /// everything was delivered and read, and `mayKeep`; `plainClose` closes it at once instead
    /// of libfcgi's lingering close (see the shim). False when nginx no longer took the answer.
    @discardableResult
    func finish(with response: Response, mayKeep: Bool, plainClose: Bool) -> Bool {
        let delivered = write(response)
        let inputOK = request.pointee.in.map { FCGX_GetError($0) == 0 } ?? false
        let keep = mayKeep && delivered && inputOK && keepRequested
        igmedia_fcgx_end(request, keep ? 1 : 0, plainClose && inputOK ? 1 : 0)
        return delivered
    }

    private func write(_ response: Response) -> Bool {
        let requestID = UInt16(truncatingIfNeeded: request.pointee.requestId)
        let head = ResponseSerializer.head(response)
        let written: Int32
        if let frame = FastCGIRecords.singleRecordFrame(requestID: requestID, contentLength: head.count + response.body.count) {
            written = frame.header.withUnsafeBytes { header in
                head.withUnsafeBytes { head in
                    response.body.withUnsafeBytes { body in
                        frame.trailer.withUnsafeBytes { trailer in
                            igmedia_fcgx_write_pieces(
                                request, header.baseAddress, header.count, head.baseAddress, head.count,
                                body.baseAddress, body.count, trailer.baseAddress, trailer.count)
                        }
                    }
                }
            }
        } else {
            let records = FastCGIRecords.response(requestID: requestID, head: head, body: response.body)
            written = records.withUnsafeBytes {
                igmedia_fcgx_write_pieces(request, $0.baseAddress, $0.count, nil, 0, nil, 0, nil, 0)
            }
        }
        return written == 0
    }
}

extension FastCGIConnection {
    struct SocketError: Error, CustomStringConvertible {
        let description: String
    }

    /// `FCGX_Init`; call once before any slot is made.
    static func initializeLibrary() throws(SocketError) {
        guard FCGX_Init() == 0 else { throw SocketError(description: "FCGX_Init failed") }
    }

    /// True when fd 0 is a listening socket handed over by systemd or spawn-fcgi.
    static var hasInheritedSocket: Bool { FCGX_IsCGI() == 0 }

    /// Listens on a unix socket path (`/run/x.sock`) or `HOST:PORT`; returns the descriptor.
    static func listen(on address: String, backlog: Int32 = 1024) throws(SocketError) -> Int32 {
        let fd = FCGX_OpenSocket(address, backlog)
        guard fd >= 0 else { throw SocketError(description: "cannot listen on \(address)") }
        return fd
    }
}
