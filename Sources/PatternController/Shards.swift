#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PatternCore
import KubeClient
import Synchronization

/// Spreads PatternSyncs over controller replicas: each PatternSync (`namespace/name`) hashes to
/// one of `shards` shards (FNV-1a, the same on every replica and every build); each shard is held
/// through its own `coordination.k8s.io/v1` Lease `<name>-shard-<i>`, with the rules of
/// `LeaderElector` (takeover after `leaseDuration` without a change seen on the taker's own
/// clock; every write carries the resourceVersion it read). Every replica also renews a Lease of
/// its own, `<name>-replica-<identity>`, so each knows how many replicas are alive and takes at
/// most its fair share, `ceil(shards / live replicas)`, releasing the extras.
///
/// One round (every `retryPeriod`) is one LIST of the group's Leases plus one write per held
/// shard and one for the replica Lease. A shard whose renewal has failed for `renewDeadline`
/// (shorter than `leaseDuration`) is given up before anyone else may take it.
public final class ShardManager: Sendable {
    public struct Config: Sendable {
        /// Base name of the Leases (`--lease-name`).
        public var name: String
        public var namespace: String
        public var identity: String
        public var shards: Int
        public var leaseDuration: Double = 15
        public var renewDeadline: Double = 10
        public var retryPeriod: Double = 2
        public init(name: String, namespace: String, identity: String, shards: Int) {
            self.name = name; self.namespace = namespace; self.identity = identity; self.shards = max(1, shards)
        }
        public init(lease: LeaderElector.Config, shards: Int) {
            self.init(name: lease.name, namespace: lease.namespace, identity: lease.identity, shards: shards)
            leaseDuration = lease.leaseDuration; renewDeadline = lease.renewDeadline; retryPeriod = lease.retryPeriod
        }
    }

    /// The label every Lease of the group carries (its value is `Config.name`).
    public static let groupLabel = "pattern.dev/controller-group"
    /// `shard` or `replica`.
    public static let roleLabel = "pattern.dev/controller-lease"

    /// The shard of a PatternSync key (`namespace/name`): FNV-1a 64 modulo `shards`.
    public static func shard(of key: String, shards: Int) -> Int {
        guard shards > 1 else { return 0 }
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in key.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return Int(h % UInt64(shards))
    }

    public let config: Config
    let client: KubeClient

    private struct State: Sendable {
        /// Lease name → (holder|renewTime|acquireTime, when that record was first seen).
        var observed: [String: (String, Double)] = [:]
        /// Held shard → when it was last renewed (monotonic).
        var held: [Int: Double] = [:]
        /// Shards being handed back (their workers are finishing): renewed, not counted.
        var releasing: Set<Int> = []
        var liveReplicas = 1
    }
    private let state = Mutex(State())

    public init(client: KubeClient, config: Config) { self.client = client; self.config = config }

    public func leaseName(shard i: Int) -> String { "\(config.name)-shard-\(i)" }

    /// `<name>-replica-<identity>` as a valid object name (lowercase, [a-z0-9.-], ≤ 253).
    public var replicaLeaseName: String {
        var out = ""
        for c in config.identity.lowercased().unicodeScalars {
            out.unicodeScalars.append(("a"..."z").contains(c) || ("0"..."9").contains(c) || c == "." || c == "-" ? c : "-")
        }
        return String("\(config.name)-replica-\(out)".prefix(240))
    }

    /// Shards held now (releasing ones included: their Leases are still ours).
    public var held: Set<Int> { state.withLock { Set($0.held.keys) } }
    /// Live replicas seen in the last round (this one included).
    public var liveReplicas: Int { state.withLock { $0.liveReplicas } }
    /// The most shards this replica keeps: `ceil(shards / live replicas)`.
    public var fairShare: Int { let live = max(1, liveReplicas); return (config.shards + live - 1) / live }

    /// What a round decided.
    public struct Round: Sendable {
        /// Shards this replica holds after the round (its workers may run).
        public var held: Set<Int>
        /// Held shards above the fair share: stop their workers, then `release(_:)` them.
        public var surplus: [Int]
    }

