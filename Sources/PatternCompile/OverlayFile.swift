import PatternCore
import PatternDiff

/// A site or group overlay: `overlays/<name>/overlay.yaml`.
///
/// ```yaml
/// apiVersion: pattern.dev/v1alpha1
/// kind: Site                # or Group (not rendered on its own)
/// metadata: {name: edge-eu}
/// spec:
///   extends: [edge]         # applied first, in order
///   pattern: {path: patterns/multicloud-platform}
///   cluster: {name: edge-eu-1, context: edge-eu, labels: {region: eu-west, tier: edge}}
///   valueFiles: [values-edge-eu.yaml]
///   values: {replicas: 2}
///   components: {enable: [monitoring], disable: [hello-world]}
///   apply: {recordNamespace: platform-records, namespaces: [web], pruneKinds: [ConfigMap, Deployment.apps]}
///   patches:
///   - target: {kind: Deployment, name: web}
///     patch: |-
///       - {op: replace, path: /spec/replicas, value: 3}
/// ```
public struct OverlaySpec: Sendable {
    public enum Kind: String, Sendable { case site = "Site", group = "Group" }

    public var kind: Kind
    public var name: String
    public var extends: [(name: String, mark: Mark)]
    public var pattern: PatternRef?
    public var cluster: ClusterFacts
    public var valueFiles: [(path: String, mark: Mark)]
    public var values: Value
    public var enable: [(name: String, mark: Mark)]
    public var disable: [(name: String, mark: Mark)]
    /// Kustomize-style patch entries (`path` or `patch`, optional `target`), kept as values
    /// and applied by the shared patch engine.
    public var patches: [Value]
    /// `spec.apply`: records namespace, observed namespaces, prunable kinds.
    public var apply = ApplySettings()
    /// `spec.applications`: expand Argo CD Applications or keep them (nil: not set here).
    public var applications: ApplicationsMode?
    /// `spec.ignoreDifferences`: Argo CD-style ignore rules for diff, drift and apply.
    public var ignoreDifferences: [IgnoreRule] = []
    /// `spec.kustomize.allowUnpinnedRemotes`: Kustomize components may name remote bases on a
    /// branch (or without `ref=`) and `https://…` files without `#sha256=` (nil: not set here).
    public var allowUnpinnedRemotes: Bool?
    /// Directory of the overlay inside the repository.
    public var directory: TreePath
    public var file: String
}

/// Where a site's pattern comes from.
public struct PatternRef: Sendable, Hashable {
    /// A directory in the same repository (relative to the repository root).
    public var path: String?
    /// A git source: URL, ref and path inside that repository, with fallback mirrors.
    public var git: GitRef?
    public var mark: Mark

    public struct GitRef: Sendable, Hashable {
        public var url: String
        public var ref: String?
        public var path: String?
        public var mirrors: [String]
        /// Where credentials come from (never the secrets themselves): `username`, `tokenEnv`,
        /// `tokenFile`, `sshKey`, `sshPublicKey`, `sshPassphraseEnv`, `caBundle`.
        public var credentials: [String: String]
        /// Accept a commit that does not descend from the last good one for this ref.
        public var allowForcePush: Bool = false
        /// Keys the resolved commit must be signed by (`verify:`), nil = no signature required.
        public var verify: Verify? = nil
    }

    /// `pattern.git.verify`: allowed signing keys, inline or in files (relative to the
    /// overlay file that names them).
    public struct Verify: Sendable, Hashable {
        /// `authorized_keys`-style SSH public key lines.
        public var sshKeys: [String] = []
        public var sshKeysFile: String?
        /// ASCII-armored OpenPGP public key blocks.
        public var gpgKeys: [String] = []
        public var gpgKeysFile: String?
        public var mark: Mark = .none
    }

    public static let credentialKeys = ["username", "tokenEnv", "tokenFile", "sshKey", "sshPublicKey", "sshPassphraseEnv", "caBundle"]
}

extension HelmClusterSettings {
    static let known = ["lookup", "capabilities", "lookupSecrets"]

    static func decode(_ o: Object, reader r: inout FieldReader) -> HelmClusterSettings {
        r.checkKnown(o, known, in: "cluster.helm")
        var s = HelmClusterSettings()
        if let v = o["lookup"], !v.isNull {
            if let t = v.string, let l = Lookup(rawValue: t) { s.lookup = l } else {
                r.error("'lookup' in cluster.helm must be one of off, live, replay, found \(v.description)", at: v,
                        fix: "write lookup: live to read the cluster, or off for empty maps as helm template")
            }
        }
        if let v = o["capabilities"], !v.isNull {
            if let t = v.string, let c = CapabilitiesSource(rawValue: t) { s.capabilities = c } else {
                r.error("'capabilities' in cluster.helm must be one of declared, discover, found \(v.description)", at: v,
                        fix: "write capabilities: discover to read the cluster's version and API groups")
            }
        }
        s.lookupSecrets = r.bool(o, "lookupSecrets", in: "cluster.helm") ?? false
        return s
    }
}

