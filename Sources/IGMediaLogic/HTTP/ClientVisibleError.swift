/// An error that knows how it should look to the client (e.g. storage down → 503).
/// Its description is logged, so it must already be redacted.
public protocol ClientVisibleError: Error, CustomStringConvertible {
    var httpError: HTTPError { get }
}
