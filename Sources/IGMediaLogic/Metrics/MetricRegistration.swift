import Prometheus

/// `igmedia_<subsystem>_<name>_<unit>` series, so each metric is declared in one line.
extension PrometheusCollectorRegistry {
    func counter(_ subsystem: String?, _ name: String, help: String, labels: [(String, String)] = []) -> Counter {
        makeCounter(
            descriptor: MetricNameDescriptor(namespace: "igmedia", subsystem: subsystem, metricName: name, unitName: "total", helpText: help),
            labels: labels)
    }

    func gauge(_ subsystem: String?, _ name: String, unit: String = "", help: String, labels: [(String, String)] = []) -> Gauge {
        makeGauge(
            descriptor: MetricNameDescriptor(namespace: "igmedia", subsystem: subsystem, metricName: name, unitName: unit, helpText: help),
            labels: labels)
    }

    /// A histogram in seconds.
    func histogram(
        _ subsystem: String?, _ name: String, help: String, labels: [(String, String)] = [], buckets: [Duration]
    ) -> DurationHistogram {
        makeDurationHistogram(
            descriptor: MetricNameDescriptor(namespace: "igmedia", subsystem: subsystem, metricName: name, unitName: "seconds", helpText: help),
            labels: labels, buckets: buckets)
    }
}
