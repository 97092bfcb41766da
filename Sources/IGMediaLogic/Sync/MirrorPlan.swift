/// Which CDN assets a feed needs (by `MirrorRule`), and how they compare with what is already
/// mirrored.
struct MirrorPlan {
    /// Every asset the feed needs → the upload that would create it.
    let desired: [AssetKey: MirrorUpload]
    /// Assets already mirrored and still needed, with their CDN URLs.
    let kept: [AssetKey: String]
    /// Uploads to run, in feed order, with the asset each creates.
    let uploads: [(key: AssetKey, upload: MirrorUpload)]
    /// Assets mirrored before whose media are gone.
    let removed: [AssetKey]

    init(tenantID: String, media: [InstagramMedia], existing: [AssetKey: String]) {
        var desired: [AssetKey: MirrorUpload] = [:]
        var order: [AssetKey] = []
        let tags = [tenantID, "instagram-media"]
        for asset in media.flatMap(MirrorRule.assets(of:)) {
            guard let source = asset.source, !source.isEmpty else { continue }
            let key = asset.key(tenantID: tenantID)
            guard desired[key] == nil else { continue }
            desired[key] = MirrorUpload(publicID: key.publicID, resourceType: key.kind.rawValue, sourceURL: source, tags: tags)
            order.append(key)
        }
        self.desired = desired
        self.kept = existing.filter { desired[$0.key] != nil }
        self.uploads = order.filter { existing[$0] == nil }.compactMap { key in desired[key].map { (key, $0) } }
        self.removed = existing.keys.filter { desired[$0] == nil }.sorted()
    }
}
