/// Group/version/kind of an object, parsed from `apiVersion` and `kind`.
public struct GroupVersionKind: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var group: String
    public var version: String
    public var kind: String

    public init(group: String, version: String, kind: String) {
        self.group = group; self.version = version; self.kind = kind
    }

    /// Splits `apps/v1` into group `apps` and version `v1`; `v1` is the core group.
    public init(apiVersion: String, kind: String) {
        // Split at the first "/" byte, as apimachinery's ParseGroupVersion does. A `Character`
        // search would be an order of magnitude slower on this path, run for every object
        // several times per build.
        let u = apiVersion.utf8
        if let slash = u.firstIndex(of: UInt8(ascii: "/")) {
            group = String(apiVersion[..<slash])
            version = String(apiVersion[u.index(after: slash)...])
        } else {
            group = ""
            version = apiVersion
        }
        self.kind = kind
    }

    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    public var groupKind: GroupKind { GroupKind(group: group, kind: kind) }
    public var description: String { "\(apiVersion), Kind=\(kind)" }

    public static func < (a: Self, b: Self) -> Bool { (a.group, a.version, a.kind) < (b.group, b.version, b.kind) }
}

/// Group and kind without version: what identifies a kind across API versions.
public struct GroupKind: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var group: String
    public var kind: String
    public init(group: String, kind: String) { self.group = group; self.kind = kind }
    public var description: String { group.isEmpty ? kind : "\(kind).\(group)" }
    public static func < (a: Self, b: Self) -> Bool { (a.group, a.kind) < (b.group, b.kind) }
}

/// The identity of an object in a cluster: group, kind, namespace and name. Version is not
/// part of identity (the same Deployment is served as apps/v1 and any later version).
///
/// The four strings are hashed once, where the key is made: an apply looks every object's key
/// up a dozen times (modes, diffs, inventory, outcomes), and each lookup then hashes one word
/// instead of four strings. Equality still compares the strings.
public struct ObjectKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let group: String
    public let kind: String
    public let namespace: String
    public let name: String
    /// The four fields' hash, worked out in `init`.
    private let hashWord: Int

    public init(group: String, kind: String, namespace: String, name: String) {
        self.group = group; self.kind = kind; self.namespace = namespace; self.name = name
        var h = Hasher()
        h.combine(group); h.combine(kind); h.combine(namespace); h.combine(name)
        hashWord = h.finalize()
    }

    public static func == (a: ObjectKey, b: ObjectKey) -> Bool {
        a.hashWord == b.hashWord && a.name == b.name && a.namespace == b.namespace && a.kind == b.kind && a.group == b.group
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(hashWord) }

    public var groupKind: GroupKind { GroupKind(group: group, kind: kind) }

    /// `Deployment apps edge-eu/web`-style text for messages: `Kind[.group] [namespace/]name`.
    public var description: String {
        let gk = groupKind.description
        return namespace.isEmpty ? "\(gk) \(name)" : "\(gk) \(namespace)/\(name)"
    }

    public static func < (a: Self, b: Self) -> Bool {
        (a.group, a.kind, a.namespace, a.name) < (b.group, b.kind, b.namespace, b.name)
    }
}

extension Value {
    /// `apiVersion` of a Kubernetes object, if set to a string.
    public var apiVersion: String? { topString("apiVersion") }
    /// `kind` of a Kubernetes object, if set to a string.
    public var kindName: String? { topString("kind") }
    public var metadataName: String? { metadataString("name") }
    public var metadataNamespace: String? { metadataString("namespace") }
    public var labels: Object { metadataMap("labels") ?? Object() }
    public var annotations: Object { metadataMap("annotations") ?? Object() }

    // These run for every object at every stage: read in place, with no copy of the maps on
    // the way (`self["metadata"]?["name"]` copies the metadata value, then the name value).
    @inline(__always) func topString(_ key: String) -> String? {
        if case .object(let o) = kind { return o.string(at: key) }
        return nil
    }
    @inline(__always) func metadataString(_ key: String) -> String? {
        if case .object(let o) = kind { return o.object(at: "metadata")?.string(at: key) }
        return nil
    }
    @inline(__always) func metadataMap(_ key: String) -> Object? {
        if case .object(let o) = kind { return o.object(at: "metadata")?.object(at: key) }
        return nil
    }

    /// Group/version/kind when both `apiVersion` and `kind` are strings.
    public var gvk: GroupVersionKind? {
        guard let a = apiVersion, let k = kindName else { return nil }
        return GroupVersionKind(apiVersion: a, kind: k)
    }

    /// Identity of a Kubernetes object (namespace as written; empty when unset).
    public var objectKey: ObjectKey? {
        guard let gvk, let name = metadataName else { return nil }
        return ObjectKey(group: gvk.group, kind: gvk.kind, namespace: metadataNamespace ?? "", name: name)
    }
}

extension GroupKind {
    /// Parses `Kind` (core group) or `Kind.group` (as `kubectl` prints kinds, e.g.
    /// `Deployment.apps`, `CustomResourceDefinition.apiextensions.k8s.io`).
    public static func parse(_ s: String) -> GroupKind {
        guard let dot = s.firstIndex(of: ".") else { return GroupKind(group: "", kind: s) }
        return GroupKind(group: String(s[s.index(after: dot)...]), kind: String(s[..<dot]))
    }
}
