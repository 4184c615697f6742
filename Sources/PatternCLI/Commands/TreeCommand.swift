import ArgumentParser
import PatternCore
import PatternCompile

/// `pattern tree`: a site's render as a text tree (site → components → objects), as `flux tree`.
public struct TreeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tree",
        abstract: "Print a site's render as a tree: the site, its components, their objects.",
        usage: "pattern tree <site> [-o text|json|yaml] [-C <repo>]",
        discussion: """
            Offline: needs no cluster. Components appear in dependency order (dependsOn in brackets), \
            objects in apply order, as Kind/namespace/name (Kind/name when cluster-scoped), like \
            `flux tree kustomization`.

            Examples:
              pattern tree hub
              pattern tree hub -o json       a Tree document (apiVersion, kind, components)
            """
    )

    @OptionGroup public var repoOptions: RepoOptions
    @Argument(help: "Site.", completion: .custom(Completions.sites)) public var site: String
    @Option(name: .shortAndLong, help: "Output format: text, json or yaml.") public var output: DocumentFormat = .text

    public init() {}

    public func run() throws {
        let rendered = try renderOne(site, repo: repoOptions.context)
        switch output {
        case .text: Output.out(TreeCommand.text(rendered))
        case .json: Output.out(JSONWriter.string(TreeCommand.document(rendered), options: .init(indent: 2)) + "\n")
        case .yaml: Output.out(YAMLEmitter().emit(TreeCommand.document(rendered)))
        }
    }

    /// `Kind/namespace/name` or `Kind/name`.
    static func label(_ k: ObjectKey) -> String { k.namespace.isEmpty ? "\(k.kind)/\(k.name)" : "\(k.kind)/\(k.namespace)/\(k.name)" }

    /// Objects by component, components in the order the site lists them (dependency order),
    /// then any component only objects name.
    static func grouped(_ r: RenderedSite) -> [(name: String, dependsOn: [String], objects: [ObjectKey])] {
        var byComponent: [String: [ObjectKey]] = [:]
        for o in r.objects { byComponent[o.component, default: []].append(o.key) }
        var out = r.components.map { (name: $0.name, dependsOn: $0.dependsOn, objects: byComponent.removeValue(forKey: $0.name) ?? []) }
        for name in byComponent.keys.sorted() { out.append((name, [], byComponent[name]!)) }
        return out.filter { !$0.objects.isEmpty }
    }

    static func text(_ r: RenderedSite) -> String {
        var out = "Site/\(r.site) (pattern \(r.pattern)\(r.patternVersion.map { " \($0)" } ?? ""), \(r.objects.count) objects)\n"
        let groups = grouped(r)
        for (i, g) in groups.enumerated() {
            let last = i == groups.count - 1
            out += (last ? "└── " : "├── ") + "Component/\(g.name)" + (g.dependsOn.isEmpty ? "" : " [after \(g.dependsOn.joined(separator: ", "))]") + "\n"
            let indent = last ? "    " : "│   "
            for (j, k) in g.objects.enumerated() {
                out += indent + (j == g.objects.count - 1 ? "└── " : "├── ") + label(k) + "\n"
            }
        }
        return out
    }

    static func document(_ r: RenderedSite) -> Value {
        ["apiVersion": "pattern.dev/v1alpha1", "kind": "Tree", "site": .string(r.site), "pattern": .string(r.pattern),
         "revision": .string(r.revision),
         "components": .array(grouped(r).map { g in
             ["name": .string(g.name), "dependsOn": .array(g.dependsOn.map { .string($0) }),
              "objects": .array(g.objects.map { k in
                  var v: Value = ["kind": .string(k.kind), "name": .string(k.name)]
                  if !k.group.isEmpty { v["group"] = .string(k.group) }
                  if !k.namespace.isEmpty { v["namespace"] = .string(k.namespace) }
                  return v
              })]
         })]
    }
}
