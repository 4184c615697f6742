import Testing
import PatternCore
@testable import PatternCompile
#if canImport(Glibc)
import Glibc
#endif

/// Issue 12: hostile or broken inputs get a located error, never a crash, an escape or a
/// silent substitution.
@Suite struct InputSafetyTests {
    /// Compiles `site` in a fresh repository made of `files` (plus `links`: path → symlink
    /// target), removing the directory afterwards.
    func compile(_ files: [String: String], links: [String: String] = [:], site: String = "s") -> (RenderedSite?, [Diagnostic]) {
        let dir = temporaryRepo(files)
        defer { removeTree(dir) }
        for (path, target) in links { symlink(target, dir + "/" + path) }
        do {
            return (try SiteCompiler(workspace: Workspace(tree: LocalTree(root: dir))).compile(site: site), [])
        } catch {
            return (nil, error.items)
        }
    }

    static let configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\ndata: {k: v}\n"

    @Test func directorySymlinkLoopInAComponentIsALocatedError() {
        for target in [".", "../..", "../c"] {
            let (site, errors) = compile(miniRepo(manifests: Self.configMap), links: ["patterns/p/components/c/loop": target])
            #expect(site == nil, "target \(target)")
            let e = errors.first { $0.message.contains("symbolic link loop") }
            #expect(e != nil, "target \(target): \(errors)")
            #expect(e?.location?.file == "patterns/p/components/c/loop")
            #expect(e?.fix != nil)
        }
    }

    @Test func symlinkToASiblingDirectoryIsNotALoop() {
        var files = miniRepo(manifests: Self.configMap)
        files["patterns/p/shared/b.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: default}\n"
        let (site, errors) = compile(files, links: ["patterns/p/components/c/shared": "../../shared"])
        #expect(errors.isEmpty, "\(errors)")
        #expect(site?.objects.map(\.key.name).sorted() == ["a", "b"])
    }

    @Test func substitutionOutputIsBoundedPerObject() {
        // 3,000 references to a 1 MiB value would insert ~3 GiB.
        let refs = (0..<3000).map { "  k\($0): x${blob}" }.joined(separator: "\n")
        let manifests = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\ndata:\n" + refs + "\n"
        var files = miniRepo(manifests: manifests, values: "{}")
        files["overlays/s/values.yaml"] = "blob: " + String(repeating: "x", count: 1 << 20) + "\n"
        files["overlays/s/overlay.yaml"]! += "  valueFiles: [values.yaml]\n"
        let (site, errors) = compile(files)
        #expect(site == nil)
        #expect(errors.contains { $0.message.contains("substitution inserts more than") && $0.location?.mark.line ?? 0 > 0 }, "\(errors.prefix(2))")
        #expect(errors.count < 10, "one error per object, not one per reference")
    }

    @Test func secretValuesNeverReachSubstitutionErrors() {
        let secret = """
            apiVersion: v1
            kind: Secret
            metadata: {name: s, namespace: default}
            stringData:
              password: hunter2-${missing}-topsecret
              other: "p@ss ${bad name} word"
            """
        let (site, errors) = compile(miniRepo(manifests: secret))
        #expect(site == nil)
        #expect(errors.count == 2, "\(errors)")
        let text = errors.map(\.description).joined(separator: "\n")
        #expect(text.contains("unknown variable 'missing'"))
        #expect(!text.contains("hunter2"))
        #expect(!text.contains("topsecret"))
        #expect(!text.contains("p@ss"))
        #expect(errors.allSatisfy { $0.location?.mark.line ?? 0 > 0 })
    }

    @Test func kindsAndAPIVersionsThatCannotBePathsAreRefused() {
        let bad = "apiVersion: v1\nkind: ../../../../escaped\nmetadata: {name: a}\n---\napiVersion: ../x/v1\nkind: Thing\nmetadata: {name: b}\n"
        let (site, errors) = compile(miniRepo(manifests: bad))
        #expect(site == nil)
        #expect(errors.contains { $0.message.contains("kind '../../../../escaped' is not a valid Kubernetes kind") && $0.location?.mark.line == 2 })
        #expect(errors.contains { $0.message.contains("apiVersion '../x/v1'") && $0.location?.mark.line == 5 })
    }
}

func removeTree(_ path: String) {
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/rm"), strdup("-rf"), strdup(path), nil]
    defer { for a in argv { free(a) } }
    var pid: pid_t = 0
    if posix_spawn(&pid, "/bin/rm", nil, nil, argv, environ) == 0 { var st: Int32 = 0; waitpid(pid, &st, 0) }
}

/// Issue 12, silent acceptance: every field of the project's own files is type-checked with
/// file:line:column; nothing of the wrong type is dropped.
@Suite struct StrictFieldTests {
    func errors(_ files: [String: String], site: String = "s") -> [Diagnostic] {
        let dir = temporaryRepo(files)
        defer { removeTree(dir) }
        do {
            _ = try SiteCompiler(workspace: Workspace(tree: LocalTree(root: dir))).compile(site: site)
            return []
        } catch { return error.items }
    }

