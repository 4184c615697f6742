import Synchronization

/// A lock for code that guards state kept outside it (libgit2 process-wide options, a shared
/// repository handle). It is the standard library's `Mutex` (Synchronization), nothing
/// hand-rolled; new code keeps its state inside a `Mutex<State>` instead.
public final class Lock: Sendable {
    private let mutex = Mutex(())
    public init() {}
    /// Runs `body` while holding the lock.
    public func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        try mutex.withLock { (_: inout ()) throws(E) -> sending T in
            nonisolated(unsafe) let result = try body()
            return result
        }
    }
}
