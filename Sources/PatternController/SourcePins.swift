import Synchronization
import PatternCore
import PatternCompile
import PatternRecord
import PatternSource

/// Collects what a render resolved (git commits, chart versions and digests) so the ledger
/// can record it (`LedgerEntry.Render`). Shared by reference between the copies of a
/// `GitPatternResolver`; safe to use from the compiler's worker threads. URLs are stored
/// redacted (no credentials ever reach the ledger).
public final class SourceRecorder: Sendable {
    private let state = Mutex<(git: [LedgerEntry.Render.GitPin], charts: [LedgerEntry.Render.ChartPin])>(([], []))

    public init() {}

    /// The recorder a command installs around its render: `SourceOptions.resolver` picks it up.
    @TaskLocal public static var current: SourceRecorder?

    func git(_ ref: PatternRef.GitRef, commit: String) {
        let pin = LedgerEntry.Render.GitPin(url: SourcePins.key(ref.url), ref: ref.ref ?? "", path: ref.path ?? "", commit: commit)
        state.withLock { s in if !s.git.contains(pin) { s.git.append(pin) } }
    }

    func chart(_ ref: ChartRepositoryRef, version: String, digest: String) {
        let pin = LedgerEntry.Render.ChartPin(repo: SourcePins.key(ref.repo), name: ref.name, version: version, digest: digest,
                                              request: ref.version ?? "")
        state.withLock { s in if !s.charts.contains(pin) { s.charts.append(pin) } }
    }

    /// Git sources in the order they were first resolved (the site's pattern first).
    public var sources: [LedgerEntry.Render.GitPin] { state.withLock { $0.git } }
    /// Chart archives in the order they were first read.
    public var charts: [LedgerEntry.Render.ChartPin] { state.withLock { $0.charts } }
}

/// The sources of a ledger entry, for rendering it again: each git reference resolves to the
/// commit the entry recorded and each chart to the recorded version and digest (checked),
/// from the cache only. A reference the entry did not record is an error (nothing is guessed).
public struct SourcePins: Sendable {
    public var render: LedgerEntry.Render

    public init(_ render: LedgerEntry.Render) { self.render = render }

    /// How a URL is keyed in the ledger: redacted (credentials removed).
    static func key(_ url: String) -> String { Redactor.redactURLs(in: url) }

    func pin(_ ref: PatternRef.GitRef) throws -> PatternRef.GitRef {
        let url = SourcePins.key(ref.url)
        guard let p = render.sources.first(where: { $0.url == url && $0.ref == (ref.ref ?? "") && $0.path == (ref.path ?? "") })
                ?? render.sources.first(where: { $0.url == url }) else {
            throw Diagnostics([.error("the ledger entry did not record git source \(url) ref '\(ref.ref ?? "HEAD")'",
                                      fix: "this entry cannot be rendered again exactly; choose another entry with --to")])
        }
        var r = ref
        r.ref = p.commit
        return r
    }

    func pin(_ ref: ChartRepositoryRef) throws -> ChartRepositoryRef {
        let repo = SourcePins.key(ref.repo)
        guard let p = render.charts.first(where: { $0.repo == repo && $0.name == ref.name && $0.request == (ref.version ?? "") })
                ?? render.charts.first(where: { $0.repo == repo && $0.name == ref.name }) else {
            throw Diagnostics([.error("the ledger entry did not record chart \(ref.name) from \(repo)",
                                      fix: "this entry cannot be rendered again exactly; choose another entry with --to")])
        }
        var r = ref
        r.version = p.version
        if !p.digest.isEmpty { r.digest = p.digest }
        return r
    }
}
