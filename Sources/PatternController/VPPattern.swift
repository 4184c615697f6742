import PatternCore
import KubeClient
import PatternRecord
import ValidatedPatterns
import Synchronization

/// The Validated Patterns operator's `Pattern` (`gitops.hybrid-cloud-patterns.io/v1alpha1`),
/// served on the PatternSync machinery: for each Pattern the controller keeps a PatternSync of
/// the same name and namespace (owned by the Pattern, so deleting the Pattern deletes it), and
/// mirrors that PatternSync's status back into the status fields the operator's users read
/// (`lastStep`, `lastError`, `conditions`, `applications`). Patterns and their PatternSyncs are
/// watched, not polled. See Docs/validated-patterns.md for what is and is not carried over.
public enum VPPattern {
    public static let group = "gitops.hybrid-cloud-patterns.io"
    public static let gvk = GroupVersionKind(group: group, version: "v1alpha1", kind: "Pattern")
    /// Label on the PatternSyncs made for a Pattern (value: the Pattern's name).
    public static let fromLabel = "pattern.dev/from-vp-pattern"
    public static let fieldManager = "pattern-controller"
    /// The operator re-reads git every 180 seconds.
    public static let interval = "3m"
    /// Argo CD's `Application`, whose sync and health status `status.applications` mirrors.
    public static let applicationGVK = GroupVersionKind(group: "argoproj.io", version: "v1alpha1", kind: "Application")

    /// The PatternSync (an apply body) for `pattern`; a `SpecError` names the field to fix.
    ///
    /// `spec.gitSpec.targetRepo` → `source.git.url` (without it, `originRepo`: the operator
    /// copies that repository into an in-cluster Gitea and deploys the copy; pattern reads it
    /// directly, through its source cache), `targetRevision` → `ref`, `tokenSecret` (in
    /// the Pattern's namespace) → `credentialsSecretRef`; `spec.variant`/`clusterGroupName` →
    /// `site` (the hub site of the checkout); `gitOpsSpec.manualSync: true` → `suspend: true`;
    /// otherwise `driftPolicy: heal` (the operator's clustergroup Application self-heals) and
    /// `prune: false` (it does not prune); `multiSourceConfig` → `validatedPatterns.multiSourceConfig`
    /// (with the operator's defaults filled in: the clustergroup chart comes from where the
    /// operator would take it).
    public static func patternSync(for pattern: Value) throws(SpecError) -> Value {
        guard let name = pattern.metadataName, let namespace = pattern.metadataNamespace else {
            throw SpecError("the Pattern has no name or namespace")
        }
        let spec = pattern["spec"] ?? .emptyObject
        // With both set, targetRepo is what the operator deploys (its Gitea copy of originRepo,
        // where users edit); with only originRepo, that repository itself.
        let target = spec[path: ["gitSpec", "targetRepo"]]?.string ?? ""
        let origin = spec[path: ["gitSpec", "originRepo"]]?.string ?? ""
        guard let url = [target, origin].first(where: { !$0.isEmpty }) else {
            throw SpecError("spec.gitSpec.targetRepo is required: the URL of the pattern's git repository (your fork), or spec.gitSpec.originRepo for the upstream repository itself")
        }
        // spec.multiSourceConfig decides the clustergroup chart as the operator decides it
        // (absent fields take the operator's defaults: enabled, charts.validatedpatterns.io);
        // values-global.yaml's main.multiSourceConfig is then not read (Docs/validated-patterns.md).
        let multiSource = MultiSourceConfig(value: spec["multiSourceConfig"])
        let site = [spec["variant"]?.string, spec["clusterGroupName"]?.string].compactMap { $0 }.first { !$0.isEmpty }
        guard let site else {
            throw SpecError("spec.clusterGroupName is required: the clusterGroup this cluster renders (main.clusterGroupName of values-global.yaml)")
        }
        var git: Value = ["url": .string(url)]
        if let rev = spec[path: ["gitSpec", "targetRevision"]]?.string, !rev.isEmpty, rev != "HEAD" { git["ref"] = .string(rev) }
        if let secret = spec[path: ["gitSpec", "tokenSecret"]]?.string, !secret.isEmpty {
            let ns = spec[path: ["gitSpec", "tokenSecretNamespace"]]?.string ?? ""
            guard ns.isEmpty || ns == namespace else {
                throw SpecError("spec.gitSpec.tokenSecretNamespace '\(ns)' differs from the Pattern's namespace '\(namespace)'; the controller reads credentials only from the resource's own namespace: copy the Secret to '\(namespace)'")
            }
            git["credentialsSecretRef"] = ["name": .string(secret)]
        }
        let manual = spec[path: ["gitOpsSpec", "manualSync"]]?.bool == true
        var owner: Value = ["apiVersion": .string(gvk.apiVersion), "kind": .string(gvk.kind), "name": .string(name), "controller": true]
        if let uid = pattern[path: ["metadata", "uid"]]?.string { owner["uid"] = .string(uid) }
        return [
            "apiVersion": .string(PatternSyncSpec.gvk.apiVersion), "kind": .string(PatternSyncSpec.kind),
            "metadata": ["name": .string(name), "namespace": .string(namespace), "labels": [fromLabel: .string(name)],
                         "ownerReferences": [owner]],
            "spec": ["source": ["git": git], "site": .string(site), "interval": .string(interval),
                     "driftPolicy": .string(manual ? "report" : "heal"), "prune": false, "suspend": .bool(manual),
                     "validatedPatterns": ["multiSourceConfig": multiSource.value]],
        ]
    }

