import IGMediaLogic

/// Feeds `CGIRequestDecoder` the params libfcgi hands the listener.
///
/// Framing: the input split at NUL bytes gives name, value, name, value, …; the last chunk is the
/// body. Chunks become strings the way the listener's `String(cString:)` makes them (invalid UTF-8
/// repaired), and NUL can never occur inside a param, exactly as over FastCGI.
enum CGIRequestDecoderFuzzer {
    static let maxBodyBytes = 1 << 20

    static func run(_ input: [UInt8]) {
        let chunks = input.split(separator: 0, omittingEmptySubsequences: false)
        let body = Array(chunks.count > 1 ? chunks[chunks.count - 1] : [])
        let strings = chunks.dropLast(chunks.count > 1 ? 1 : 0).map { String(decoding: $0, as: UTF8.self) }
        var params: [(String, String)] = []
        var index = 0
        while index < strings.count {
            params.append((strings[index], index + 1 < strings.count ? strings[index + 1] : ""))
            index += 2
        }

        checkBodyPlan(params.first(where: { $0.0 == "CONTENT_LENGTH" })?.1)
        let request: Request
        do {
            request = try CGIRequestDecoder.decode(params: params, body: body)
        } catch {
            require(error.status == .badRequest, "decode threw \(error.status.code), not 400")
            checkRejection(params: params)
            return
        }
        checkPath(request, params: params)
        checkQuery(request, params: params)
        require(request.body == body, "the body changed")
        require(request.method == request.method.uppercased(), "the method is not upper case")
    }

    /// `.read(n)` only for a plain decimal length within the limit; anything else is refused.
    static func checkBodyPlan(_ contentLength: String?) {
        switch CGIRequestDecoder.bodyPlan(contentLength: contentLength, maxBodyBytes: maxBodyBytes) {
        case .read(let length):
            require(length >= 0 && length <= maxBodyBytes, "body plan reads \(length) bytes")
            if let text = contentLength, !text.isEmpty {
                require(text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }, "a non-digit length was accepted")
                require(Int(text) == length, "the plan's length differs from CONTENT_LENGTH")
            } else {
                require(length == 0, "no CONTENT_LENGTH but a body of \(length)")
            }
        case .tooLarge:
            require(contentLength.flatMap { Int($0) }.map { $0 > maxBodyBytes } ?? false, "too large, but it is not")
        case .invalidLength:
            require(contentLength.map { !$0.isEmpty } ?? false, "an absent length was called invalid")
        }
    }

    /// A path decoded from REQUEST_URI equals a byte-level reference decoding: split at `/` bytes
    /// (so `%2F` never becomes a separator), each segment strictly percent-decoded, and no segment
    /// `..`, holding `/` or NUL. The DOCUMENT_URI fallback is nginx's own normalised path.
    static func checkPath(_ request: Request, params: [(String, String)]) {
        guard let raw = params.last(where: { $0.0 == "REQUEST_URI" })?.1, raw.utf8.first == UInt8(ascii: "/") else {
            let documentURI = params.last(where: { $0.0 == "DOCUMENT_URI" })?.1 ?? "/"
            require(request.path.utf8.elementsEqual(documentURI.utf8), "the fallback path is not DOCUMENT_URI")
            return
        }
        guard let expected = referencePath(Array(raw.utf8)) else {
            fatalError("CGI invariant violated: decoded \(hex(request.path)), the reference rejects it")
        }
        require(request.path.utf8.elementsEqual(expected), "path \(hex(request.path)) != reference \(hex(expected))")
    }

    /// A 400 only for a path the reference rejects or a query that is not strict percent-encoding.
    static func checkRejection(params: [(String, String)]) {
        let queryString = params.last(where: { $0.0 == "QUERY_STRING" })?.1 ?? ""
        if (try? PercentDecoding.decodeQuery(queryString)) == nil { return }
        if let raw = params.last(where: { $0.0 == "REQUEST_URI" })?.1, raw.utf8.first == UInt8(ascii: "/") {
            require(referencePath(Array(raw.utf8)) == nil, "rejected \(hex(raw)), which the reference accepts")
        } else {
            fatalError("CGI invariant violated: rejected a request whose path is DOCUMENT_URI")
        }
    }

    /// Nil when the path must be rejected.
    static func referencePath(_ uri: [UInt8]) -> [UInt8]? {
        let path = uri.prefix(while: { $0 != UInt8(ascii: "?") })
        var out: [UInt8] = []
        for (index, segment) in path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).enumerated() {
            if index > 0 { out.append(UInt8(ascii: "/")) }
            guard let decoded = percentDecode(segment), String(validating: decoded, as: UTF8.self) != nil,
                  !decoded.contains(UInt8(ascii: "/")), !decoded.contains(0), decoded != Array("..".utf8)
            else { return nil }
            out += decoded
        }
        return out
    }

    static func percentDecode(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            guard bytes[index] == UInt8(ascii: "%") else {
                out.append(bytes[index])
                index += 1
                continue
            }
            guard index + 3 <= bytes.endIndex,
                  let high = hexDigit(bytes[index + 1]), let low = hexDigit(bytes[index + 2])
            else { return nil }
            out.append(high << 4 | low)
            index += 3
        }
        return out
    }

    static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    static func hex(_ text: String) -> String { hex(text.utf8) }

    /// The raw query is kept verbatim, and each decoded pair survives encode → decode.
    static func checkQuery(_ request: Request, params: [(String, String)]) {
        let queryString = params.last(where: { $0.0 == "QUERY_STRING" })?.1 ?? ""
        require(request.rawQuery == queryString, "rawQuery is not QUERY_STRING")
        for (name, value) in request.query {
            for text in [name, value] {
                let again = try? PercentDecoding.decode(Substring(PercentDecoding.encode(text)), plusIsSpace: true)
                require(again.map { $0.utf8.elementsEqual(text.utf8) } ?? false, "percent-encoding does not round-trip")
            }
        }
    }

    static func require(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { fatalError("CGI invariant violated: \(message())") }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    CGIRequestDecoderFuzzer.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
