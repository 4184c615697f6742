import PatternCore

extension LedgerEntry {
    /// Everything needed to render an entry again exactly, offline, from the source cache and
    /// the overlay checkout's git history (`pattern rollback`, `pattern history --diff`).
    /// Entries written before these fields existed have no `render` (they load and show, and
    /// cannot be re-rendered). Every list and string is bounded so twenty entries stay far
    /// below the ConfigMap size limit; a render that does not fit is marked incomplete.
    public struct Render: Sendable, Hashable {
        /// A git source the render resolved (the site's pattern first, then Application sources).
        public struct GitPin: Sendable, Hashable {
            public var url: String
            public var ref: String
            public var path: String
            public var commit: String
            public init(url: String, ref: String = "", path: String = "", commit: String) {
                self.url = url; self.ref = ref; self.path = path; self.commit = commit
            }
        }

        /// A chart archive the render read from a chart repository, as resolved.
        public struct ChartPin: Sendable, Hashable {
            public var repo: String
            public var name: String
            public var version: String
            /// `sha256:<hex>` of the archive.
            public var digest: String
            /// The version as the reference asked for it (a constraint or empty).
            public var request: String
            public init(repo: String, name: String, version: String, digest: String, request: String = "") {
                self.repo = repo; self.name = name; self.version = version; self.digest = digest; self.request = request
            }
        }

        /// The overlay checkout (`-C`) the site was read from.
        public struct Overlay: Sendable, Hashable {
            /// Commit of the checkout's HEAD (empty when it is not a git checkout).
            public var commit: String
            /// True when the checkout had uncommitted changes under the repository directory:
            /// the entry cannot be rendered again exactly from the commit.
            public var dirty: Bool
            /// The repository directory inside the git work tree ("" = its root).
            public var path: String
            public init(commit: String, dirty: Bool = false, path: String = "") {
                self.commit = commit; self.dirty = dirty; self.path = path
            }
        }

        public var sources: [GitPin]
        public var charts: [ChartPin]
        public var overlay: Overlay?
        /// Chart components rendered as upgrades (`.Release.IsUpgrade`), sorted.
        public var upgraded: [String]
        /// Every chart component rendered as an upgrade (`--is-upgrade`).
        public var upgradeAll: Bool
        /// `.Release.Revision` of the upgrades.
        public var releaseRevision: Int
        /// `--expand-applications` when the command overrode the site's `spec.applications`.
        public var expandApplications: Bool?
        /// Content id (`sha256:…`) of the recorded Helm cluster reads (`lookup`, discovered
        /// `.Capabilities`) the render used, when it used any.
        public var helmReads: String?
        /// A Validated Patterns PatternSync's `validatedPatterns.multiSourceConfig` (its
        /// Pattern's choice of clustergroup chart) that a controller render used, so that render
        /// can be repeated (`pattern rollback`, a PatternRollout's revert); nil when none.
        public var multiSourceConfig: Value?
        /// False when some source or chart did not fit the bounds (then no exact re-render).
        public var complete: Bool

        public static let maxSources = 32
        public static let maxCharts = 64
        public static let maxUpgraded = 64
        public static let maxStringBytes = 512
        /// Largest encoded record (compact JSON).
        public static let maxBytes = 16 * 1024

        public init(sources: [GitPin] = [], charts: [ChartPin] = [], overlay: Overlay? = nil, upgraded: [String] = [],
                    upgradeAll: Bool = false, releaseRevision: Int = 2, expandApplications: Bool? = nil,
                    helmReads: String? = nil, multiSourceConfig: Value? = nil, complete: Bool = true) {
            self.sources = sources; self.charts = charts; self.overlay = overlay; self.upgraded = upgraded
            self.upgradeAll = upgradeAll; self.releaseRevision = releaseRevision
            self.expandApplications = expandApplications; self.helmReads = helmReads; self.complete = complete
            self.multiSourceConfig = multiSourceConfig
        }

