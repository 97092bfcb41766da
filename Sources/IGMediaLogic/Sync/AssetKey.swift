/// One mirrored asset's identity: its resource type and CDN public id, stored as the field
/// `{resourceType}:{publicId}` of the tenant's asset hash. The only place that spells that field.
public struct AssetKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let kind: AssetKind
    /// `instagram-media/{tenantId}/{mediaId}`: one per post or carousel child and kind.
    public let publicID: String

    public init(kind: AssetKind, publicID: String) {
        self.kind = kind
        self.publicID = publicID
    }

    /// The asset of one post or carousel child of a tenant.
    public init(kind: AssetKind, tenantID: String, mediaID: String) {
        self.init(kind: kind, publicID: Self.folder(tenantID: tenantID) + mediaID)
    }

    /// The CDN folder holding every asset of a tenant, `/`-terminated (a prefix match on it
    /// never reaches another tenant's folder).
    public static func folder(tenantID: String) -> String { "instagram-media/\(tenantID)/" }

    /// Parses a stored field; nil for anything this service never wrote.
    public init?(stored: String) {
        guard let colon = stored.utf8.firstIndex(of: UInt8(ascii: ":")),
            let kind = AssetKind(rawValue: String(stored[..<colon]))
        else { return nil }
        let publicID = String(stored[stored.index(after: colon)...])
        guard !publicID.isEmpty else { return nil }
        self.init(kind: kind, publicID: publicID)
    }

    /// The hash field.
    public var stored: String { "\(kind.rawValue):\(publicID)" }

    public var description: String { stored }

    public static func < (lhs: AssetKey, rhs: AssetKey) -> Bool { lhs.stored < rhs.stored }
}
