import ArgumentParser
import IGMediaLogic
import Logging

#if canImport(Glibc)
import Glibc
#endif

@main
struct IGMediaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "igmedia-fcgi",
        abstract: "Multi-tenant Instagram media service (FastCGI responder and sync tool).",
        subcommands: [ServeCommand.self, SyncCommand.self, TenantsCommand.self, StatusCommand.self, RekeyCommand.self, MetricsCostCommand.self],
        defaultSubcommand: ServeCommand.self)
}

/// Exit status for a configuration error (sysexits EX_CONFIG).
let exitConfigurationError: Int32 = 78

/// Reads the configuration or exits `failureExit` (78) with every problem listed.
func loadConfiguration(logger: Logger, failureExit: Int32 = exitConfigurationError) -> AppConfig {
    var environment: [String: String] = [:]
    var cursor = environ
    while let entry = cursor.pointee {
        let text = String(cString: entry)
        if let eq = text.firstIndex(of: "=") {
            environment[String(text[..<eq])] = String(text[text.index(after: eq)...])
        }
        cursor += 1
    }
    do {
        let config = try AppConfig(environment: environment)
        for warning in config.warnings { logger.warning("\(warning)") }
        return config
    } catch {
        logger.critical("\(error)")
        exit(failureExit)
    }
}

func makeLogger(_ label: String) -> Logger {
    LoggingSystem.bootstrap { LineLogHandler(label: $0) }
    return Logger(label: label)
}

/// Logging, configuration and services for a subcommand; exits `failureExit` (78) when they
/// cannot be built.
func bootstrap(_ label: String, failureExit: Int32 = exitConfigurationError) throws -> (Logger, ServiceFactory.Services) {
    signal(SIGPIPE, SIG_IGN)
    let logger = makeLogger(label)
    // Before the configuration (and its secrets) is read.
    for problem in ProcessHardening.apply() {
        logger.warning("process hardening incomplete", metadata: ["reason": "\(problem)"])
    }
    let config = loadConfiguration(logger: logger, failureExit: failureExit)
    do {
        return (logger, try ServiceFactory.makeServices(config: config))
    } catch {
        logger.critical("\(error)")
        throw ExitCode(failureExit)
    }
}