    static let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\n"

    @Test func extendsAsAStringIsAnErrorNotADroppedField() {
        var files = miniRepo(manifests: Self.cm, siteExtra: "  extends: edge\n")
        files["overlays/edge/overlay.yaml"] = "apiVersion: pattern.dev/v1alpha1\nkind: Group\nmetadata: {name: edge}\nspec:\n  values: {x: 1}\n"
        let e = errors(files)
        #expect(e.contains { $0.message.contains("'extends' in spec must be a list of strings") && $0.location?.file == "overlays/s/overlay.yaml" && $0.location?.mark.line == 6 }, "\(e)")
    }

    @Test func overlayAndPatternValueFilesOfTheWrongTypeAreErrors() {
        let files = miniRepo(manifests: Self.cm, siteExtra: "  valueFiles: x.yaml\n", patternExtra: "  valueFiles: {a: b}\n  version: [1]\n")
        let e = errors(files)
        #expect(e.contains { $0.message.contains("'valueFiles' in spec must be a list") && $0.location?.file == "overlays/s/overlay.yaml" }, "\(e)")
        // The pattern's errors are reported once the overlay is fixed.
        let e2 = errors(miniRepo(manifests: Self.cm, patternExtra: "  valueFiles: {a: b}\n  version: [1]\n"))
        #expect(e2.contains { $0.message.contains("'valueFiles' in spec must be a list") && $0.location?.file == "patterns/p/pattern.yaml" && $0.location?.mark.line ?? 0 > 0 }, "\(e2)")
        #expect(e2.contains { $0.message.contains("'version' in spec must be a string") }, "\(e2)")
    }

    @Test func patchFieldsAreTypeChecked() {
        let files = miniRepo(manifests: Self.cm, siteExtra: "  patches:\n  - {patch: [1], target: x}\n")
        let e = errors(files)
        #expect(e.contains { $0.message.contains("'patch' in patch must be a string") }, "\(e)")
        #expect(e.contains { $0.message.contains("patch target must be a map") }, "\(e)")
    }

    @Test func aTwentySixDigitIntegerDoesNotPassAnIntegerParameter() {
        let files = miniRepo(manifests: Self.cm, values: "{n: 12345678901234567890123456}",
                             patternExtra: "  parameters:\n  - {name: n, type: integer}\n")
        let e = errors(files)
        #expect(e.contains { $0.message.contains("parameter 'n' must be an integer") && $0.location?.mark.line ?? 0 > 0 }, "\(e)")
        #expect(errors(miniRepo(manifests: Self.cm, values: "{n: 3}", patternExtra: "  parameters:\n  - {name: n, type: integer}\n")).isEmpty)
    }

    @Test func aParameterDefaultOfTheWrongTypeIsAnError() {
        let files = miniRepo(manifests: Self.cm, patternExtra: "  parameters:\n  - {name: n, type: integer, default: many}\n")
        let e = errors(files)
        #expect(e.contains { $0.message.contains("default of parameter 'n' must be an integer") && $0.location?.file == "patterns/p/pattern.yaml" }, "\(e)")
    }

