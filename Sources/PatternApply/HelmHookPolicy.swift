import PatternCore
import PatternDiff
import PatternCore
import PatternRecord
import KubeClient

/// `helm.sh/hook-delete-policy` acted on during apply, for objects annotated `helm.sh/hook`
/// (chart hooks; the compiler already ordered them into levels before/after the chart):
///
/// - `before-hook-creation` (also Helm's default when no policy is given): a hook that exists
///   is deleted, and its removal awaited, before it is created again, so a hook Job runs anew on
///   every apply that changes the site (an immutable Job template never blocks the apply);
/// - `hook-succeeded`: deleted once its level's readiness wait saw it ready (a Job complete);
/// - `hook-failed`: deleted when it failed (create error or not ready).
///
/// Hooks are not release objects in Helm: one that a later render no longer has (an
/// install-only hook at an upgrade) leaves the inventory but is never pruned. A hook that a
/// policy deleted does not by itself make an apply a change (no-op applies stay no-ops and run
/// no hooks). Deletion after success needs readiness waits (`--no-wait` keeps hooks).
enum HelmHookPolicy {
    static let hookAnnotation = "helm.sh/hook"
    static let policyAnnotation = "helm.sh/hook-delete-policy"

    enum Policy: String { case beforeHookCreation = "before-hook-creation", hookSucceeded = "hook-succeeded", hookFailed = "hook-failed" }

    /// The delete policies of `object`, or nil when it is not a hook. No policy means
    /// `before-hook-creation`, as in Helm 3.
    static func policies(_ object: Value) -> Set<Policy>? {
        let annotations = object.annotations
        guard annotations[hookAnnotation] != nil else { return nil }
        guard let text = annotations[policyAnnotation]?.string else { return [.beforeHookCreation] }
        var out: Set<Policy> = []
        for p in text.split(separator: ",") {
            var t = Substring(p)
            while t.first == " " || t.first == "\t" { t = t.dropFirst() }
            while t.last == " " || t.last == "\t" { t = t.dropLast() }
            if let policy = Policy(rawValue: String(t)) { out.insert(policy) }
        }
        return out.isEmpty ? [.beforeHookCreation] : out
    }

    /// True for a hook the cluster lacks because a policy deletes it after it ran: its absence
    /// is expected and does not make an apply a change.
    static func absentByPolicy(_ key: ObjectKey, object: Value, live: Value?) -> Bool {
        guard live == nil, let p = policies(object) else { return false }
        return p.contains(.hookSucceeded) || p.contains(.hookFailed)
    }

    /// Hook objects of the inventory's prune candidates leave the inventory instead of being
    /// deleted (Helm never deletes hook resources except by their delete policy).
    static func sparePrunedHooks(_ decision: inout PrunePolicy.Decision, live: [ObjectKey: Value]) {
        var kept: [ObjectKey] = []
        for k in decision.delete {
            if let obj = live[k], obj.annotations[hookAnnotation] != nil {
                decision.release[k] = "Helm hook: left in the cluster (hooks are removed only by their helm.sh/hook-delete-policy)"
            } else {
                kept.append(k)
            }
        }
        decision.delete = kept
    }
}

extension ApplyEngine {
    /// Before a level is written: deletes its existing `before-hook-creation` hooks and waits
    /// until they are gone, so the level creates them anew.
    func deleteHooksBeforeCreation(_ members: [RenderedObject], run: inout Run, level: Int) async {
        if run.options.dryRun { return }
        for o in members {
            guard let p = HelmHookPolicy.policies(o.object), p.contains(.beforeHookCreation),
                  let live = run.observation.live[o.key], run.modes[o.key] != .ignore else { continue }
            do {
                try await deleteAndAwait(o.key, live: live, run: run)
            } catch {
                run.outcomes.append(ObjectOutcome(key: o.key, status: .failed, message: "cannot delete the previous hook (before-hook-creation): \(error)", level: level))
                run.stopped = true
                continue
            }
            run.observation.live[o.key] = nil
            run.diffByKey[o.key] = ObjectDiffer.diff(desired: ApplyEngine.comparable(run.identity.prepare(o), live: nil),
                                                     live: nil, manager: run.options.fieldManager)
        }
    }

    /// After a level's readiness wait: deletes hooks whose policy asks for it (`hook-succeeded`
    /// when ready, `hook-failed` when failed). `failed` are the level's failed keys.
    func deleteHooksAfterRun(_ members: [RenderedObject], failed: Set<ObjectKey>, run: inout Run) async {
        if run.options.dryRun { return }
        for o in members {
            guard let p = HelmHookPolicy.policies(o.object), run.modes[o.key] != .ignore else { continue }
            let didFail = failed.contains(o.key)
            guard (didFail && p.contains(.hookFailed)) || (!didFail && p.contains(.hookSucceeded)) else { continue }
            guard let gvk = run.site.objects.first(where: { $0.key == o.key })?.object.gvk else { continue }
            do {
                run.requests.write()
                try await client.delete(gvk, name: o.key.name, namespace: o.key.namespace.isEmpty ? nil : o.key.namespace, propagationPolicy: .background)
            } catch {
                if !error.isNotFound, let i = run.outcomes.lastIndex(where: { $0.key == o.key }) {
                    let note = "could not delete the hook (\(didFail ? "hook-failed" : "hook-succeeded")): \(error)"
                    run.outcomes[i].message = run.outcomes[i].message.map { $0 + "; " + note } ?? note
                }
            }
        }
    }

    /// Deletes `key` (background propagation, guarded by its uid) and polls until the server no
    /// longer has it (bounded by the wait timeout).
    func deleteAndAwait(_ key: ObjectKey, live: Value, run: Run) async throws(KubeError) {
        guard let gvk = live.gvk else { return }
        let ns = key.namespace.isEmpty ? nil : key.namespace
        do {
            run.requests.write()
            try await client.delete(gvk, name: key.name, namespace: ns, propagationPolicy: .background,
                                    preconditionUID: live[path: ["metadata", "uid"]]?.string)
        } catch {
            if error.isNotFound { return }
            throw error
        }
        let deadline = ContinuousClock.now + .seconds(run.options.waitTimeoutSeconds)
        var pause = Duration.milliseconds(20)
        while ContinuousClock.now < deadline {
            run.requests.get()
            if try await client.getIfPresent(gvk, name: key.name, namespace: ns) == nil { return }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(500))
        }
        throw KubeError.timeout("\(key) was still being deleted after \(Int(run.options.waitTimeoutSeconds)) s")
    }
}
