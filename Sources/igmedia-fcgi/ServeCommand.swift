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
            is one, else on --socket or --bind, else on 127.0.0.1:$\(EnvironmentKey.port) when \(EnvironmentKey.port) is set. A TCP \
            listener accepts FastCGI from any local user: the unix socket is the production mode; \
            --bind on a non-loopback address needs \(EnvironmentKey.fcgiWebServerAddresses).

            Two pools. --workers threads accept connections and answer the requests that only touch \
            the store (GET /photos, /health): about one per core is fastest, more only add context \
            switches (the default: the number of CPUs with Redis, 16 with Upstash REST, whose every \
            read waits on the network). When every one of them has been waiting on the store for \
            20 ms (a slow or unreachable store), the pool grows, up to --max-workers, and shrinks \
            back once the store answers. Requests that wait on Instagram, Cloudinary or QStash \
            (/register, /auth/*, /sync, /sync/process/*) are handed to --outbound-workers threads \
            through a queue of --outbound-queue; a full queue answers 503 with Retry-After.

            With `fastcgi_keep_conn on` every kept-alive nginx connection pins one worker and is \
            served by it whatever the route: then use at least nginx worker_processes × upstream \
            keepalive + the concurrent requests you expect (the shipped config: 2 × 8 + 16 = 32).
            """)

    @Option(help: "Listen on this unix socket path.")
    var socket: String?

    @Option(help: "Octal file mode of the unix socket (nginx's user must be able to connect).")
    var socketMode: String = "0660"

    @Option(help: "Listen on HOST:PORT (TCP).")
    var bind: String?

    @Option(help: "Accepting worker threads (default: CPUs with Redis, 16 with Upstash REST).")
    var workers: Int?

    @Option(help: "Accepting threads the pool may grow to while every one waits on a slow store.")
    var maxWorkers: Int = 32

    @Option(help: "Threads for requests that call Instagram, Cloudinary or QStash.")
    var outboundWorkers: Int = 16

    @Option(help: "Requests that may wait for an outbound thread before new ones get 503.")
    var outboundQueue: Int = 256

    @Option(help: "Seconds in-flight requests get to finish after SIGTERM.")
    var graceSeconds: Int = 10

    func validate() throws {
        if let workers, !(1...1024).contains(workers) { throw ValidationError("--workers must be in 1...1024") }
        guard (1...1024).contains(maxWorkers) else { throw ValidationError("--max-workers must be in 1...1024") }
        guard (1...1024).contains(outboundWorkers) else { throw ValidationError("--outbound-workers must be in 1...1024") }
        guard (1...100_000).contains(outboundQueue) else { throw ValidationError("--outbound-queue must be in 1...100000") }
        guard (0...600).contains(graceSeconds) else { throw ValidationError("--grace-seconds must be in 0...600") }
        guard mode_t(socketMode, radix: 8) != nil else { throw ValidationError("--socket-mode must be octal, e.g. 0660") }
        if socket != nil && bind != nil { throw ValidationError("use either --socket or --bind") }
    }

    func run() throws {
        // Before any thread starts (the change follower, the pools, anything a library starts),
        // so every thread inherits the mask and only the main thread's sigwait sees SIGTERM.
        SignalWaiter.install()
        let (logger, services) = try bootstrap("igmedia")
        logger.info("storage", metadata: ["backend": "\(services.store.backendName)"])
        let application = ServiceFactory.makeApplication(services: services, logger: logger)

        let endpoint: Listener.Endpoint
        if Listener.hasInheritedSocket {
            endpoint = .inherited
        } else if let socket {
            endpoint = .unixSocket(path: socket, mode: mode_t(socketMode, radix: 8) ?? 0o660)
        } else if let bind {
            guard Self.isLoopback(bind: bind) || !services.config.fcgiWebServerAddresses.isEmpty else {
                logger.critical("--bind on a non-loopback address needs \(EnvironmentKey.fcgiWebServerAddresses) (the web servers allowed to connect)")
                throw ExitCode(exitConfigurationError)
            }
            endpoint = .tcp(bind)
        } else if let port = services.config.port {
            endpoint = .tcp("127.0.0.1:\(port)")
        } else {
            logger.critical("nothing to listen on: start under igmedia-fcgi.socket, or give --socket PATH (or --bind HOST:PORT, or \(EnvironmentKey.port))")
            throw ExitCode(exitConfigurationError)
        }
        if case .tcp(let address) = endpoint {
            // Any local user can connect to a TCP port and speak FastCGI (REMOTE_ADDR, headers and
            // all); a unix socket's mode decides who may. libfcgi enforces FCGI_WEB_SERVER_ADDRS.
            logger.warning(
                "listening on TCP: every local user can send FastCGI requests; the unix socket is the supported production mode",
                metadata: ["address": "\(address)", "allowed": "\(services.config.fcgiWebServerAddresses.joined(separator: ","))"])
        }
        let listener: Listener
        do {
            listener = try Listener(
                endpoint: endpoint, edge: CGIEdge(application: application, maxBodyBytes: services.config.maxBodyBytes),
                logger: logger)
        } catch {
            logger.critical("\(error)")
            throw ExitCode(1)
        }
        if let follower = application.changeFollower {
            guard PosixThread.start({ follower.run() }) != nil else {
                logger.critical("cannot start the change-stream thread")
                throw ExitCode(1)
            }
        }
        if let deliverer = application.webhookDeliverer {
            guard PosixThread.start({ deliverer.run() }) != nil else {
                logger.critical("cannot start the webhook delivery thread")
                throw ExitCode(1)
            }
        }
        let quickWorkers = workers ?? Self.defaultWorkers(remoteStore: {
            if case .upstash = services.config.storage { return true } else { return false }
        }())
        listener.run(
            workers: quickWorkers, maxWorkers: maxWorkers, outbound: OutboundPool(threads: outboundWorkers, capacity: outboundQueue),
            graceSeconds: graceSeconds)
    }

    /// `127.x.x.x:port`, `localhost:port` or `[::1]:port`.
    static func isLoopback(bind: String) -> Bool {
        let host = bind.hasPrefix("[") ? String(bind.dropFirst().prefix(while: { $0 != "]" })) : String(bind.prefix(while: { $0 != ":" }))
        return host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// One accepting thread per CPU (at least 2) when reads are local; a REST store's reads wait
    /// on the network, so more threads keep the CPUs busy.
    static func defaultWorkers(remoteStore: Bool) -> Int {
        remoteStore ? 16 : max(2, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }
}
