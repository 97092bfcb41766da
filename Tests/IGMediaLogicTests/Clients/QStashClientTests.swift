import Testing

@testable import IGMediaLogic

@Suite("QStashClient")
struct QStashClientTests {
    static func client(_ transport: ScriptedTransport) -> QStashClient {
        QStashClient(baseURL: "https://qstash.test/", token: "qstash-token-0123", transport: transport, timeoutMilliseconds: 1500)
    }

    static func message(_ tenant: String) -> QStashClient.Message {
        QStashClient.Message(
            destination: "https://igmedia.test/sync/\(tenant)", body: Array(#"{"tenantId":"\#(tenant)"}"#.utf8),
            deduplicationID: "sync-\(tenant)")
    }

    @Test("publishes every message, in order, a duplicate (200 or 202) included")
    func publishes() throws {
        let transport = ScriptedTransport()
        transport.on("POST", "qstash.test/v2/publish/https://igmedia.test/sync/a", .json(#"{"messageId":"msg_a"}"#))
        transport.on(
            "POST", "qstash.test/v2/publish/https://igmedia.test/sync/b",
            .json(#"{"messageId":"msg_old","deduplicated":true}"#, status: 202))
        let results = Self.client(transport).publishAll([Self.message("a"), Self.message("b")])
        #expect(try results[0].get() == QStashClient.Published(messageID: "msg_a", deduplicated: false))
        #expect(try results[1].get() == QStashClient.Published(messageID: "msg_old", deduplicated: true))
        #expect(transport.requests.map(\.path) == ["/v2/publish/https://igmedia.test/sync/a", "/v2/publish/https://igmedia.test/sync/b"])
    }

    @Test("a failure is reported for its message, once and not retried; the others are published", arguments: [
        ScriptedTransport.Reply.json(#"{"error":"internal"}"#, status: 500), .failure(.timeout),
        .failure(.connectionFailed("curl error 7")), .json(#"{"error":"rate limit"}"#, status: 429),
        .json(#"{"error":"token qstash-token-0123 is not valid"}"#, status: 401),
    ])
    func failureNotRetried(reply: ScriptedTransport.Reply) throws {
        let transport = ScriptedTransport()
        transport.on("POST", "qstash.test/v2/publish/https://igmedia.test/sync/bad", reply)
        transport.on("POST", "qstash.test/v2/publish/https://igmedia.test/sync/good", .json(#"{"messageId":"msg_g"}"#))
        let results = Self.client(transport).publishAll([Self.message("bad"), Self.message("good")])
        guard case .failure(let error) = results[0] else {
            Issue.record("the failing publish succeeded")
            return
        }
        #expect(error.service == "qstash" && !error.description.contains("qstash-token-0123"))
        #expect(try results[1].get().messageID == "msg_g")
        #expect(transport.requests.count == 2)
    }

    @Test("a 2xx without a messageId is malformed")
    func noMessageID() {
        let transport = ScriptedTransport()
        transport.on("POST", "qstash.test/v2/publish/", .json(#"{"url":"https://igmedia.test/sync/a"}"#))
        let results = Self.client(transport).publishAll([Self.message("a")])
        guard case .failure(let error) = results[0] else {
            Issue.record("published without a messageId")
            return
        }
        #expect(error.kind == .malformed && error.message == "no messageId in the answer")
    }
}
