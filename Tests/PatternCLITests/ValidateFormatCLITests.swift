import Testing
import TestSupport
import Foundation
import PatternCore

/// Machine-readable validate output and one-document renders.
@Suite struct ValidateFormatCLITests {
    /// A copy of the repository where `sites` have an unknown overlay field.
    func brokenRepo(_ sites: [String]) throws -> String {
        let dir = TemporaryDirectories.make("pattern-cli-validate")
        for d in ["patterns", "overlays"] { try FileManager.default.copyItem(atPath: CLI.repoRoot + "/" + d, toPath: dir + "/" + d) }
        for s in sites {
            let h = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/overlays/\(s)/overlay.yaml"))
            h.seekToEndOfFile(); h.write("  bogusField: 1\n".data(using: .utf8)!); h.closeFile()
        }
        return dir
    }

    @Test func jsonListsEverySitesErrorsWithLocations() throws {
        let dir = try brokenRepo(["dev", "hub"])
        defer { TemporaryDirectories.remove(dir) }
        let r = CLI.run(["validate", "--all", "-C", dir, "-o", "json"])
        #expect(r.status == 1)
        let doc = try JSONParser.parse(r.stdout)
        #expect(doc["apiVersion"] == "pattern.dev/v1alpha1" && doc["kind"] == "ValidationReport")
        #expect(doc["valid"] == false)
        let diags = doc["diagnostics"]?.array ?? []
        #expect(diags.compactMap { $0["site"]?.string } == ["dev", "hub"])
        #expect(diags.first?["file"] == "overlays/dev/overlay.yaml")
        #expect(diags.first?["line"]?.int ?? 0 > 0 && diags.first?["column"] == 3)
        #expect(diags.first?["fix"]?.string?.contains("known fields") == true)
        let y = CLI.run(["validate", "--all", "-C", dir, "-o", "yaml"])
        #expect(y.stdout.contains("kind: ValidationReport"))
    }

    @Test func githubAndGitlabAnnotations() throws {
        let dir = try brokenRepo(["hub"])
        defer { TemporaryDirectories.remove(dir) }
        let g = CLI.run(["validate", "--all", "-C", dir, "--format", "github"])
        #expect(g.status == 1)
        #expect(g.stdout.hasPrefix("::error file=overlays/hub/overlay.yaml,line="), "\(g.stdout)")
        #expect(g.stdout.contains(",col=3,title=pattern validate (hub)::unknown field 'bogusField' in spec%0Afix: "))
        #expect(g.stdout.split(separator: "\n").count == 1)
        let l = CLI.run(["validate", "--all", "-C", dir, "--format", "gitlab"])
        let doc = try JSONParser.parse(l.stdout)
        #expect(doc.array?.count == 1)
        #expect(doc.array?.first?["severity"] == "major" && doc.array?.first?["check_name"] == "pattern-validate")
        #expect(doc.array?.first?["location"]?["path"] == "overlays/hub/overlay.yaml")
        #expect(doc.array?.first?["fingerprint"]?.string?.count == 64)
    }

    @Test func aValidRepositoryIsAValidReport() throws {
        let r = CLI.run(["validate", "--all", "-o", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try JSONParser.parse(r.stdout)
        #expect(doc["valid"] == true)
        #expect((doc["sites"]?.array?.count ?? 0) >= 5)
        #expect(CLI.run(["validate", "--all", "-o", "json", "--format", "github"]).status == 2)
    }

    @Test func renderAllAsJSONIsOneListOfSiteLists() throws {
        let r = CLI.run(["render", "--all", "-o", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try JSONParser.parse(r.stdout)
        #expect(doc["kind"] == "List" && doc["apiVersion"] == "v1")
        let sites = doc["items"]?.array ?? []
        #expect(sites.count >= 5)
        #expect(sites.allSatisfy { $0["kind"] == "List" && !($0["items"]?.array ?? []).isEmpty })
    }
}