extension OverlaySpec {
    static let knownSpec = ["extends", "pattern", "cluster", "valueFiles", "values", "components", "patches", "description", "apply", "kustomize"]
        + argoSpecFields

    public static func decode(_ doc: Value, file: String, directory: TreePath) throws(Diagnostics) -> OverlaySpec {
        var r = FieldReader(file: file)
        guard let top = r.object(doc, "overlay file") else {
            throw Diagnostics([.error("overlay file is empty or not a map", at: SourceLocation(file: file, mark: doc.mark),
                                      fix: "start it with 'apiVersion: \(patternAPIVersion)' and 'kind: Site'")])
        }
        r.checkKnown(top, PatternSpec.knownTop, in: "overlay file")
        checkHeader(&r, top, kind: "Site", file: file, otherKinds: ["Group"])
        let kind = top["kind"]?.string.flatMap(Kind.init(rawValue:)) ?? .site
        let meta = r.object(top["metadata"], "metadata") ?? Object()
        let name = r.string(meta, "name", in: "metadata", required: true) ?? directory.name
        if !name.isEmpty && name != directory.name {
            r.error("overlay name '\(name)' differs from its directory '\(directory.name)'", at: meta["name"]!,
                    fix: "rename the directory or set metadata.name: \(directory.name)")
        }
        let spec = r.object(top["spec"], "spec") ?? Object()
        r.checkKnown(spec, knownSpec, in: "spec")

        var patternRef: PatternRef? = nil
        if let pv = spec["pattern"], let po = r.object(pv, "pattern") {
            r.checkKnown(po, ["path", "git"], in: "pattern")
            var ref = PatternRef(path: r.string(po, "path", in: "pattern"), git: nil, mark: pv.mark)
            if let gv = po["git"], let go = r.object(gv, "pattern.git") {
                r.checkKnown(go, ["url", "ref", "path", "mirrors", "credentials", "allowForcePush", "verify"], in: "pattern.git")
                var creds: [String: String] = [:]
                if let co = r.object(go["credentials"], "pattern.git.credentials") {
                    r.checkKnown(co, PatternRef.credentialKeys, in: "pattern.git.credentials")
                    for k in PatternRef.credentialKeys { if let v = r.string(co, k, in: "pattern.git.credentials") { creds[k] = v } }
                }
                let url = r.string(go, "url", in: "pattern.git", required: true) ?? ""
                if url.contains("@") && (url.hasPrefix("http://") || url.hasPrefix("https://")) {
                    r.error("pattern.git.url must not carry credentials", at: go["url"]!,
                            fix: "remove 'user:token@' from the URL and use credentials: {tokenEnv: …}")
                }
                // A plain `ref: 1.10` is the number 1.1 to YAML: refuse instead of guessing.
                var gitRef: String? = nil
                if let rv = go["ref"], !rv.isNull {
                    if let s = rv.string { gitRef = s } else {
                        r.error("'ref' in pattern.git must be a string, found \(rv.typeName) \(rv.description)", at: rv,
                                fix: "quote the ref so YAML keeps it as written, e.g. ref: \"1.10\"")
                    }
                }
                ref.git = PatternRef.GitRef(url: url,
                                            ref: gitRef,
                                            path: r.string(go, "path", in: "pattern.git"),
                                            mirrors: r.strings(go, "mirrors", in: "pattern.git").map(\.0),
                                            credentials: creds,
                                            allowForcePush: r.bool(go, "allowForcePush", in: "pattern.git") ?? false)
                if let vv = go["verify"], let vo = r.object(vv, "pattern.git.verify") {
                    r.checkKnown(vo, ["sshKeys", "sshKeysFile", "gpgKeys", "gpgKeysFile"], in: "pattern.git.verify")
                    var v = PatternRef.Verify(mark: vv.mark)
                    v.sshKeys = r.strings(vo, "sshKeys", in: "pattern.git.verify").map(\.0)
                    v.gpgKeys = r.strings(vo, "gpgKeys", in: "pattern.git.verify").map(\.0)
                    v.sshKeysFile = r.string(vo, "sshKeysFile", in: "pattern.git.verify")
                    v.gpgKeysFile = r.string(vo, "gpgKeysFile", in: "pattern.git.verify")
                    if v.sshKeys.isEmpty && v.gpgKeys.isEmpty && v.sshKeysFile == nil && v.gpgKeysFile == nil {
                        r.error("pattern.git.verify names no key", at: vv,
                                fix: "add sshKeys/sshKeysFile (authorized_keys lines) or gpgKeys/gpgKeysFile (armored public keys)")
                    }
                    ref.git?.verify = v
                }
            }
            if (ref.path == nil) == (ref.git == nil) {
                r.error("pattern needs exactly one of 'path' or 'git'", at: pv,
                        fix: "e.g. 'pattern: {path: patterns/<name>}'")
            }
            patternRef = ref
        }

        var cluster = ClusterFacts()
        if let co = r.object(spec["cluster"], "cluster") {
            r.checkKnown(co, ["name", "context", "labels", "kubeVersion", "apiVersions", "helm"], in: "cluster")
            if let ho = r.object(co["helm"], "cluster.helm") { cluster.helm = HelmClusterSettings.decode(ho, reader: &r) }
            cluster.name = r.string(co, "name", in: "cluster")
            if let kv = co["kubeVersion"], !kv.isNull {
                if let s = kv.scalarText, kv.isScalar { cluster.kubeVersion = s } else { r.error("'kubeVersion' in cluster must be a string", at: kv) }
            }
            cluster.apiVersions = r.strings(co, "apiVersions", in: "cluster").map(\.0)
            cluster.context = r.string(co, "context", in: "cluster")
            if let lo = r.object(co["labels"], "cluster.labels") {
                for (k, v) in lo {
                    if let s = v.scalarText, v.isScalar, !v.isNull { cluster.labels[k] = s } else {
                        r.error("cluster label '\(k)' must be a string", at: v)
                    }
                }
            }
        }

        var values = Value.emptyObject
        if let v = spec["values"], !v.isNull {
            if v.object == nil { r.error("'values' must be a map, found \(v.typeName)", at: v) } else { values = v }
        }
        var enable: [(String, Mark)] = [], disable: [(String, Mark)] = []
        if let co = r.object(spec["components"], "components") {
            r.checkKnown(co, ["enable", "disable"], in: "components")
            enable = r.strings(co, "enable", in: "components")
            disable = r.strings(co, "disable", in: "components")
        }
        var patches: [Value] = []
        if let pv = spec["patches"], !pv.isNull {
            if let a = pv.array { patches = a } else { r.error("'patches' must be a list", at: pv) }
            for p in patches {
                guard let po = r.object(p, "patch") else { continue }
                r.checkKnown(po, ["path", "patch", "target", "options"], in: "patch")
                if (po["path"] == nil) == (po["patch"] == nil) {
                    r.error("a patch needs exactly one of 'path' or 'patch'", at: p)
                }
                _ = r.string(po, "path", in: "patch")
                _ = r.string(po, "patch", in: "patch")
                _ = r.object(po["target"], "patch target")
                _ = r.object(po["options"], "patch options")
            }
        }
        var apply = ApplySettings()
        if let ao = r.object(spec["apply"], "apply") {
            r.checkKnown(ao, ["recordNamespace", "namespaces", "pruneKinds"], in: "apply")
            if let ns = r.string(ao, "recordNamespace", in: "apply") {
                if isDNSLabel(ns) { apply.recordNamespace = ns } else {
                    r.error("apply.recordNamespace '\(ns)' is not a namespace name (lowercase letters, digits, '-', at most 63)", at: ao["recordNamespace"]!)
                }
            }
            if ao["namespaces"] != nil {
                let list = r.strings(ao, "namespaces", in: "apply")
                for (n, m) in list where !isDNSLabel(n) {
                    r.diagnostics.append(.error("apply.namespaces: '\(n)' is not a namespace name", at: SourceLocation(file: file, mark: m)))
                }
                apply.namespaces = list.map(\.0)
            }
            if ao["pruneKinds"] != nil { apply.pruneKinds = r.strings(ao, "pruneKinds", in: "apply").map(\.0) }
        }
        var allowUnpinnedRemotes: Bool? = nil
        if let ko = r.object(spec["kustomize"], "kustomize") {
            r.checkKnown(ko, ["allowUnpinnedRemotes"], in: "kustomize")
            allowUnpinnedRemotes = r.bool(ko, "allowUnpinnedRemotes", in: "kustomize")
        }
        // Read every remaining field before deciding: a wrong type (`extends: edge`) must be
        // an error, never a field silently dropped.
        let extends = r.strings(spec, "extends", in: "spec").map { (name: $0.0, mark: $0.1) }
        let valueFiles = r.strings(spec, "valueFiles", in: "spec").map { (path: $0.0, mark: $0.1) }
        _ = r.string(spec, "description", in: "spec")
        if !r.diagnostics.isEmpty { throw Diagnostics(r.diagnostics) }
        var overlay = OverlaySpec(kind: kind, name: name, extends: extends,
                           pattern: patternRef, cluster: cluster,
                           valueFiles: valueFiles,
                           values: values, enable: enable.map { (name: $0.0, mark: $0.1) },
                           disable: disable.map { (name: $0.0, mark: $0.1) },
                           patches: patches, directory: directory, file: file)
        overlay.apply = apply
        overlay.allowUnpinnedRemotes = allowUnpinnedRemotes
        try overlay.decodeArgoFields(spec, file: file)
        return overlay
    }
}

extension PatternRef.GitRef {
    /// A git reference made by code (e.g. Validated Patterns' `clusterGroupGitRepoUrl`), with
    /// no mirrors, credentials or signature rules of its own.
    public init(url: String, ref: String?, path: String? = nil) {
        self.init(url: url, ref: ref, path: path, mirrors: [], credentials: [:])
    }
}
