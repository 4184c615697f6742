/// Branch and tag names as `git check-ref-format --branch` accepts them, checked before any
/// libgit2 call sees the name.
public enum RefName {
    /// Why `name` is not a usable branch name, or nil when it is.
    ///
    /// Rules (git-check-ref-format(1)): not empty, not `HEAD`, not starting with `-` or `/`;
    /// no `..`, `//`, `@{`, control characters, space, `~ ^ : ? * [ \`; no component starting
    /// with `.` or ending with `.lock`; not ending with `/` or `.`; not the single character `@`.
    public static func branchProblem(_ name: String) -> String? {
        if name.isEmpty { return "the branch name is empty" }
        if name == "HEAD" { return "'HEAD' names the checked-out commit, not a branch" }
        if name == "@" { return "'@' is not a valid branch name" }
        if name.hasPrefix("-") { return "a branch name cannot start with '-'" }
        if name.hasPrefix("/") || name.hasSuffix("/") { return "a branch name cannot start or end with '/'" }
        if name.hasSuffix(".") { return "a branch name cannot end with '.'" }
        if name.contains("..") { return "a branch name cannot contain '..'" }
        if name.contains("//") { return "a branch name cannot contain '//'" }
        if name.contains("@{") { return "a branch name cannot contain '@{'" }
        if name.utf8.count > 255 { return "the branch name is longer than 255 bytes" }
        for b in name.utf8 {
            if b < 0x20 || b == 0x7f { return "a branch name cannot contain control characters" }
            switch b {
            case UInt8(ascii: " "): return "a branch name cannot contain spaces"
            case UInt8(ascii: "~"), UInt8(ascii: "^"), UInt8(ascii: ":"), UInt8(ascii: "?"), UInt8(ascii: "*"),
                 UInt8(ascii: "["), UInt8(ascii: "\\"):
                return "a branch name cannot contain '\(Character(Unicode.Scalar(b)))'"
            default: break
            }
        }
        for c in name.split(separator: "/") {
            if c.hasPrefix(".") { return "a branch name component cannot start with '.'" }
            if c.hasSuffix(".lock") { return "a branch name component cannot end with '.lock'" }
        }
        return nil
    }

    /// Throws `SourceError(.invalidSource)` with a fix when `name` is not a valid branch name.
    public static func checkBranch(_ name: String) throws(SourceError) {
        if let p = branchProblem(name) {
            throw SourceError(.invalidSource, "invalid branch name '\(name)': \(p)",
                              fix: "use a name like 'rendered' or 'env/prod' (see git check-ref-format)")
        }
    }
}
