/// The compact spelling of a tenant's asset map (`instagram:{id}:assets`): one string of lines
/// `{field}\t{value}\n` (about 35 bytes per asset, against about 260 in the first stage's hash of
/// full URLs), so a tenant's keys stay near the size of its feed.
///
/// - Field: `{resourceType}:/{rest}` when the public id is in the tenant's folder
///   (`instagram-media/{tenantId}/{rest}`), else `AssetKey.stored` as before.
/// - Value: `{h}:{version}.{format}` when the secure URL is `{prefix}v{version}/{publicId}.{format}`;
///   the prefix (`https://res.cloudinary.com/{cloud}/{type}/upload/`) is stored once, under the
///   field `~{h}`, `h` being 8 hex digits of its SHA-256 (so a changed prefix never misreads an
///   older value). Any other URL is stored whole.
///
/// Hashes written before (either field spelling) are still read; the next sync replaces them
/// with the packed string.
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
        let tag = String(Digest.hex(Digest.sha256(Array(prefix.utf8))).prefix(6))
        return ("\(tag):\(version.dropFirst()).\(format)", ("~" + tag, prefix))
    }

    static func decode(value: String, key: AssetKey, prefixes: [String: String]) -> String? {
        if value.contains("://") { return value }
        guard let colon = value.firstIndex(of: ":"), let prefix = prefixes["~" + value[..<colon]] else { return nil }
        let rest = value[value.index(after: colon)...]
        guard let dot = rest.firstIndex(of: ".") else { return nil }
        return "\(prefix)v\(rest[..<dot])/\(key.publicID)\(rest[dot...])"
    }

    /// The whole map as one string, one line per asset, `{k}{id}\t{value}`: `k` the kind's
    /// initial, `id` `/{rest}` for a public id in the tenant's folder (else `:{publicId}`), and
    /// `value` `{version}.{format}` when the URL is the kind's prefix (a `~{k}\t{prefix}` line,
    /// first) + `v{version}/{publicId}.{format}`, else the URL whole.
    static func pack(_ assets: [AssetKey: String], tenantID: String) -> [UInt8] {
        let folder = AssetKey.folder(tenantID: tenantID)
        var prefixes: [Character: String] = [:]
        var lines: [String] = []
        for (key, url) in assets.sorted(by: { $0.key < $1.key }) {
            // Tabs and newlines separate entries: an upstream value holding one is not stored.
            guard !url.contains("\t"), !url.contains("\n"), !key.publicID.contains("\t"), !key.publicID.contains("\n"),
                let code = key.kind.rawValue.first
            else { continue }
            let id = key.publicID.hasPrefix(folder) ? "/" + key.publicID.dropFirst(folder.count) : ":" + key.publicID
            var value = url
            if let split = versioned(url: url, key: key), (prefixes[code] ?? split.prefix) == split.prefix {
                prefixes[code] = split.prefix
                value = split.rest
            }
            lines.append("\(code)\(id)\t\(value)")
        }
        let head = prefixes.sorted { $0.key < $1.key }.map { "~\($0.key)\t\($0.value)" }
        return Array((head + lines).joined(separator: "\n").utf8)
    }

    static func unpack(_ bytes: [UInt8], tenantID: String) -> [AssetKey: String] {
        let folder = AssetKey.folder(tenantID: tenantID)
        var prefixes: [Character: String] = [:]
        var assets: [AssetKey: String] = [:]
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            guard let tab = line.firstIndex(of: UInt8(ascii: "\t")) else { continue }
            let head = String(decoding: line[..<tab], as: UTF8.self)
            let value = String(decoding: line[(tab + 1)...], as: UTF8.self)
            guard let code = head.first else { continue }
            if code == "~" {
                if let kind = head.dropFirst().first { prefixes[kind] = value }
                continue
            }
            guard let kind = AssetKind.allCases.first(where: { $0.rawValue.first == code }) else { continue }
            let id = head.dropFirst()
            let publicID: String
            if id.hasPrefix("/") { publicID = folder + id.dropFirst() } else if id.hasPrefix(":") { publicID = String(id.dropFirst()) } else { continue }
            guard !publicID.isEmpty else { continue }
            let key = AssetKey(kind: kind, publicID: publicID)
            if value.contains("://") {
                assets[key] = value
            } else if let prefix = prefixes[code], let dot = value.firstIndex(of: ".") {
                assets[key] = "\(prefix)v\(value[..<dot])/\(publicID)\(value[dot...])"
            }
        }
        return assets
    }

    /// `{prefix}v{version}/{publicId}.{format}` split into the prefix and `{version}.{format}`.
    static func versioned(url: String, key: AssetKey) -> (prefix: String, rest: String)? {
        guard let dot = url.lastIndex(of: ".") else { return nil }
        let format = url[url.index(after: dot)...]
        guard !format.isEmpty, format.utf8.count <= 8, !format.contains("/"), !format.contains(":") else { return nil }
        let marker = "/" + key.publicID
        let beforeFormat = url[..<dot]
        guard beforeFormat.hasSuffix(marker) else { return nil }
        let head = beforeFormat.dropLast(marker.count)
        guard let slash = head.lastIndex(of: "/") else { return nil }
        let version = head[head.index(after: slash)...]
        guard version.hasPrefix("v"), version.count > 1, version.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return (String(head[...slash]), "\(version.dropFirst()).\(format)")
    }
}
