import CGit2

/// libgit2 kept initialised for a long-running process.
///
/// `Git.withLibrary` pairs `git_libgit2_init` with `git_libgit2_shutdown` around every
/// operation. When nothing else holds the library, each pair is a full global set-up and
/// teardown; with the mbedtls TLS backend the set-up parses the system CA bundle (a few hundred
/// certificates, thousands of allocations). A one-shot CLI command pays that a few times; the
/// controller paid it several times per reconcile of every site (source resolve, checkout
/// inspection, status walk), a measurable share of its CPU at fleet size. A process that
/// resolves sources again and again calls `retainForProcess()` once: libgit2's refcount then
/// never drops to zero, and every later `withLibrary` is a counter step.
public enum GitLibrary {
    private static let retained: Bool = {
        if git_libgit2_init() == 1 { _ = cgit2_install_deadline_stream() }
        return true
    }()

    /// Initialises libgit2 (once) and keeps it initialised until the process exits.
    public static func retainForProcess() { _ = retained }
}
