import PatternCore

/// `configMapGenerator` / `secretGenerator`: builds ConfigMaps and Secrets from literals,
/// files and env files, with generator options, marked for a content-hash name suffix.
enum Generators {
    static func make(_ g: GeneratorSpec, secret: Bool, global: GeneratorOptions?, kust: Kustomization,
                     loader: TreeLoader) throws(Diagnostics) -> KResource {
        var diags: [Diagnostic] = []
        let file = kust.file
        func loc(_ m: Mark) -> SourceLocation { SourceLocation(file: file, mark: m) }
        var data = Object()
        var binary = Object()
        /// kubectl's words: "configmap cm illegally repeats the key `a`" (a key from literals,
        /// files and env files together, even with the same value).
        func add(_ k: String, _ v: String, _ m: Mark, binaryData: Bool = false) {
            if data.contains(k) || binary.contains(k) {
                diags.append(.error("\(secret ? "secret" : "configmap") \(g.name) illegally repeats the key `\(k)`", at: loc(m),
                                    fix: "remove one of the two '\(k)' entries (literals, files and envs share one set of keys)"))
                return
            }
            if binaryData { binary.append(k, .string(v)) } else { data.append(k, .string(v)) }
        }
        for lit in g.literals {
            let s = lit.value
            guard let eq = s.firstIndex(of: "=") else {
                diags.append(.error("literal '\(s)' must be KEY=VALUE", at: loc(lit.mark), fix: "write KEY=VALUE"))
                continue
            }
            var v = String(s[s.index(after: eq)...])
            if v.count >= 2, let f = v.first, f == "\"" || f == "'", v.last == f { v = String(v.dropFirst().dropLast()) }
            add(String(s[..<eq]), v, lit.mark)
        }
        for f in g.files {
            var key: String?
            var path = f.value
            if let eq = path.firstIndex(of: "=") {
                key = String(path[..<eq]); path = String(path[path.index(after: eq)...])
            }
            do throws(Diagnostic) {
                let p = try loader.resolve(path, from: kust.dir, at: loc(f.mark), what: "generator file")
                let bytes = try loader.read(p, at: loc(f.mark), what: "generator file")
                let k = key ?? p.name
                if let text = String(validating: bytes, as: UTF8.self) {
                    add(k, text, f.mark)
                } else if secret {
                    add(k, String(decoding: bytes, as: UTF8.self), f.mark)
                } else {
                    add(k, wrappedBase64(bytes), f.mark, binaryData: true)
                }
            } catch { diags.append(error) }
        }
        for e in g.envs {
            do throws(Diagnostic) {
                let p = try loader.resolve(e.value, from: kust.dir, at: loc(e.mark), what: "env file")
                let text = String(decoding: try loader.read(p, at: loc(e.mark), what: "env file"), as: UTF8.self)
                var lineNo = 0
                for raw in text.linesAtLineFeeds() {
                    lineNo += 1
                    var line = Substring(raw.hasSuffix("\r") ? raw.dropLast() : raw)
                    line = line.drop { $0 == " " || $0 == "\t" }
                    if line.isEmpty || line.hasPrefix("#") { continue }
                    guard let eq = line.firstIndex(of: "=") else {
                        diags.append(.error("env line '\(line)' has no '=' (reading the process environment is not supported)",
                                            at: SourceLocation(file: p.string, line: lineNo, column: 1),
                                            fix: "write KEY=VALUE"))
                        continue
                    }
                    add(String(line[..<eq]), String(line[line.index(after: eq)...]), e.mark)
                }
            } catch { diags.append(error) }
        }
        if !diags.isEmpty { throw Diagnostics(diags) }

        // Options: per-generator first, global generatorOptions override (Kustomize's merge).
        var labels = g.options?.labels ?? Object()
        var annotations = g.options?.annotations ?? Object()
        var disableHash = g.options?.disableNameSuffixHash ?? false
        var immutable = g.options?.immutable ?? false
        if let global {
            for (k, v) in global.labels { labels.set(k, v) }
            for (k, v) in global.annotations { annotations.set(k, v) }
            if global.disableNameSuffixHash == true { disableHash = true }
            if global.immutable == true { immutable = true }
        }

        var meta = Object()
        meta["name"] = .string(g.name)
        if let ns = g.namespace, !ns.isEmpty { meta["namespace"] = .string(ns) }
        if !labels.isEmpty { meta["labels"] = .object(labels) }
        if !annotations.isEmpty { meta["annotations"] = .object(annotations) }
        var o = Object()
        o["apiVersion"] = "v1"
        o["kind"] = .string(secret ? "Secret" : "ConfigMap")
        o["metadata"] = .object(meta)
        if secret {
            var enc = Object()
            for (k, v) in data { enc.append(k, .string(wrappedBase64(Array(v.string!.utf8)))) }
            o["type"] = .string(g.type ?? "Opaque")
            if !enc.isEmpty { o["data"] = .object(enc) }
        } else {
            if !data.isEmpty { o["data"] = .object(data) }
            if !binary.isEmpty { o["binaryData"] = .object(binary) }
        }
        if immutable { o["immutable"] = true }
        var r = KResource(value: Value(.object(o), mark: g.mark), file: file)
        r.needsHashSuffix = !disableHash
        r.behavior = g.behavior
        r.generatedBy = GeneratorOrigin(kind: secret ? "SecretGenerator" : "ConfigMapGenerator")
        return r
    }

