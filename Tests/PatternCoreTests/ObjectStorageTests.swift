import Testing
import TestSupport
@testable import PatternCore
#if canImport(Glibc)
import Glibc
#endif

/// `Object` keeps its entries in one shared copy-on-write array (and a shared index above the
/// threshold): copies must stay independent whatever member changes them, and a map that is
/// never changed must never be copied.
@Suite struct ObjectStorageTests {
    static func sample(_ n: Int) -> Object {
        var o = Object()
        for i in 0..<n { o.append("k\(i)", .int(i), keyMark: Mark(line: i + 1, column: 1)) }
        return o
    }

    /// Every mutating member, applied to a copy, leaves the original as it was (small maps and
    /// maps above the hash-index threshold alike).
    @Test(arguments: [3, Object.indexThreshold + 5])
    func copiesAreIndependentForEveryMutation(size: Int) {
        let original = Self.sample(size)
        let mutations: [(String, (inout Object) -> Void)] = [
            ("set existing", { $0.set("k1", "changed") }),
            ("set new", { $0.set("new", "x") }),
            ("append", { $0.append("appended", "y") }),
            ("subscript", { $0["k0"] = .bool(true) }),
            ("remove", { $0.removeValue(forKey: "k2") }),
            ("modify", { $0.modify("k1") { v in v = .string("m") } }),
            ("modify to nil", { $0.modify("k1") { v in v = nil } }),
            ("sortKeys", { $0.sortKeys(by: >) }),
            ("reserveCapacity then append", { $0.reserveCapacity(64); $0.append("r", .null) }),
            ("updateValues", { $0.updateValues { k, v in if k == "k1" { v = "u" } } }),
            ("updateValues where", { $0.updateValues(where: { $0 == .int(2) }) { _, v in v = "w" } }),
        ]
        for (name, mutate) in mutations {
            var copy = original
            mutate(&copy)
            #expect(copy != original || copy.keys != original.keys, "\(name) changed nothing")
            #expect(original == Self.sample(size), "\(name) on a copy changed the original")
            #expect(original.keys == (0..<size).map { "k\($0)" }, "\(name) reordered the original")
            #expect(original.keyMark("k1") == Mark(line: 2, column: 1), "\(name) lost the original's key marks")
            // The index (or the linear search) still finds every key of the original.
            for i in 0..<size { #expect(original["k\(i)"] == .int(i), "\(name): original lost k\(i)") }
        }
    }

    /// The index of a map above the threshold follows the copy's own changes, not the original's.
    @Test func largeMapIndexIsCopiedWithTheEntries() {
        var a = Self.sample(Object.indexThreshold + 3)
        let b = a
        a.removeValue(forKey: "k0")
        a.append("k0", "moved")
        #expect(a.keys.last == "k0")
        #expect(a["k0"] == "moved")
        #expect(b["k0"] == .int(0))
        #expect(b.keys.first == "k0")
        #expect(b.index(of: "k0") == 0)
        #expect(a.index(of: "k0") == a.count - 1)
    }

    /// `updateValues` changes values in place, in order, keys and positions kept, and only
    /// where asked; the index still finds every key afterwards.
    @Test(arguments: [3, Object.indexThreshold + 5])
    func updateValuesChangesOnlyWhatItIsAsked(size: Int) {
        var o = Self.sample(size)
        var seen: [String] = []
        o.updateValues(where: { ($0.int ?? 0) % 2 == 1 }) { k, v in seen.append(k); v = .int(v.int! * 10) }
        #expect(seen == (0..<size).filter { $0 % 2 == 1 }.map { "k\($0)" })
        #expect(o.keys == (0..<size).map { "k\($0)" })
        for i in 0..<size { #expect(o["k\(i)"] == .int(i % 2 == 1 ? i * 10 : i)) }
        #expect(o.keyMark("k2") == Mark(line: 3, column: 1))
        var all: [String] = []
        o.updateValues { k, v in all.append(k); v = .string(k) }
        #expect(all == o.keys)
        #expect(o["k0"] == "k0")
    }

    /// A map whose storage is shared compares equal at once; equal maps in other orders and
    /// other storage still compare equal, and a differing value does not.
    @Test func equalityWithSharedAndSeparateStorage() {
        let a = Self.sample(5)
        let b = a
        #expect(a.storageIdentity == b.storageIdentity && a == b)
        var c = Self.sample(5)
        c.sortKeys(by: >)
        #expect(c.storageIdentity != a.storageIdentity && c == a)
        c["k3"] = "other"
        #expect(c != a)
    }

    /// Nested values: changing a map inside a copied document leaves the first document alone.
    @Test func nestedValueCopiesAreIndependent() throws {
        let doc = try YAMLParser.parse("metadata:\n  name: a\n  labels: {x: '1'}\nspec: {replicas: 1}\n", file: "d.yaml")
        var copy = doc
        copy[path: ["metadata", "labels", "y"]] = "2"
        copy[path: ["metadata", "name"]] = "b"
        #expect(doc[path: ["metadata", "labels"]]?.object?.keys == ["x"])
        #expect(doc.metadataName == "a")
        #expect(copy.metadataName == "b")
        #expect(copy[path: ["metadata", "labels"]]?.object?.keys == ["x", "y"])
    }

    /// Empty maps share one box until changed; changing one leaves every other empty.
    @Test func emptyMapsStayEmpty() {
        var a = Object()
        let b = Object()
        a["k"] = "v"
        #expect(b.isEmpty)
        #expect(Object().isEmpty)
        #expect(Value.emptyObject.object?.isEmpty == true)
        #expect(a.count == 1)
    }
}

/// `LocalTree.resolve` remembers resolved directories: what it remembers must never let a
/// path out of the root, and a symlink met after its directory was remembered is still followed.
@Suite struct LocalTreeResolveCacheTests {
    /// `tmp/root` (the tree) and `tmp/outside`, with these directories, empty files and links
    /// (path → link text), all relative to `tmp`.
    static func tree(in tmp: TemporaryDirectory, directories: [String], files: [String], links: [String: String]) -> LocalTree {
        for d in ["root", "outside"] + directories { #expect(mkdir(tmp.sub(d), 0o755) == 0) }
        for f in files {
            let fd = open(tmp.sub(f), O_CREAT | O_WRONLY, 0o644); #expect(fd >= 0); close(fd)
        }
        for (path, target) in links { #expect(symlink(target, tmp.sub(path)) == 0) }
        return LocalTree(root: tmp.sub("root"))
    }

    @Test func fileLinkAfterItsDirectoryWasCachedIsStillChecked() throws {
        let tmp = TemporaryDirectory("resolve")
        let tree = Self.tree(in: tmp, directories: ["root/dir"], files: ["root/dir/plain.yaml", "root/target.yaml", "outside/secret.yaml"],
                             links: ["root/dir/escape.yaml": "../../outside/secret.yaml", "root/dir/inside.yaml": "../target.yaml"])
        // The first file caches `dir`.
        #expect(try tree.resolve(TreePath("dir/plain.yaml")) == TreePath("dir/plain.yaml"))
        #expect(tree.directories.get("dir") == (try TreePath("dir")))
        // A link in the cached directory is followed, inside the root…
        #expect(try tree.resolve(TreePath("dir/inside.yaml")) == TreePath("target.yaml"))
        // …and refused when it leaves it.
        #expect(throws: (any Error).self) { try tree.resolve(TreePath("dir/escape.yaml")) }
    }

    @Test func linkedDirectoryResolvesToItsTargetAndEscapesAreRefused() throws {
        let tmp = TemporaryDirectory("resolve")
        let tree = Self.tree(in: tmp, directories: ["root/real"], files: ["root/real/a.yaml", "root/real/b.yaml", "outside/x.yaml"],
                             links: ["root/alias": "real", "root/out": "../outside"])
        #expect(try tree.resolve(TreePath("alias/a.yaml")) == TreePath("real/a.yaml"))
        // The second file of the linked directory comes from the cache, with the same answer.
        #expect(tree.directories.get("alias") == (try TreePath("real")))
        #expect(try tree.resolve(TreePath("alias/b.yaml")) == TreePath("real/b.yaml"))
        #expect(throws: (any Error).self) { try tree.resolve(TreePath("out/x.yaml")) }
        #expect(tree.directories.get("out") == nil)
        #expect(throws: (any Error).self) { try tree.resolve(TreePath("out/x.yaml")) }
    }
}
