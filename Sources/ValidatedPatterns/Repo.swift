import PatternCore
import PatternCompile
import PatternDiff
import Helm

/// What a Validated Patterns checkout declares at its top level: `values-global.yaml` (its
/// `main.clusterGroupName` or `main.variant` names the hub clusterGroup) and the hub's
/// `values-<clusterGroup>.yaml` (its `clusterGroup.managedClusterGroups` name spoke groups).
public struct VPRepo: Sendable {
    public static let globalFile = "values-global.yaml"

    /// `values-global.yaml` as parsed (source marks kept).
    public var global: Value
    /// The hub clusterGroup (`main.variant`, else `main.clusterGroupName`).
    public var hub: String
    /// True for the `variants/<name>/values-*.yaml` layout (a top-level `variants/` directory).
    public var variants: Bool
    /// `clusterGroup.managedClusterGroups` of the hub, in file order.
    public var groups: [ManagedGroup]

    /// One `managedClusterGroups` entry: a group of spoke clusters.
    public struct ManagedGroup: Sendable {
        public var name: String
        /// `clusterSelector.matchLabels`, else `acmlabels`, else `clusterGroup: <name>` (as acm-chart places).
        public var labels: [String: String]
        /// `helmOverrides` (`{name, value}`): Helm parameters of the spoke's clustergroup render.
        public var helmOverrides: [(name: String, value: Value)]
        /// The hub values file that declares the group.
        public var file: String
    }

    /// True when `workspace` is a Validated Patterns checkout (`values-global.yaml` at its root).
    public static func detect(_ workspace: Workspace) -> Bool {
        workspace.tree.resolvedKind(try! TreePath(globalFile)) == .file
    }

    /// Reads the repository's top level; nil when it is not a Validated Patterns checkout
    /// (no `values-global.yaml`, or one without a `main:` section).
    public static func load(_ workspace: Workspace) throws(Diagnostics) -> VPRepo? {
        guard detect(workspace) else { return nil }
        let global = try read(VPRepo.globalFile, workspace) ?? .emptyObject
        // Without a `main:` section it is a values file of this project's own layout
        // (Docs/pattern-format.md), not a Validated Patterns checkout.
        guard let main = global["main"], !main.isNull else { return nil }
        guard let hub = (main["variant"]?.string).flatMap({ $0.isEmpty ? nil : $0 }) ?? main["clusterGroupName"]?.string, !hub.isEmpty else {
            throw Diagnostics([.error("\(globalFile) does not name the hub clusterGroup", at: SourceLocation(file: globalFile, mark: global.mark),
                                      fix: "add 'main: {clusterGroupName: hub}' to \(globalFile) (the hub reads values-hub.yaml)")])
        }
        guard isDNSLabel(hub) else {
            throw Diagnostics([.error("main.clusterGroupName '\(hub)' is not a DNS label", at: SourceLocation(file: globalFile, mark: (main["variant"] ?? main["clusterGroupName"])?.mark ?? .none),
                                      fix: "use lowercase letters, digits and '-' (it names values-<clusterGroup>.yaml and a site)")])
        }
        let variants = workspace.tree.resolvedKind(try! TreePath("variants")) == .directory
        var repo = VPRepo(global: global, hub: hub, variants: variants, groups: [])
        let hubFile = repo.groupFile(hub)
        let hubValues = try read(hubFile, workspace) ?? .emptyObject
        repo.groups = try groups(hubValues["clusterGroup"]?["managedClusterGroups"], file: hubFile)
        return repo
    }

    /// `main.applications` in values-global.yaml: whether sites of this checkout expand the
    /// clustergroup's Argo CD Applications (`expand`: pattern applies their contents, no Argo CD
    /// needed) or keep them as objects (`keep`, for clusters where the operator's Argo CD runs).
    /// nil when unset (the site compiler's default, keep). An overlay's `applications` and
    /// `--[no-]expand-applications` win over it.
    public func applicationsDefault() throws(Diagnostics) -> ApplicationsMode? {
        guard let v = global["main"]?["applications"], !v.isNull else { return nil }
        guard let s = v.string, let mode = ApplicationsMode(rawValue: s) else {
            throw Diagnostics([.error("main.applications in \(VPRepo.globalFile) must be expand or keep, found \(v.description)",
                                      at: SourceLocation(file: VPRepo.globalFile, mark: v.mark),
                                      fix: "main: {applications: expand} (pattern applies the Applications' contents) or keep (Argo CD does)")])
        }
        return mode
    }

