import Testing
@testable import PatternCore
@testable import Kustomize

/// Conformance fixtures: each directory under Tests/Fixtures/kustomize holds a kustomization
/// and `expected.yaml`, the output of `kubectl kustomize` (Kustomize v5.5.0) for it —
/// regenerate with `Tests/Fixtures/kustomize/regenerate.sh`. A fixture may build a
/// subdirectory named in its `BUILD_DIR` file (so bases can sit beside the overlay); the tree
/// root is always the fixture directory, so nothing can reach outside it.
enum Fixtures {
    static let root: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        parts.removeLast(2)  // KustomizeTests/ConformanceTests.swift
        return parts.joined(separator: "/") + "/Fixtures/kustomize"
    }()

    static let names: [String] = {
        let tree = LocalTree(root: root)
        let entries = (try? tree.list(.root)) ?? []
        return entries.filter { $0.kind == .directory && $0.name != "errors" }
            .map(\.name)
            .filter { tree.entryKind(TreePath.root.appending($0).appending("expected.yaml")) == .file }
    }()

    static func buildDir(_ name: String) throws -> (LocalTree, TreePath) {
        let tree = LocalTree(root: root + "/" + name)
        var dir = TreePath.root
        if let b = try? tree.read(TreePath("BUILD_DIR")) {
            dir = try TreePath(String(decoding: b, as: UTF8.self).trimmingSpaces)
        }
        return (tree, dir)
    }

    static func expected(_ name: String) throws -> [Value] {
        let tree = LocalTree(root: root + "/" + name)
        let text = String(decoding: try tree.read(TreePath("expected.yaml")), as: UTF8.self)
        return try YAMLParser.parseStream(text, file: "\(name)/expected.yaml").map(\.value).filter { !$0.isNull }
    }

    static func build(_ name: String) throws -> [Value] {
        let (tree, dir) = try buildDir(name)
        return try KustomizeBuilder(tree: tree).build(dir)
    }
}

@Suite struct ConformanceTests {
    @Test func fixturesExist() {
        #expect(Fixtures.names.count >= 10, "fixtures at \(Fixtures.root)")
    }

    /// Same objects (as a set keyed by identity, compared structurally) in the same order.
    @Test(arguments: Fixtures.names)
    func matchesKubectlKustomize(_ name: String) throws {
        let expected = try Fixtures.expected(name)
        let actual = try Fixtures.build(name).map(Fixtures.asPrinted)
        let ek = expected.map { $0.objectKey! }
        let ak = actual.compactMap { $0.objectKey }
        #expect(Set(ak) == Set(ek), "object identities differ: missing \(Set(ek).subtracting(ak)), extra \(Set(ak).subtracting(ek))")
        var byKey: [ObjectKey: Value] = [:]
        for v in actual { byKey[v.objectKey!] = v }
        for e in expected {
            let k = e.objectKey!
            guard let a = byKey[k] else { continue }
            #expect(a == e, "\(name): \(k) differs\nexpected: \(e)\nactual:   \(a)")
        }
        #expect(ak == ek, "\(name): order differs")
    }

    /// Bonus: byte-identical YAML with sorted keys.
    @Test(arguments: Fixtures.names)
    func byteIdenticalOutput(_ name: String) throws {
        let tree = LocalTree(root: Fixtures.root + "/" + name)
        let expectedText = String(decoding: try tree.read(TreePath("expected.yaml")), as: UTF8.self)
        let actual = try Fixtures.build(name)
        let text = YAMLEmitter(options: .kubectlKustomize).emitStream(actual)
        #expect(text == expectedText, "\(name): YAML text differs")
        // What we print reads back as the same objects (folded long lines included).
        let back = try YAMLParser.parseStream(text, file: "\(name)/emitted.yaml").map(\.value)
        #expect(back == actual.map(Fixtures.asPrinted), "\(name): emitted YAML does not read back to the same objects")
    }
}

extension Fixtures {
    /// `v` as `kubectl kustomize` prints it: strings and keys holding U+0085 folded as
    /// `YAMLEmitter.Options.kubectlKustomize` prints them (the built objects keep the NEL).
    static func asPrinted(_ v: Value) -> Value {
        switch v.kind {
        case .string(let s) where YAMLEmitter.containsNextLine(s):
            return Value(.string(YAMLEmitter.foldingNextLines(s)), mark: v.mark, quoted: v.quoted)
        case .array(let a): return Value(.array(a.map(asPrinted)), mark: v.mark)
        case .object(let o):
            var out = Object()
            for (k, x) in o { out.append(YAMLEmitter.containsNextLine(k) ? YAMLEmitter.foldingNextLines(k) : k, asPrinted(x)) }
            return Value(.object(out), mark: v.mark)
        default: return v
        }
    }
}

/// `KUSTOMIZE_DUMP=<fixture> swift test --filter DebugDump` prints this engine's output for a
/// fixture, to diff against its expected.yaml when a conformance test fails.
@Suite struct DebugDump {
    @Test(.enabled(if: Environment.dump != nil)) func dump() throws {
        let name = Environment.dump!
        // A fixture name, or an absolute directory (built with the tree rooted there).
        // With KUSTOMIZE_DUMP_ROOT, the tree is rooted there and the directory is relative to it.
        var objects: [Value]
        if name.hasPrefix("/") {
            let root = getenv("KUSTOMIZE_DUMP_ROOT").map { String(cString: $0) } ?? name
            let rel = String(name.dropFirst(root.count).drop { $0 == "/" })
            objects = try KustomizeBuilder(tree: LocalTree(root: root)).build(try TreePath(rel))
        } else {
            objects = try Fixtures.build(name)
        }
        let text = YAMLEmitter(options: .kubectlKustomize).emitStream(objects)
        if let out = getenv("KUSTOMIZE_DUMP_OUT").map({ String(cString: $0) }) {
            let f = fopen(out, "w")
            _ = text.withCString { fputs($0, f) }
            fclose(f)
        } else {
            print("=====BEGIN\n" + text + "=====END")
        }
    }
}

enum Environment {
    static var dump: String? {
        guard let p = getenv("KUSTOMIZE_DUMP") else { return nil }
        return String(cString: p)
    }
}
#if canImport(Glibc)
import Glibc
#endif
