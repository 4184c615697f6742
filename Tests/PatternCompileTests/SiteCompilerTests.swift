import Testing
#if canImport(Glibc)
import Glibc
#endif
import PatternCore
@testable import PatternCompile

@Suite struct SiteCompilerTests {
    let ws = fixtureWorkspace("basic")

    func object(_ r: RenderedSite, _ kind: String, _ name: String) -> Value? {
        r.objects.first { $0.key.kind == kind && $0.key.name == name }?.object
    }

    @Test func valuesMergeAlongTheChainWithSiteWinning() throws {
        let r = try SiteCompiler(workspace: ws).compile(site: "site-a")
        let web = try #require(object(r, "Deployment", "web"))
        // pattern 1 < group 2 < site value file 3
        #expect(web[path: ["spec", "replicas"]] == 3)
        // maps deep-merge: repo from the pattern, tag from the group
        let container = web[path: ["spec", "template", "spec", "containers"]]?.array?.first
        #expect(container?["image"] == "example/shop:2.0")
    }

    @Test func substitutionKeepsTypesForPlainScalarsAndStringsForQuotedOnes() throws {
        let r = try SiteCompiler(workspace: ws).compile(site: "site-a")
        let web = try #require(object(r, "Deployment", "web"))
        #expect(web[path: ["spec", "replicas"]]?.int == 3)            // plain ${replicas} → number
        let cm = try #require(object(r, "ConfigMap", "settings"))
        #expect(cm[path: ["data", "replicas"]] == "3")                 // quoted "${replicas}" → string
        #expect(cm[path: ["data", "replicas"]]?.string == "3")
        // A plain ${ports} holding a list stays a list (lists replace: the group's list wins).
        let cart = try #require(object(r, "Cart", "default"))
        #expect(cart[path: ["spec", "ports"]] == [80, 443])
        let env = web[path: ["spec", "template", "spec", "containers"]]?.array?.first?["env"]?.array ?? []
        func envValue(_ n: String) -> Value? { env.first { $0["name"] == .string(n) }?["value"] }
        #expect(envValue("DOMAIN") == "a.example.com")
        #expect(envValue("PORT") == "80")                              // list index path
        #expect(envValue("TIER") == "gold")                            // parameter default
        #expect(envValue("CLUSTER") == "a1-eu-west")                   // site label overrides group label
        #expect(envValue("LITERAL") == "${not.a.var}")                 // $${…} escape
        #expect(envValue("FALLBACK") == "fallback")                    // ${x:=default}
        // null in the site deletes the pattern's value, so the default applies.
        #expect(cm[path: ["data", "removed"]] == "was-removed")
    }

    @Test func objectsAreLabelledAnnotatedAndInApplyOrder() throws {
        let r = try SiteCompiler(workspace: ws).compile(site: "site-a")
        #expect(r.objects.map(\.key.kind) == ["CustomResourceDefinition", "Namespace", "ConfigMap", "Deployment", "Cart"])
        for o in r.objects {
            #expect(o.object.labels[PatternLabels.site] == "site-a")
            #expect(o.object.labels[PatternLabels.pattern] == "shop")
            #expect(o.object.labels[PatternLabels.component] == .string(o.component))
            #expect(o.object.annotations[PatternLabels.revision] == .string(r.revision))
        }
        #expect(r.revision.hasPrefix("sha256:") && r.revision.count == 71)
        #expect(r.components.map(\.name) == ["ns", "crd", "app"])
    }

    @Test func renderIsDeterministicAndRevisionTracksContent() throws {
        let a = try SiteCompiler(workspace: ws).compile(site: "site-a")
        let b = try SiteCompiler(workspace: ws).compile(site: "site-a")
        let emit = { (r: RenderedSite) in YAMLEmitter(options: .init(sortKeys: true)).emitStream(r.objects.map(\.object)) }
        #expect(emit(a) == emit(b))
        #expect(a.revision == b.revision)
        let other = try SiteCompiler(workspace: ws).compile(site: "site-b")
        #expect(other.revision != a.revision)
    }

    @Test func disabledComponentsAreLeftOut() throws {
        let r = try SiteCompiler(workspace: ws).compile(site: "site-b")
        #expect(!r.objects.contains { $0.component == "crd" })
        #expect(r.objects.contains { $0.key.kind == "Deployment" })
        let web = try #require(object(r, "Deployment", "web"))
        let env = web[path: ["spec", "template", "spec", "containers"]]?.array?.first?["env"]?.array ?? []
        #expect(env.contains { $0["name"] == "TIER" && $0["value"] == "silver" })
    }

