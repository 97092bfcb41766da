import Testing

@testable import IGMediaLogic

@Suite("AppConfig")
struct AppConfigTests {
    static let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  // 32 bytes
    static let minimal = [
        "REDIS_URL": "redis://127.0.0.1:6379", "ENCRYPTION_KEY": key, "SYNC_INTERNAL_SECRET": "0123456789abcdef",
        "REGISTRATION_SECRET": "registration-secret-0123",
    ]

    @Test("applies the seed's defaults")
    func defaults() throws {
        let config = try AppConfig(environment: Self.minimal)
        #expect(config.port == nil, "no TCP listener unless PORT is set")
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
        #expect(config.warnings.count == 2, "QStash and Cloudinary off")
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

    // ---- The security review (issue [2/6]) -------------------------------------------------------

    @Test("registration is closed by default: no secret, or a short one, refuses to start")
    func registrationClosedByDefault() throws {
        var env = Self.minimal
        env["REGISTRATION_SECRET"] = nil
        #expect(throws: ConfigurationError.self) { try AppConfig(environment: env) }
        env["REGISTRATION_SECRET"] = "x"
        do {
            _ = try AppConfig(environment: env)
            Issue.record("a one-character secret was accepted")
        } catch {
            #expect(error.problems == ["REGISTRATION_SECRET must be at least 16 characters"])
        }
    }

    @Test("REGISTRATION_OPEN=1 chooses open registration, with a warning; a secret still wins")
    func registrationOpen() throws {
        var env = Self.minimal
        env["REGISTRATION_SECRET"] = nil
        env["REGISTRATION_OPEN"] = "1"
        let open = try AppConfig(environment: env)
        #expect(open.registrationSecret == nil)
        #expect(open.warnings.contains { $0.contains("POST /register is open") })
        env["REGISTRATION_SECRET"] = "registration-secret-0123"
        let closed = try AppConfig(environment: env)
        #expect(closed.registrationSecret == "registration-secret-0123")
        #expect(closed.warnings.contains { $0.contains("REGISTRATION_OPEN is ignored") })
        env["REGISTRATION_OPEN"] = "maybe"
        #expect(throws: ConfigurationError.self) { try AppConfig(environment: env) }
    }

    @Test("http:// upstream URLs are refused unless loopback or ALLOW_INSECURE_UPSTREAM=1", arguments: [
        "UPSTASH_REDIS_REST_URL", "QSTASH_URL", "CLOUDINARY_API_URL", "INSTAGRAM_API_URL", "INSTAGRAM_GRAPH_URL",
        "FACEBOOK_GRAPH_URL",
    ])
    func insecureUpstream(name: String) throws {
        var env = Self.minimal
        if name == "UPSTASH_REDIS_REST_URL" {
            env["REDIS_URL"] = nil
            env["UPSTASH_REDIS_REST_TOKEN"] = "t"
        }
        for loopback in ["http://127.0.0.1:9", "http://127.3.4.5", "http://localhost:8080/x", "http://[::1]:9", "https://example.com"] {
            env[name] = loopback
            _ = try AppConfig(environment: env)
        }
        for remote in ["http://example.com", "http://127.0.0.1.example.com", "http://user:pw@10.0.0.1:80", "http://[::2]:9",
                       "http://localhost.evil.test"] {
            env[name] = remote
            do {
                _ = try AppConfig(environment: env)
                Issue.record("\(name)=\(remote) was accepted")
            } catch {
                #expect(error.problems.count == 1 && error.problems[0].hasPrefix("\(name) uses http://"), "\(error.problems)")
                #expect(!error.description.contains("pw@"))
            }
        }
        env["ALLOW_INSECURE_UPSTREAM"] = "1"
        env[name] = "http://example.com"
        let config = try AppConfig(environment: env)
        #expect(config.warnings.contains { $0.contains("ALLOW_INSECURE_UPSTREAM=1") })
    }

    @Test("PORT and FCGI_WEB_SERVER_ADDRS")
    func tcpListener() throws {
        var env = Self.minimal
        env["PORT"] = "3000"
        env["FCGI_WEB_SERVER_ADDRS"] = "10.0.0.5, 10.0.0.6"
        let config = try AppConfig(environment: env)
        #expect(config.port == 3000)
        #expect(config.fcgiWebServerAddresses == ["10.0.0.5", "10.0.0.6"])
        for bad in ["10.0.0", "10.0.0.256", "::1", ",", "host.example"] {
            env["FCGI_WEB_SERVER_ADDRS"] = bad
            #expect(throws: ConfigurationError.self, "\(bad)") { try AppConfig(environment: env) }
        }
    }
}
