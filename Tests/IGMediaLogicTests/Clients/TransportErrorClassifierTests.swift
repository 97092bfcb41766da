import Testing

@testable import IGMediaLogic

/// curl's failures, the same for every vendor.
@Suite("TransportErrorClassifier")
struct TransportErrorClassifierTests {
    static func classify(_ error: TransportError) -> UpstreamError {
        TransportErrorClassifier.error(error, service: "cloudinary", timeoutMilliseconds: 2500)
    }

    @Test("timeouts, refused connections, DNS failures, resets and TLS failures are retried", arguments: [
        (TransportError.timeout, UpstreamError.Kind.timeout, "no answer within 2500 ms"),
        (.connectionFailed("curl error 7"), .transport, "connection failed: curl error 7"),
        (.connectionFailed("curl error 6"), .transport, "connection failed: curl error 6"),
        (.failed("curl error 56"), .transport, "transport failed: curl error 56"),
        (.failed("curl error 35"), .transport, "transport failed: curl error 35"),
    ])
    func retried(error: TransportError, kind: UpstreamError.Kind, message: String) {
        let classified = Self.classify(error)
        #expect(classified.failure == .retry && classified.kind == kind)
        #expect(classified.message == message && classified.status == nil && classified.service == "cloudinary")
    }

    @Test("an answer larger than the transport takes is not: it would be as large again")
    func tooLarge() {
        #expect(Self.classify(.responseTooLarge).failure == .giveUp)
        #expect(Self.classify(.responseTooLarge).message == "response too large")
    }
}