    @Test func sitesAreListedWithoutGroups() throws {
        let names = try Workspace(tree: LocalTree(root: fixturesRoot + "/compile/basic")).overlayNames()
        #expect(names.contains("base-group"))
        // Listing sites parses every overlay: the broken fixture overlays are reported, by file.
        do { _ = try ws.siteNames(); Issue.record("expected errors from the broken overlays") } catch {
            #expect(error.items.contains { $0.location?.file == "overlays/bad-component/overlay.yaml" })
        }
        let clean = Workspace(tree: LocalTree(root: temporaryRepo([
            "overlays/g/overlay.yaml": "apiVersion: pattern.dev/v1alpha1\nkind: Group\nmetadata: {name: g}\n",
            "overlays/s1/overlay.yaml": "apiVersion: pattern.dev/v1alpha1\nkind: Site\nmetadata: {name: s1}\nspec: {extends: [g]}\n",
        ])))
        #expect(try clean.siteNames() == ["s1"])
    }

    @Test func extendsCycleIsAnError() {
        do { _ = try ws.overlayChain("loop-b"); Issue.record("expected an error") } catch {
            #expect(error.items.first?.message.contains("cycle") == true)
            #expect(error.items.first?.message.contains("loop-b → loop-a → loop-b") == true)
        }
    }

    @Test func parameterTypeAndEnumErrorsNameTheFileThatSetTheValue() {
        do { _ = try SiteCompiler(workspace: ws).compile(site: "bad-values"); Issue.record("expected errors") } catch {
            let msgs = error.items.map(\.message)
            #expect(msgs.contains { $0.contains("required parameter 'domain'") })
            #expect(msgs.contains { $0.contains("parameter 'replicas' must be an integer, found a string") })
            #expect(msgs.contains { $0.contains("parameter 'tier'") && $0.contains("not one of") })
            let typeErr = error.items.first { $0.message.contains("'replicas' must be") }
            #expect(typeErr?.location?.file == "overlays/bad-values/overlay.yaml")
            #expect(typeErr?.location?.mark.line == 7)
        }
    }

    @Test func unknownFieldsAndComponentsAreAllReported() {
        do { _ = try SiteCompiler(workspace: ws).compile(site: "bad-component"); Issue.record("expected errors") } catch {
            let items = error.items
            #expect(items.contains { $0.message.contains("unknown field 'valuez'") && $0.fix?.contains("values") == true })
        }
        // With the typo fixed, the unknown component is reported with the known ones listed.
        let errors = compileErrors(miniRepo(manifests: "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n",
                                            siteExtra: "  components: {disable: [cc]}"))
        #expect(errors.contains { $0.message.contains("unknown component 'cc'") && $0.fix?.contains("c") == true })
    }
}

@Suite struct CompileErrorTests {
    @Test func siteApplySettingsAreReadAndTheSiteWins() throws {
        var files = miniRepo(manifests: "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n",
                             siteExtra: "  extends: [g]\n  apply: {recordNamespace: team-records, pruneKinds: [ConfigMap, Deployment.apps]}")
        files["overlays/g/overlay.yaml"] = """
            apiVersion: pattern.dev/v1alpha1
            kind: Group
            metadata: {name: g}
            spec:
              apply: {recordNamespace: group-records, namespaces: [x, y]}
            """
        let site = try SiteCompiler(workspace: Workspace(tree: LocalTree(root: temporaryRepo(files)))).compile(site: "s")
        #expect(site.apply.recordNamespace == "team-records")
        #expect(site.apply.namespaces == ["x", "y"])
        #expect(site.apply.pruneKinds == ["ConfigMap", "Deployment.apps"])
        let errors = compileErrors(miniRepo(manifests: "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n",
                                            siteExtra: "  apply: {recordNamespace: Team_Records, bogus: 1}"))
        #expect(errors.contains { $0.message.contains("apply.recordNamespace 'Team_Records'") && $0.location?.file == "overlays/s/overlay.yaml" })
        #expect(errors.contains { $0.message.contains("bogus") })
    }

    @Test func aComponentThatRendersNothingIsAnErrorUnlessDeclaredMayBeEmpty() {
        for emptied in ["", "---\n", "# nothing here\n---\n---\n"] {
            let errors = compileErrors(miniRepo(manifests: emptied))
            let e = errors.first { $0.message.contains("component 'c' renders no objects") }
            #expect(e != nil, "manifest \(emptied.debugDescription): \(errors)")
            #expect(e?.location?.file == "patterns/p/pattern.yaml")
            #expect(e?.fix?.contains("mayBeEmpty: true") == true)
        }
        var files = miniRepo(manifests: "---\n")
        files["patterns/p/pattern.yaml"] = files["patterns/p/pattern.yaml"]!.replacing(
            "- {name: c, path: components/c}", with: "- {name: c, path: components/c, mayBeEmpty: true}")
        #expect(!compileErrors(files).contains { $0.message.contains("renders no objects") })
    }

