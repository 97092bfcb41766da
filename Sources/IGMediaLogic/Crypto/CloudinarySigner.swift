/// Cloudinary upload API request signatures (signature version 2) and response signatures.
///
/// The rule is "sign exactly the strings that go on the wire": pass parameter values as they will be
/// sent (arrays already joined with `,`, booleans as the text sent).
public enum CloudinarySigner {
    /// The digest used for signatures; accounts accept either unless configured for SHA-256 only.
    public enum Algorithm: Sendable {
        case sha1, sha256
    }

    /// Parameters that are never signed: the file, credentials, the signature itself, and the two
    /// that travel in the URL path.
    static let unsignedNames: Set<String> = ["file", "api_key", "signature", "cloud_name", "resource_type"]

    /// The canonical string: unsigned names and empty values dropped, each `name=value` pair with
    /// `&` replaced by `%26` (v2), pairs sorted by name in byte order and joined with `&`.
    public static func stringToSign(_ params: [(String, String)]) -> String {
        params
            .filter { !$0.1.isEmpty && !unsignedNames.contains($0.0) }
            .map { (name: $0.0, pair: "\($0.0)=\($0.1)".replacing("&", with: "%26")) }
            .sorted { lhs, rhs in
                // Ties (a repeated name) fall back to the whole pair, so the order is deterministic.
                lhs.name == rhs.name
                    ? lhs.pair.utf8.lexicographicallyPrecedes(rhs.pair.utf8)
                    : lhs.name.utf8.lexicographicallyPrecedes(rhs.name.utf8)
            }
            .map(\.pair)
            .joined(separator: "&")
    }

    /// The `signature` parameter for `params`: lowercase hex of SHA-1 or SHA-256 over
    /// `stringToSign(params) + secret`.
    public static func sign(_ params: [(String, String)], secret: String, algorithm: Algorithm = .sha1) -> String {
        sign(stringToSign: stringToSign(params), secret: secret, algorithm: algorithm)
    }

    /// Signs an already canonical string (`string + secret`, no separator). For callers and tests
    /// that hold the string itself, such as a fake server checking what it received.
    public static func sign(stringToSign: String, secret: String, algorithm: Algorithm = .sha1) -> String {
        let input = Array((stringToSign + secret).utf8)
        switch algorithm {
        case .sha1: return Digest.hex(Digest.sha1(input))
        case .sha256: return Digest.hex(Digest.sha256(input))
        }
    }

    /// The `signature` field Cloudinary puts in an upload response:
    /// `hex(SHA-1("public_id=<id>&version=<version>" + secret))` (version 1, no `%26` escaping).
    public static func responseSignature(publicID: String, version: String, secret: String) -> String {
        sign(stringToSign: "public_id=\(publicID)&version=\(version)", secret: secret, algorithm: .sha1)
    }
}
