import ArgumentParser
import PatternCore
import PatternSource
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Credential options shared by the git-facing commands. Only *where* secrets are is given on
/// the command line (a variable name, a file), never the secret itself.
public struct GitCredentialOptions: ParsableArguments {
    @Option(name: .customLong("git-user"), help: "User name for https basic auth (default: from the URL, else 'git').")
    public var user: String?
    @Option(name: .customLong("token-env"), help: "Environment variable holding an https password or token.")
    public var tokenEnv: String?
    @Option(name: .customLong("token-file"), help: "File whose first line is an https password or token.")
    public var tokenFile: String?
    @Option(name: .customLong("ssh-key"), help: "Private key file for ssh:// and user@host:path URLs.")
    public var sshKey: String?
    @Option(name: .customLong("ssh-passphrase-env"), help: "Environment variable holding the ssh key passphrase.")
    public var sshPassphraseEnv: String?
    @Option(name: .customLong("ca-bundle"), help: "PEM file with the CA certificates to trust for https.")
    public var caBundle: String?

    public init() {}

    public var credentials: GitCredentials {
        GitCredentials(username: user, tokenEnv: tokenEnv, tokenFile: tokenFile, sshKey: sshKey,
                       sshPassphraseEnv: sshPassphraseEnv, caBundle: caBundle)
    }
}

enum SourceOutput {
    static func err(_ s: String) {
        let line = s + "\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }

    /// Prints a SourceError (already redacted) and fails.
    static func fail(_ e: SourceError) -> ExitCode {
        err(e.description)
        return ExitCode.failure
    }
}

/// `pattern source …`: inspect and warm the source cache.
public struct SourceCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "source",
        abstract: "Work with git pattern sources and the source cache.",
        subcommands: [SourceFetchCommand.self]
    )
    public init() {}
}

/// `pattern source fetch <url>`: fetch into the cache and print the resolved commit.
public struct SourceFetchCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Fetch a git source into the cache and print the commit it resolves to.",
        discussion: """
            Fetches every branch and tag of the URL into the cache (one bare repository per URL), \
            trying --mirror URLs in order when the primary fails, and falls back to the last good \
            commit when every URL fails (unless --require-fresh). Credentials never appear in output. \
            -o json or yaml prints a SourceFetch document (url, ref, commit, source, stale, warnings).

            Examples:
              pattern source fetch https://git.example.com/platform/pattern.git --ref v1.4.0
              pattern source fetch git://127.0.0.1:9418/pattern.git --mirror /srv/mirror/pattern.git --read-all
            """
    )

    @Argument(help: "Repository URL or path.") public var url: String
    @Option(help: "Branch, tag or full commit id (default: the remote's default branch).") public var ref: String?
    @Option(help: "Directory inside the repository.") public var path: String?
    @Option(name: .customLong("mirror"), help: "Mirror URL, tried in order after the primary (repeatable).")
    public var mirrors: [String] = []
    @Option(name: .customLong("cache-dir"), help: "Cache directory (default: $PATTERN_CACHE_DIR, $XDG_CACHE_HOME/pattern or ~/.cache/pattern).")
    public var cacheDir: String?
    @Flag(name: .customLong("require-fresh"), help: "Fail instead of using a stale cached commit.")
    public var requireFresh = false
    @Flag(name: .customLong("read-all"), help: "Read every file of the tree (diagnostics and benchmarks).")
    public var readAll = false
    @OptionGroup public var credentialOptions: GitCredentialOptions
    @OptionGroup public var network: NetworkDeadlineOptions
    @Option(name: .shortAndLong, help: "Output: text, json or yaml (a SourceFetch document).") public var output: DocumentFormat = .text

    public init() {}

    public func run() async throws {
        let resolver = SourceResolver(cache: cacheDir.map { SourceCache(directory: $0) } ?? .default, requireFresh: requireFresh,
                                      deadlines: network.deadlines)
        let source = GitSource(url: url, mirrors: mirrors, ref: ref, path: path, credentials: credentialOptions.credentials)
        let r: ResolvedSource
        do { r = try resolver.resolve(source) } catch { throw SourceOutput.fail(error) }
        if output == .text { for w in r.warnings { SourceOutput.err(w.description) } }
        var files = 0, bytes = 0
        if readAll {
            func walk(_ dir: TreePath) throws {
                for e in try r.tree.list(dir) {
                    let p = dir.appending(e.name)
                    switch e.kind {
                    case .directory: try walk(p)
                    case .file: files += 1; bytes += try r.tree.read(p).count
                    case .symlink: break
                    }
                }
            }
            try walk(.root)
        }
        if output != .text {
            Output.document(ToolReports.sourceFetch(r, files: readAll ? files : nil, bytes: readAll ? bytes : nil), output)
            return
        }
        Output.out("commit: \(r.commit ?? "-")" + "\n")
        Output.out("source: \(r.provenance)" + "\n")
        if r.stale { Output.out("stale: true" + "\n") }
        if readAll { Output.out("files: \(files) (\(bytes) bytes)" + "\n") }
    }
}
