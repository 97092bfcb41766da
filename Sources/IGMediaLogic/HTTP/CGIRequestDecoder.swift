/// The one place that turns FastCGI/CGI parameters into a `Request`.
public enum CGIRequestDecoder {
    /// What to do with the request body, decided from CONTENT_LENGTH before reading it.
    public enum BodyPlan: Equatable, Sendable {
        case read(Int)
        case tooLarge
        case invalidLength
    }

    public static func bodyPlan(contentLength: String?, maxBodyBytes: Int) -> BodyPlan {
        guard let text = contentLength, !text.isEmpty else { return .read(0) }
        guard text.utf8.count <= 19, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let length = Int(text) else {
            return .invalidLength
        }
        return length > maxBodyBytes ? .tooLarge : .read(length)
    }

    /// Builds the request. Throws a 400 `HTTPError` for a URI that cannot be decoded.
    public static func decode(params: [(String, String)], body: [UInt8]) throws(HTTPError) -> Request {
        var method = "GET"
        var documentURI: String?
        var requestURI: String?
        var queryString = ""
        var requestID = ""
        var headers = HTTPHeaders()
        for (name, value) in params {
            switch name {
            case "REQUEST_METHOD": method = value.uppercased()
            case "DOCUMENT_URI": documentURI = value
            case "REQUEST_URI": requestURI = value
            case "QUERY_STRING": queryString = value
            case "REQUEST_ID": requestID = value
            case "CONTENT_TYPE": if !value.isEmpty { headers.add("Content-Type", value) }
            case "CONTENT_LENGTH": if !value.isEmpty { headers.add("Content-Length", value) }
            default:
                if name.hasPrefix("HTTP_"), name.utf8.count > 5 {
                    headers.add(headerName(fromCGI: name), value)
                }
            }
        }
        let path = try decodePath(requestURI: requestURI, documentURI: documentURI)
        let query: [(String, String)]
        do {
            query = try PercentDecoding.decodeQuery(queryString)
        } catch {
            throw HTTPError.validation("Malformed percent-encoding in the query string")
        }
        return Request(
            method: method, path: path, rawQuery: queryString, query: query,
            headers: headers, body: body, requestID: requestID)
    }

    /// `HTTP_X_FORWARDED_FOR` → `x-forwarded-for`.
    static func headerName(fromCGI name: String) -> String {
        // Bytes, not Characters: this runs for every header of every request.
        String(decoding: name.utf8.dropFirst(5).map { byte -> UInt8 in
            switch byte {
            case UInt8(ascii: "_"): return UInt8(ascii: "-")
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): return byte | 0x20
            default: return byte
            }
        }, as: UTF8.self)
    }

    /// Decodes the path segment by segment from the raw request URI, so `%2F` inside a segment
    /// cannot turn into a separator. Falls back to nginx's (already decoded) DOCUMENT_URI.
    ///
    /// Splits and checks bytes, not Characters: `/` or `?` followed by a combining mark is a single
    /// Character, so `"/\u{301}".contains("/")` is false and `a%2F%CC%81b` would put a `/` in the path.
    static func decodePath(requestURI: String?, documentURI: String?) throws(HTTPError) -> String {
        guard let raw = requestURI, raw.utf8.first == UInt8(ascii: "/") else {
            return documentURI ?? "/"
        }
        let pathPart = raw.utf8.prefix(while: { $0 != UInt8(ascii: "?") })
        var decoded = ""
        decoded.reserveCapacity(pathPart.count)
        for (index, segment) in pathPart.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).enumerated() {
            if index > 0 { decoded.append("/") }
            let text: String
            do {
                text = try PercentDecoding.decode(Substring(segment), plusIsSpace: false)
            } catch {
                throw HTTPError.validation("Malformed percent-encoding in the path")
            }
            if text.utf8.contains(UInt8(ascii: "/")) || text.utf8.elementsEqual("..".utf8) || text.utf8.contains(0) {
                throw HTTPError.validation("Invalid path segment")
            }
            decoded.append(text)
        }
        return decoded.isEmpty ? "/" : decoded
    }
}
