import PatternCore

/// Read-only access to live cluster objects for the `lookup` template function.
public protocol LiveObjectReader: Sendable {
    /// The object, or nil when it does not exist.
    func get(apiVersion: String, kind: String, namespace: String, name: String) throws -> Value?
    /// Every object of the kind (in `namespace`, or cluster-wide when empty).
    func list(apiVersion: String, kind: String, namespace: String) throws -> [Value]
}

/// How `lookup` behaves during a render.
public enum LookupMode: Sendable {
    /// An empty map for every call, as `helm template` (the default).
    case empty
    /// Reads the live cluster (read-only); what it saw is recorded in the render result.
    case live(any LiveObjectReader)
    /// Answers from an earlier recording, so an offline render gives the same output. A
    /// call the recording does not hold answers with an empty map and is reported.
    case replay(LookupRecording)
    /// A pre-render pass of a live site render: answers from the recording and, instead of a
    /// warning, adds each call the recording does not hold to `misses` (answering it with an
    /// empty map). The caller reads those objects from the cluster (off the template
    /// functions, which are synchronous) and renders again until nothing is missing.
    case prefetch(LookupRecording, LookupMisses)
}

/// The `lookup` calls a `.prefetch` render could not answer (thread-safe: templates render
/// concurrently, and several charts may share one collector).
public final class LookupMisses: @unchecked Sendable {
    let lock = Lock()
    var keys: Set<LookupRecording.Key> = []
    public init() {}
    /// The calls still to read, sorted.
    public var missing: [LookupRecording.Key] { lock.withLock { keys.sorted() } }
    func add(_ key: LookupRecording.Key) { lock.withLock { _ = keys.insert(key) } }
}

/// The answers `lookup` gave during a render, keyed by its four arguments.
///
/// Stored as JSON (`{"apiVersion":"pattern.dev/v1alpha1","kind":"HelmLookupRecording",
/// "entries":[{"apiVersion":…,"kind":…,"namespace":…,"name":…,"result":{…}}]}`), entries sorted
/// by key, so the file is stable and diffable.
public struct LookupRecording: Sendable, Hashable {
    public struct Key: Sendable, Hashable, Comparable {
        public var apiVersion: String, kind: String, namespace: String, name: String
        public init(apiVersion: String, kind: String, namespace: String, name: String) {
            self.apiVersion = apiVersion; self.kind = kind; self.namespace = namespace; self.name = name
        }
        public static func < (a: Key, b: Key) -> Bool {
            (a.apiVersion, a.kind, a.namespace, a.name) < (b.apiVersion, b.kind, b.namespace, b.name)
        }
    }
    public var entries: [Key: Value]
    public init(entries: [Key: Value] = [:]) { self.entries = entries }

    /// The answer `lookup` gives for an object read from the cluster (nil: it does not
    /// exist), or for a LIST when `name` is empty: as Helm, a `List` of the items.
    public static func answer(object: Value?) -> Value { object ?? .emptyObject }
    /// `lookup`'s answer for a LIST (`name` empty).
    public static func answer(items: [Value]) -> Value {
        ["apiVersion": "v1", "kind": "List", "metadata": [:], "items": .array(items)]
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// The recording as a JSON document.
    public func encoded() -> Value {
        var list: [Value] = []
        for k in entries.keys.sorted() {
            list.append(["apiVersion": .string(k.apiVersion), "kind": .string(k.kind), "namespace": .string(k.namespace),
                         "name": .string(k.name), "result": entries[k]!])
        }
        return ["apiVersion": "pattern.dev/v1alpha1", "kind": "HelmLookupRecording", "entries": .array(list)]
    }

    /// Reads a recording written by `encoded()`.
    public init(decoding v: Value, file: String) throws(Diagnostic) {
        guard v["kind"]?.string == "HelmLookupRecording", let list = v["entries"]?.array else {
            throw Diagnostic.error("not a lookup recording (kind HelmLookupRecording with entries)", at: SourceLocation(file: file, mark: v.mark),
                                   fix: "record one with a live render first")
        }
        var e: [Key: Value] = [:]
        for item in list {
            guard let av = item["apiVersion"]?.string, let k = item["kind"]?.string, let ns = item["namespace"]?.string,
                  let n = item["name"]?.string, let r = item["result"] else {
                throw Diagnostic.error("lookup recording entry needs apiVersion, kind, namespace, name and result",
                                       at: SourceLocation(file: file, mark: item.mark))
            }
            e[Key(apiVersion: av, kind: k, namespace: ns, name: n)] = r
        }
        entries = e
    }
}

/// Answers `lookup` calls for one render and records them (thread-safe: templates may be
/// rendered concurrently).
public final class LookupSession: @unchecked Sendable {
    let mode: LookupMode
    let lock = Lock()
    var recorded: [LookupRecording.Key: Value] = [:]
    var missing: [LookupRecording.Key] = []

    public init(mode: LookupMode) { self.mode = mode }

    /// `lookup apiVersion kind namespace name`: the object, a `List` of objects when `name` is
    /// empty, or an empty map when absent.
    public func lookup(apiVersion: String, kind: String, namespace: String, name: String) throws -> Value {
        let key = LookupRecording.Key(apiVersion: apiVersion, kind: kind, namespace: namespace, name: name)
        switch mode {
        case .empty:
            return .emptyObject
        case .replay(let rec):
            if let v = rec.entries[key] { return v }
            lock.withLock { missing.append(key) }
            return .emptyObject
        case .prefetch(let rec, let misses):
            if let v = rec.entries[key] { return v }
            misses.add(key)
            return .emptyObject
        case .live(let reader):
            let result: Value
            if name.isEmpty {
                result = LookupRecording.answer(items: try reader.list(apiVersion: apiVersion, kind: kind, namespace: namespace))
            } else {
                result = LookupRecording.answer(object: try reader.get(apiVersion: apiVersion, kind: kind, namespace: namespace, name: name))
            }
            lock.withLock { recorded[key] = result }
            return result
        }
    }

    /// What a live session saw.
    public var recording: LookupRecording { lock.withLock { LookupRecording(entries: recorded) } }
    /// Calls a replay could not answer.
    public var unanswered: [LookupRecording.Key] { lock.withLock { missing } }
}
