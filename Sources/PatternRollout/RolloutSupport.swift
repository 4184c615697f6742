#if canImport(Glibc)
import Glibc
#endif
import PatternCore

/// Failures of a rollout command. Callers switch on `kind`.
public struct RolloutError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// No state for this rollout in the hub cluster.
        case notFound
        /// `start` while a rollout of that name is running or paused.
        case alreadyRunning
        /// Another client drives the rollout (its heartbeat is fresh).
        case drivenElsewhere
        /// The state cannot be decoded.
        case stateUnreadable
        /// The hub cluster cannot be read or written.
        case hubUnavailable
        /// Someone else wrote the state in between (resourceVersion conflict), more often than retried.
        case conflict
        /// The requested change does not fit the phase (resume a succeeded rollout, …).
        case invalidTransition
        /// The driving task was cancelled; the stored state is where it stopped.
        case interrupted
    }
    public var kind: Kind
    public var message: String
    public var fix: String?
    public init(_ kind: Kind, _ message: String, fix: String? = nil) { self.kind = kind; self.message = message; self.fix = fix }
    public var description: String { message }
}

/// Time for the rollout: `now` for recorded timestamps (soak, retries, heartbeats) and `sleep`
/// between polls. Tests inject a clock whose sleep advances time at once.
public protocol RolloutClock: Sendable {
    /// Seconds since the epoch.
    func now() -> Double
    func sleep(seconds: Double) async throws
}

/// The wall clock.
public struct SystemRolloutClock: RolloutClock {
    public init() {}
    public func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
    public func sleep(seconds: Double) async throws {
        try await Task.sleep(for: .milliseconds(Int(max(0, seconds) * 1000)))
    }
}

/// RFC 3339 UTC timestamps with whole seconds, as Kubernetes writes them.
public enum Timestamp {
    public static func format(_ t: Double) -> String {
        var secs = time_t(t.rounded(.down))
        var tmv = tm()
        gmtime_r(&secs, &tmv)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(tmv.tm_year + 1900)-\(two(tmv.tm_mon + 1))-\(two(tmv.tm_mday))T\(two(tmv.tm_hour)):\(two(tmv.tm_min)):\(two(tmv.tm_sec))Z"
    }

    /// `2026-11-28T06:41:41Z` → seconds since the epoch; nil for anything else.
    public static func parse(_ s: String) -> Double? {
        let u = Array(s.utf8)
        guard u.count == 20, u[4] == 45, u[7] == 45, u[10] == 84, u[13] == 58, u[16] == 58, u[19] == 90 else { return nil }
        func num(_ a: Int, _ b: Int) -> Int32? {
            var n: Int32 = 0
            for c in u[a..<b] { guard c >= 48 && c <= 57 else { return nil }; n = n * 10 + Int32(c - 48) }
            return n
        }
        guard let y = num(0, 4), let mo = num(5, 7), let d = num(8, 10), let h = num(11, 13), let mi = num(14, 16), let se = num(17, 19) else { return nil }
        var tmv = tm()
        tmv.tm_year = y - 1900; tmv.tm_mon = mo - 1; tmv.tm_mday = d; tmv.tm_hour = h; tmv.tm_min = mi; tmv.tm_sec = se
        return Double(timegm(&tmv))
    }

    /// `90` → `1m30s`.
    public static func duration(_ seconds: Double) -> String {
        let s = Int(max(0, seconds).rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" + (s % 60 == 0 ? "" : "\(s % 60)s") }
        return "\(s / 3600)h" + (s % 3600 / 60 == 0 ? "" : "\(s % 3600 / 60)m")
    }
}
