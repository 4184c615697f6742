import PatternCore
import PatternCompile
import PatternSource
import ValidatedPatterns

/// Resolves a site's `pattern.git` with libgit2 (cache, mirrors, stale fallback): the
/// compiler then reads the pattern straight from the git tree at the resolved commit.
/// The one resolver of the CLI and the controller.
public struct GitPatternResolver: PatternSourceResolver {
    public let resolver: SourceResolver
    /// Records what each resolve found, for the ledger (nil: nothing recorded).
    public var recorder: SourceRecorder?
    /// Resolve to a ledger entry's commits and chart versions instead (rollback).
    public var pins: SourcePins?

    public init(resolver: SourceResolver) { self.resolver = resolver }

    public func resolve(_ asked: PatternRef.GitRef) throws -> (tree: any SourceTree, directory: TreePath, provenance: Provenance, warnings: [String]) {
        let ref = try pins?.pin(asked) ?? asked
        let c = ref.credentials
        let creds = GitCredentials(username: c["username"], tokenEnv: c["tokenEnv"], tokenFile: c["tokenFile"], sshKey: c["sshKey"],
                                   sshPublicKey: c["sshPublicKey"], sshPassphraseEnv: c["sshPassphraseEnv"], caBundle: c["caBundle"])
        var verify: CommitVerification? = nil
        if let v = ref.verify {
            var o = Object()
            if !v.sshKeys.isEmpty { o["sshKeys"] = .array(v.sshKeys.map { .string($0) }) }
            if !v.gpgKeys.isEmpty { o["gpgKeys"] = .array(v.gpgKeys.map { .string($0) }) }
            if let f = v.sshKeysFile { o["sshKeysFile"] = .string(f) }
            if let f = v.gpgKeysFile { o["gpgKeysFile"] = .string(f) }
            verify = try CommitVerification(value: .object(o))
        }
        let source = GitSource(url: ref.url, mirrors: ref.mirrors, ref: ref.ref, path: ref.path, credentials: creds,
                               allowForcePush: ref.allowForcePush, verify: verify)
        let resolved: Result<ResolvedSource, SourceError>
        do throws(SourceError) { resolved = .success(try resolver.resolve(source)) } catch { resolved = .failure(error) }
        let r: ResolvedSource
        switch resolved {
        case .success(let v): r = v
        case .failure(let error):
            // An untrusted commit keeps its own message and fix ("check the URL" would mislead).
            if error.kind == .untrustedCommit {
                throw Diagnostics([.error("refusing the pattern commit: \(error.message)", fix: error.fix)])
            }
            throw error
        }
        var warnings = r.warnings.map(\.message)
        if r.stale {
            warnings.append("every URL of \(r.url ?? ref.url) failed: rendering the last good commit \(r.commit ?? "?") from the cache (stale)")
        }
        if let commit = r.commit { recorder?.git(asked, commit: commit) }
        return (r.tree, .root, Provenance(source: r.url ?? ref.url, commit: r.commit, stale: r.stale), warnings)
    }
}

extension GitPatternResolver: ChartArchiveResolver {
    /// Charts from chart repositories, through the same cache, offline and freshness
    /// settings as the pattern's git sources.
    public func fetchChart(_ asked: ChartRepositoryRef) throws -> (bytes: [UInt8], display: String, warnings: [String]) {
        try fetchChart(asked, secrets: ChartRepositorySecrets())
    }

    /// With `secrets` (an Argo CD repository Secret's username and password), the password
    /// reaches the resolver through a private environment of one variable, so it is scrubbed
    /// from every message like any configured secret and never written anywhere.
    public func fetchChart(_ asked: ChartRepositoryRef, secrets: ChartRepositorySecrets) throws -> (bytes: [UInt8], display: String, warnings: [String]) {
        let ref = try pins?.pin(asked) ?? asked
        let c = ref.credentials
        var creds = ChartCredentials(username: c["username"], passwordEnv: c["passwordEnv"], passwordFile: c["passwordFile"],
                                     tokenEnv: c["tokenEnv"], tokenFile: c["tokenFile"], caBundle: c["caBundle"])
        var settings = resolver
        if !secrets.isEmpty {
            let variable = "PATTERN_REPOSITORY_SECRET_PASSWORD"
            creds = ChartCredentials(username: secrets.username, passwordEnv: secrets.password == nil ? nil : variable, caBundle: c["caBundle"])
            settings.environment = SourceEnvironment(secrets.password.map { [variable: $0] } ?? [:])
        }
        let charts = ChartSourceResolver(settings: settings)
        let resolved: Result<ResolvedChart, SourceError>
        do throws(SourceError) {
            resolved = .success(try charts.resolve(ChartReference(repo: ref.repo, mirrors: ref.mirrors, name: ref.name, version: ref.version,
                                                                  digest: ref.digest, credentials: creds, plainHTTP: ref.plainHTTP)))
        } catch { resolved = .failure(error) }
        switch resolved {
        case .failure(let error):
            throw Diagnostics([.error(error.message, fix: error.fix)])
        case .success(let r):
            guard let bytes = r.readArchive() else {
                throw Diagnostics([.error("cannot read cached chart archive '\(r.archivePath)'", fix: "delete it; the next run fetches it again")])
            }
            recorder?.chart(asked, version: r.version, digest: r.digest)
            return (bytes, "\(ref.name)-\(r.version).tgz", r.warnings.map(\.message))
        }
    }
}

extension GitPatternResolver {
    /// The Validated Patterns layout whose clustergroup chart, when it is not in the
    /// repository, comes through this resolver's cache (chart repository or git).
    public var validatedPatternsLayout: ValidatedPatternsLayout {
        ValidatedPatternsLayout(chartResolver: CachedClusterGroupCharts(charts: self, git: self))
    }
}
