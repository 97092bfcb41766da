/// Keeps log lines free of anything a client could smuggle in (long or control-laden paths).
enum LogRedaction {
    static func path(_ path: String) -> String {
        // Bytes: the common case (short, printable) returns the string itself without a copy.
        let utf8 = path.utf8
        if utf8.count <= 200 && !utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) { return path }
        let clipped = utf8.count > 200 ? String(path.prefix(200)) + "…" : path
        return String(clipped.map { $0.isASCII && ($0.asciiValue! < 0x20 || $0.asciiValue! == 0x7F) ? "?" : $0 })
    }
}