    @Test func unknownVariableNamesFileLineAndColumn() {
        let errors = compileErrors(miniRepo(manifests: """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: x, namespace: ns}
            data:
              a: prefix-${nope}
            """))
        let e = errors.first { $0.message.contains("unknown variable 'nope'") }
        #expect(e?.location?.file == "patterns/p/components/c/m.yaml")
        #expect(e?.location?.mark.line == 5)
        #expect(e?.location?.mark.column == 13)   // the '$' of ${nope}
        #expect(e?.fix?.contains(":=") == true)
    }

    @Test func mapIntoStringIsAnError() {
        let errors = compileErrors(miniRepo(manifests: """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: x, namespace: ns}
            data:
              a: "v=${m}"
            """, values: "{m: {k: v}}"))
        #expect(errors.contains { $0.message.contains("is a map and cannot be inserted into a string") })
    }

    @Test func sameObjectTwiceNamesBothFiles() {
        var files = miniRepo(manifests: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: ns}\n")
        files["patterns/p/components/c/again.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: ns}\n"
        let errors = compileErrors(files)
        let e = errors.first { $0.message.contains("defined twice") }
        #expect(e != nil)
        let files2 = Set([e?.location?.file] + (e?.related.map(\.file) ?? []))
        #expect(files2 == ["patterns/p/components/c/again.yaml", "patterns/p/components/c/m.yaml"])
    }

    @Test func scopeAndNameChecks() {
        let errors = compileErrors(miniRepo(manifests: """
            apiVersion: v1
            kind: Namespace
            metadata: {name: ns, namespace: other}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: Bad_Name, namespace: ns}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: s, namespace: ns}
            data: {k: "not base64!"}
            ---
            kind: ConfigMap
            metadata: {name: y, namespace: ns}
            """))
        let msgs = errors.map(\.message)
        #expect(msgs.contains { $0.contains("Namespace ns is cluster-scoped but sets namespace") })
        #expect(msgs.contains { $0.contains("Deployment web is namespaced but has no namespace") })
        #expect(msgs.contains { $0.contains("'Bad_Name' is not a valid DNS-1123 subdomain") })
        #expect(msgs.contains { $0.contains("data key 'k' is not valid base64") && !$0.contains("not base64!") })
        #expect(msgs.contains { $0.contains("no apiVersion") })
        #expect(errors.count >= 5)   // all of them, not just the first
    }

    @Test func crdScopeIsUsedForCustomResources() {
        let errors = compileErrors(miniRepo(manifests: """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: things.x.io}
            spec: {group: x.io, names: {kind: Thing, plural: things}, scope: Cluster, versions: []}
            ---
            apiVersion: x.io/v1
            kind: Thing
            metadata: {name: t, namespace: ns}
            """))
        #expect(errors.contains { $0.message.contains("Thing t is cluster-scoped") })
    }

    @Test func componentPathsCannotEscapeTheRepository() {
        var files = miniRepo(manifests: "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n")
        files["patterns/p/pattern.yaml"] = """
            apiVersion: pattern.dev/v1alpha1
            kind: Pattern
            metadata: {name: p}
            spec:
              components:
              - {name: c, path: ../../../../etc}
            """
        let errors = compileErrors(files)
        #expect(errors.contains { $0.message.contains("leaves the repository") })
    }

    @Test func symlinkOutOfTheRepositoryIsRejected() throws {
        let dir = temporaryRepo(miniRepo(manifests: "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n"))
        #expect(symlink("/etc", dir + "/patterns/p/components/c/escape") == 0)
        let ws = Workspace(tree: LocalTree(root: dir))
        do { _ = try SiteCompiler(workspace: ws).compile(site: "s"); Issue.record("expected an error") } catch {
            #expect(error.items.contains { $0.message.contains("outside the repository") })
        }
    }

    @Test func badYAMLInAManifestIsReportedWithLocation() {
        let errors = compileErrors(miniRepo(manifests: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: x\n"))
        #expect(errors.first?.location?.file == "patterns/p/components/c/m.yaml")
        #expect(errors.first?.message.contains("tab") == true)
    }
}
