/// The CDN resource type an asset is stored as (Cloudinary's `resource_type`).
public enum AssetKind: String, Sendable, Hashable, CaseIterable {
    case image
    case video
}
