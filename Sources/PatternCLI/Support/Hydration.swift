import PatternCore
import PatternCompile
import PatternSource

/// `render --commit-to`: rendered manifests committed to a branch (the "rendered manifests"
/// pattern), one directory per site, with the same stable file paths as `--out-dir`.
enum Hydration {
    /// `sourceRepository` is the pattern repository that was rendered (its commit and
    /// dirtiness are recorded in the commit message).
    static func commit(_ sites: [RenderedSite], branch: String, repository: String, sourceRepository: String,
                       format: RenderCommand.OutputFormat) throws {
        var files: [String: [UInt8]] = [:]
        for r in sites {
            for o in r.objects {
                let rel = r.site + "/" + Renderer.relativePath(o.key, ext: format == .yaml ? "yaml" : "json")
                let text = format == .yaml ? YAMLEmitter(options: .init(sortKeys: true)).emit(o.object)
                                           : JSONWriter.string(o.object, options: .init(indent: 4, sortKeys: true)) + "\n"
                files[rel] = Array(text.utf8)
            }
        }
        // One revision for the whole commit: the hash of the per-site revisions.
        var h = SHA256()
        for r in sites { h.update(r.site + " " + r.revision + "\n") }
        let revision = sites.count == 1 ? sites[0].revision : "sha256:" + h.finalize().hexString
        // The repository rendered: its commit, and whether the render included uncommitted
        // changes. Each site's pattern source (a git URL at a commit, or the repository).
        let state = Hydrator.workTreeState(sourceRepository)
        let repoSource = state.map { s in s.commit.map { "\(s.root)@\($0)" } ?? s.root } ?? FileSystem.realpath(sourceRepository) ?? sourceRepository
        let perSite = sites.map { r -> (site: String, source: String) in
            if let c = r.provenance.commit { return (r.site, "\(r.provenance.source)@\(c)\(r.provenance.stale ? " (stale)" : "")") }
            return (r.site, repoSource + (state?.dirty == true ? " (dirty)" : ""))
        }
        let provenance = Hydrator.Provenance(
            sourceURL: state?.root ?? FileSystem.realpath(sourceRepository) ?? sourceRepository, sourceCommit: state?.commit,
            renderedRevision: revision,
            summary: "pattern: render \(sites.map(\.site).joined(separator: ", ")) at \(Renderer.short(revision))",
            dirty: state?.dirty ?? false, sites: perSite)
        do {
            let result = try Hydrator(repository: repository, branch: branch).commit(files: files, provenance: provenance)
            if let c = result.commit {
                Output.err("committed \(files.count) files for \(sites.count) sites to \(branch): \(c.prefix(12))\n")
            } else {
                Output.err("\(branch) is up to date: nothing committed\n")
            }
        } catch {
            Output.report([.error(error.description, fix: error.fix)])
            throw ReportedFailure()
        }
    }
}