    @Test func aDependsOnCycleIsAValidationErrorWithALocation() {
        let m = """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: a
              namespace: default
              annotations: {config.kubernetes.io/depends-on: /namespaces/default/ConfigMap/b}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: b
              namespace: default
              annotations: {config.kubernetes.io/depends-on: "/namespaces/default/ConfigMap/a, apps/Bad"}

            """
        let e = errors(miniRepo(manifests: m))
        #expect(e.contains { $0.message.contains("annotations form a cycle") && $0.location?.file == "patterns/p/components/c/m.yaml" && $0.location?.mark.line ?? 0 > 0 }, "\(e)")
        #expect(e.contains { $0.message.contains("invalid config.kubernetes.io/depends-on reference \"apps/Bad\"") && $0.location?.mark.line == 13 }, "\(e)")
        // Acyclic dependencies (and references outside the render) are fine.
        let ok = m.replacingOccurrencesOfA()
        #expect(errors(miniRepo(manifests: ok)).isEmpty)
    }

    @Test func anOverlayPatchWhoseTargetMatchesNothingIsALocatedError() throws {
        let files = miniRepo(manifests: Self.cm + "data: {k: v}\n", siteExtra: """
              patches:
              - target: {kind: ConfigMap, name: a}
                patch: |-
                  - {op: add, path: /data/j, value: y}
              - target: {kind: ConfigMap, name: typo}
                patch: |-
                  - {op: replace, path: /data/k, value: x}

            """)
        let (site, errors) = compileSite(files)
        #expect(site == nil, "a typo in a patch target must not render")
        let e = errors.filter { $0.message.contains("matches no rendered object") }
        #expect(e.count == 1, "\(errors)")
        #expect(e.first?.severity == .error)
        #expect(e.first?.location?.file == "overlays/s/overlay.yaml")
        #expect(e.first?.location?.mark.line == 10)
        #expect(e.first?.fix?.contains("kind, name and namespace") == true)
    }

    @Test func anOverlayPatchForADisabledComponentIsAWarning() throws {
        var files = miniRepo(manifests: Self.cm + "data: {k: v}\n", siteExtra: """
              components: {disable: [extra]}
              patches:
              - target: {kind: ConfigMap, name: a}
                patch: |-
                  - {op: add, path: /data/j, value: y}
              - target: {kind: ConfigMap, name: b}
                patch: |-
                  - {op: replace, path: /data/k, value: x}

            """, patternExtra: "  - {name: extra, path: components/extra}\n")
        files["patterns/p/components/extra/m.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: default}\ndata: {k: v}\n"
        let (site, errors) = compileSite(files)
        #expect(errors.isEmpty, "\(errors)")
        let w = site?.warnings.filter { $0.message.contains("disabled component 'extra'") } ?? []
        #expect(w.count == 1, "\(site?.warnings ?? [])")
        #expect(w.first?.location?.file == "overlays/s/overlay.yaml")
        #expect(w.first?.location?.mark.line == 11)
        #expect(site?.objects.map(\.key.name) == ["a"])
        #expect(site?.objects.first?.object["data"]?["j"]?.string == "y", "the matching patch still applies")
    }

    @Test func errorsInsideInlinePatchesPointAtThePatchLine() {
        // Line 11 of overlay.yaml is the third operation of the block; column 9 is its `{`.
        let block = miniRepo(manifests: Self.cm + "data: {k: v}\n", siteExtra: """
              patches:
              - target: {kind: ConfigMap, name: a}
                patch: |-
                  - {op: add, path: /data/j, value: y}
                  - {op: add, path: /data/l, value: z}
                  - {op: replace, value: x}

            """)
        let e1 = compileSite(block).1.first { $0.message.contains("operation needs a `path`") }
        #expect(e1?.location?.file == "overlays/s/overlay.yaml", "\(compileSite(block).1)")
        #expect(e1?.location?.mark.line == 11)
        #expect(e1?.location?.mark.column == 9)
        // A one-line JSON patch in quotes: the column inside the line.
        let flow = miniRepo(manifests: Self.cm + "data: {k: v}\n", siteExtra: """
              patches:
              - target: {kind: ConfigMap, name: a}
                patch: '[{"op": "add", "value": 1}]'

            """)
        let e2 = compileSite(flow).1.first { $0.message.contains("operation needs a `path`") }
        #expect(e2?.location?.mark.line == 8, "\(compileSite(flow).1)")
        #expect(e2?.location?.mark.column == 14)
        // A YAML syntax error inside a block patch: the line of the bad text.
        let syntax = miniRepo(manifests: Self.cm + "data: {k: v}\n", siteExtra: """
              patches:
              - patch: |-
                  apiVersion: v1
                  kind: ConfigMap
                  metadata: {name: a
                  data: {k: x}

            """)
        let e3 = compileSite(syntax).1.first
        #expect(e3?.location?.file == "overlays/s/overlay.yaml", "\(compileSite(syntax).1)")
        #expect((e3?.location?.mark.line ?? 0) >= 9, "\(compileSite(syntax).1)")
    }

    @Test func hugeJSONManifestsAreRefusedBeforeParsing() {
        let dir = temporaryRepo(miniRepo(manifests: Self.cm))
        defer { removeTree(dir) }
        let fd = open(dir + "/patterns/p/components/c/big.json", O_WRONLY | O_CREAT, 0o644)
        ftruncate(fd, 64 << 20)
        close(fd)
        do {
            _ = try SiteCompiler(workspace: Workspace(tree: LocalTree(root: dir))).compile(site: "s")
            Issue.record("expected an error")
        } catch {
            #expect(error.items.contains { $0.message.contains("more than the limit") && $0.location?.file == "patterns/p/components/c/big.json" }, "\(error)")
        }
    }
}

extension String {
    func replacingTypo() -> String {
        var out = self
        if let r = out.firstRange(of: "name: typo") { out.replaceSubrange(r, with: "name: a") }
        return out
    }

