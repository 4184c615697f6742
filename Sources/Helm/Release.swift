import PatternCore

/// `.Release`: who is installing the chart (Helm's `chartutil.ReleaseOptions`).
public struct ReleaseOptions: Sendable, Hashable {
    public var name: String
    public var namespace: String
    /// 1 on install; the ledger's count of successful applies + 1 on upgrade.
    public var revision: Int
    public var isInstall: Bool
    public var isUpgrade: Bool

    public init(name: String, namespace: String = "default", revision: Int = 1, isUpgrade: Bool = false) {
        self.name = name
        self.namespace = namespace
        self.revision = revision
        self.isInstall = !isUpgrade
        self.isUpgrade = isUpgrade
    }
}

/// `.Capabilities.KubeVersion`.
public struct KubeVersion: Sendable, Hashable, CustomStringConvertible {
    /// `v1.31.0`
    public var version: String
    public var major: String
    public var minor: String

    /// Parses `1.31`, `v1.31.2`, `1.31.0-gke.1` as Helm's `ParseKubeVersion` (semver with an
    /// optional `v`; missing parts are 0).
    public init?(_ text: String) {
        var t = Substring(text.trimming(TrimSet(characters: " ")))
        if t.first == "v" || t.first == "V" { t = t.dropFirst() }
        var core = t, suffix: Substring = ""
        if let i = t.firstIndex(where: { $0 == "-" || $0 == "+" }) { core = t[..<i]; suffix = t[i...] }
        let parts = core.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }),
              let maj = Int(parts[0]), let min = parts.count > 1 ? Int(parts[1]) : 0,
              let patch = parts.count > 2 ? Int(parts[2]) : 0 else { return nil }
        version = "v\(maj).\(min).\(patch)\(suffix)"
        major = String(maj)
        minor = String(min)
    }

    public var description: String { version }
    /// The version without the leading `v`, for semver comparisons.
    public var semver: String { String(version.dropFirst()) }
}

/// `.Capabilities`: what the target cluster offers. Per site from the overlay
/// (`cluster.kubeVersion`, `cluster.apiVersions`) or Helm's defaults.
public struct Capabilities: Sendable, Hashable {
    public var kubeVersion: KubeVersion
    /// Group/versions (`apps/v1`) and optionally `group/version/Kind` entries, as
    /// `--api-versions` gives them.
    public var apiVersions: [String]
    /// The Helm version charts see (`.Capabilities.HelmVersion.Version`).
    public var helmVersion: String

    public init(kubeVersion: KubeVersion = Capabilities.defaultKubeVersion, apiVersions: [String] = Capabilities.defaultAPIVersions,
                helmVersion: String = Capabilities.helmVersion) {
        self.kubeVersion = kubeVersion
        self.apiVersions = apiVersions
        self.helmVersion = helmVersion
    }

    /// The Helm release whose behaviour the chart layer follows.
    public static let helmVersion = "v3.16.3"
    /// Helm 3.16's default (`helm template` without `--kube-version`).
    public static let defaultKubeVersion = KubeVersion("v1.31.0")!
    /// The built-in group/versions `helm template` assumes (client-go's scheme plus
    /// apiextensions), as Helm's `DefaultVersionSet`.
    public static let defaultAPIVersions: [String] = [
        "v1", "admissionregistration.k8s.io/v1", "admissionregistration.k8s.io/v1alpha1", "admissionregistration.k8s.io/v1beta1",
        "apiextensions.k8s.io/v1", "apiextensions.k8s.io/v1beta1", "apiregistration.k8s.io/v1",
        "apps/v1", "apps/v1beta1", "apps/v1beta2",
        "authentication.k8s.io/v1", "authentication.k8s.io/v1alpha1", "authentication.k8s.io/v1beta1",
        "authorization.k8s.io/v1", "authorization.k8s.io/v1beta1", "autoscaling/v1", "autoscaling/v2", "autoscaling/v2beta1", "autoscaling/v2beta2",
        "batch/v1", "batch/v1beta1", "certificates.k8s.io/v1", "certificates.k8s.io/v1alpha1", "certificates.k8s.io/v1beta1",
        "coordination.k8s.io/v1", "coordination.k8s.io/v1alpha1", "coordination.k8s.io/v1beta1",
        "discovery.k8s.io/v1", "discovery.k8s.io/v1beta1", "events.k8s.io/v1", "events.k8s.io/v1beta1", "extensions/v1beta1",
        "flowcontrol.apiserver.k8s.io/v1", "flowcontrol.apiserver.k8s.io/v1beta1", "flowcontrol.apiserver.k8s.io/v1beta2", "flowcontrol.apiserver.k8s.io/v1beta3",
        "networking.k8s.io/v1", "networking.k8s.io/v1alpha1", "networking.k8s.io/v1beta1", "node.k8s.io/v1", "node.k8s.io/v1alpha1", "node.k8s.io/v1beta1",
        "policy/v1", "policy/v1beta1", "rbac.authorization.k8s.io/v1", "rbac.authorization.k8s.io/v1alpha1", "rbac.authorization.k8s.io/v1beta1",
        "resource.k8s.io/v1alpha3", "scheduling.k8s.io/v1", "scheduling.k8s.io/v1alpha1", "scheduling.k8s.io/v1beta1",
        "storage.k8s.io/v1", "storage.k8s.io/v1alpha1", "storage.k8s.io/v1beta1", "storagemigration.k8s.io/v1alpha1",
    ]

    /// `APIVersions.Has`: a group/version or `group/version/Kind`.
    public func has(_ apiVersion: String) -> Bool { apiVersionSet.contains(apiVersion) }
    var apiVersionSet: Set<String> { Set(apiVersions) }

    /// The defaults with extra API versions added (as `--api-versions`).
    public func adding(apiVersions extra: [String]) -> Capabilities {
        var c = self
        for a in extra where !c.apiVersions.contains(a) { c.apiVersions.append(a) }
        return c
    }
}
