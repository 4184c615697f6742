import Testing
import TestSupport
import PatternCore
import Helm

@Suite struct ChartRenderCLITests {
    let shop = "Tests/Fixtures/helm/shop"

    @Test func rendersLikeHelmTemplateWithSourceLines() throws {
        let r = CLI.run(["render", shop, "--release-name", "web", "-n", "prod", "--set", "replicaCount=3,env.EXTRA=x",
                         "--set-string", "image.tag=007", "--kube-version", "1.30", "--api-versions", "monitoring.coreos.com/v1",
                         "--include-crds", "--skip-tests"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("---\n# Source: shop/crds/widgets.yaml\n"))
        #expect(r.stdout.contains("# Source: shop/templates/deployment.yaml\n"))
        #expect(!r.stdout.contains("web-shop-test"))                                  // --skip-tests
        let docs = try YAMLParser.parseStream(r.stdout).map(\.value).filter { !$0.isNull }
        let deploy = try #require(docs.first { $0.kindName == "Deployment" && $0.metadataName == "web-shop" })
        #expect(deploy[path: ["spec", "replicas"]] == 3)
        #expect(deploy.metadataNamespace == "prod")
        let container = deploy[path: ["spec", "template", "spec", "containers"]]?.array?.first
        #expect(container?["image"] == "example/shop:007")                            // --set-string keeps 007
        #expect(container?["env"]?.array?.contains { $0["name"] == "EXTRA" && $0["value"] == "x" } == true)
        let cm = try #require(docs.first { $0.metadataName == "web-shop-files" })
        #expect(cm[path: ["data", "kube"]] == "v1.30.0")
        #expect(cm[path: ["data", "monitoring"]] == "true")
    }

    @Test func valuesFileErrorsCarryFileLineAndNothingIsPrinted() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try dir.write("bad.yaml", "replicaCount: 99\n")
        let r = CLI.run(["render", shop, "-f", dir.path + "/bad.yaml"])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains(dir.path + "/bad.yaml:1:15: error: values don't meet the specifications of the schema of chart shop: replicaCount: Must be less than or equal to 50"))
        #expect(r.stderr.contains("fix:"))
    }

    @Test func badSetSyntaxIsAUsageStyleError() {
        let r = CLI.run(["render", shop, "--set", "a.b"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("failed parsing --set data: key \"b\" has no value"))
    }

    @Test func tgzChartAndHostileArchive() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        // A chart archive renders like its directory.
        let tgz = ChartArchive.write(top: "mini", files: [
            ChartFile(name: "Chart.yaml", data: Array("apiVersion: v2\nname: mini\nversion: 0.1.0\n".utf8)),
            ChartFile(name: "templates/cm.yaml", data: Array("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}}\n".utf8)),
        ])
        try dir.write("mini-0.1.0.tgz", tgz)
        let good = CLI.run(["render", dir.path + "/mini-0.1.0.tgz", "--release-name", "r1"])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout == "---\n# Source: mini/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: r1\n  namespace: default\n")
        // A tampered archive is one clear error.
        try dir.write("evil.tgz", [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3])
        let bad = CLI.run(["render", dir.path + "/evil.tgz"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("evil.tgz"))
        #expect(bad.stdout.isEmpty)
    }

    @Test func helpTeachesChartOptions() {
        let r = CLI.run(["render", "--help"])
        #expect(r.stdout.contains("--set <key=value>"))
        #expect(r.stdout.contains("helm template"))
    }
}

#if canImport(Glibc)
import Glibc
#endif

struct TempDir {
    let path: String
    init() throws {
        path = TemporaryDirectories.make("pattern-cli-helm")
    }
    func write(_ rel: String, _ text: String) throws { try write(rel, Array(text.utf8)) }
    func write(_ rel: String, _ bytes: [UInt8]) throws {
        let fd = open(path + "/" + rel, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
    func remove() {
        if let d = opendir(path) {
            var names: [String] = []
            while let e = readdir(d) {
                let n = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                if n != "." && n != ".." { names.append(n) }
            }
            closedir(d)
            for n in names { unlink(path + "/" + n) }
        }
        rmdir(path)
    }
}
