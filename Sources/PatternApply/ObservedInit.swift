import PatternRecord

extension ApplyEngine.Observed {
    /// What one observe read, to hand to `apply(_:options:observed:)` so it does not read the
    /// cluster again (the CLI's preview diff, the controller's drift check).
    public init(observation: Observation, inventory: Inventory?, revision: String) {
        self.revision = revision; self.inventory = inventory; self.observation = observation
    }
}
