import CCurl

/// The only libcurl user: pooled easy handles (kept-alive connections per thread) and the multi
/// interface for bounded parallel requests.
public final class CurlTransport: HTTPTransport {
    private let pool = ResourcePool<EasyHandle>(maxIdle: 128)
    private let maxResponseBytes: Int
    private let truncatesResponses: Bool
    private let publicAddressesOnly: Bool

    /// The `connectionFailed` reason of a connection refused by `publicAddressesOnly`.
    public static let refusedAddress = "the address is not a public one"

    /// `curl_global_init` must run once before any thread uses curl.
    private static let globalInit: Bool = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        return true
    }()

    /// `truncatesResponses`: a body over `maxResponseBytes` is cut there instead of failing the
    /// request (webhook answers: only the status matters). `publicAddressesOnly`: every
    /// connection is checked at the address curl is about to connect to, after DNS (no proxy
    /// is used then), and refused for loopback, private, link-local and reserved ranges.
    public init(maxResponseBytes: Int = 32 << 20, truncatesResponses: Bool = false, publicAddressesOnly: Bool = false) {
        _ = Self.globalInit
        self.maxResponseBytes = maxResponseBytes
        self.truncatesResponses = truncatesResponses
        self.publicAddressesOnly = publicAddressesOnly
    }

    public func send(_ request: HTTPClientRequest) throws(TransportError) -> HTTPClientResponse {
        let handle = pool.take() ?? EasyHandle()
        let transfer = Transfer(request: request, maxBytes: maxResponseBytes)
        transfer.truncates = truncatesResponses
        transfer.publicOnly = publicAddressesOnly
        transfer.configure(handle.raw)
        let code = curl_easy_perform(handle.raw)
        let result = transfer.finish(handle.raw, code: code)
        pool.give(handle)
        return try result.get()
    }

    public func sendAll(_ requests: [HTTPClientRequest], concurrency: Int) -> [Result<HTTPClientResponse, TransportError>] {
        guard requests.count > 1, concurrency > 1 else {
            return requests.map { request in Result { () throws(TransportError) in try send(request) } }
        }
        guard let multi = curl_multi_init() else {
            return requests.map { _ in .failure(.failed("curl_multi_init")) }
        }
        defer { curl_multi_cleanup(multi) }
        var results = [Result<HTTPClientResponse, TransportError>?](repeating: nil, count: requests.count)
        var active: [UnsafeMutableRawPointer: (index: Int, handle: EasyHandle, transfer: Transfer)] = [:]
        var next = 0

        func startMore() {
            while active.count < concurrency && next < requests.count {
                let handle = pool.take() ?? EasyHandle()
                let transfer = Transfer(request: requests[next], maxBytes: maxResponseBytes)
                transfer.truncates = truncatesResponses
                transfer.publicOnly = publicAddressesOnly
                transfer.configure(handle.raw)
                curl_multi_add_handle(multi, handle.raw)
                active[handle.raw] = (next, handle, transfer)
                next += 1
            }
        }

        startMore()
        var running: Int32 = 0
        repeat {
            curl_multi_perform(multi, &running)
            var queued: Int32 = 0
            while let message = curl_multi_info_read(multi, &queued) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                      let entry = active.removeValue(forKey: easy) else { continue }
                let code = message.pointee.data.result
                curl_multi_remove_handle(multi, easy)
                results[entry.index] = entry.transfer.finish(entry.handle.raw, code: code)
                pool.give(entry.handle)
            }
            startMore()
            if !active.isEmpty {
                curl_multi_poll(multi, nil, 0, 100, nil)
            }
        } while !active.isEmpty
        return results.map { $0 ?? .failure(.failed("not sent")) }
    }
}

/// One reusable easy handle; curl keeps its connection cache across requests.
final class EasyHandle {
    let raw: UnsafeMutableRawPointer

    init() {
        // curl_easy_init only fails on out-of-memory.
        guard let handle = curl_easy_init() else { fatalError("curl_easy_init failed") }
        raw = handle
    }

    deinit { curl_easy_cleanup(raw) }
}

/// The state of one request on a handle: body, headers, collected response.
final class Transfer {
    let request: HTTPClientRequest
    let maxBytes: Int
    var body: [UInt8] = []
    var headerLines: [String] = []
    var overflow = false
    var truncates = false
    var publicOnly = false
    /// Set by the C open-socket check when it refused an address.
    let refused = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var requestBody: [CChar] = []

    init(request: HTTPClientRequest, maxBytes: Int) {
        self.request = request
        self.maxBytes = maxBytes
    }

