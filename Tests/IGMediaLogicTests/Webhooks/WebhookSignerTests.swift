import Testing

@testable import IGMediaLogic

@Suite("Webhooks: Standard Webhooks signing and destinations")
struct WebhookSignerTests {
    @Test("the reference vectors: the library's, ours (key bytes 0x01…0x20) and a rotation's two signatures")
    func vectors() {
        #expect(
            WebhookSigner.signature(
                id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8),
                secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]) == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        let body = Array(#"{"type":"media.synced","timestamp":"2023-11-14T22:13:20Z","data":{"tenant":"t1","media_id":"17895695668004550"}}"#.utf8)
        #expect(body.count == 112)
        let ours = "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
        #expect(WebhookSigner.key(of: ours) == Array(1...32))
        #expect(
            WebhookSigner.signature(id: "evt_2Y1cMxJ9kZ0igmedia0001", timestamp: 1_700_000_000, body: body, secrets: [ours])
                == "v1,c8pa7tvqMYtf6qF7WO/Zgs+myZnSVgR+cG7YwDagq4E=")
        let old = "whsec_qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqo="
        #expect(
            WebhookSigner.signature(id: "evt_2Y1cMxJ9kZ0igmedia0001", timestamp: 1_700_000_000, body: body, secrets: [ours, old])
                == "v1,c8pa7tvqMYtf6qF7WO/Zgs+myZnSVgR+cG7YwDagq4E= v1,TXZrfuVrp8u6IkdSFRqXoSFt0GFJNhx+6i17Braccc0=")
    }

    @Test("new secrets are whsec_ and 32 random bytes; malformed secrets sign nothing")
    func secrets() {
        let secret = WebhookSigner.newSecret()
        #expect(secret.hasPrefix("whsec_") && WebhookSigner.key(of: secret)?.count == 32)
        #expect(WebhookSigner.newSecret() != secret)
        for bad in ["", "whsec_", "whsec_!!!!", "sk_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=", "whsec_AQID"] {
            #expect(WebhookSigner.key(of: bad) == nil, "\(bad)")
        }
    }

    @Test("destinations: https only, no credentials, no private literals unless allowed")
    func destinations() throws {
        let strict = WebhookDestination.Policy(allowInsecure: false, allowPrivate: false)
        #expect(try WebhookDestination.parse("https://shop.example/hooks?x=1", policy: strict).host == "shop.example")
        #expect(try WebhookDestination.parse("https://93.184.216.34:8443/h", policy: strict).host == "93.184.216.34")
        for bad in [
            "http://shop.example/h", "ftp://x/y", "https://u:p@shop.example/", "https://shop.example/#frag", "https://127.0.0.1/",
            "https://10.1.2.3/", "https://169.254.169.254/latest", "https://172.16.0.1/", "https://192.168.1.1/", "https://100.64.0.1/",
            "https://0.0.0.0/", "https://224.0.0.1/", "https://localhost/", "https://a.localhost/", "https://db.internal/",
            "https://[::1]/", "https://[fe80::1]/", "https://shop.example:0/", "https://shop.example:99999/", "https:///x", "https://sh op/",
        ] {
            #expect(throws: HTTPError.self, "\(bad)") { try WebhookDestination.parse(bad, policy: strict) }
        }
        let loose = WebhookDestination.Policy(allowInsecure: true, allowPrivate: true)
        #expect(try WebhookDestination.parse("http://127.0.0.1:8080/h", policy: loose).host == "127.0.0.1")
    }

    @Test("public-addresses-only: curl refuses loopback, private and metadata addresses at connect time, names included")
    func connectCheck() {
        let transport = CurlTransport(maxResponseBytes: 4096, truncatesResponses: true, publicAddressesOnly: true)
        for url in ["http://127.0.0.1:9/", "http://localhost:9/", "http://[::1]:9/", "http://2130706433:9/", "http://10.0.0.1:9/", "http://169.254.169.254/"] {
            let request = HTTPClientRequest(method: "POST", url: url, body: Array("{}".utf8), timeoutMilliseconds: 2000)
            #expect(throws: TransportError.connectionFailed(CurlTransport.refusedAddress), "\(url)") { try transport.send(request) }
        }
    }
}
