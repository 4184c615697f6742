import PatternCore
import KubeClient

extension PatternController {
    /// Watches the cluster Secrets (both formats) while this replica reconciles, so a cluster
    /// registered, a credential rotated or a cluster removed reconciles the PatternSyncs bound
    /// to it at once instead of at their next interval: the registry's Secret list is dropped and
    /// each affected worker gets a `.cluster` trigger. Affected are the PatternSyncs whose
    /// `spec.cluster.name` is the Secret's cluster name, those last resolved to that Secret, those
    /// with a `clusterSelector` (a label change may change what it matches) and remote ones that
    /// have not resolved a cluster yet (a new Secret may be the one they wait for).
    func watchClusterSecrets() async {
        let registry = reconciler.clusters
        let selectors = ["\(ClusterSecret.argoLabel)=cluster", ClusterSecret.patternLabel]
        await withTaskGroup(of: Void.self) { group in
            for selector in selectors {
                group.addTask { [self] in
                    var failures = 0
                    var listedOnce = false
                    while !Task.isCancelled && !isShuttingDown {
                        do {
                            for try await ev in client.watchWithRelist(ClusterRegistry.secretGVK, namespace: registry.secretNamespace,
                                                                       labelSelector: selector, timeoutSeconds: 300) {
                                failures = 0
                                switch ev {
                                case .listed:
                                    // The first list is the state every reconcile resolves against
                                    // anyway; a relist may hide changes: look again everywhere.
                                    if listedOnce { clusterSecretChanged(nil) }
                                    listedOnce = true
                                case .event(let e):
                                    if e.type != .bookmark { clusterSecretChanged(e.object) }
                                }
                            }
                            return
                        } catch {
                            failures += 1
                            // RBAC without `watch` on Secrets: the interval still reconciles.
                            logger.warning("cannot watch cluster Secrets; PatternSyncs see cluster changes at their next reconcile",
                                           metadata: ["namespace": "\(registry.secretNamespace)", "error": "\(error)"])
                            await stopSignal.sleep(backoff(failures))
                        }
                    }
                }
            }
        }
    }

    /// The cluster name a Secret registers (its `name` key, else its metadata name).
    static func clusterName(ofSecret s: Value) -> String {
        s[path: ["data", "name"]]?.string.flatMap(Base64.decode).map { String(decoding: $0, as: UTF8.self) }
            ?? s[path: ["stringData", "name"]]?.string ?? s.metadataName ?? ""
    }

    /// Triggers the workers a change of `secret` (nil: any Secret) may affect.
    func clusterSecretChanged(_ secret: Value?) {
        reconciler.clusters.invalidate()
        let cluster = secret.map(PatternController.clusterName(ofSecret:))
        let secretName = secret?.metadataName
        var n = 0
        for w in allWorkers() where w.boundTo(cluster: cluster, secret: secretName) {
            w.trigger(.cluster)
            n += 1
        }
        if n > 0 {
            logger.info("cluster Secret changed; reconciling the PatternSyncs bound to it",
                        metadata: ["secret": "\(secretName ?? "*")", "cluster": "\(cluster ?? "*")", "patternsyncs": "\(n)"])
        }
    }
}

extension Worker {
    /// True when a change of the cluster Secret `secret` registering `cluster` (nil: any) may
    /// change where or how this PatternSync applies.
    func boundTo(cluster: String?, secret: String?) -> Bool {
        let (spec, target) = stateSnapshot()
        let named = spec?["cluster"]?["name"]?.string
        let selector = spec?["clusterSelector"].map { !$0.isNull } ?? false
        if named == nil && !selector { return false }  // the hub itself
        guard let cluster, let secret else { return true }
        if selector || named == cluster { return true }
        guard let target else { return true }  // not resolved yet
        return target.name == cluster || target.generation.hasPrefix(secret + "@")
    }
}
