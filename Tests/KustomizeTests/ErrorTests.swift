import Testing
import PatternCore
@testable import Kustomize

/// Bad input gets located diagnostics with a fix, never a partial build.
@Suite struct ErrorTests {
    func diagnostics(_ name: String, dir: String = "") throws -> [Diagnostic] {
        let tree = LocalTree(root: Fixtures.root + "/errors/" + name)
        let path = try TreePath(dir)
        do throws(Diagnostics) {
            let objects = try KustomizeBuilder(tree: tree).build(path)
            Issue.record("expected \(name) to fail, got \(objects.count) objects")
            return []
        } catch {
            for d in error.items { #expect(d.fix != nil, "\(d) has no fix hint") }
            return error.items
        }
    }

    @Test func unsupportedFieldsAreNamedWithLocations() throws {
        let d = try diagnostics("unsupported-field")
        #expect(d.count == 2)
        #expect(d.contains { $0.message.contains("'helmChartInflationGenerator'") && $0.location?.description == "kustomization.yaml:3:1" })
        #expect(d.contains { $0.message.contains("'inventory'") && $0.location?.description == "kustomization.yaml:5:1" })
    }

    @Test func unknownFieldIsAnError() throws {
        let d = try diagnostics("unknown-field")
        #expect(d.count == 1)
        #expect(d[0].message.contains("namePrefx"))
        #expect(d[0].location?.description == "kustomization.yaml:1:1")
    }

    @Test func missingResourceFile() throws {
        let d = try diagnostics("missing-resource")
        #expect(d.count == 1)
        #expect(d[0].message.contains("does-not-exist.yaml"))
        #expect(d[0].location?.description == "kustomization.yaml:3:3")
    }

    @Test func multipleMissingResourcesAreAllReported() throws {
        let d = try diagnostics("multiple-errors")
        #expect(d.map { $0.location?.description ?? "" } == ["kustomization.yaml:2:3", "kustomization.yaml:3:3"])
    }

    @Test func pathEscapingWithDotDotIsRefused() throws {
        let d = try diagnostics("escape-dotdot")
        #expect(d.count == 1)
        #expect(d[0].message.contains("leaves the repository"))
        #expect(d[0].location?.description == "kustomization.yaml:2:3")
    }

    @Test func pathEscapingThroughSymlinkIsRefused() throws {
        // The symlink's target exists (one directory up), but outside this tree.
        let link = LocalTree(root: Fixtures.root + "/errors/escape-symlink").entryKind(try TreePath("link.yaml"))
        #expect(link == .symlink)
        let d = try diagnostics("escape-symlink")
        #expect(d.count == 1)
        #expect(d[0].message.contains("outside the repository"))
    }

    @Test func invalidPatchTargetRegex() throws {
        let d = try diagnostics("invalid-target")
        #expect(d.count == 1)
        #expect(d[0].message.contains("invalid regular expression"))
        #expect(d[0].location?.file == "kustomization.yaml")
        #expect(d[0].location?.mark.line == 5)
    }

    @Test func componentListedAsResource() throws {
        let d = try diagnostics("component-as-resource")
        #expect(d.count == 1)
        #expect(d[0].message.contains("Component"))
    }

    @Test func cycleIsDetected() throws {
        let d = try diagnostics("cycle", dir: "a")
        #expect(d.count == 1)
        #expect(d[0].message.contains("cycle"))
    }

    @Test func strategicMergePatchWithoutMatch() throws {
        let d = try diagnostics("no-match-patch")
        #expect(d.count == 1)
        #expect(d[0].message.contains("no resource matches"))
    }

    @Test func jsonPatchOnMissingPath() throws {
        let d = try diagnostics("bad-json-patch")
        #expect(d.count == 1)
        #expect(d[0].message.contains("replace at '/data/missing'"))
    }

    @Test func noKustomizationFile() throws {
        let tree = LocalTree(root: Fixtures.root + "/errors")
        #expect(throws: Diagnostics.self) { try KustomizeBuilder(tree: tree).build(.root) }
    }
}

extension ErrorTests {
    @Test func namespaceCollision() throws {
        let d = try diagnostics("namespace-collision")
        #expect(d.count == 1)
        #expect(d[0].message.contains("collide"))
        #expect(d[0].location?.description == "kustomization.yaml:1:12")
        #expect(d[0].related.count == 2)
    }
}

extension ErrorTests {
    @Test func replicasWithoutWorkload() throws {
        let d = try diagnostics("replicas-no-match")
        #expect(d.count == 1)
        #expect(d[0].location?.description == "kustomization.yaml:4:3")
    }
}

extension ErrorTests {
    /// `newTag: 1.10` is the number 1.1 in YAML: Kustomize refuses it, and so do we (with both
    /// errors at once) rather than silently deploying tag "1.1".
    @Test func numbersWhereStringsAreExpected() throws {
        let d = try diagnostics("numeric-tag")
        #expect(d.map { $0.location?.description ?? "" } == ["kustomization.yaml:5:11", "kustomization.yaml:7:12"])
        #expect(d[0].fix?.contains("quote") == true)
    }
}
