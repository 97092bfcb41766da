import ArgumentParser
import IGMediaLogic

/// `igmedia-fcgi metrics-cost`: what recording one request's metrics costs (the bench runs it).
struct MetricsCostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics-cost",
        abstract: "Measure the CPU cost of recording one request's metrics (for the bench).")

    @Option(help: "Requests to record per measurement.")
    var iterations: Int = 2_000_000

    func run() throws {
        let report = MetricsCost.measure(iterations: iterations)
        printLine(
            "metrics-cost: request \(Self.format(report.nanosecondsPerRequest)) ns, "
                + "request on 2 threads \(Self.format(report.nanosecondsPerRequestContended)) ns, "
                + "store call \(Self.format(report.nanosecondsPerStoreCall)) ns")
    }

    static func format(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
