#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One blocking-with-deadline RESP2 connection over TCP or a unix socket.
///
/// Every operation is bounded by the call's deadline (poll on a non-blocking socket), so a hung
/// or vanished server costs at most the configured timeout.
final class RESPConnection {
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []
    private var scratch = [UInt8](repeating: 0, count: 65_536)
    private var readIndex = 0
    /// Set once a reply has been read, i.e. this connection proved itself before.
    private(set) var used = false
    /// The most a single reply may buffer. The service's largest reply is one tenant's feed
    /// (a few hundred KB); a server that sends more, or announces more, is answered as broken.
    static let maximumReplyBytes = 64 * 1024 * 1024

    enum Failure: Error {
        /// The peer closed or reset the connection: a stale pooled connection looks like this.
        case closed
        case timeout
        case io(String)
        case protocolError
    }

    init(url: RedisURL, deadline: Deadline) throws(Failure) {
        switch url.address {
        case .unix(let path): try connectUnix(path, deadline)
        case .tcp(let host, let port): try connectTCP(host, port, deadline)
        }
        var handshake: [RedisCommand] = []
        if let password = url.password {
            if let user = url.username {
                handshake.append(RedisCommand("AUTH", RedisArgument(user), RedisArgument(password)))
            } else {
                handshake.append(RedisCommand("AUTH", RedisArgument(password)))
            }
        }
        if url.database != 0 { handshake.append(RedisCommand("SELECT", RedisArgument(url.database))) }
        if !handshake.isEmpty {
            let replies = try roundTrip(handshake, deadline: deadline)
            for reply in replies {
                if case .error(let message) = reply {
                    close()
                    // The reply text names the failure (WRONGPASS, NOAUTH), never the password.
                    throw .io("handshake refused: \(message.prefix(60))")
                }
            }
        }
    }

    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Writes all commands, then reads one reply per command.
    func roundTrip(_ commands: [RedisCommand], deadline: Deadline) throws(Failure) -> [RedisValue] {
        var out: [UInt8] = []
        RESPCodec.encode(commands, into: &out)
        try writeAll(out, deadline)
        var replies: [RedisValue] = []
        replies.reserveCapacity(commands.count)
        for _ in commands { replies.append(try readReply(deadline)) }
        used = true
        return replies
    }

    private func readReply(_ deadline: Deadline) throws(Failure) -> RedisValue {
        while true {
            var index = readIndex
            do {
                if let value = try RESPCodec.decode(buffer, from: &index, maximumReplyBytes: Self.maximumReplyBytes) {
                    readIndex = index
                    if readIndex == buffer.count {
                        buffer.removeAll(keepingCapacity: true)
                        readIndex = 0
                    }
                    return value
                }
            } catch {
                throw .protocolError
            }
            guard buffer.count - readIndex <= Self.maximumReplyBytes else { throw .protocolError }
            try fill(deadline)
        }
    }

    private func fill(_ deadline: Deadline) throws(Failure) {
        if readIndex > 0 {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
        try wait(for: Int16(POLLIN), deadline)
        // One receive buffer per connection: allocating and zeroing 64 KB per recv showed up as a
        // fifth of the /photos instructions under callgrind.
        let got = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if got == 0 { throw .closed }
        if got < 0 {
            if errno == EAGAIN || errno == EINTR { return }
            if errno == ECONNRESET { throw .closed }
            throw .io("recv errno \(errno)")
        }
        buffer.append(contentsOf: scratch[0..<got])
    }

    private func writeAll(_ bytes: [UInt8], _ deadline: Deadline) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent < 0 {
                if errno == EAGAIN || errno == EINTR {
                    try wait(for: Int16(POLLOUT), deadline)
                    continue
                }
                if errno == EPIPE || errno == ECONNRESET { throw .closed }
                throw .io("send errno \(errno)")
            }
            offset += sent
        }
    }

    private func wait(for events: Int16, _ deadline: Deadline) throws(Failure) {
        while true {
            let remaining = deadline.remainingMilliseconds()
            guard remaining > 0 else { throw .timeout }
            var pfd = pollfd(fd: fd, events: events, revents: 0)
            let rc = poll(&pfd, 1, Int32(remaining))
            if rc > 0 { return }
            if rc == 0 { throw .timeout }
            if errno != EINTR { throw .io("poll errno \(errno)") }
        }
    }

    private func makeSocket(_ family: Int32) throws(Failure) {
        fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw .io("socket errno \(errno)") }
    }

    private func finishConnect(_ rc: Int32, _ deadline: Deadline) throws(Failure) {
        if rc == 0 { return }
        guard errno == EINPROGRESS || errno == EAGAIN else {
            let code = errno
            close()
            throw code == ECONNREFUSED || code == ENOENT ? .closed : .io("connect errno \(code)")
        }
        do {
            try wait(for: Int16(POLLOUT), deadline)
        } catch {
            close()
            throw error
        }
        var soError: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
        if soError != 0 {
            close()
            throw soError == ECONNREFUSED ? .closed : .io("connect errno \(soError)")
        }
    }

    private func connectUnix(_ path: String, _ deadline: Deadline) throws(Failure) {
        try makeSocket(AF_UNIX)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close()
            throw .io("unix socket path too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try finishConnect(rc, deadline)
    }

    private func connectTCP(_ host: String, _ port: Int, _ deadline: Deadline) throws(Failure) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            throw .io("cannot resolve the Redis host")
        }
        defer { freeaddrinfo(result) }
        try makeSocket(info.pointee.ai_family)
        let rc = connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen)
        try finishConnect(rc, deadline)
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }
}
