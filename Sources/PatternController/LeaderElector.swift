import PatternCore
import KubeClient
import Synchronization

/// Leader election with a `coordination.k8s.io/v1` Lease, as client-go's leaderelection does:
/// the holder renews `renewTime` every `retryPeriod`; a candidate takes the Lease over when the
/// holder has not renewed it for `leaseDuration` (measured on the candidate's own clock from
/// when it last saw the record change, so clock skew between nodes does not matter) or when the
/// holder released it (empty `holderIdentity`). Every write carries the resourceVersion it read,
/// so two candidates can never both win the same round.
public final class LeaderElector: Sendable {
    public struct Config: Sendable {
        public var name: String
        public var namespace: String
        public var identity: String
        public var leaseDuration: Double = 15
        public var renewDeadline: Double = 10
        public var retryPeriod: Double = 2
        public init(name: String, namespace: String, identity: String) {
            self.name = name; self.namespace = namespace; self.identity = identity
        }
    }

    static let gvk = GroupVersionKind(group: "coordination.k8s.io", version: "v1", kind: "Lease")

    public let config: Config
    let client: KubeClient
    private struct State: Sendable {
        var observedRecord = ""
        var observedAt: Double = 0
        var lastRenew: Double = 0
        var leading = false
    }
    private let state = Mutex(State())

    public init(client: KubeClient, config: Config) { self.client = client; self.config = config }

    public var isLeader: Bool { state.withLock { $0.leading } }

    /// One attempt to acquire or renew. Returns whether this instance holds the Lease now.
    public func tryAcquireOrRenew() async -> Bool {
        let now = monotonic()
        let existing: Value?
        do { existing = try await client.getIfPresent(LeaderElector.gvk, name: config.name, namespace: config.namespace) } catch {
            return stillLeading(now)
        }
        let micro = Timestamp.micro()
        guard let lease = existing else {
            let lease = LeaseRecord.new(name: config.name, namespace: config.namespace, identity: config.identity,
                                        durationSeconds: Int(config.leaseDuration.rounded(.up)), now: micro)
            do { _ = try await client.create(lease, fieldManager: "pattern-controller") } catch { return stillLeading(now) }
            return won(now)
        }
        let spec = lease["spec"] ?? .emptyObject
        let holder = spec["holderIdentity"]?.string ?? ""
        let record = "\(holder)|\(spec["renewTime"]?.string ?? "")|\(spec["acquireTime"]?.string ?? "")"
        let duration = Double(spec["leaseDurationSeconds"]?.int ?? Int(config.leaseDuration))
        let expired: Bool = state.withLock { s in
            if record != s.observedRecord { s.observedRecord = record; s.observedAt = now }
            return now - s.observedAt > duration
        }
        if holder != config.identity && !holder.isEmpty && !expired { return lost() }
        let claimed = LeaseRecord.claimed(lease, identity: config.identity, durationSeconds: Int(config.leaseDuration.rounded(.up)), now: micro)
        do { _ = try await client.update(claimed, fieldManager: "pattern-controller") } catch {
            if case .conflict = error { return holder == config.identity ? stillLeading(now) : lost() }
            return stillLeading(now)
        }
        return won(now)
    }

    /// Gives the Lease up (empty holder, 1s duration) so a standby takes over at once.
    /// Ends leadership and clears the Lease if it still names this identity (`LeaseRecord.release`).
    public func release() async {
        state.withLock { $0.leading = false }
        await LeaseRecord.release(client, name: config.name, namespace: config.namespace, identity: config.identity)
    }

    private func won(_ now: Double) -> Bool {
        state.withLock { $0.leading = true; $0.lastRenew = now }
        return true
    }

    private func lost() -> Bool {
        state.withLock { $0.leading = false }
        return false
    }

    /// A failed round (API error): a leader stays leader until its renew deadline passes.
    private func stillLeading(_ now: Double) -> Bool {
        let deadline = config.renewDeadline
        return state.withLock { s in
            if s.leading && now - s.lastRenew > deadline { s.leading = false }
            return s.leading
        }
    }
}

func monotonic() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