    /// Kustomize's `encodeBase64` (kyaml `datamap.go`): base64 broken into 70-column lines,
    /// each followed by a line break, once the encoding is 70 characters or longer (the value
    /// is then printed as a `|` block and the hash covers the breaks).
    static func wrappedBase64(_ bytes: [UInt8]) -> String {
        let enc = Base64.encode(bytes)
        let lineLen = 70
        guard enc.utf8.count >= lineLen else { return enc }
        let u = Array(enc.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(u.count + u.count / lineLen + 1)
        var i = 0
        while i < u.count {
            let j = min(i + lineLen, u.count)
            out.append(contentsOf: u[i..<j])
            out.append(10)
            i = j
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Adds a generated object: `create` appends (an existing id is an error); `merge` and
    /// `replace` need an existing object with the same id (current or previous).
    static func absorb(_ r: KResource, into m: inout ResMap) throws(Diagnostic) {
        let matches = m.indices(matchingAnyId: r.curId)
        switch (matches.count, r.behavior) {
        case (0, .create): try m.append(r)
        case (0, _):
            throw .error("\(r.curId) does not exist; cannot \(r.behavior.rawValue) it", at: r.location,
                         fix: "use `behavior: create`, or generate it in a base first")
        case (1, .create):
            throw .error("\(r.curId) already exists; a generator with `behavior: create` cannot redefine it", at: r.location,
                         fix: "use `behavior: merge` or `behavior: replace`", related: [m.items[matches[0]].location])
        case (1, let b):
            let old = m.items[matches[0]]
            var new = r
            var v = new.value
            // Labels/annotations: old first, new overrides; name/namespace stay the old ones.
            for key in ["labels", "annotations"] {
                var merged = old.value[path: ["metadata", key]]?.object ?? Object()
                for (k, x) in v[path: ["metadata", key]]?.object ?? Object() { merged.set(k, x) }
                if !merged.isEmpty { v[path: ["metadata", key]] = .object(merged) }
            }
            v[path: ["metadata", "name"]] = .string(old.name)
            if old.namespace.isEmpty { v[path: ["metadata", "namespace"]] = nil } else {
                v[path: ["metadata", "namespace"]] = .string(old.namespace)
            }
            if b == .merge {
                for key in ["data", "binaryData"] {
                    var merged = old.value[key]?.object ?? Object()
                    for (k, x) in v[key]?.object ?? Object() { merged.set(k, x) }
                    if !merged.isEmpty { v[key] = .object(merged) }
                }
            }
            new.value = v
            new.orgId = old.orgId
            new.prevIds = old.prevIds
            new.prefixes = old.prefixes
            new.suffixes = old.suffixes
            // Kustomize's origin: a merge keeps the base generator's, a replace is the new one's.
            if b == .merge {
                new.file = old.file
                new.generatedBy = old.generatedBy
            }
            // A hash suffix only when both the base object and the merging generator want one
            // (observed: either side's disableNameSuffixHash wins).
            new.needsHashSuffix = old.needsHashSuffix && r.needsHashSuffix
            m.items[matches[0]] = new
        default:
            throw .error("several objects could accept the merge of \(r.curId)", at: r.location,
                         fix: "give the objects distinct names or namespaces")
        }
    }
}
