#if canImport(Glibc)
import Glibc
#endif

/// Time and client identity for ledger entries.
enum Clock {
    static func rfc3339Now() -> String {
        var t = time(nil)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(tmv.tm_year + 1900)-\(two(tmv.tm_mon + 1))-\(two(tmv.tm_mday))T\(two(tmv.tm_hour)):\(two(tmv.tm_min)):\(two(tmv.tm_sec))Z"
    }

    /// The user (from $USER) and host name that ran the apply.
    static func userAndHost() -> (String, String) {
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, 255)
        let host = String(cString: buf)
        let user = getenv("USER").map { String(cString: $0) } ?? "unknown"
        return (user, host)
    }
}
