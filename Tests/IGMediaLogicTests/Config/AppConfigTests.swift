import Testing

@testable import IGMediaLogic

@Suite("AppConfig")
struct AppConfigTests {
    static let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  // 32 bytes
    static let minimal = [
        "REDIS_URL": "redis://127.0.0.1:6379", "ENCRYPTION_KEY": key, "SYNC_INTERNAL_SECRET": "0123456789abcdef",
    ]

    @Test("applies the seed's defaults")
    func defaults() throws {
        let config = try AppConfig(environment: Self.minimal)
        #expect(config.port == 3000)
        #expect(config.photosTTLSeconds == 604_800)
        #expect(config.instagram.timeoutMilliseconds == 10_000)
        #expect(config.keyPrefix == "")
        #expect(config.redisTimeoutMilliseconds == 2000)
        #expect(config.maxBodyBytes == 1_048_576)
        #expect(config.storage == .redis(url: "redis://127.0.0.1:6379"))
        #expect(config.encryptionKey.count == 32)
        #expect(config.qstash == nil)
        #expect(config.cloudinary == nil)
        #expect(config.instagram.graphURL == "https://graph.instagram.com")
        #expect(config.warnings.count == 3)
    }

    @Test("reports every problem at once, by name and never by value")
    func allProblems() {
        let env = [
            "PORT": "http", "ENCRYPTION_KEY": "c2hvcnQ=", "INSTAGRAM_API_TIMEOUT_MS": "-5",
            "QSTASH_TOKEN": "secret-token-value", "CLOUDINARY_API_KEY": "k", "INSTAGRAM_GRAPH_URL": "ftp://x",
        ]
        do {
            _ = try AppConfig(environment: env)
            Issue.record("expected an error")
        } catch {
            let text = error.description
            for name in ["PORT", "ENCRYPTION_KEY", "INSTAGRAM_API_TIMEOUT_MS", "SYNC_INTERNAL_SECRET", "QSTASH_CURRENT_SIGNING_KEY",
                         "CLOUDINARY_CLOUD_NAME", "INSTAGRAM_GRAPH_URL", "REDIS_URL"] {
                #expect(text.contains(name), "missing \(name)")
            }
            #expect(!text.contains("secret-token-value"))
            #expect(!text.contains("c2hvcnQ="))
            #expect(error.problems.count >= 7)
        }
    }

    @Test("refuses two storage backends at once")
    func ambiguousStorage() {
        var env = Self.minimal
        env["UPSTASH_REDIS_REST_URL"] = "https://x.upstash.io"
        env["UPSTASH_REDIS_REST_TOKEN"] = "t"
        #expect(throws: ConfigurationError.self) { try AppConfig(environment: env) }
    }

    @Test("accepts Upstash storage and complete optional groups")
    func groups() throws {
        var env = Self.minimal
        env["REDIS_URL"] = nil
        env["UPSTASH_REDIS_REST_URL"] = "http://127.0.0.1:9/"
        env["UPSTASH_REDIS_REST_TOKEN"] = "t"
        env["QSTASH_TOKEN"] = "q"
        env["QSTASH_CURRENT_SIGNING_KEY"] = "sig_a"
        env["QSTASH_NEXT_SIGNING_KEY"] = "sig_b"
        env["WEBHOOK_BASE_URL"] = "https://api.example.com"
        env["CLOUDINARY_CLOUD_NAME"] = "c"
        env["CLOUDINARY_API_KEY"] = "k"
        env["CLOUDINARY_API_SECRET"] = "s"
        let config = try AppConfig(environment: env)
        #expect(config.storage == .upstash(url: "http://127.0.0.1:9", token: "t"))
        #expect(config.qstash?.webhookBaseURL == "https://api.example.com")
        #expect(config.cloudinary?.concurrency == 16)
    }

    @Test("refuses rediss:// and unknown schemes", arguments: ["rediss://h:1", "http://h:1", "h:6379"])
    func redisSchemes(url: String) {
        var env = Self.minimal
        env["REDIS_URL"] = url
        #expect(throws: ConfigurationError.self) { try AppConfig(environment: env) }
    }
}
