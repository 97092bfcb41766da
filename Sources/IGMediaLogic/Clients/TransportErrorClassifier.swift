/// curl's failures (no usable HTTP answer) as `UpstreamError`s, the same for every vendor: a
/// timeout or a transport failure (DNS, refused, reset, TLS) is worth retrying; an answer larger
/// than the transport accepts is not (it would be as large again).
enum TransportErrorClassifier {
    static func error(_ error: TransportError, service: String, timeoutMilliseconds: Int) -> UpstreamError {
        switch error {
        case .timeout: return UpstreamError(service: service, kind: .timeout, message: "no answer within \(timeoutMilliseconds) ms")
        case .responseTooLarge: return UpstreamError(service: service, kind: .malformed, message: error.description)
        case .connectionFailed, .failed: return UpstreamError(service: service, kind: .transport, message: error.description)
        }
    }
}
