import PatternCore
import PatternReport
import PatternSource
import KubeClient

/// The machine documents of the commands around the engine (`-o json|yaml`): like the reports
/// in `MachineReport`, each has `apiVersion: pattern.dev/v1alpha1` and a `kind`, and field names
/// only change with a new version. URLs are the redacted ones the sources already carry.
enum ToolReports {
    static func header(_ kind: String) -> Object {
        var o = Object()
        o.append("apiVersion", .string(MachineReport.apiVersion))
        o.append("kind", .string(kind))
        return o
    }

    static func strings(_ s: [String]) -> Value { .array(s.map { .string($0) }) }

    /// `kind: ClusterCheck`: every step with its result, the server version and identity.
    static func clusterCheck(_ r: ClusterCheckReport) -> Value {
        var o = header("ClusterCheck")
        o.append("ok", .bool(r.ok))
        o.append("serverVersion", r.serverVersion.map { .string($0) } ?? .null)
        o.append("username", r.username.map { .string($0) } ?? .null)
        o.append("groups", strings(r.groups))
        o.append("steps", .array(r.steps.map { ["name": .string($0.name), "ok": .bool($0.ok), "detail": .string($0.detail)] }))
        return .object(o)
    }

    /// `kind: ClusterCheck` for a kubeconfig that cannot be used at all.
    static func clusterCheckConfigFailed(_ message: String) -> Value {
        var o = header("ClusterCheck")
        o.append("ok", false)
        o.append("serverVersion", .null)
        o.append("username", .null)
        o.append("groups", [])
        o.append("steps", [["name": "config", "ok": false, "detail": .string(message)]])
        return .object(o)
    }

    /// `kind: SourceFetch`: the resolved commit and where it came from.
    static func sourceFetch(_ r: ResolvedSource, files: Int?, bytes: Int?) -> Value {
        var o = header("SourceFetch")
        o.append("url", r.url.map { .string($0) } ?? .null)
        o.append("ref", r.ref.map { .string($0) } ?? .null)
        o.append("commit", r.commit.map { .string($0) } ?? .null)
        o.append("source", .string(r.provenance))
        o.append("stale", .bool(r.stale))
        o.append("warnings", strings(r.warnings.map(\.description)))
        if let files, let bytes { o.append("files", .int(files)); o.append("bytes", .int(bytes)) }
        return .object(o)
    }

    /// `kind: Fork`: the new clone, its branch and commit, and the upstream it follows.
    static func fork(_ c: Fork.Created) -> Value {
        var o = header("Fork")
        o.append("directory", .string(c.directory))
        o.append("upstream", .string(c.upstreamURL))
        o.append("upstreamRef", .string(c.upstreamRef))
        o.append("branch", .string(c.branch))
        o.append("commit", .string(c.commit))
        return .object(o)
    }

    /// `kind: Update`: the outcome (upToDate, merged, fastForwarded, conflicted, wouldMerge,
    /// wouldConflict), the commit made, and the files changed on each side and in conflict.
    static func update(_ r: Fork.UpdateResult) -> Value {
        var o = header("Update")
        let (outcome, commit): (String, String?) = switch r.outcome {
        case .upToDate: ("upToDate", nil)
        case .merged(let c): ("merged", c)
        case .fastForwarded(let c): ("fastForwarded", c)
        case .conflicted: ("conflicted", nil)
        case .wouldMerge: ("wouldMerge", nil)
        case .wouldConflict: ("wouldConflict", nil)
        }
        o.append("outcome", .string(outcome))
        o.append("commit", commit.map { .string($0) } ?? .null)
        o.append("upstreamRef", .string(r.upstreamRef))
        o.append("upstreamCommit", .string(r.upstreamCommit))
        o.append("mergeBase", r.mergeBase.map { .string($0) } ?? .null)
        func changes(_ c: [Fork.FileChange]) -> Value { .array(c.map { ["path": .string($0.path), "status": .string($0.status.rawValue)] }) }
        o.append("upstreamChanges", changes(r.upstreamChanges))
        o.append("localChanges", changes(r.localChanges))
        o.append("conflicts", strings(r.conflicts))
        o.append("warnings", strings(r.warnings))
        return .object(o)
    }

    /// `kind: RBAC`: the sites, the subject, kinds whose resource name was guessed, and the
    /// Roles, ClusterRoles and bindings as `items` (the objects `pattern rbac` prints as YAML).
    static func rbac(sites: [String], serviceAccount: String, guessed: [String], items: [Value]) -> Value {
        var o = header("RBAC")
        o.append("sites", strings(sites))
        o.append("serviceAccount", .string(serviceAccount))
        o.append("guessed", strings(guessed))
        o.append("items", .array(items))
        return .object(o)
    }
}
