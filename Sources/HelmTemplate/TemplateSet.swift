import Synchronization

/// A set of named templates: each parsed file's body under the file's name plus every
/// `{{define}}`/`{{block}}` inside it. Parse once, execute many times.
public struct TemplateSet: Sendable {
    var trees: [String: Tree] = [:]
    /// Names parse-time function checks accept (Go refuses unknown functions when parsing).
    public var functionNames: Set<String> {
        didSet { sharesParses = false }
    }
    /// The names are `FunctionMap.helm`'s, so parsed files come from (and go to) `ParseCache`.
    var sharesParses: Bool

    /// An empty set whose templates may call the functions of `functions` (Helm's full map by default).
    public init(functions: FunctionMap = .helm) {
        functionNames = functions.nameSet
        sharesParses = functions.hasHelmNames
    }

    /// Parses `text` and registers its body under `name` and each `{{define}}` inside it.
    ///
    /// As Go's `Template.Parse` (and Helm, which parses every file into one set): two non-empty
    /// definitions of one name in the same text are an error; a later non-empty definition
    /// replaces an earlier one from another file; an empty one never replaces a non-empty one.
    public mutating func parse(name: String, text: String) throws(TemplateError) {
        let names = functionNames
        let parsed: [Tree]
        if sharesParses {
            parsed = try ParseCache.shared.trees(name: name, text: text) { () throws(TemplateError) in
                try Parser.parse(name: name, text: text, hasFunction: { names.contains($0) })
            }
        } else {
            parsed = try Parser.parse(name: name, text: text, hasFunction: { names.contains($0) })
        }
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
        let shares = sharesParses && other.sharesParses
        functionNames.formUnion(other.functionNames)
        sharesParses = shares
    }
}

/// Parsed files shared by every `TemplateSet` of the process whose function names are Helm's:
/// a chart's templates are parsed once however many sites, renders or reconciles use them.
/// Keyed by template name and text (parsing depends on nothing else); parse errors are not
/// kept. Bounded: when the texts held pass `maxBytes` (or `maxEntries` files), it starts over.
final class ParseCache: Sendable {
    /// Hashes its (possibly large) text once, outside the lock: a lookup under the lock then
    /// only compares.
    struct Key: Hashable, Sendable {
        let name: String
        let text: String
        let digest: Int

        init(name: String, text: String) {
            self.name = name
            self.text = text
            var h = Hasher()
            h.combine(name)
            h.combine(text)
            digest = h.finalize()
        }

        static func == (a: Key, b: Key) -> Bool { a.digest == b.digest && a.name == b.name && a.text == b.text }
        func hash(into h: inout Hasher) { h.combine(digest) }
    }
    struct State {
        var trees: [Key: [Tree]] = [:]
        var bytes = 0
    }
    static let shared = ParseCache()
    static let maxBytes = 64 << 20
    static let maxEntries = 50_000

    private let state = Mutex(State())

    /// The trees of `text` parsed as `name`, parsing (outside the lock) on a miss.
    func trees(name: String, text: String, parse: () throws(TemplateError) -> [Tree]) throws(TemplateError) -> [Tree] {
        let key = Key(name: name, text: text)
        if let hit = state.withLock({ $0.trees[key] }) { return hit }
        let parsed = try parse()
        state.withLock { s in
            let size = name.utf8.count + text.utf8.count
            if s.bytes + size > ParseCache.maxBytes || s.trees.count >= ParseCache.maxEntries {
                s.trees.removeAll()
                s.bytes = 0
            }
            if s.trees.updateValue(parsed, forKey: key) == nil { s.bytes += size }
        }
        return parsed
    }

    /// Number of files held (for tests).
    var count: Int { state.withLock { $0.trees.count } }
}
