/// The seed's JSON envelope: `{"success":true,"data":…}` and
/// `{"success":false,"code":"…","errorMessage":"…"}`.
public enum Envelope {
    public static func success(_ data: JSONValue, status: HTTPStatus = .ok) -> Response {
        var writer = JSONWriter()
        writer.appendASCII("{\"success\":true,\"data\":")
        writer.write(data)
        writer.appendASCII("}")
        return .json(status, body: writer.bytes)
    }

    /// Wraps `data` that is already serialised JSON, without decoding it.
    public static func successRaw(dataPrefix: StaticString, raw: [UInt8], dataSuffix: StaticString) -> Response {
        var writer = JSONWriter(capacity: raw.count + 64)
        writer.appendASCII("{\"success\":true,\"data\":")
        writer.appendASCII(dataPrefix)
        writer.writeRaw(raw)
        writer.appendASCII(dataSuffix)
        writer.appendASCII("}")
        return .json(.ok, body: writer.bytes)
    }

    public static func failure(_ error: HTTPError) -> Response {
        let body = JSONValue.object([
            ("success", .bool(false)),
            ("code", .string(error.code.rawValue)),
            ("errorMessage", .string(error.message)),
        ])
        var response = Response.json(error.status, body: JSONWriter.encode(body))
        for (name, value) in error.headers { response.headers.add(name, value) }
        return response
    }
}