    deinit {
        curl_slist_free_all(headerList)
        refused.deallocate()
    }

    func configure(_ h: UnsafeMutableRawPointer) {
        curl_easy_reset(h)
        igm_curl_setopt_string(h, CURLOPT_URL, request.url)
        igm_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        igm_curl_setopt_long(h, CURLOPT_TIMEOUT_MS, request.timeoutMilliseconds)
        igm_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, min(request.timeoutMilliseconds, 5000))
        igm_curl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 0)
        if publicOnly {
            refused.pointee = 0
            igm_curl_public_addresses_only(h, refused)
            igm_curl_setopt_string(h, CURLOPT_PROXY, "")
        }
        igm_curl_setopt_string(h, CURLOPT_PROTOCOLS_STR, "http,https")
        igm_curl_setopt_string(h, CURLOPT_ACCEPT_ENCODING, "")
        igm_curl_setopt_string(h, CURLOPT_USERAGENT, "igmedia/1.0")
        switch request.method {
        case "GET": igm_curl_setopt_long(h, CURLOPT_HTTPGET, 1)
        case "HEAD": igm_curl_setopt_long(h, CURLOPT_NOBODY, 1)
        default:
            igm_curl_setopt_string(h, CURLOPT_CUSTOMREQUEST, request.method)
        }
        if request.method != "GET" && request.method != "HEAD" {
            // A trailing NUL keeps the buffer non-empty; the size excludes it.
            requestBody = request.body.map { CChar(bitPattern: $0) } + [0]
            igm_curl_setopt_off_t(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count))
            requestBody.withUnsafeMutableBufferPointer { buffer in
                // COPYPOSTFIELDS copies, so the buffer need not outlive this call.
                _ = igm_curl_setopt_pointer(h, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(buffer.baseAddress))
            }
        }
        // "Expect: 100-continue" costs a round trip on every POST over 1 KB.
        headerList = curl_slist_append(headerList, "Expect:")
        for (name, value) in request.headers {
            headerList = curl_slist_append(headerList, "\(name): \(value)")
        }
        igm_curl_setopt_slist(h, CURLOPT_HTTPHEADER, headerList)
        let me = Unmanaged.passUnretained(self).toOpaque()
        igm_curl_setopt_write_cb(h, CURLOPT_WRITEFUNCTION, { data, size, count, context in
            guard let context, let data else { return 0 }
            let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
            let length = size * count
            if transfer.body.count + length > transfer.maxBytes {
                transfer.overflow = true
                return 0
            }
            data.withMemoryRebound(to: UInt8.self, capacity: length) {
                transfer.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
            }
            return length
        })
        igm_curl_setopt_pointer(h, CURLOPT_WRITEDATA, me)
        igm_curl_setopt_write_cb(h, CURLOPT_HEADERFUNCTION, { data, size, count, context in
            guard let context, let data else { return 0 }
            let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
            let length = size * count
            let line = data.withMemoryRebound(to: UInt8.self, capacity: length) {
                String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
            }
            if line.hasPrefix("HTTP/") { transfer.headerLines.removeAll() }
            transfer.headerLines.append(line)
            return length
        })
        igm_curl_setopt_pointer(h, CURLOPT_HEADERDATA, me)
    }

    func finish(_ h: UnsafeMutableRawPointer, code: CURLcode) -> Result<HTTPClientResponse, TransportError> {
        switch code {
        case CURLE_OK:
            var status = 0
            igm_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
            var headers = HTTPHeaders()
            for line in headerLines {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let name = String(line[..<colon])
                let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: " \t\r\n")
                headers.add(name, value)
            }
            var response = HTTPClientResponse(status: status, headers: headers, body: body)
            var seconds = 0.0
            if igm_curl_getinfo_double(h, CURLINFO_TOTAL_TIME, &seconds) == CURLE_OK, seconds >= 0 {
                response.elapsedNanoseconds = UInt64(seconds * 1e9)
            }
            return .success(response)
        case CURLE_WRITE_ERROR where overflow && truncates:
            var status = 0
            igm_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
            return .success(HTTPClientResponse(status: status, body: body))
        case _ where publicOnly && refused.pointee != 0:
            return .failure(.connectionFailed(CurlTransport.refusedAddress))
        case CURLE_OPERATION_TIMEDOUT:
            return .failure(.timeout)
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .failure(.connectionFailed("curl error \(code.rawValue)"))
        case CURLE_WRITE_ERROR where overflow:
            return .failure(.responseTooLarge)
        default:
            return .failure(.failed("curl error \(code.rawValue)"))
        }
    }
}
