/// A set of named templates: each parsed file's body under the file's name plus every
/// `{{define}}`/`{{block}}` inside it. Parse once, execute many times.
public struct TemplateSet: Sendable {
    var trees: [String: Tree] = [:]
    /// Names parse-time function checks accept (Go refuses unknown functions when parsing).
    public var functionNames: Set<String>

    /// An empty set whose templates may call the functions of `functions` (Helm's full map by default).
    public init(functions: FunctionMap = .helm) {
        functionNames = functions.nameSet
    }

    /// Parses `text` and registers its body under `name` and each `{{define}}` inside it.
    ///
    /// As Go's `Template.Parse` (and Helm, which parses every file into one set): two non-empty
    /// definitions of one name in the same text are an error; a later non-empty definition
    /// replaces an earlier one from another file; an empty one never replaces a non-empty one.
    public mutating func parse(name: String, text: String) throws(TemplateError) {
        let names = functionNames
        let parsed = try Parser.parse(name: name, text: text, hasFunction: { names.contains($0) })
        for t in parsed { add(t) }
    }

    mutating func add(_ t: Tree) {
        if let old = trees[t.name], Node.isEmpty(t.root), !Node.isEmpty(old.root) { return }
        trees[t.name] = t
    }

    /// A template of this name is defined.
    public func has(_ name: String) -> Bool { trees[name] != nil }

    /// Names of all templates (files and definitions), sorted.
    public var names: [String] { trees.keys.sorted() }

    /// Adds (or replaces) every template of `other`, with the same rules as `parse`.
    public mutating func merge(_ other: TemplateSet) {
        for name in other.trees.keys.sorted() { add(other.trees[name]!) }
        functionNames.formUnion(other.functionNames)
    }
}
