#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps template recursion from overflowing the thread's fixed stack: nested executions stop
/// with a limit error while enough stack remains for the deepest non-template work (codecs are
/// bounded separately). Go grows goroutine stacks instead; a Swift thread cannot.
enum StackGuard {
    @inline(never) static func currentAddress() -> UInt {
        var marker: UInt8 = 0
        return withUnsafeMutablePointer(to: &marker) { UInt(bitPattern: $0) }
    }

    /// The lowest stack address nested template executions may reach on this thread.
    static func lowWaterMark() -> UInt {
        #if os(Linux)
        // glibc's pthread_getattr_np is not in Swift's Glibc module (it needs _GNU_SOURCE).
        typealias GetAttr = @convention(c) (pthread_t, UnsafeMutablePointer<pthread_attr_t>) -> Int32
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pthread_getattr_np") else { return 0 }
        let getattr = unsafeBitCast(sym, to: GetAttr.self)
        var attr = pthread_attr_t()
        guard getattr(pthread_self(), &attr) == 0 else { return 0 }
        defer { pthread_attr_destroy(&attr) }
        var addr: UnsafeMutableRawPointer? = nil
        var size = 0
        guard pthread_attr_getstack(&attr, &addr, &size) == 0, let addr else { return 0 }
        let low = UInt(bitPattern: addr)
        #else
        let top = UInt(bitPattern: pthread_get_stackaddr_np(pthread_self()))
        let size = pthread_get_stacksize_np(pthread_self())
        let low = top - UInt(size)
        #endif
        // Reserve a quarter of the stack (at most 1 MiB, at least 64 KiB) below the last check.
        let reserve = UInt(max(64 << 10, min(1 << 20, size / 4)))
        return low + reserve
    }
}
