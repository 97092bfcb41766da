#if canImport(Glibc)
import Glibc
#endif
import Testing

@testable import IGMediaLogic

@Suite("Process hardening")
struct ProcessHardeningTests {
    @Test("after apply() the process is not dumpable and may write no core file")
    func nonDumpable() {
        #expect(ProcessHardening.apply() == [])
        #expect(ProcessHardening.isDumpable == false)
        var limit = rlimit()
        #expect(getrlimit(Int32(RLIMIT_CORE.rawValue), &limit) == 0)
        #expect(limit.rlim_cur == 0 && limit.rlim_max == 0)
    }
}