    /// One round: observe every Lease of the group, renew the replica Lease and the held shards,
    /// take free or expired shards up to the fair share, name the surplus. A round that does not
    /// finish within `renewDeadline` counts as failed.
    public func round() async -> Round {
        let finished = await withTaskGroup(of: Bool.self) { group -> Bool in
            group.addTask { await self.roundBody(); return true }
            group.addTask { try? await Task.sleep(for: .seconds(self.config.renewDeadline)); return false }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if !finished { expireUnrenewed(monotonic()) }
        return state.withLock { s in
            let live = max(1, s.liveReplicas)
            let fair = (config.shards + live - 1) / live
            let kept = s.held.keys.filter { !s.releasing.contains($0) }.sorted()
            let surplus = kept.count > fair ? Array(kept.suffix(kept.count - fair)) : []
            return Round(held: Set(kept).subtracting(surplus), surplus: surplus)
        }
    }

    func roundBody() async {
        let now = monotonic()
        let leases: [Value]
        do {
            leases = try await client.list(LeaderElector.gvk, namespace: config.namespace, labelSelector: "\(ShardManager.groupLabel)=\(config.name)").items
        } catch {
            expireUnrenewed(now)
            return
        }
        var byName: [String: Value] = [:]
        for l in leases { if let n = l.metadataName { byName[n] = l } }
        // Observe every record: a Lease is expired when its record has not changed for its duration.
        let expired = state.withLock { s -> Set<String> in
            var out = Set<String>()
            for (n, l) in byName {
                let spec = l["spec"] ?? .emptyObject
                let record = "\(spec["holderIdentity"]?.string ?? "")|\(spec["renewTime"]?.string ?? "")|\(spec["acquireTime"]?.string ?? "")"
                if s.observed[n]?.0 != record { s.observed[n] = (record, now) }
                let duration = Double(spec["leaseDurationSeconds"]?.int ?? Int(config.leaseDuration))
                if now - (s.observed[n]?.1 ?? now) > duration { out.insert(n) }
            }
            for n in Array(s.observed.keys) where byName[n] == nil { s.observed[n] = nil }
            return out
        }
        // This replica's own Lease, then the count of live replicas.
        let mine = replicaLeaseName
        _ = await write(name: mine, role: "replica", existing: byName[mine], takeOver: false)
        var live = 1
        for (n, l) in byName where n != mine && l[path: ["metadata", "labels", ShardManager.roleLabel]]?.string == "replica" {
            let holder = l[path: ["spec", "holderIdentity"]]?.string ?? ""
            if !holder.isEmpty && !expired.contains(n) { live += 1 }
            // A replica gone for long: its Lease goes too (pod names change on every restart).
            else if let seen = state.withLock({ $0.observed[n]?.1 }), now - seen > 10 * config.leaseDuration {
                _ = try? await client.delete(LeaderElector.gvk, name: n, namespace: config.namespace)
            }
        }
        state.withLock { $0.liveReplicas = live }
        let fair = (config.shards + live - 1) / live
        // Renew what is held.
        for i in 0..<config.shards where state.withLock({ $0.held[i] != nil }) {
            let n = leaseName(shard: i)
            let holder = byName[n]?[path: ["spec", "holderIdentity"]]?.string
            if byName[n] != nil && holder != config.identity {
                // Someone else holds it (we were too slow to renew): gone.
                state.withLock { _ = $0.held.removeValue(forKey: i); _ = $0.releasing.remove(i) }
                continue
            }
            switch await write(name: n, role: "shard", existing: byName[n], takeOver: false) {
            case .written: state.withLock { $0.held[i] = monotonic() }
            case .conflict: state.withLock { _ = $0.held.removeValue(forKey: i); _ = $0.releasing.remove(i) }
            case .failed: break
            }
        }
        expireUnrenewed(monotonic())
        // Take free or expired shards up to the fair share, starting at an offset of our own
        // so replicas starting together spread out instead of racing for shard 0.
        let start = ShardManager.shard(of: config.identity, shards: config.shards)
        for step in 0..<config.shards {
            let counted = state.withLock { s in s.held.keys.filter { !s.releasing.contains($0) }.count }
            if counted >= fair { break }
            let i = (start + step) % config.shards
            if state.withLock({ $0.held[i] != nil }) { continue }
            let n = leaseName(shard: i)
            let holder = byName[n]?[path: ["spec", "holderIdentity"]]?.string ?? ""
            guard byName[n] == nil || holder.isEmpty || expired.contains(n) else { continue }
            if case .written = await write(name: n, role: "shard", existing: byName[n], takeOver: true) {
                state.withLock { $0.held[i] = monotonic() }
            }
        }
    }

    /// Drops held shards not renewed within `renewDeadline` (their workers must stop now).
    private func expireUnrenewed(_ now: Double) {
        state.withLock { s in
            for (i, t) in s.held where now - t > config.renewDeadline { s.held[i] = nil; s.releasing.remove(i) }
        }
    }

    /// Marks a surplus shard as being handed back: renewed, no longer counted or reported held.
    public func beginRelease(_ shard: Int) { state.withLock { if $0.held[shard] != nil { _ = $0.releasing.insert(shard) } } }

    /// Gives a shard's Lease up (empty holder, 1 s duration) so another replica takes it at once.
    public func release(_ shard: Int) async {
        guard state.withLock({ $0.held.removeValue(forKey: shard) != nil }) else { return }
        state.withLock { _ = $0.releasing.remove(shard) }
        let n = leaseName(shard: shard)
        await LeaseRecord.release(client, name: n, namespace: config.namespace, identity: config.identity)
    }

    /// On shutdown (after the workers finished): every shard released, the replica Lease deleted.
    public func releaseAll() async {
        for i in held.sorted() { await release(i) }
        _ = try? await client.delete(LeaderElector.gvk, name: replicaLeaseName, namespace: config.namespace)
    }

    enum WriteResult { case written, conflict, failed }

    /// Creates or renews a Lease of the group for this replica (with the resourceVersion read).
    private func write(name: String, role: String, existing: Value?, takeOver: Bool) async -> WriteResult {
        let micro = Timestamp.micro()
        let duration = Int(config.leaseDuration.rounded(.up))
        guard let existing else {
            var lease = LeaseRecord.new(name: name, namespace: config.namespace, identity: config.identity, durationSeconds: duration, now: micro)
            lease[path: ["metadata", "labels", ShardManager.groupLabel]] = .string(config.name)
            lease[path: ["metadata", "labels", ShardManager.roleLabel]] = .string(role)
            do { _ = try await client.create(lease, fieldManager: "pattern-controller") } catch {
                return error.isConflict || { if case .alreadyExists = error { return true } else { return false } }() ? .conflict : .failed
            }
            return .written
        }
        let lease = LeaseRecord.claimed(existing, identity: config.identity, durationSeconds: duration, now: micro)
        do { _ = try await client.update(lease, fieldManager: "pattern-controller") } catch {
            return error.isConflict ? .conflict : .failed
        }
        return .written
    }
}
