import Foundation

@testable import IGMediaLogic

/// The Instagram / Graph fake from Tests/fakes (`python3 -m Tests.fakes.instagram`), private to
/// one test, with its control API (accounts, tokens, codes, clock) driven over loopback.
final class InstagramFakeProcess: @unchecked Sendable {
    static let instagramAppID = "1234567890123456"
    static let instagramAppSecret = "ig-test-app-secret"
    static let facebookAppID = "6543210987654321"
    static let facebookAppSecret = "fb-test-app-secret"

    let baseURL: String
    private let process: Process
    private let control: APIClientCore

    init(tokenStyle: String = "data") throws {
        let ready = makeTemporaryDirectory("instagram").appendingPathComponent("ready")
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-m", "Tests.fakes.instagram", "--port", "0", "--ready-file", ready.path, "--token-style", tokenStyle,
        ]
        process.currentDirectoryURL = repositoryRoot
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var url: String?
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline, url == nil {
            if let text = try? String(contentsOf: ready, encoding: .utf8), !text.isEmpty {
                url = text.trimmingCharacters(in: .whitespacesAndNewlines)
            } else {
                usleep(50_000)
            }
        }
        guard let url else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw TestProcessError(description: "Instagram fake did not start")
        }
        baseURL = url
        control = APIClientCore(service: "instagram-fake", baseURL: url, transport: CurlTransport(), timeoutMilliseconds: 5000)
    }

    deinit {
        if process.isRunning {
            // SIGKILL: children inherit the test runner's blocked-signal mask, so SIGTERM may be ignored.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Base URLs standing for api.instagram.com, graph.instagram.com and graph.facebook.com.
    func config(timeoutMilliseconds: Int = 5000) -> AppConfig.Instagram {
        AppConfig.Instagram(
            apiURL: baseURL + "/api", graphURL: baseURL + "/graph", facebookGraphURL: baseURL + "/facebook",
            graphVersion: "v23.0", timeoutMilliseconds: timeoutMilliseconds, mediaLimit: 100, tokenRefreshAfterHours: 24,
            redirectURI: nil)
    }

    /// Calls `/__control/<path>` with a JSON body and returns the JSON answer.
    @discardableResult
    func control(_ method: String, _ path: String, _ body: JSONValue? = nil, query: [(String, String)] = []) throws -> JSONValue {
        let request = control.request(
            method, "/__control/" + path, query: query, headers: [("Content-Type", "application/json")],
            body: body.map(JSONWriter.encode) ?? [])
        let response = try control.send(request)
        guard (200..<300).contains(response.status) else {
            throw TestProcessError(description: "control \(method) \(path): HTTP \(response.status)")
        }
        return try control.json(response)
    }

    /// An account with `mediaCount` posts, linked to a Facebook Page → (ig_user_id, fb_user_id, media ids).
    func createAccount(mediaCount: Int) throws -> (igUserID: String, fbUserID: String, mediaIDs: [String]) {
        let account = try control("POST", "accounts", .object([("media_count", .int(mediaCount)), ("facebook", .bool(true))]))
        let ids = account["media_ids"]?.arrayValue?.compactMap(\.idString) ?? []
        guard let ig = account["ig_user_id"]?.idString, let fb = account["fb_user_id"]?.idString else {
            throw TestProcessError(description: "account without ids")
        }
        return (ig, fb, ids)
    }

    /// A token for `user`: product "instagram" or "facebook", kind "short" or "long".
    func mintToken(user: String, product: String = "instagram", kind: String = "long", ageSeconds: Int = 0) throws -> String {
        let body: JSONValue = .object([
            ("user", .string(user)), ("product", .string(product)), ("kind", .string(kind)), ("age_seconds", .int(ageSeconds)),
        ])
        guard let token = try control("POST", "tokens", body)["access_token"]?.stringValue else {
            throw TestProcessError(description: "no token minted")
        }
        return token
    }

    func mintCode(user: String, redirectURI: String) throws -> String {
        let body: JSONValue = .object([("user", .string(user)), ("product", .string("instagram")), ("redirect_uri", .string(redirectURI))])
        guard let code = try control("POST", "codes", body)["code"]?.stringValue else {
            throw TestProcessError(description: "no code minted")
        }
        return code
    }

    func tokenInfo(_ token: String) throws -> JSONValue {
        try control("POST", "tokens/info", .object([("access_token", .string(token))]))
    }

    func revoke(_ token: String) throws {
        try control("POST", "tokens/revoke", .object([("access_token", .string(token))]))
    }

    func advanceClock(seconds: Int) throws {
        try control("POST", "clock", .object([("advance", .int(seconds))]))
    }

    /// Paths of the recorded requests under `prefix` (never their queries: they hold tokens).
    func requestPaths(prefix: String) throws -> [String] {
        let answer = try control("GET", "requests", query: [("path_prefix", prefix)])
        return (answer["requests"]?.arrayValue ?? []).compactMap { $0["path"]?.stringValue }
    }
}
