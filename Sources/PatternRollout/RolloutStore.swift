import PatternCore
import KubeClient
import Synchronization

/// Where rollout states live. Writes carry the version they were read at and fail with
/// `RolloutError.Kind.conflict` when someone wrote in between (optimistic concurrency).
public protocol RolloutStore: Sendable {
    /// The state of rollout `name`, or nil when there is none.
    func load(_ name: String) async throws(RolloutError) -> RolloutState?
    /// Stores `state` as new (no version) or over the version it carries; returns it with its new version.
    func save(_ state: RolloutState) async throws(RolloutError) -> RolloutState
}

/// Rollout states as ConfigMaps `pattern-rollout-<name>` in the hub cluster's record namespace
/// (`data["state.json"]`), written with PUT and `metadata.resourceVersion`, so every client
/// sees the same state and concurrent writers cannot overwrite each other.
public struct ConfigMapRolloutStore: RolloutStore {
    public let client: KubeClient
    public let namespace: String
    static let configMap = GroupVersionKind(group: "", version: "v1", kind: "ConfigMap")
    static let namespaceGVK = GroupVersionKind(group: "", version: "v1", kind: "Namespace")
    /// Label on every rollout state ConfigMap (value: the rollout name).
    public static let rolloutLabel = "pattern.dev/rollout"
    static let key = "state.json"

    public init(client: KubeClient, namespace: String = "pattern-system") { self.client = client; self.namespace = namespace }

    /// The ConfigMap name of rollout `name`.
    public static func objectName(_ name: String) -> String { "pattern-rollout-" + name }

    func unavailable(_ what: String, _ error: KubeError) -> RolloutError {
        RolloutError(.hubUnavailable, "cannot \(what) the rollout state in \(namespace) on the hub cluster: \(error)",
                     fix: "check --hub-context (or the rollout's hub site) and that the identity may get/create/update ConfigMaps in \(namespace)")
    }

    public func load(_ name: String) async throws(RolloutError) -> RolloutState? {
        let cm: Value?
        do { cm = try await client.getIfPresent(Self.configMap, name: Self.objectName(name), namespace: namespace) } catch {
            throw unavailable("read", error)
        }
        guard let cm else { return nil }
        guard let text = cm[path: ["data", Self.key]]?.string else {
            throw RolloutError(.stateUnreadable, "\(namespace)/\(Self.objectName(name)) holds no \(Self.key)",
                               fix: "delete the ConfigMap to start the rollout over")
        }
        let doc: Value
        do { doc = try JSONParser.parse(text, file: Self.objectName(name)) } catch {
            throw RolloutError(.stateUnreadable, "\(namespace)/\(Self.objectName(name)): \(error.message)", fix: "delete the ConfigMap to start the rollout over")
        }
        return try RolloutState(value: doc, resourceVersion: cm[path: ["metadata", "resourceVersion"]]?.string)
    }

    public func save(_ state: RolloutState) async throws(RolloutError) -> RolloutState {
        let text = JSONWriter.string(state.value)
        guard text.utf8.count < 900 * 1024 else {
            throw RolloutError(.invalidTransition, "the state of rollout \(state.name) would be \(text.utf8.count / 1024) KiB: more than a ConfigMap holds",
                               fix: "split the rollout into several (by group)")
        }
        var meta: Object = ["name": .string(Self.objectName(state.name)), "namespace": .string(namespace),
                            "labels": ["app.kubernetes.io/managed-by": "pattern", Self.rolloutLabel: .string(state.name)]]
        if let rv = state.resourceVersion { meta.set("resourceVersion", .string(rv)) }
        let cm: Value = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": .object(meta), "data": [Self.key: .string(text)]]
        let stored: Value
        do {
            if state.resourceVersion == nil {
                try await ensureNamespace()
                stored = try await client.create(cm, fieldManager: "pattern")
            } else {
                stored = try await client.update(cm, fieldManager: "pattern")
            }
        } catch {
            switch error {
            case .conflict, .alreadyExists:
                throw RolloutError(.conflict, "the state of rollout \(state.name) changed while this client wrote it", fix: "re-run the command")
            case .notFound where state.resourceVersion != nil:
                throw RolloutError(.conflict, "the state of rollout \(state.name) was deleted while this client wrote it", fix: "start the rollout again")
            default:
                throw unavailable("write", error)
            }
        }
        var out = state
        out.resourceVersion = stored[path: ["metadata", "resourceVersion"]]?.string
        return out
    }

    func ensureNamespace() async throws(KubeError) {
        if try await client.getIfPresent(Self.namespaceGVK, name: namespace) != nil { return }
        let ns: Value = ["apiVersion": "v1", "kind": "Namespace",
                         "metadata": ["name": .string(namespace), "labels": ["app.kubernetes.io/managed-by": "pattern"]]]
        _ = try await client.apply(ns, fieldManager: "pattern")
    }
}

/// States in memory (tests), with the same version checks as the ConfigMap store.
public final class MemoryRolloutStore: RolloutStore {
    private let states = Mutex<(docs: [String: (Value, Int)], version: Int)>(([:], 0))

    public init() {}

    public func load(_ name: String) async throws(RolloutError) -> RolloutState? {
        guard let entry = states.withLock({ $0.docs[name] }) else { return nil }
        return try RolloutState(value: entry.0, resourceVersion: String(entry.1))
    }

    public func save(_ state: RolloutState) async throws(RolloutError) -> RolloutState {
        let doc = state.value
        let result: Int? = states.withLock { s in
            guard s.docs[state.name].map({ String($0.1) }) == state.resourceVersion else { return nil }
            s.version += 1
            s.docs[state.name] = (doc, s.version)
            return s.version
        }
        guard let rv = result else { throw RolloutError(.conflict, "the state of rollout \(state.name) changed while this client wrote it") }
        var out = state
        out.resourceVersion = String(rv)
        return out
    }
}
