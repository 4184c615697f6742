/// Label and annotation keys pattern puts on objects: one definition for the compiler (which
/// writes them), the recorder (which selects by them) and the apply engine.
public enum LabelKeys {
    public static let managedBy = "app.kubernetes.io/managed-by"
    public static let managedByValue = "pattern"
    public static let pattern = "pattern.dev/pattern"
    public static let site = "pattern.dev/site"
    public static let component = "pattern.dev/component"
    /// `<pattern>.<site>` as a label value: what Observe and prune select on.
    public static let owner = "pattern.dev/owner"
    public static let revision = "pattern.dev/rendered-revision"
    public static let source = "pattern.dev/source"
    public static let sourceCommit = "pattern.dev/source-commit"
    /// Hash of the configuration pattern applied (the object minus this annotation and the
    /// rendered revision). When live carries the hash of the desired configuration, the fields
    /// pattern applied last time are exactly the desired ones, so nothing can have been dropped.
    public static let appliedHash = "pattern.dev/applied-hash"
}