    /// `values-<clusterGroup>.yaml` (or `variants/<group>/values-<group>.yaml`).
    public func groupFile(_ group: String) -> String {
        variants ? "variants/\(group)/values-\(group).yaml" : "values-\(group).yaml"
    }

    /// The file of a platform/version/cluster-specific layer (`values-<part>.yaml`) in this layout.
    func layerFile(_ group: String, _ part: String) -> String {
        variants ? "variants/\(group)/values-\(part).yaml" : "values-\(part).yaml"
    }

    /// The clusterGroup a site renders: the last overlay of its chain named after the hub or a
    /// managed group.
    public func clusterGroup(of chain: [OverlaySpec]) -> String? {
        for o in chain.reversed() {
            if o.name == hub || groups.contains(where: { $0.name == o.name }) { return o.name }
        }
        return nil
    }

    /// Reads a values file of the repository (nil when missing, an error when not a map).
    static func read(_ path: String, _ workspace: Workspace) throws(Diagnostics) -> Value? {
        let p: TreePath
        do { p = try TreePath(path) } catch {
            throw Diagnostics([.error("value file '\(path)': \(error)", at: SourceLocation(file: path), fix: "keep value files inside the repository")])
        }
        guard workspace.tree.resolvedKind(p) == .file else { return nil }
        let bytes: [UInt8]
        do { bytes = try workspace.tree.readResolved(p) } catch {
            throw Diagnostics([.error("cannot read \(path): \(error)", at: SourceLocation(file: path),
                                      fix: "check that the file (or the symlink's target) is inside the repository and readable")])
        }
        let v: Value
        do { v = try HelmYAML.parse(bytes, file: path, limits: workspace.yamlLimits) } catch { throw Diagnostics([error]) }
        if v.isNull { return nil }
        guard v.object != nil else {
            throw Diagnostics([.error("value file must hold a map, found \(v.typeName)", at: SourceLocation(file: path, mark: v.mark),
                                      fix: "write the values as 'key: value' lines")])
        }
        return v
    }

    /// `managedClusterGroups` in list or map form; `null` and `disabled: true` entries skipped.
    static func groups(_ v: Value?, file: String) throws(Diagnostics) -> [ManagedGroup] {
        guard let v, !v.isNull else { return [] }
        var entries: [Value] = []
        if let a = v.array { entries = a } else if let o = v.object { entries = o.values } else {
            throw Diagnostics([.error("clusterGroup.managedClusterGroups must be a list or a map, found \(v.typeName)",
                                      at: SourceLocation(file: file, mark: v.mark), fix: "write one entry per group: {name: <group>, clusterSelector: …}")])
        }
        var out: [ManagedGroup] = []
        var problems: [Diagnostic] = []
        for e in entries {
            guard let o = e.object else { if !e.isNull { problems.append(.error("a managedClusterGroups entry must be a map", at: SourceLocation(file: file, mark: e.mark))) }; continue }
            if o["disabled"]?.bool == true { continue }
            guard let name = o["name"]?.string, isDNSLabel(name) else {
                problems.append(.error("a managedClusterGroups entry needs a 'name' that is a DNS label", at: SourceLocation(file: file, mark: e.mark),
                                       fix: "add 'name: <group>' (it selects values-<group>.yaml)"))
                continue
            }
            var labels: [String: String] = [:]
            if let ml = o["clusterSelector"]?["matchLabels"]?.object {
                for (k, lv) in ml { if let s = lv.scalarText { labels[k] = s } }
            } else if let acm = o["acmlabels"]?.array {
                for l in acm { if let k = l["name"]?.string, let s = l["value"]?.scalarText { labels[k] = s } }
            } else if o["clusterSelector"] == nil {
                labels["clusterGroup"] = name
            }
            var overrides: [(name: String, value: Value)] = []
            for h in o["helmOverrides"]?.array ?? [] {
                guard let n = h["name"]?.string, let hv = h["value"] else {
                    problems.append(.error("a helmOverrides entry needs 'name' and 'value'", at: SourceLocation(file: file, mark: h.mark),
                                           fix: "write it as {name: global.foo, value: bar}"))
                    continue
                }
                overrides.append((n, hv))
            }
            out.append(ManagedGroup(name: name, labels: labels, helmOverrides: overrides, file: file))
        }
        if !problems.isEmpty { throw Diagnostics(problems) }
        return out
    }
}
