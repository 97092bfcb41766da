import Testing

@testable import IGMediaLogic

@Suite("The typed sync domain")
struct SyncDomainTests {
    @Test("media types keep Instagram's spelling, unknown ones included", arguments: ["IMAGE", "VIDEO", "CAROUSEL_ALBUM", "REELS_NEW", ""])
    func mediaTypeRoundTrip(raw: String) {
        #expect(MediaType(raw).rawValue == raw)
    }

    @Test("the known types are told apart; anything else is other")
    func mediaTypeCases() {
        #expect(MediaType("VIDEO") == .video)
        #expect(MediaType("CAROUSEL_ALBUM") == .carouselAlbum)
        #expect(MediaType("video") == .other("video"), "Graph values are case-sensitive")
    }

    @Test("an asset key is stored as resourceType:publicId and parses back; foreign fields do not parse")
    func assetKey() {
        let key = AssetKey(kind: .video, tenantID: "t1", mediaID: "179")
        #expect(key.stored == "video:instagram-media/t1/179")
        #expect(AssetKey(stored: key.stored) == key)
        #expect(AssetKey(stored: "image:a:b")?.publicID == "a:b", "only the first colon separates")
        for foreign in ["", ":", "image:", "raw:x", "nocolon", "IMAGE:x"] {
            #expect(AssetKey(stored: foreign) == nil, "\(foreign)")
        }
    }

    @Test("refresh outcomes render the strings the API has always returned")
    func refreshOutcome() {
        #expect(RefreshOutcome.refreshed.description == "success")
        #expect(RefreshOutcome.notDue.description == "not_due")
        #expect(RefreshOutcome.notRun.description == "not_run")
        #expect(RefreshOutcome.failed("instagram timeout").description == "failed: instagram timeout")
    }

    @Test("the mirror rule: a video and its poster, an album's children and its cover, unknown types as images")
    func mirrorRule() {
        let video = InstagramMedia(id: "v", mediaType: .video, mediaURL: "v.mp4", thumbnailURL: "v.jpg")
        #expect(MirrorRule.assets(of: video) == [
            .init(kind: .video, mediaID: "v", source: "v.mp4"), .init(kind: .image, mediaID: "v", source: "v.jpg"),
        ])
        #expect(MirrorRule.poster(video) == .init(kind: .image, mediaID: "v", source: "v.jpg"))

        let album = InstagramMedia(
            id: "a", mediaType: .carouselAlbum, mediaURL: "first.mp4",
            children: [
                InstagramMediaChild(id: "c1", mediaType: .video, mediaURL: "c1.mp4", thumbnailURL: "c1.jpg"),
                InstagramMediaChild(id: "c2", mediaType: .image, mediaURL: "c2.jpg"),
            ])
        #expect(MirrorRule.assets(of: album).map(\.mediaID) == ["c1", "c1", "c2"], "the album itself mirrors nothing")
        #expect(MirrorRule.shown(album).first == .init(kind: .image, mediaID: "c1", source: "c1.jpg"), "cover: the video child's poster")
        #expect(MirrorRule.poster(album) == nil)

        let empty = InstagramMedia(id: "e", mediaType: .carouselAlbum, mediaURL: "e.jpg")
        #expect(MirrorRule.assets(of: empty) == [.init(kind: .image, mediaID: "e", source: "e.jpg")])
        let unknown = InstagramMedia(id: "u", mediaType: .other("STORY"), mediaURL: "u.jpg")
        #expect(MirrorRule.assets(of: unknown) == [.init(kind: .image, mediaID: "u", source: "u.jpg")])
    }

    @Test("the plan uploads what the rule lists, keeps what is mirrored and removes what is gone")
    func plan() {
        let media = [InstagramMedia(id: "v", mediaType: .video, mediaURL: "v.mp4", thumbnailURL: "v.jpg")]
        let kept = AssetKey(kind: .video, tenantID: "t", mediaID: "v")
        let gone = AssetKey(kind: .image, tenantID: "t", mediaID: "old")
        let plan = MirrorPlan(tenantID: "t", media: media, existing: [kept: "cdn/v", gone: "cdn/old"])
        #expect(plan.kept == [kept: "cdn/v"])
        #expect(plan.removed == [gone])
        #expect(plan.uploads.map(\.key) == [AssetKey(kind: .image, tenantID: "t", mediaID: "v")])
        #expect(plan.uploads.map(\.upload.resourceType) == ["image"])
    }
}