    /// The Pattern status for a PatternSync status: `lastStep` (the Ready message), `lastError`,
    /// and conditions in the operator's types — SourceReady → `GitInSync`/`GitOutOfSync`, Ready →
    /// `Synced` or `Degraded`, Drifted → `OutOfSync`, Reconciling → `Progressing` or `Suspended`.
    ///
    /// `applications` (the Argo CD Applications the site keeps as objects, with their live
    /// status) becomes `status.applications` in the operator's shape: name, namespace,
    /// syncStatus, healthStatus. nil leaves the previous list.
    public static func patternStatus(from sync: Value, previous: Value, applications: [Value]? = nil) -> Value {
        var st = previous.object == nil ? Value.emptyObject : previous
        func cond(_ type: String) -> Value? { sync["conditions"]?.array?.first { $0["type"]?.string == type } }
        func isTrue(_ c: Value?) -> Bool { c?["status"]?.string == "True" }
        var out: [Value] = []
        func add(_ type: String, _ from: Value?) {
            guard let from else { return }
            let time = from["lastTransitionTime"] ?? .string(Timestamp.rfc3339())
            out.append(["type": .string(type), "status": "True", "lastUpdateTime": time, "lastTransitionTime": time,
                        "message": from["message"] ?? ""])
        }
        if let s = cond("SourceReady") { add(isTrue(s) ? "GitInSync" : "GitOutOfSync", s) }
        if let r = cond("Ready") { add(isTrue(r) ? "Synced" : "Degraded", r) }
        if let d = cond("Drifted"), isTrue(d) { add("OutOfSync", d) }
        if let p = cond("Reconciling") {
            if p["reason"]?.string == "Suspended" { add("Suspended", p) } else if isTrue(p) { add("Progressing", p) }
        }
        st["conditions"] = .array(out)
        if let applications {
            st["applications"] = .array(applications.map { a in
                var o = Object()
                o.append("name", .string(a.metadataName ?? ""))
                o.append("namespace", .string(a.metadataNamespace ?? ""))
                if let s = a[path: ["status", "sync", "status"]]?.string { o.append("syncStatus", .string(s)) }
                if let h = a[path: ["status", "health", "status"]]?.string { o.append("healthStatus", .string(h)) }
                return .object(o)
            })
        }
        if let m = cond("Ready")?["message"]?.string { st["lastStep"] = .string(m) }
        // A merge patch deletes with null: clear an old error explicitly.
        if let e = sync["lastError"]?.string { st["lastError"] = .string(e) } else if previous["lastError"] != nil { st["lastError"] = .null }
        return st
    }

    /// One pass: every Pattern gets its PatternSync (server-side apply, only when what it maps
    /// to changed; a Pattern that cannot be mapped gets `lastError` and a `Degraded` condition
    /// instead), and every such PatternSync's status is mirrored onto its Pattern, with the
    /// site's Argo CD Applications (written only when it changed).
    public static func syncOnce(client: KubeClient, namespace: String?) async throws(KubeError) {
        let patterns = try await client.list(gvk, namespace: namespace).items
        let syncs = try await client.list(PatternSyncSpec.gvk, namespace: namespace, labelSelector: fromLabel).items
        var existing: [String: Value] = [:]
        for s in syncs { existing["\(s.metadataNamespace ?? "")/\(s.metadataName ?? "")"] = s }
        var byKey: [String: Value] = [:]
        for p in patterns {
            byKey["\(p.metadataNamespace ?? "")/\(p.metadataName ?? "")"] = p
            let body: Value
            do { body = try patternSync(for: p) } catch {
                var st = p["status"] ?? .emptyObject
                guard st["lastError"]?.string != error.message else { continue }
                st["lastError"] = .string(error.message)
                st["conditions"] = [["type": "Degraded", "status": "True", "message": .string(error.message),
                                     "lastUpdateTime": .string(Timestamp.rfc3339()), "lastTransitionTime": .string(Timestamp.rfc3339())]]
                try await writeStatus(p, st, client: client)
                continue
            }
            let key = "\(p.metadataNamespace ?? "")/\(p.metadataName ?? "")"
            if let old = existing[key], holds(old, body) { continue }
            _ = try await client.apply(body, fieldManager: fieldManager, force: true)
        }
        let applicationsServed = (try? await client.groupVersionResources(applicationGVK.apiVersion))??.contains { $0.kind == applicationGVK.kind } ?? false
        for s in syncs {
            guard let p = byKey["\(s.metadataNamespace ?? "")/\(s[path: ["metadata", "labels", fromLabel]]?.string ?? "")"],
                  let syncStatus = s["status"] else { continue }
            var applications: [Value]?
            if applicationsServed, let inv = syncStatus["inventory"], let pattern = inv["pattern"]?.string, let site = inv["site"]?.string {
                // Not readable (no RBAC for Applications): the previous list stays.
                applications = try? await client.list(applicationGVK, labelSelector: Ownership.ownerSelector(pattern: pattern, site: site)).items
                    .sorted { ($0.metadataNamespace ?? "", $0.metadataName ?? "") < ($1.metadataNamespace ?? "", $1.metadataName ?? "") }
            }
            let previous = p["status"] ?? .emptyObject
            let st = patternStatus(from: syncStatus, previous: previous, applications: applications)
            if st != previous { try await writeStatus(p, st, client: client) }
        }
    }

