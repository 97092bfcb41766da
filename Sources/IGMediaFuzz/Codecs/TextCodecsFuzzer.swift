import IGMediaLogic

/// The small text codecs that read configuration or upstream data: base64, percent-encoding,
/// ISO 8601 timestamps and `REDIS_URL`. Every input goes through all of them, as bytes and as text.
enum TextCodecsFuzzer {
    static func run(_ input: [UInt8]) {
        let text = String(decoding: input, as: UTF8.self)
        checkBase64(input, text)
        checkPercentEncoding(text)
        checkISO8601(input, text)
        checkRedisURL(text)
    }

    /// decode(encode(x)) == x in every alphabet and padding; decoding anything never traps, and a
    /// decoded value re-encodes to the input up to padding and unused trailing bits.
    static func checkBase64(_ input: [UInt8], _ text: String) {
        for urlSafe in [false, true] {
            for padding in [false, true] {
                let encoded = Base64.encode(input, urlSafe: urlSafe, padding: padding)
                let decoded = urlSafe ? Base64.decodeURL(encoded) : Base64.decode(encoded)
                require(decoded == input, "base64 round trip failed (urlSafe \(urlSafe), padding \(padding))")
            }
        }
        for urlSafe in [false, true] {
            guard let decoded = urlSafe ? Base64.decodeURL(text) : Base64.decode(text) else { continue }
            let digits = text.utf8.filter { $0 != UInt8(ascii: "=") }.count
            require(decoded.count == digits * 3 / 4, "decoded \(decoded.count) bytes from \(digits) digits")
            let again = Base64.encode(decoded, urlSafe: urlSafe, padding: false)
            require(again.utf8.count == digits, "re-encoding changed the length")
        }
    }

    static func checkPercentEncoding(_ text: String) {
        let encoded = PercentDecoding.encode(text)
        require(encoded.utf8.allSatisfy { $0 < 0x80 }, "percent-encoding produced non-ASCII")
        for plusIsSpace in [false, true] {
            let decoded = try? PercentDecoding.decode(Substring(encoded), plusIsSpace: plusIsSpace)
            require(decoded.map { $0.utf8.elementsEqual(text.utf8) } ?? false, "percent round trip failed")
            if let plain = try? PercentDecoding.decode(Substring(text), plusIsSpace: plusIsSpace) {
                require(plain.utf8.count <= text.utf8.count, "decoding made the text longer")
            }
        }
        _ = try? PercentDecoding.decodeQuery(text)
    }

    /// parse never traps; a parsed instant is finite; format → parse is exact to the millisecond for
    /// instants in years 1970...9999.
    static func checkISO8601(_ input: [UInt8], _ text: String) {
        if let seconds = ISO8601.parse(text) {
            require(seconds.isFinite, "ISO8601.parse gave \(seconds)")
        }
        guard input.count >= 6 else { return }
        let raw = input.prefix(6).reduce(0) { $0 << 8 | Int($1) }
        let millis = raw % 253_402_300_800_000
        let instant = Double(millis) / 1000
        let formatted = ISO8601.format(instant)
        guard let parsed = ISO8601.parse(formatted) else {
            fatalError("Codec invariant violated: ISO8601 cannot read its own \(formatted)")
        }
        require(abs(parsed - instant) < 0.0015, "\(formatted) reads back as \(parsed), not \(instant)")
    }

    static func checkRedisURL(_ text: String) {
        guard let url = try? RedisURL(text) else { return }
        require(url.database >= 0, "negative database")
        switch url.address {
        case .tcp(let host, let port):
            require(!host.isEmpty, "empty host")
            require((1...65535).contains(port), "port \(port)")
        case .unix(let path):
            require(path.hasPrefix("/"), "relative socket path")
        }
    }

    static func require(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { fatalError("Codec invariant violated: \(message())") }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    TextCodecsFuzzer.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
