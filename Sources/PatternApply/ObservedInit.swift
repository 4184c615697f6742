import PatternCore
import PatternRecord
import PatternDiff

extension ApplyEngine.Observed {
    /// What one observe read, to hand to `apply(_:options:observed:)` so it does not read the
    /// cluster again (the CLI's preview diff, the controller's drift check).
    public init(observation: Observation, inventory: Inventory?, revision: String) {
        self.revision = revision; self.inventory = inventory; self.observation = observation
    }

    /// What `ApplyEngine.diff` returned for `revision`, diffed for `fieldManager`: apply reuses
    /// the rendered objects' diffs instead of diffing them again.
    public init(diff: (diffs: [ObjectDiff], observation: Observation, inventory: Inventory?), revision: String,
                fieldManager: String = "pattern") {
        self.init(observation: diff.observation, inventory: diff.inventory, revision: revision)
        var byKey: [ObjectKey: ObjectDiff] = [:]
        byKey.reserveCapacity(diff.diffs.count)
        for d in diff.diffs where d.action != .prune { byKey[d.key] = d }
        diffs = byKey
        diffManager = fieldManager
    }
}