    /// True when the live PatternSync `live` already holds everything `body` sets (spec fields,
    /// the label, the owner): no write needed.
    static func holds(_ live: Value, _ body: Value) -> Bool {
        guard let spec = body["spec"]?.object else { return false }
        for (k, v) in spec where live["spec"]?[k] != v { return false }
        return live[path: ["metadata", "labels", fromLabel]] == body[path: ["metadata", "labels", fromLabel]]
            && live[path: ["metadata", "ownerReferences"]] == body[path: ["metadata", "ownerReferences"]]
    }

    /// Serves Patterns until a watch fails or `stop` is signalled: Patterns and their
    /// PatternSyncs are watched (list, then watch, relisting on 410 Gone), and each change runs
    /// one `syncOnce` (changes that arrive during a pass are folded into the next). Applications
    /// have no watch here: their statuses are refreshed every `resync` seconds. Returns the
    /// error that ended it, as text (nil on stop).
    static func serve(client: KubeClient, namespace: String?, stop: StopSignal, resync: Double = 60) async -> String? {
        let (wakeups, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let failure = FirstFailure()
        return await withTaskGroup(of: Void.self) { group in
            for (kind, selector) in [(gvk, nil as String?), (PatternSyncSpec.gvk, fromLabel)] {
                group.addTask {
                    do {
                        for try await _ in client.watchWithRelist(kind, namespace: namespace, labelSelector: selector) { wake.yield() }
                    } catch {
                        failure.record(error)
                    }
                    wake.finish()
                }
            }
            group.addTask {
                while !stop.isStopped && !Task.isCancelled {
                    await stop.sleep(resync)
                    wake.yield()
                }
                wake.finish()
            }
            for await _ in wakeups {
                if stop.isStopped { break }
                do { try await syncOnce(client: client, namespace: namespace) } catch {
                    failure.record(error)
                    break
                }
            }
            group.cancelAll()
            return stop.isStopped ? nil : failure.message
        }
    }

    /// The first failure of `serve`'s tasks, as text.
    final class FirstFailure: Sendable {
        private let first = Mutex<String?>(nil)
        func record(_ error: any Error) { first.withLock { $0 = $0 ?? "\(error)" } }
        var message: String? { first.withLock { $0 } }
    }

    static func writeStatus(_ pattern: Value, _ status: Value, client: KubeClient) async throws(KubeError) {
        _ = try await client.patch(gvk, name: pattern.metadataName ?? "", namespace: pattern.metadataNamespace,
                                   patch: ["status": status], type: .merge, fieldManager: fieldManager, subresource: "status")
    }
}

extension PatternController {
    /// Serves Validated Patterns `Pattern` resources while this instance leads: Patterns and
    /// their PatternSyncs are watched (`VPPattern.serve`); when a watch fails the served check
    /// is repeated after 10 seconds, and while the Pattern CRD is not installed a cheap
    /// discovery check runs every minute.
    func serveVPPatterns() async {
        var served = false
        while !Task.isCancelled && !isShuttingDown {
            let resources = try? await client.groupVersionResources(VPPattern.gvk.apiVersion, refresh: !served)
            served = resources?.contains { $0.kind == VPPattern.gvk.kind } ?? false
            guard served else { await stopSignal.sleep(60); continue }
            if let error = await VPPattern.serve(client: client, namespace: configuration.namespace, stop: stopSignal) {
                logger.warning("cannot serve Validated Patterns Pattern resources", metadata: ["error": "\(error)"])
            }
            await stopSignal.sleep(10)
        }
    }
}
