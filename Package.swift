// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "igmedia",
    products: [
        .executable(name: "igmedia-fcgi", targets: ["igmedia-fcgi"]),
        .library(name: "IGMediaLogic", targets: ["IGMediaLogic"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // The Prometheus registry and text format (swift-prometheus, on swift-metrics).
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CFastCGI", path: "Sources/CFastCGI",
            providers: [.apt(["libfcgi-dev"])]),
        .systemLibrary(
            name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        // Header-only: typed wrappers for variadic libc calls (prctl).
        .systemLibrary(name: "CSystem", path: "Sources/CSystem"),
        .target(
            name: "IGMediaLogic",
            dependencies: [
                "CCurl", "COpenSSL", "CSystem", "CZlib",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        .executableTarget(
            name: "igmedia-fcgi",
            dependencies: [
                "IGMediaLogic", "CFastCGI",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(
            name: "IGMediaLogicTests",
            // CZlib: the gzip tests inflate with zlib itself, independently of the code under test.
            dependencies: ["IGMediaLogic", "CZlib"],
            // The wire golden files are read from the source tree (#filePath), not bundled.
            exclude: ["Handlers/Golden"]),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer harnesses (Sources/IGMediaFuzz), one executable per input format. Declared only when
// IGMEDIA_FUZZ is set: scripts/fuzz sets it and builds them with sanitizers into .build-fuzz, where
// libFuzzer supplies main. The normal build and `swift test` never compile them.
if Context.environment["IGMEDIA_FUZZ"] != nil {
    for harness in ["CGI", "JSON", "QStash", "Codecs", "RESP"] {
        package.targets.append(
            .executableTarget(
                name: "IGMediaFuzz\(harness)", dependencies: ["IGMediaLogic"],
                path: "Sources/IGMediaFuzz/\(harness)"))
    }
}