        /// `self` within the bounds: lists cut to their maximum and over-long strings make the
        /// render incomplete (a cut URL or commit could never be resolved again).
        public var bounded: Render {
            var r = self
            if r.sources.count > Render.maxSources { r.sources = Array(r.sources.prefix(Render.maxSources)); r.complete = false }
            if r.charts.count > Render.maxCharts { r.charts = Array(r.charts.prefix(Render.maxCharts)); r.complete = false }
            if r.upgraded.count > Render.maxUpgraded { r.upgraded = Array(r.upgraded.prefix(Render.maxUpgraded)); r.complete = false }
            func fits(_ s: String) -> Bool { s.utf8.count <= Render.maxStringBytes }
            let before = r.sources.count + r.charts.count + r.upgraded.count
            r.sources = r.sources.filter { fits($0.url) && fits($0.ref) && fits($0.path) && fits($0.commit) }
            r.charts = r.charts.filter { fits($0.repo) && fits($0.name) && fits($0.version) && fits($0.digest) && fits($0.request) }
            r.upgraded = r.upgraded.filter(fits)
            if r.sources.count + r.charts.count + r.upgraded.count != before { r.complete = false }
            if let o = r.overlay, !fits(o.path) || !fits(o.commit) { r.overlay = nil; r.complete = false }
            if let h = r.helmReads, !fits(h) { r.helmReads = nil; r.complete = false }
            if let m = r.multiSourceConfig, m.object == nil || JSONWriter.bytes(m).count > Render.maxStringBytes * 4 {
                r.multiSourceConfig = nil; r.complete = false
            }
            // A byte budget for the whole record: twenty entries stay far below 1 MiB.
            while JSONWriter.bytes(r.value).count > Render.maxBytes, !(r.charts.isEmpty && r.sources.isEmpty && r.upgraded.isEmpty) {
                if !r.charts.isEmpty { r.charts.removeLast() } else if !r.upgraded.isEmpty { r.upgraded.removeLast() } else { r.sources.removeLast() }
                r.complete = false
            }
            return r
        }

        /// Stable JSON shape (see Docs/diff-apply.md).
        public var value: Value {
            var o: Object = [
                "sources": .array(sources.map { ["url": .string($0.url), "ref": .string($0.ref), "path": .string($0.path), "commit": .string($0.commit)] }),
                "charts": .array(charts.map { ["repo": .string($0.repo), "name": .string($0.name), "version": .string($0.version), "digest": .string($0.digest),
                                           "request": .string($0.request)] }),
                "upgraded": .array(upgraded.map { .string($0) }),
                "upgradeAll": .bool(upgradeAll),
                "releaseRevision": .int(releaseRevision),
                "complete": .bool(complete),
            ]
            if let ov = overlay { o["overlay"] = ["commit": .string(ov.commit), "dirty": .bool(ov.dirty), "path": .string(ov.path)] }
            if let e = expandApplications { o["expandApplications"] = .bool(e) }
            if let h = helmReads { o["helmReads"] = .string(h) }
            if let m = multiSourceConfig { o["multiSourceConfig"] = m }
            return .object(o)
        }

        /// Reads the `render` field; unknown keys are ignored (newer writers), missing ones default.
        public init(value v: Value) {
            var sources: [GitPin] = []
            for s in v["sources"]?.array ?? [] {
                guard let url = s["url"]?.string, let commit = s["commit"]?.string else { continue }
                sources.append(GitPin(url: url, ref: s["ref"]?.string ?? "", path: s["path"]?.string ?? "", commit: commit))
            }
            var charts: [ChartPin] = []
            for c in v["charts"]?.array ?? [] {
                guard let repo = c["repo"]?.string, let name = c["name"]?.string, let version = c["version"]?.string else { continue }
                charts.append(ChartPin(repo: repo, name: name, version: version, digest: c["digest"]?.string ?? "",
                                       request: c["request"]?.string ?? ""))
            }
            var overlay: Overlay? = nil
            if let ov = v["overlay"], let commit = ov["commit"]?.string {
                overlay = Overlay(commit: commit, dirty: ov["dirty"]?.bool ?? false, path: ov["path"]?.string ?? "")
            }
            var upgraded: [String] = []
            for u in v["upgraded"]?.array ?? [] { if let s = u.string { upgraded.append(s) } }
            self.init(sources: sources, charts: charts, overlay: overlay, upgraded: upgraded,
                      upgradeAll: v["upgradeAll"]?.bool ?? false, releaseRevision: v["releaseRevision"]?.int ?? 2,
                      expandApplications: v["expandApplications"]?.bool, helmReads: v["helmReads"]?.string,
                      multiSourceConfig: v["multiSourceConfig"].flatMap { $0.object == nil ? nil : $0 },
                      complete: v["complete"]?.bool ?? true)
        }

        /// Why this render cannot be repeated exactly, nil when it can.
        public var notReproducible: String? {
            if !complete { return "the entry's sources did not fit the ledger's bounds" }
            guard let o = overlay else { return "the overlay checkout was not a git repository when it was applied" }
            if o.commit.isEmpty { return "the overlay checkout had no commit when it was applied" }
            if o.dirty { return "the overlay checkout had uncommitted changes when it was applied (commit \(o.commit.prefix(12)) is not what was rendered)" }
            return nil
        }
    }
}
