import IGMediaLogic
import Testing

@Suite("SecureRandom and UUIDv4")
struct SecureRandomTests {
    @Test("returns the requested number of bytes", arguments: [0, 1, 12, 32, 1000])
    func byteCount(count: Int) {
        #expect(SecureRandom.bytes(count).count == count)
    }

    @Test("two 32-byte draws differ")
    func drawsDiffer() {
        #expect(SecureRandom.bytes(32) != SecureRandom.bytes(32))
    }

    @Test("UUIDs are lowercase 8-4-4-4-12 with version 4 and the RFC 4122 variant")
    func uuidFormat() {
        for _ in 0..<200 {
            let uuid = UUIDv4.make()
            #expect(UUIDv4.isValid(uuid), "\(uuid)")
            let characters = Array(uuid)
            #expect(characters.count == 36)
            #expect(characters[14] == "4")
            #expect("89ab".contains(characters[19]))
            #expect(uuid == uuid.lowercased())
        }
    }

    @Test("1000 UUIDs are distinct")
    func uuidUniqueness() {
        let uuids = Set((0..<1000).map { _ in UUIDv4.make() })
        #expect(uuids.count == 1000)
    }

    @Test("accepts a canonical version-4 UUID")
    func acceptsCanonical() {
        #expect(UUIDv4.isValid("0f8fad5b-d9cb-469f-a165-70867728950e"))
        #expect(UUIDv4.isValid("00000000-0000-4000-8000-000000000000"))
    }

    @Test("rejects anything but the canonical lowercase version-4 form", arguments: [
        "",
        "0f8fad5b-d9cb-469f-a165-70867728950",    // too short
        "0f8fad5b-d9cb-469f-a165-70867728950e0",  // too long
        "0F8FAD5B-D9CB-469F-A165-70867728950E",   // uppercase
        "0f8fad5b-d9cb-169f-a165-70867728950e",   // version 1
        "0f8fad5b-d9cb-469f-c165-70867728950e",   // variant bits 11
        "0f8fad5b-d9cb-469f-7165-70867728950e",   // variant bits 0
        "0f8fad5bd-9cb-469f-a165-70867728950e",   // dash misplaced
        "0f8fad5b-d9cb-469f-a165-70867728950g",   // not hex
        "{0f8fad5b-d9cb-469f-a165-70867728950e}", // braces
        "0f8fad5b_d9cb_469f_a165_70867728950e",
    ])
    func rejectsNonCanonical(candidate: String) {
        #expect(!UUIDv4.isValid(candidate))
    }
}