    /// Points b's depends-on at an object outside the render (breaking the cycle).
    func replacingOccurrencesOfA() -> String {
        var out = self
        if let r = out.firstRange(of: "\"/namespaces/default/ConfigMap/a, apps/Bad\"") { out.replaceSubrange(r, with: "/namespaces/other/ConfigMap/z") }
        return out
    }
}

/// Compiles site `s` of a fresh repository made of `files`: the site, or the diagnostics.
func compileSite(_ files: [String: String]) -> (RenderedSite?, [Diagnostic]) {
    let dir = temporaryRepo(files)
    defer { removeTree(dir) }
    do {
        return (try SiteCompiler(workspace: Workspace(tree: LocalTree(root: dir))).compile(site: "s"), [])
    } catch {
        return (nil, error.items)
    }
}

@Suite struct ChartRepositoryFieldTests {
    func errors(_ chart: String) -> [Diagnostic] {
        var files = miniRepo(manifests: "")
        files["patterns/p/pattern.yaml"] = """
            apiVersion: pattern.dev/v1alpha1
            kind: Pattern
            metadata: {name: p}
            spec:
              components:
              - name: web
                chart: \(chart)
            """
        return compileSite(files).1
    }

    @Test func chartRepositoryFieldsAreChecked() {
        let number = errors("{repo: https://charts.example.com, name: web, version: 1.10}")
        #expect(number.contains { $0.message.contains("'version' in chart must be a string") && $0.fix?.contains("quote") == true && $0.location?.mark.line == 7 }, "\(number)")
        let both = errors("{repo: https://charts.example.com, name: web, path: charts/web}")
        #expect(both.contains { $0.message.contains("one of 'path', 'repo' + 'name' or 'oci'") }, "\(both)")
        let noName = errors("{repo: https://charts.example.com}")
        #expect(noName.contains { $0.message.contains("name") }, "\(noName)")
        let oci = errors("{oci: https://registry.example.com/charts/web, version: \"1.2.3\"}")
        #expect(oci.contains { $0.message.contains("chart 'oci' must be oci://host[:port]/path/chart") && $0.fix != nil }, "\(oci)")
        let ociRepo = errors("{oci: oci://registry.example.com/charts/web, repo: https://x, version: \"1.2.3\"}")
        #expect(ociRepo.contains { $0.message.contains("either 'oci' or 'repo' + 'name'") }, "\(ociRepo)")
        // Without a chart resolver (library use without the CLI/controller): a located error.
        let unavailable = errors("{repo: https://charts.example.com, name: web, version: \"1.0.0\"}")
        #expect(unavailable.contains { $0.message.contains("not available here") && $0.location?.file == "patterns/p/pattern.yaml" }, "\(unavailable)")
    }
}
