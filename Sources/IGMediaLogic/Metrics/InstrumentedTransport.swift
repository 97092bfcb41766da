/// Counts and times every outbound request of one service (`igmedia_upstream_*`): outcome from
/// the HTTP status or the transport failure, duration from the transfer itself.
public struct InstrumentedTransport: HTTPTransport {
    public let base: any HTTPTransport
    let series: ServiceMetrics.UpstreamSeries
    let clock: any Clock

    public init(_ base: any HTTPTransport, service: String, metrics: ServiceMetrics = .shared, clock: any Clock = SystemClock()) {
        self.base = base
        self.series = metrics.upstreamSeries(service: service)
        self.clock = clock
    }

    public func send(_ request: HTTPClientRequest) throws(TransportError) -> HTTPClientResponse {
        let started = clock.monotonicNanoseconds()
        let result = Result { () throws(TransportError) in try base.send(request) }
        record(result, fallbackNanoseconds: clock.monotonicNanoseconds() &- started)
        return try result.get()
    }

    public func sendAll(_ requests: [HTTPClientRequest], concurrency: Int) -> [Result<HTTPClientResponse, TransportError>] {
        let results = base.sendAll(requests, concurrency: concurrency)
        // In parallel, only the transfer's own time is that request's.
        for result in results { record(result, fallbackNanoseconds: nil) }
        return results
    }

    private func record(_ result: Result<HTTPClientResponse, TransportError>, fallbackNanoseconds: UInt64?) {
        switch result {
        case .success(let response):
            let outcome = UpstreamOutcome.of(status: response.status)
            if let nanoseconds = response.elapsedNanoseconds ?? fallbackNanoseconds {
                series.record(outcome, nanoseconds: nanoseconds)
            } else {
                series.count(outcome)
            }
        case .failure(let error):
            let outcome: UpstreamOutcome = error == .timeout ? .timeout : .transport_error
            if let nanoseconds = fallbackNanoseconds { series.record(outcome, nanoseconds: nanoseconds) } else { series.count(outcome) }
        }
    }
}
