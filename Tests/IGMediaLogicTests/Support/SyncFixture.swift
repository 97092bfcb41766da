import Foundation
import Logging
import Testing

@testable import IGMediaLogic

/// A real redis-server, a repository on it, and an engine with in-memory Instagram and mirror.
struct SyncFixture {
    let redis: RedisServerProcess
    let store: RESPStore
    let repository: TenantRepository
    let instagram: InMemoryInstagram
    let mirror: RecordingMirror
    let engine: SyncEngine

    init(media: [InstagramMedia], withMirror: Bool = true) throws {
        redis = try RedisServerProcess()
        store = try RESPStore(url: redis.url, timeoutMilliseconds: 2000)
        let keys = KeySpace(prefix: "t:")
        repository = TenantRepository(store: store, keys: keys, secrets: try SecretBox(key: Array(repeating: 7, count: 32)))
        instagram = InMemoryInstagram(media: media)
        mirror = RecordingMirror()
        engine = SyncEngine(
            repository: repository, instagram: instagram, mirror: withMirror ? mirror : nil,
            lock: SyncLock(store: store, keys: keys, ttlSeconds: 30), clock: SystemClock(),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            mediaLimit: 50, photosTTLSeconds: 3600, tokenRefreshAfterHours: 24)
    }

    func register(
        token: String? = "IGAA-token", tokenUpdate: String? = ISO8601.format(Date().timeIntervalSince1970), account: String = "1784"
    ) throws -> String {
        let id = UUIDv4.make()
        try repository.create(Tenant(
            id: id, name: "tenant", authToken: UUIDv4.make(), apiType: .instagramLogin, instagramAccountID: account,
            instagramAccountSecret: "app-secret", instagramAccessToken: token, tokenUpdate: tokenUpdate))
        return id
    }

    func feed(_ id: String) throws -> JSONValue {
        let bytes = try #require(try repository.readFeed(id).photosJSON)
        return try JSONParser.parse(bytes)
    }
}
