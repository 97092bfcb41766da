import Foundation
import Testing

@testable import IGMediaLogic

@Suite("Meta rate limits", .serialized)
struct RateLimitTests {
    @Test("usage headers: the highest percentage and Meta's stated wait (reference §3.3 vectors)")
    func headers() {
        let app = HTTPHeaders([("X-App-Usage", #"{"call_count":28,"total_cputime":25,"total_time":25}"#)])
        #expect(GraphRateGate.appUsage(app) == 28)
        let fine = HTTPHeaders([("X-Business-Use-Case-Usage",
            #"{"17841405822304914":[{"type":"instagram","call_count":85,"total_cputime":12,"total_time":14,"estimated_time_to_regain_access":0}]}"#)])
        #expect(GraphRateGate.accountUsage(fine) == .init(percent: 85, regainSeconds: nil))
        let blocked = HTTPHeaders([("X-Business-Use-Case-Usage",
            #"{"17841405822304914":[{"type":"instagram","call_count":100,"total_cputime":31,"total_time":40,"estimated_time_to_regain_access":19}]}"#)])
        #expect(GraphRateGate.accountUsage(blocked) == .init(percent: 100, regainSeconds: 19 * 60))
        #expect(GraphRateGate.appUsage(HTTPHeaders([("X-App-Usage", "not json")])) == nil)
        let gate = GraphRateGate(thresholdPercent: 90, random: { 0 })
        gate.observe(fine, account: "a", now: 1000)
        #expect(gate.accountBlockedUntil("a", now: 1000) == nil)
        gate.observe(blocked, account: "a", now: 1000)
        #expect(gate.accountBlockedUntil("a", now: 1000) == Double(1000 + 19 * 60))
        #expect(gate.appBlockedUntil(now: 1000) == nil)
        gate.observe(HTTPHeaders([("X-App-Usage", #"{"call_count":95,"total_cputime":10,"total_time":10}"#)]), account: nil, now: 2000)
        #expect(gate.appBlockedUntil(now: 2000) == Double(2000 + 300))
        // Exponential without a stated wait: 5 min, 10, 20, … at most an hour.
        #expect(gate.backoff(strikes: 0) == 300 && gate.backoff(strikes: 2) == 1200 && gate.backoff(strikes: 9) == 3600)
    }

    @Test("a throttled account is deferred and recorded RATE_LIMITED, never invalid; its next sync makes no call")
    func accountThrottle() throws {
        let fixture = try SyncFixture(media: InMemoryInstagram.sampleMedia(count: 2), withMirror: false)
        var engine = fixture.engine
        engine.rateGate = GraphRateGate(random: { 0 })
        let throttled = try fixture.register(token: "IGAA-throttled", account: "1001")
        let other = try fixture.register(token: "IGAA-other", account: "1002")
        fixture.instagram.failureByToken = ["IGAA-throttled": UpstreamError(
            service: "instagram", kind: .rateLimited, status: 400, message: "Application request limit reached", code: 80002,
            retryAfterSeconds: 19 * 60)]
        #expect(throws: SyncError.self) { try engine.sync(tenantID: throttled) }
        do {
            _ = try engine.sync(tenantID: throttled)
            Issue.record("expected a deferral")
        } catch {
            guard case .rateLimited(let until) = error else { Issue.record("\(error)"); return }
            #expect(abs(Double(until) - Date().timeIntervalSince1970 - 19 * 60) < 5)
            #expect(error.isTransient && error.isDeferral)
        }
        #expect(fixture.instagram.fetchCalls == 1, "the deferred retry made no Graph call")
        let hash = try #require(try fixture.repository.rawHash(throttled))
        #expect(hash["last_error_code"] == "RATE_LIMITED" && hash["token_invalid"] == nil && hash["rate_limit_strikes"] == "1")
        #expect(try fixture.repository.unsyncableTenantIDs(now: Date().timeIntervalSince1970).isEmpty)
        // The account's pause is the account's alone.
        #expect(try engine.sync(tenantID: other).photosCount == 2)
    }

    @Test("an app-wide throttle (code 4) defers every tenant without a call, and other hosts see it in the store")
    func appThrottle() throws {
        let fixture = try SyncFixture(media: InMemoryInstagram.sampleMedia(count: 1), withMirror: false)
        let keys = fixture.repository.keys
        var engine = fixture.engine
        engine.rateGate = GraphRateGate(store: fixture.store, keys: keys, random: { 0 })
        let first = try fixture.register(token: "IGAA-first")
        let second = try fixture.register(token: "IGAA-second")
        fixture.instagram.failureByToken = ["IGAA-first": UpstreamError(
            service: "instagram", kind: .rateLimited, status: 400, message: "(#4) Application request limit reached", code: 4)]
        #expect(throws: SyncError.self) { try engine.sync(tenantID: first) }
        #expect(throws: SyncError.self) { try engine.sync(tenantID: second) }
        #expect(fixture.instagram.fetchCalls == 1)
        #expect(try fixture.repository.rawHash(second)?["last_error_code"] == "RATE_LIMITED")
        // A second process (a fresh gate on the same store) holds off too.
        var otherHost = fixture.engine
        otherHost.rateGate = GraphRateGate(store: fixture.store, keys: keys)
        #expect(throws: SyncError.self) { try otherHost.sync(tenantID: second) }
        #expect(fixture.instagram.fetchCalls == 1)
        let ttl = try fixture.store.run(RedisCommand("PTTL", RedisArgument(keys.graphAppBlocked))).intValue ?? 0
        #expect(ttl > 290_000 && ttl <= 300_000)
    }
}

@Suite("Compact asset map")
struct AssetMapCodingTests {
    @Test("a Cloudinary secure URL round-trips through the compact field and value; anything else is kept whole")
    func roundTrip() {
        let tenant = "5f0c6d2e-1b7a-4c55-9b0e-3a6f0b8f1c21"
        let key = AssetKey(kind: .image, tenantID: tenant, mediaID: "17895695668004550")
        let url = "https://res.cloudinary.com/demo/image/upload/v1712345678/instagram-media/\(tenant)/17895695668004550.jpg"
        let encoded = AssetMapCoding.encode(url: url, key: key)
        let field = AssetMapCoding.field(key, tenantID: tenant)
        #expect(field == "image:/17895695668004550")
        #expect(encoded.value.hasSuffix(":1712345678.jpg") && encoded.value.utf8.count <= 64)
        let prefix = try! #require(encoded.prefix)
        #expect(prefix.value == "https://res.cloudinary.com/demo/image/upload/")
        let back = AssetMapCoding.key(field: field, tenantID: tenant)
        #expect(back == key)
        #expect(AssetMapCoding.decode(value: encoded.value, key: key, prefixes: [prefix.field: prefix.value]) == url)
        // The older spellings still read.
        #expect(AssetMapCoding.key(field: key.stored, tenantID: tenant) == key)
        #expect(AssetMapCoding.decode(value: url, key: key, prefixes: [:]) == url)
        // A URL of another shape is stored as it is; an unknown prefix tag reads as nothing.
        let odd = "https://cdn.example/x/\(tenant).png?sig=1"
        #expect(AssetMapCoding.encode(url: odd, key: key).value == odd)
        #expect(AssetMapCoding.decode(value: "deadbeef:1.jpg", key: key, prefixes: [:]) == nil)
    }

    @Test("the packed map round-trips, about 30 bytes per Cloudinary asset")
    func packed() {
        let tenant = "5f0c6d2e-1b7a-4c55-9b0e-3a6f0b8f1c21"
        var map: [AssetKey: String] = [:]
        for index in 0..<50 {
            let media = String(17_895_695_668_004_550 + index)
            let image = AssetKey(kind: .image, tenantID: tenant, mediaID: media)
            map[image] = "https://res.cloudinary.com/demo/image/upload/v17123456\(index % 10)/\(image.publicID).jpg"
            if index % 5 == 0 {
                let video = AssetKey(kind: .video, tenantID: tenant, mediaID: media)
                map[video] = "https://res.cloudinary.com/demo/video/upload/v1712345678/\(video.publicID).mp4"
            }
        }
        let other = AssetKey(kind: .image, publicID: "elsewhere/x")
        map[other] = "https://cdn.example/elsewhere/x.png?sig=1"
        let packed = AssetMapCoding.pack(map, tenantID: tenant)
        #expect(AssetMapCoding.unpack(packed, tenantID: tenant) == map)
        #expect(packed.count < map.count * 34 + 200, "\(packed.count) bytes")
        #expect(AssetMapCoding.unpack(Array("garbage\n\t\nz/1\tx".utf8), tenantID: tenant).isEmpty)
    }

    @Test("the sync writes and reads the compact map: an unchanged re-sync keeps every asset")
    func syncUsesIt() throws {
        let fixture = try SyncFixture(media: InMemoryInstagram.sampleMedia(count: 4))
        let id = try fixture.register()
        _ = try fixture.engine.sync(tenantID: id)
        let key = RedisArgument(fixture.repository.keys.mirroredAssets(id))
        let packed = try #require(try fixture.store.run(RedisCommand("GET", key)).stringValue)
        let lines = packed.split(separator: "\n")
        #expect(lines.allSatisfy { $0.hasPrefix("~") || $0.hasPrefix("i/") || $0.hasPrefix("v/") }, "\(lines)")
        let stored = try fixture.repository.mirroredAssets(id)
        #expect(stored.count == lines.filter { !$0.hasPrefix("~") }.count && !stored.isEmpty)
        let again = try fixture.engine.sync(tenantID: id)
        #expect(again.uploaded == 0 && again.kept == stored.count)
        #expect(try fixture.repository.mirroredAssets(id) == stored)
    }

    @Test("a map stored as a hash by an earlier version is read, and the next sync replaces it with the packed string")
    func legacyHash() throws {
        let fixture = try SyncFixture(media: InMemoryInstagram.sampleMedia(count: 3))
        let id = try fixture.register()
        _ = try fixture.engine.sync(tenantID: id)
        let stored = try fixture.repository.mirroredAssets(id)
        let key = RedisArgument(fixture.repository.keys.mirroredAssets(id))
        _ = try fixture.store.run(RedisCommand("DEL", key))
        var arguments = [key]
        for (asset, url) in stored { arguments += [RedisArgument(asset.stored), RedisArgument(url)] }
        _ = try fixture.store.run(RedisCommand("HSET", arguments))
        #expect(try fixture.repository.mirroredAssets(id) == stored)
        let again = try fixture.engine.sync(tenantID: id)
        #expect(again.uploaded == 0 && again.kept == stored.count)
        #expect(try fixture.store.run(RedisCommand("TYPE", key)).stringValue == "string")
        #expect(try fixture.repository.mirroredAssets(id) == stored)
    }
}
