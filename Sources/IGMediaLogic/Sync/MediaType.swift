/// Instagram's `media_type`. A value this service does not know yet keeps its spelling, so the
/// feed shows what Instagram sent, and is mirrored and served as an image.
public enum MediaType: Sendable, Hashable, CustomStringConvertible {
    case image
    case video
    case carouselAlbum
    case other(String)

    public init(_ rawValue: String) {
        switch rawValue {
        case "IMAGE": self = .image
        case "VIDEO": self = .video
        case "CAROUSEL_ALBUM": self = .carouselAlbum
        default: self = .other(rawValue)
        }
    }

    /// The Graph API's spelling, as the feed's `mediaType` shows it.
    public var rawValue: String {
        switch self {
        case .image: return "IMAGE"
        case .video: return "VIDEO"
        case .carouselAlbum: return "CAROUSEL_ALBUM"
        case .other(let value): return value
        }
    }

    public var description: String { rawValue }
}
