import IGMediaLogic
import Testing

@Suite("CloudinarySigner")
struct CloudinarySignerTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let label: String
        let stringToSign: String
        let secret: String
        let sha1: String
        let sha256: String?
        var testDescription: String { label }
    }

    // external-apis.md §3.2, verbatim.
    static let sdkSecret = "hdcixPpR2iKERPwqvH6sHdK9cyac"
    static let vectors: [Vector] = [
        Vector(label: "doc example with eager",
               stringToSign: "eager=w_400,h_300,c_pad|w_260,h_200,c_crop&public_id=sample_image&timestamp=1315060510",
               secret: "abcd", sha1: "bfd09f95f331f558cbd1320e67aa8d488770583e",
               sha256: "cc927e1290f9e3ae4c1a741eda21a4630b4ce80f9ce0bc0296337d25cf40f91e"),
        Vector(label: "SDK unit test",
               stringToSign: "cloud_name=dn6ot3ged&timestamp=1568810420&username=user@cloudinary.com",
               secret: sdkSecret, sha1: "14c00ba6d0dfdedbc86b316847d95b9e6cd46d94",
               sha256: "45ddaa4fa01f0c2826f32f669d2e4514faf275fe6df053f1a150e7beae58a3bd"),
        Vector(label: "SDK v2 %26 test",
               stringToSign: "cloud_name=dn6ot3ged&notification_url=https://fake.com/callback?a=1%26tags=hello,world"
                   + "&timestamp=1568810420",
               secret: sdkSecret, sha1: "4fdf465dd89451cc1ed8ec5b3e314e8a51695704", sha256: nil),
        Vector(label: "typical upload",
               stringToSign: "folder=tenant1/ig&overwrite=true&public_id=17895695668004550&tags=tenant_t1,ig"
                   + "&timestamp=1700000000",
               secret: "abcd", sha1: "3bb00caf55ce60b253b15ca0effee8c7dad9a8f3",
               sha256: "391117c1dcd9e98023fc59116d817741653de0bf03e1e258429fad8a2e124c10"),
        Vector(label: "destroy", stringToSign: "public_id=tenant1/ig/17895695668004550&timestamp=1700000000",
               secret: "abcd", sha1: "0f8d272ea0a6c8744b0f1ae922c7d3b71108c5ac", sha256: nil),
    ]

    @Test("signs the documented strings", arguments: vectors)
    func documentedVectors(vector: Vector) {
        #expect(CloudinarySigner.sign(stringToSign: vector.stringToSign, secret: vector.secret) == vector.sha1)
        if let sha256 = vector.sha256 {
            #expect(CloudinarySigner.sign(stringToSign: vector.stringToSign, secret: vector.secret, algorithm: .sha256)
                == sha256)
        }
    }

    @Test("builds the doc example's string from unsorted parameters and signs it")
    func docExampleFromParams() {
        let params = [
            ("timestamp", "1315060510"), ("public_id", "sample_image"), ("eager", "w_400,h_300,c_pad|w_260,h_200,c_crop"),
        ]
        #expect(CloudinarySigner.stringToSign(params)
            == "eager=w_400,h_300,c_pad|w_260,h_200,c_crop&public_id=sample_image&timestamp=1315060510")
        #expect(CloudinarySigner.sign(params, secret: "abcd") == "bfd09f95f331f558cbd1320e67aa8d488770583e")
        #expect(CloudinarySigner.sign(params, secret: "abcd", algorithm: .sha256)
            == "cc927e1290f9e3ae4c1a741eda21a4630b4ce80f9ce0bc0296337d25cf40f91e")
    }

    @Test("signs a typical upload, ignoring file, credentials and URL parameters")
    func typicalUpload() {
        let params = [
            ("file", "https://scontent.cdninstagram.com/v/abc.jpg"), ("api_key", "123456789012345"),
            ("timestamp", "1700000000"), ("tags", "tenant_t1,ig"), ("public_id", "17895695668004550"),
            ("overwrite", "true"), ("folder", "tenant1/ig"), ("cloud_name", "demo"), ("resource_type", "image"),
            ("signature", "stale"), ("context", ""),
        ]
        #expect(CloudinarySigner.stringToSign(params)
            == "folder=tenant1/ig&overwrite=true&public_id=17895695668004550&tags=tenant_t1,ig&timestamp=1700000000")
        #expect(CloudinarySigner.sign(params, secret: "abcd") == "3bb00caf55ce60b253b15ca0effee8c7dad9a8f3")
        #expect(CloudinarySigner.sign(params, secret: "abcd", algorithm: .sha256)
            == "391117c1dcd9e98023fc59116d817741653de0bf03e1e258429fad8a2e124c10")
    }

    @Test("escapes & inside a pair as %26 (signature version 2)")
    func ampersandEscaping() {
        let params = [
            ("timestamp", "1568810420"), ("notification_url", "https://fake.com/callback?a=1&tags=hello,world"),
        ]
        #expect(CloudinarySigner.stringToSign(params)
            == "notification_url=https://fake.com/callback?a=1%26tags=hello,world&timestamp=1568810420")
    }

    @Test("signs a destroy request")
    func destroy() {
        let params = [("public_id", "tenant1/ig/17895695668004550"), ("timestamp", "1700000000")]
        #expect(CloudinarySigner.sign(params, secret: "abcd") == "0f8d272ea0a6c8744b0f1ae922c7d3b71108c5ac")
    }

    @Test("sorts names by bytes, so uppercase sorts before lowercase and a prefix first")
    func byteOrder() {
        let params = [("b", "1"), ("a_b", "2"), ("a", "3"), ("B", "4")]
        #expect(CloudinarySigner.stringToSign(params) == "B=4&a=3&a_b=2&b=1")
    }

    @Test("computes the upload response signature")
    func responseSignature() {
        #expect(CloudinarySigner.responseSignature(publicID: "sample", version: "1312461204", secret: "abcd")
            == "7332b60d1da7033c332c59cb66dac31f72acc44c")
    }
}
