import ArgumentParser
import IGMediaLogic
import Logging

#if canImport(Glibc)
import Glibc
#endif

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the FastCGI responder.",
        discussion: """
            Listens on the socket inherited on fd 0 (systemd StandardInput=socket, spawn-fcgi) when there \
            is one, else on --socket or --bind, else on 127.0.0.1:$PORT.

            Sizing --workers: with `fastcgi_keep_conn on` every kept-alive nginx connection pins one \
            thread. Use at least nginx worker_processes × upstream keepalive + the concurrent requests \
            you expect (the shipped config: 2 × 8 + 16 = 32).
            """)

    @Option(help: "Listen on this unix socket path.")
    var socket: String?

    @Option(help: "Octal file mode of the unix socket (nginx's user must be able to connect).")
    var socketMode: String = "0660"

    @Option(help: "Listen on HOST:PORT (TCP).")
    var bind: String?

    @Option(help: "Worker threads, each serving one request at a time.")
    var workers: Int = 32

    @Option(help: "Seconds in-flight requests get to finish after SIGTERM.")
    var graceSeconds: Int = 10

    func validate() throws {
        guard (1...1024).contains(workers) else { throw ValidationError("--workers must be in 1...1024") }
        guard (0...600).contains(graceSeconds) else { throw ValidationError("--grace-seconds must be in 0...600") }
        guard mode_t(socketMode, radix: 8) != nil else { throw ValidationError("--socket-mode must be octal, e.g. 0660") }
        if socket != nil && bind != nil { throw ValidationError("use either --socket or --bind") }
    }

    func run() throws {
        let (logger, services) = try bootstrap("igmedia")
        logger.info("storage", metadata: ["backend": "\(services.store.backendName)"])
        let application = ServiceFactory.makeApplication(services: services, logger: logger)

        let endpoint: FastCGIListener.Endpoint
        if FastCGIListener.hasInheritedSocket {
            endpoint = .inherited
        } else if let socket {
            endpoint = .unixSocket(path: socket, mode: mode_t(socketMode, radix: 8) ?? 0o660)
        } else if let bind {
            endpoint = .tcp(bind)
        } else {
            endpoint = .tcp("127.0.0.1:\(services.config.port)")
        }
        let listener: FastCGIListener
        do {
            listener = try FastCGIListener(
                endpoint: endpoint, application: application, maxBodyBytes: services.config.maxBodyBytes, logger: logger)
        } catch {
            logger.critical("\(error)")
            throw ExitCode(1)
        }
        listener.run(workers: workers, graceSeconds: graceSeconds)
    }
}
