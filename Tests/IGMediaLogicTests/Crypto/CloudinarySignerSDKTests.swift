import Foundation
import Testing

@testable import IGMediaLogic

/// Our signer against the official `cloudinary` Python SDK (`api_sign_request`), on generated
/// parameter sets: both sign the same parameters and must agree byte for byte.
@Suite("CloudinarySigner against the official SDK")
struct CloudinarySignerSDKTests {
    static func parameterSets(count: Int) -> [[(String, String)]] {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-/.,:|=&@ é")
        func text(_ length: Int) -> String { String((0..<length).map { _ in alphabet.randomElement(using: &generator)! }) }
        let names = ["public_id", "timestamp", "tags", "overwrite", "invalidate", "folder", "eager", "context",
                     "notification_url", "type", "resource_type", "file", "api_key", "transformation", "use_filename"]
        return (0..<count).map { index in
            var chosen = names.shuffled(using: &generator).prefix(Int.random(in: 2...names.count, using: &generator))
            if !chosen.contains("timestamp") { chosen.append("timestamp") }
            return chosen.map { name in
                switch name {
                case "timestamp": return (name, String(1_700_000_000 + index))
                case "overwrite", "invalidate", "use_filename": return (name, Bool.random(using: &generator) ? "true" : "false")
                case "file": return (name, "https://cdn.example/\(text(8)).jpg?oe=ABC&oh=1")
                default: return (name, Int.random(in: 0...5, using: &generator) == 0 ? "" : text(Int.random(in: 1...24, using: &generator)))
                }
            }
        }
    }

    @Test("agrees with cloudinary.utils.api_sign_request on 25 generated parameter sets, SHA-1 and SHA-256")
    func agreesWithSDK() throws {
        let sets = Self.parameterSets(count: 25)
        let secret = "s3cr3t-" + Digest.hex(SecureRandom.bytes(6))
        let input = JSONValue.array(sets.map { .object($0.map { ($0.0, .string($0.1)) }) })
        let directory = makeTemporaryDirectory("cloudinary-sdk")
        defer { try? FileManager.default.removeItem(at: directory) }
        let inputURL = directory.appendingPathComponent("params.json")
        try Data(JSONWriter.encode(input)).write(to: inputURL)
        let script = """
            import json, sys
            from cloudinary.utils import api_sign_request
            sets = json.load(open(sys.argv[1]))
            out = []
            # As the SDK's uploader does: these never enter params_to_sign.
            unsigned = {"file", "api_key", "signature", "cloud_name", "resource_type"}
            for params in sets:
                signed = {k: v for k, v in params.items() if k not in unsigned}
                out.append({alg: api_sign_request(signed, sys.argv[2], alg, 2) for alg in ("sha1", "sha256")})
            print(json.dumps(out))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, inputURL.path, secret]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "the cloudinary SDK is installed by make deps (Tests/requirements.txt)")
        let expected = try #require(try JSONParser.parse(Array(data)).arrayValue)
        #expect(expected.count == sets.count)
        for (params, sdk) in zip(sets, expected) {
            #expect(CloudinarySigner.sign(params, secret: secret, algorithm: .sha1) == sdk["sha1"]?.stringValue, "\(params)")
            #expect(CloudinarySigner.sign(params, secret: secret, algorithm: .sha256) == sdk["sha256"]?.stringValue, "\(params)")
        }
    }
}
