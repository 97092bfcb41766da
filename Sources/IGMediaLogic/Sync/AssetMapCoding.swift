/// The compact spelling of a tenant's asset hash (`instagram:{id}:assets`), so Redis keeps it in
/// a listpack (every field and value ≤ 64 bytes, ≤ 128 entries) instead of a hashtable of long
/// strings: about 45 bytes per asset instead of about 260.
///
/// - Field: `{resourceType}:/{rest}` when the public id is in the tenant's folder
///   (`instagram-media/{tenantId}/{rest}`), else `AssetKey.stored` as before.
/// - Value: `{h}:{version}.{format}` when the secure URL is `{prefix}v{version}/{publicId}.{format}`;
///   the prefix (`https://res.cloudinary.com/{cloud}/{type}/upload/`) is stored once, under the
///   field `~{h}`, `h` being 8 hex digits of its SHA-256 (so a changed prefix never misreads an
///   older value). Any other URL is stored whole.
///
/// Both spellings are read, so hashes written before this coding keep working and are
/// rewritten entry by entry as syncs touch them.
enum AssetMapCoding {
    static func field(_ key: AssetKey, tenantID: String) -> String {
        let folder = AssetKey.folder(tenantID: tenantID)
        guard key.publicID.hasPrefix(folder) else { return key.stored }
        return "\(key.kind.rawValue):/" + key.publicID.dropFirst(folder.count)
    }

    static func key(field: String, tenantID: String) -> AssetKey? {
        guard let key = AssetKey(stored: field) else { return nil }
        guard key.publicID.hasPrefix("/") else { return key }
        return AssetKey(kind: key.kind, publicID: AssetKey.folder(tenantID: tenantID) + key.publicID.dropFirst())
    }

    /// The value to store, and the prefix field to store with it when the URL was compacted.
    static func encode(url: String, key: AssetKey) -> (value: String, prefix: (field: String, value: String)?) {
        guard let dot = url.lastIndex(of: ".") else { return (url, nil) }
        let format = url[url.index(after: dot)...]
        guard !format.isEmpty, format.utf8.count <= 8, !format.contains("/") else { return (url, nil) }
        let beforeFormat = url[..<dot]
        let marker = "/" + key.publicID
        guard beforeFormat.hasSuffix(marker) else { return (url, nil) }
        let head = beforeFormat.dropLast(marker.count)
        guard let slash = head.lastIndex(of: "/") else { return (url, nil) }
        let version = head[head.index(after: slash)...]
        guard version.hasPrefix("v"), version.count > 1, version.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return (url, nil)
        }
        let prefix = String(head[...slash])
        let tag = String(Digest.hex(Digest.sha256(Array(prefix.utf8))).prefix(8))
        return ("\(tag):\(version.dropFirst()).\(format)", ("~" + tag, prefix))
    }

    static func decode(value: String, key: AssetKey, prefixes: [String: String]) -> String? {
        if value.contains("://") { return value }
        guard let colon = value.firstIndex(of: ":"), let prefix = prefixes["~" + value[..<colon]] else { return nil }
        let rest = value[value.index(after: colon)...]
        guard let dot = rest.firstIndex(of: ".") else { return nil }
        return "\(prefix)v\(rest[..<dot])/\(key.publicID)\(rest[dot...])"
    }
}
