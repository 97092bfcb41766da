import Testing

@testable import IGMediaLogic

@Suite("CloudinaryClient errors")
struct CloudinaryClientErrorTests {
    typealias Fixture = CloudinaryFixture

    struct StatusCase: Sendable, CustomTestStringConvertible {
        let status: Int
        let kind: UpstreamError.Kind
        var testDescription: String { "\(status) → \(kind.rawValue)" }
    }

    static let statusTable: [StatusCase] = [
        StatusCase(status: 400, kind: .rejected), StatusCase(status: 401, kind: .auth),
        StatusCase(status: 403, kind: .auth), StatusCase(status: 404, kind: .rejected),
        StatusCase(status: 409, kind: .rejected), StatusCase(status: 420, kind: .rateLimited),
        StatusCase(status: 423, kind: .server), StatusCase(status: 429, kind: .rateLimited),
        StatusCase(status: 500, kind: .server), StatusCase(status: 503, kind: .server),
    ]

    /// Uploads one asset against a transport that always answers `respond`.
    func uploadFailure(_ respond: @escaping RecordingTransport.Responder) throws -> (UpstreamError, Int) {
        let transport = RecordingTransport(respond: respond)
        let result = Fixture.client(transport).upload([Fixture.upload("17895695668004550")])[0]
        return (try #require(Fixture.failure(result)), transport.recorded.count)
    }

    @Test("maps HTTP statuses to error kinds, keeping Cloudinary's message", arguments: statusTable)
    func statusMapping(entry: StatusCase) throws {
        let (error, attempts) = try uploadFailure { _ in Fixture.error(entry.status, "Something went wrong") }
        #expect(error.service == "cloudinary")
        #expect(error.kind == entry.kind)
        #expect(error.status == entry.status)
        #expect(error.message == "Something went wrong")
        #expect(attempts == (error.isTransient ? 2 : 1))
    }

    @Test("a 200 answer that is an HTML page is malformed")
    func htmlOnSuccessIsMalformed() throws {
        let (error, attempts) = try uploadFailure { _ in
            .success(RecordingTransport.response(200, "<html><body>Login</body></html>", contentType: "text/html"))
        }
        #expect(error.kind == .malformed)
        #expect(error.status == 200)
        #expect(attempts == 1)
    }

    @Test("an HTML error page keeps the kind of its status and says it was not JSON")
    func htmlErrorPage() throws {
        let (error, attempts) = try uploadFailure { _ in
            .success(RecordingTransport.response(502, "<html><h1>502 Bad Gateway</h1></html>", contentType: "text/html"))
        }
        #expect(error.kind == .server)
        #expect(error.message.contains("text/html"))
        #expect(attempts == 2)
    }

    @Test("a 200 answer without secure_url is malformed")
    func missingSecureURL() throws {
        let (error, _) = try uploadFailure { _ in .success(RecordingTransport.response(200, #"{"public_id":"x"}"#)) }
        #expect(error.kind == .malformed)
    }

    @Test("transport failures and timeouts keep their kind", arguments: [
        (TransportError.timeout, UpstreamError.Kind.timeout),
        (TransportError.connectionFailed("Connection refused"), UpstreamError.Kind.transport),
    ])
    func transportFailures(failure: TransportError, kind: UpstreamError.Kind) throws {
        let (error, attempts) = try uploadFailure { _ in .failure(failure) }
        #expect(error.kind == kind)
        #expect(attempts == 2)
    }

    @Test("descriptions never carry the API secret, a signature or a signed CDN query")
    func redaction() throws {
        let (error, _) = try uploadFailure { call in
            let signature = call.field("signature") ?? ""
            return Fixture.error(
                401, "Invalid Signature \(signature). String to sign - 'public_id=x&timestamp=1'. "
                    + "Expected \(String(repeating: "ab12", count: 16)) with \(Fixture.apiSecret)")
        }
        let (gone, _) = try uploadFailure { call in
            Fixture.error(400, "Resource not found - \(call.field("file") ?? "")")
        }
        for text in [error.description, gone.description, error.message, gone.message] {
            #expect(!text.contains(Fixture.apiSecret))
            #expect(!text.contains("ab12ab12ab12ab12ab12ab12ab12ab12"))
            #expect(!text.contains("oh=00_abc"))
            #expect(!text.contains("oe="))
        }
        #expect(error.message.hasPrefix("Invalid Signature [redacted]. String to sign"))
        #expect(gone.message == "Resource not found - https://cdn.example.test/v/17895695668004550.jpg?[query removed]")
    }

    @Test("the signature of the very request is redacted too")
    func ownSignatureRedacted() throws {
        let (error, _) = try uploadFailure { call in
            Fixture.error(401, "Invalid Signature \(call.field("signature") ?? "")")
        }
        let transport = RecordingTransport(respond: Fixture.uploaded)
        _ = Fixture.client(transport).upload([Fixture.upload("17895695668004550")])
        // The clock is frozen, so this second request carries the same signature.
        let sent = transport.recorded.first?.field("signature") ?? "?"
        #expect(sent.count == 40)
        #expect(!error.description.contains(sent))
    }

    @Test("long messages are clipped and control characters flattened")
    func clipping() throws {
        let (error, _) = try uploadFailure { _ in
            Fixture.error(400, "line one\\nline two " + String(repeating: "x", count: 1000))
        }
        #expect(error.message.count <= CloudinaryClient.maxMessageCharacters + 1)
        #expect(error.message.hasPrefix("line one line two xxx"))
        #expect(error.message.hasSuffix("…"))
    }

    @Test("the x-request-id of a failure is kept for support")
    func requestID() throws {
        let (error, _) = try uploadFailure { _ in
            .success(HTTPClientResponse(
                status: 400, headers: HTTPHeaders([("Content-Type", "application/json"), ("X-Request-Id", "req-7f3a")]),
                body: Array(#"{"error":{"message":"Invalid image file"}}"#.utf8)))
        }
        #expect(error.message == "Invalid image file [x-request-id req-7f3a]")
    }
}
