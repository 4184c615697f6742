import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A task executor with threads of its own for work that blocks a thread: libgit2 fetches and
/// checkouts, rendering (file reads, YAML parsing, Kustomize builds). Swift concurrency's
/// cooperative pool has one thread per core; a fetch that waits on the network there stalls
/// every other reconcile, watch and probe. Jobs run in the order they arrive on
/// `threadCount` dedicated threads.
public final class BlockingExecutor: TaskExecutor {
    /// The controller's executor: 16 threads, so fetches stuck on unreachable remotes (each
    /// holds a thread until libgit2 gives up) do not hold up the renders of other PatternSyncs.
    /// Idle threads cost only their stacks.
    public static let shared = BlockingExecutor(threads: 16, name: "pattern-blocking")

    public let threadCount: Int
    /// What the executor is for (diagnostics).
    public let name: String
    private let jobs = Mutex<[UnownedJob]>([])
    private let threads = Mutex<[pthread_t]>([])
    private let available = DispatchSemaphore(value: 0)

    /// Starts `threads` threads (they live as long as the process).
    public init(threads: Int, name: String) {
        threadCount = max(1, threads)
        self.name = name
        for i in 0..<threadCount {
            _ = i
            let context = Unmanaged.passRetained(self)
            var t = pthread_t()
            pthread_create(&t, nil, { arg in
                let executor = Unmanaged<BlockingExecutor>.fromOpaque(arg!).takeRetainedValue()
                executor.work()
                return nil
            }, context.toOpaque())
            pthread_detach(t)
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        jobs.withLock { $0.append(unowned) }
        available.signal()
    }

    private func work() {
        let me = pthread_self()
        threads.withLock { $0.append(me) }
        while true {
            available.wait()
            guard let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }

    /// Runs `body` on one of this executor's threads and returns its result.
    public func run<T: Sendable, E: Error>(_ body: @Sendable () throws(E) -> T) async throws(E) -> T {
        try await withTaskExecutorPreference(self) { () async throws(E) -> T in try body() }
    }

    /// Whether the calling thread is one of this executor's (tests: where code ran).
    public var ownsCurrentThread: Bool {
        let me = pthread_self()
        return threads.withLock { $0.contains { pthread_equal($0, me) != 0 } }
    }
}
