import Testing
import PatternCore
@testable import Kustomize

/// Plain `https://…/file.yaml` resources: downloaded through a `RemoteFileLoader`, pinned by
/// `#sha256=` (checked here, whatever the loader does), refused unpinned unless allowed.
@Suite struct RemoteFileTests {
    /// Serves fixed bodies by URL and records what was asked for.
    final class FakeFiles: RemoteFileLoader, @unchecked Sendable {
        let bodies: [String: String]
        var asked: [String] = []
        init(_ bodies: [String: String]) { self.bodies = bodies }
        func loadFile(_ url: RemoteFileURL, maxBytes: Int) throws(RemoteBaseError) -> RemoteFile {
            asked.append(url.url)
            guard let b = bodies[url.url] else { throw RemoteBaseError("\(url.url) answered HTTP 404", fix: "check the URL") }
            return RemoteFile(bytes: Array(b.utf8))
        }
    }

    static let url = "https://files.example/org/v1/cm.yaml"
    static let body = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: remote\ndata:\n  a: \"1\"\n"
    static var pin: String { SHA256.hex(body) }

    func build(_ kustomization: String, _ policy: RemotePolicy) throws(Diagnostics) -> [Value] {
        try KustomizeBuilder(tree: MemoryTree(files: ["kustomization.yaml": kustomization]), remote: policy).build(.root)
    }

    func errors(_ kustomization: String, _ policy: RemotePolicy) -> [Diagnostic] {
        do throws(Diagnostics) { _ = try build(kustomization, policy); Issue.record("expected a failure"); return [] } catch {
            return error.items
        }
    }

    @Test func pinnedFileIsDownloadedAndTransformed() throws {
        let files = FakeFiles([Self.url: Self.body])
        let out = try build("namePrefix: p-\nresources:\n- \(Self.url)#sha256=\(Self.pin.uppercased())\n", RemotePolicy(files: files))
        #expect(out.count == 1)
        #expect(out.first?.metadataName == "p-remote")
        #expect(out.first?["data"]?["a"]?.string == "1")
        #expect(files.asked == [Self.url], "the fragment is not part of the URL fetched")
    }

    @Test func contentThatDoesNotMatchThePinIsRefused() {
        let files = FakeFiles([Self.url: Self.body + "  b: \"2\"\n"])
        let d = errors("resources:\n- \(Self.url)#sha256=\(Self.pin)\n", RemotePolicy(files: files))
        #expect(d.first?.message.contains("not the pinned \(Self.pin)") == true, "\(d)")
        #expect(d.first?.location?.description == "kustomization.yaml:2:3")
        #expect(d.first?.fix?.contains("#sha256=") == true)
    }

    @Test func unpinnedFileNeedsTheOptIn() throws {
        let files = FakeFiles([Self.url: Self.body])
        let d = errors("resources:\n- \(Self.url)\n", RemotePolicy(files: files))
        #expect(d.first?.message.contains("is not pinned") == true, "\(d)")
        #expect(d.first?.fix?.contains("\(Self.url)#sha256=") == true)
        #expect(files.asked.isEmpty, "nothing is downloaded before the pin check")
        #expect(try build("resources:\n- \(Self.url)\n", RemotePolicy(allowUnpinned: true, files: files)).count == 1)
    }

    @Test func badFragmentsAndMissingLoaderAreLocatedErrors() {
        let files = FakeFiles([Self.url: Self.body])
        let bad = errors("resources:\n- \(Self.url)#sha256=abc\n", RemotePolicy(files: files))
        #expect(bad.first?.message.contains("is not sha256=<64 hex digits>") == true, "\(bad)")
        #expect(bad.first?.location?.description == "kustomization.yaml:2:3")
        let other = errors("resources:\n- \(Self.url)#md5=abc\n", RemotePolicy(files: files))
        #expect(other.first?.message.contains("unknown fragment") == true, "\(other)")
        let none = errors("resources:\n- \(Self.url)#sha256=\(Self.pin)\n", .none)
        #expect(none.first?.message.contains("plain HTTP(S) file") == true, "\(none)")
        #expect(none.first?.fix?.contains("vendor the file") == true)
        let missing = errors("resources:\n- https://files.example/nope.yaml#sha256=\(Self.pin)\n", RemotePolicy(files: files))
        #expect(missing.first?.message.contains("answered HTTP 404") == true, "\(missing)")
    }

    @Test func parsesThePin() throws {
        let u = try RemoteFileURL(parsing: "https://h/x.yaml?raw=1#sha256=" + String(repeating: "A", count: 64))
        #expect(u.url == "https://h/x.yaml?raw=1")
        #expect(u.sha256 == String(repeating: "a", count: 64))
        #expect(try RemoteFileURL(parsing: "https://h/x.yaml").sha256 == nil)
        #expect(TreeLoader.isPlainFileURL("https://h/x.yaml#sha256=" + String(repeating: "a", count: 64)))
    }

    /// How entries are told apart before anything is fetched: remote bases, plain file URLs
    /// and local paths, in any letter case (the checks skip lowercasing for plain paths).
    @Test func classifiesEntriesInAnyLetterCase() {
        let table: [(entry: String, remote: Bool, plainFile: Bool)] = [
            ("base", false, false),
            ("../../base", false, false),
            ("app0001.yaml", false, false),
            ("gitops/apps", false, false),
            ("Guides/x.yaml", false, false),
            ("hosts/h.yaml", false, false),
            ("git@github.com:org/repo//dir?ref=v1", true, false),
            ("GIT@host:org/repo", true, false),
            ("github.com/org/repo//dir", true, false),
            ("GitHub.com:org/repo", true, false),
            ("git::https://host/org/repo", true, false),
            ("ssh://git@host/org/repo", true, false),
            ("https://host/org/repo//dir?ref=v1", true, false),
            ("https://files.example/x.yaml", true, true),
            ("HTTPS://files.example/x.YAML", true, true),
            ("Http://files.example/x.yml?raw=1", true, true),
            ("https://host/org/repo.git/x.yaml", true, false),
            ("https://host/_git/repo/x.yaml", true, false),
            ("https://host/x.yaml?ref=main", true, false),
            ("https://host//x.yaml", true, false),
            ("c:/x.yaml", false, false),
        ]
        for (entry, remote, plainFile) in table {
            #expect(TreeLoader.looksRemote(entry) == remote, "\(entry)")
            #expect(TreeLoader.isPlainFileURL(entry) == plainFile, "\(entry)")
        }
    }
}
