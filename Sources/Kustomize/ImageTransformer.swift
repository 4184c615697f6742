import PatternCore

/// `images:` — rewrites `image:` of every `containers`/`initContainers` entry whose image name
/// matches: in built-in kinds at the pod-spec locations (pod, template, job template), in
/// custom resources at any depth (Kustomize's legacy image filter).
enum ImageTransformer {
    static func apply(_ specs: [ImageSpec], to m: inout ResMap) {
        guard !specs.isEmpty else { return }
        // Indexed once: each image looks up its few candidate names instead of trying every
        // entry (images × containers was quadratic on large builds).
        let images = ImageIndex(specs)
        let configured = m.config.images
        // Objects are independent: all cores, each object mutated in place (no copy).
        _ = ParallelMap.update(&m.items) { (r: inout KResource) in
            let gvk = r.value.gvk
            if let gvk, MergeKeys.hasBuiltinSchema(gvk) {
                // Built-in kinds keep containers only at these places: no need to walk it all.
                // By index: the path arrays are shared by every object on every core.
                for p in podSpecPaths.indices {
                    FieldSpec.walk(&r.value, podSpecPaths[p], from: 0, create: false) { spec in
                        guard spec != nil else { return }
                        rewriteContainers(in: &spec!, images)
                    }
                }
            } else {
                walk(&r.value, images)
            }
            // Image fields of custom resources declared in `configurations`.
            if let gvk {
                for i in configured.indices where configured[i].gvk.matches(gvk) {
                    configured[i].visit(&r.value) { field in
                        if let img = field?.string, let new = rewrite(img, images) { field = .string(new) }
                    }
                }
            }
        }
    }

    static let podSpecPaths: [[String]] = [
        ["spec"], ["spec", "template", "spec"], ["template", "spec"],
        ["spec", "jobTemplate", "spec", "template", "spec"],
    ]

    /// The pod-spec lists whose entries carry an `image`.
    static let containerKeys = ["containers", "initContainers"]

    static func rewriteContainers(in podSpec: inout Value, _ images: ImageIndex) {
        guard case .object(let o) = podSpec.kind,
              o["containers"] != nil || o["initContainers"] != nil else { return }
        podSpec.withObject { o in
            for key in containerKeys where o[key]?.array != nil {
                o.modify(key) { list in
                    list!.withArray { cs in
                        for j in cs.indices {
                            if let img = cs[j]["image"]?.string, let new = rewrite(img, images) {
                                cs[j]["image"] = .string(new)
                            }
                        }
                    }
                }
            }
        }
    }

    static func walk(_ v: inout Value, _ images: ImageIndex) {
        switch v.kind {
        case .object(let o):
            guard o.containsValue(where: { !$0.isScalar }) else { return }
            v.withObject { o in
                o.updateValues(where: { !$0.isScalar }) { k, child in
                    if (k == "containers" || k == "initContainers"), case .array = child.kind {
                        child.withArray { cs in
                            for j in cs.indices {
                                if let img = cs[j]["image"]?.string, let new = rewrite(img, images) {
                                    cs[j]["image"] = .string(new)
                                }
                            }
                        }
                    }
                    walk(&child, images)
                }
            }
        case .array(let a):
            guard a.contains(where: { !$0.isScalar }) else { return }
            v.withArray { a in for j in a.indices { walk(&a[j], images) } }
        default: return
        }
    }

    /// The new image reference, or nil when no entry matches `image`.
    static func rewrite(_ image: String, _ images: [ImageSpec]) -> String? {
        rewrite(image, ImageIndex(images))
    }

    /// The first entry (in `images:` order) whose name matches `image`, applied.
    static func rewrite(_ image: String, _ index: ImageIndex) -> String? {
        guard let spec = index.match(image) else { return nil }
        var (name, tag, digest) = split(image)
        if !spec.newName.isEmpty { name = spec.newName }
        if !spec.newTag.isEmpty && !spec.digest.isEmpty {
            tag = spec.newTag; digest = spec.digest
        } else if !spec.newTag.isEmpty {
            tag = spec.newTag; digest = ""
        } else if !spec.digest.isEmpty {
            digest = spec.digest; tag = ""
        }
        var out = name
        if !tag.isEmpty { out += ":" + tag }
        if !digest.isEmpty { out += "@" + digest }
        return out
    }

    /// `images:` entries by name. A name matches an image only as the image's whole text or
    /// the part before one of its `:`/`@` (then `matches` checks the rest), so an image has
    /// few candidates; among matching entries the first listed wins, as in Kustomize.
    struct ImageIndex: Sendable {
        let specs: [ImageSpec]
        private var firstByName: [String: Int] = [:]

        init(_ specs: [ImageSpec]) {
            self.specs = specs
            for (i, s) in specs.enumerated() where firstByName[s.name] == nil { firstByName[s.name] = i }
        }

        func match(_ image: String) -> ImageSpec? {
            var best: Int?
            func consider(_ name: Substring) {
                guard let i = firstByName[String(name)], best.map({ i < $0 }) ?? true, matches(image, name) else { return }
                best = i
            }
            consider(image[...])
            // Candidate names end where a tag or digest may start: at a ":" or "@" byte.
            let u = image.utf8
            var idx = u.startIndex
            while idx < u.endIndex {
                let c = u[idx]
                if c == UInt8(ascii: ":") || c == UInt8(ascii: "@") { consider(image[..<idx]) }
                idx = u.index(after: idx)
            }
            return best.map { specs[$0] }
        }
    }

    /// Kustomize v5.5's `IsImageMatched`: the image is the name, then optionally `:tag`, then
    /// optionally `@sha256:digest`, where tag and digest are made of `[a-zA-Z0-9_.{}-]`
    /// (ASCII only: `app:tägs` is not `app` with a tag, and is left alone).
    static func matches(_ image: String, _ name: Substring) -> Bool {
        let i = image.utf8, n = name.utf8
        guard i.starts(with: n) else { return false }
        var p = i.index(i.startIndex, offsetBy: n.count)
        func skipTag() { while p < i.endIndex && isTagByte(i[p]) { p = i.index(after: p) } }
        if p < i.endIndex && i[p] == UInt8(ascii: ":") {
            p = i.index(after: p)
            skipTag()
        }
        if p == i.endIndex { return true }
        guard i[p...].starts(with: "@sha256:".utf8) else { return false }
        p = i.index(p, offsetBy: 8)
        skipTag()
        return p == i.endIndex
    }

    static func matches(_ image: String, _ name: String) -> Bool { matches(image, name[...]) }

    /// `[a-zA-Z0-9_.{}-]`, the bytes of a tag or digest in Kustomize's image pattern.
    @inline(__always) static func isTagByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    /// Kustomize's `image.Split`: name, tag and digest (the registry host may contain `:`).
    static func split(_ image: String) -> (String, String, String) {
        let u = Array(image.utf8)
        let slash = u.firstIndex(of: UInt8(ascii: "/")) ?? 0
        let search = u[slash...]
        let at = search.firstIndex(of: UInt8(ascii: "@"))
        let colon = search.firstIndex(of: UInt8(ascii: ":"))
        func s(_ r: ArraySlice<UInt8>) -> String { String(decoding: r, as: UTF8.self) }
        if at == nil && colon == nil { return (image, "", "") }
        if let at, colon == nil || at < colon! {
            return (s(u[..<at]), "", s(u[(at + 1)...]))
        }
        if let at, let colon {
            return (s(u[..<colon]), s(u[(colon + 1)..<at]), s(u[(at + 1)...]))
        }
        return (s(u[..<colon!]), s(u[(colon! + 1)...]), "")
    }
}
