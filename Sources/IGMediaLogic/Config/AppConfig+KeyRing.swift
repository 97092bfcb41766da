extension AppConfig {
    /// A configuration problem, worded for the startup log (never the key material).
    struct KeyRingProblem: Error {
        let message: String
    }

    /// Parses `ENCRYPTION_KEYS`: `id:base64key[,id:base64key…]`, the first one sealing.
    static func keyRing(_ text: String) -> Result<[SecretBox.Key], KeyRingProblem> {
        let name = EnvironmentKey.encryptionKeys
        var ring: [SecretBox.Key] = []
        var ids: Set<String> = []
        for (position, entry) in text.split(separator: ",").enumerated() {
            let item = String(entry).trimmingCharacters(in: " ")
            guard let colon = item.firstIndex(of: ":") else {
                return .failure(KeyRingProblem(message: "\(name) entry \(position + 1) must be id:base64key"))
            }
            let id = String(item[..<colon])
            let isIDByte: (UInt8) -> Bool = { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
            }
            guard (1...32).contains(id.utf8.count), id.utf8.allSatisfy(isIDByte) else {
                return .failure(KeyRingProblem(message: "\(name) entry \(position + 1): the id must be 1-32 of [A-Za-z0-9_-]"))
            }
            guard ids.insert(id).inserted else {
                return .failure(KeyRingProblem(message: "\(name): key id \(id) appears twice"))
            }
            guard let material = Base64.decode(String(item[item.index(after: colon)...])), material.count == 32,
                let key = try? SecretBox.Key(id: id, material: material)
            else {
                return .failure(KeyRingProblem(message: "\(name): key \(id) must be base64 of exactly 32 bytes"))
            }
            ring.append(key)
        }
        guard !ring.isEmpty else { return .failure(KeyRingProblem(message: "\(name) lists no key")) }
        return .success(ring)
    }
}
