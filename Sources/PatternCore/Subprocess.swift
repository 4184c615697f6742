#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Child processes through `posix_spawn`, not Foundation's `Process`.
///
/// swift-corelibs-foundation's `Process.run()` (Swift 6.3) finds the descriptors to close in
/// the child by reading `/proc/self/fd`, copying each entry's whole 256-byte `d_name`; an entry
/// at the end of `readdir`'s buffer is read past its end. In a process with many descriptors
/// open — a hub talking to hundreds of clusters, a test run with many loopback servers — that
/// read crosses into an unmapped page now and then and the process dies with SIGSEGV
/// (swiftlang/swift-corelibs-foundation#5472). Here the child closes every descriptor above
/// standard error itself (`posix_spawn_file_actions_addclosefrom_np`), nothing is read from
/// `/proc`, and the child starts with an empty signal mask and default SIGPIPE handling.
public enum Subprocess {
    /// What a finished child left.
    public struct Output: Sendable {
        /// The exit code; 128 + the signal number when a signal ended the child (as shells say).
        public var status: Int32
        public var stdout: [UInt8]
        public var stderr: [UInt8]
        public var succeeded: Bool { status == 0 }
        /// Standard output as text, without a trailing newline.
        public var stdoutText: String { Subprocess.text(stdout) }
        /// Standard error as text, without a trailing newline.
        public var stderrText: String { Subprocess.text(stderr) }
    }

    /// A child that could not be started (the message names the program and the reason).
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// Where a spawned child's output goes.
    public enum Sink: Sendable {
        /// Discarded (`/dev/null`).
        case discard
        /// Appended to the file at this path (created when missing).
        case file(String)
    }

    /// Runs `executable` (a path, or a name looked up in `PATH`) to completion and collects
    /// its output. `environment` nil inherits this process's; `input` is written to its
    /// standard input (nil: `/dev/null`). Each output stream keeps at most `maxOutputBytes`
    /// (the rest is read and dropped, so the child never blocks on a full pipe).
    public static func run(_ executable: String, _ arguments: [String] = [], environment: [String: String]? = nil,
                           directory: String? = nil, input: [UInt8]? = nil,
                           maxOutputBytes: Int = 64 << 20) throws(Failure) -> Output {
        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1], inPipe: [Int32] = [-1, -1]
        guard makePipe(&outPipe) == 0 else { throw Failure("cannot run \(executable): pipe: \(errorText())") }
        guard makePipe(&errPipe) == 0 else {
            closeAll(outPipe); throw Failure("cannot run \(executable): pipe: \(errorText())")
        }
        if input != nil, makePipe(&inPipe) != 0 {
            closeAll(outPipe + errPipe); throw Failure("cannot run \(executable): pipe: \(errorText())")
        }
        let pid: pid_t
        do {
            pid = try start(executable, arguments, environment: environment, directory: directory,
                            stdin: input != nil ? .descriptor(inPipe[0]) : .devNull,
                            stdout: .descriptor(outPipe[1]), stderr: .descriptor(errPipe[1]))
        } catch {
            closeAll(outPipe + errPipe + inPipe)
            throw error
        }
        close(outPipe[1]); close(errPipe[1])
        if input != nil { close(inPipe[0]) }

        var out: [UInt8] = [], err: [UInt8] = []
        var pending = input ?? []
        var written = 0
        var inFD = input != nil ? inPipe[1] : -1
        if inFD >= 0 {
            _ = fcntl(inFD, F_SETFL, fcntl(inFD, F_GETFL) | O_NONBLOCK)
            if pending.isEmpty { close(inFD); inFD = -1 }
        }
        var outFD = outPipe[0], errFD = errPipe[0]
        var chunk = [UInt8](repeating: 0, count: 65536)
        while outFD >= 0 || errFD >= 0 || inFD >= 0 {
            var fds: [pollfd] = []
            if outFD >= 0 { fds.append(pollfd(fd: outFD, events: Int16(POLLIN), revents: 0)) }
            if errFD >= 0 { fds.append(pollfd(fd: errFD, events: Int16(POLLIN), revents: 0)) }
            if inFD >= 0 { fds.append(pollfd(fd: inFD, events: Int16(POLLOUT), revents: 0)) }
            let r = poll(&fds, nfds_t(fds.count), -1)
            if r < 0 { if errno == EINTR { continue }; break }
            for p in fds where p.revents != 0 {
                if p.fd == inFD {
                    let n = pending.withUnsafeBytes { write(inFD, $0.baseAddress! + written, $0.count - written) }
                    if n > 0 { written += n }
                    if n < 0 && (errno == EAGAIN || errno == EINTR) { continue }
                    if n < 0 || written == pending.count { close(inFD); inFD = -1; pending = [] }
                    continue
                }
                let n = chunk.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    close(p.fd)
                    if p.fd == outFD { outFD = -1 } else { errFD = -1 }
                    continue
                }
                if p.fd == outFD {
                    if out.count < maxOutputBytes { out.append(contentsOf: chunk[0..<min(n, maxOutputBytes - out.count)]) }
                } else if err.count < maxOutputBytes {
                    err.append(contentsOf: chunk[0..<min(n, maxOutputBytes - err.count)])
                }
            }
        }
        for fd in [outFD, errFD, inFD] where fd >= 0 { close(fd) }
        return Output(status: wait(pid), stdout: out, stderr: err)
    }

    /// A child left running: its process id, an optional pipe to its standard input, and
    /// ways to signal and reap it. Reap it (`wait`, or `kill` then `wait`) before dropping it.
    public final class Child: @unchecked Sendable {
        public let pid: pid_t
        private let lock = Lock()
        private var inputFD: Int32
        private var exitStatus: Int32?

        init(pid: pid_t, inputFD: Int32) {
            self.pid = pid
            self.inputFD = inputFD
        }

        deinit { if inputFD >= 0 { close(inputFD) } }

        /// Writes to the child's standard input (only when spawned with `input: true`).
        @discardableResult
        public func write(_ bytes: [UInt8]) -> Bool {
            lock.withLock {
                guard inputFD >= 0 else { return false }
                var off = 0
                while off < bytes.count {
                    let n = bytes.withUnsafeBytes { Glibc.write(inputFD, $0.baseAddress! + off, $0.count - off) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { return false }
                    off += n
                }
                return true
            }
        }

        /// Closes the child's standard input (it reads end of file).
        public func closeInput() {
            lock.withLock { if inputFD >= 0 { close(inputFD); inputFD = -1 } }
        }

        /// Sends `signal` unless the child was reaped already (its pid may be another's now).
        public func kill(_ signal: Int32 = SIGKILL) {
            lock.withLock { if exitStatus == nil { _ = Glibc.kill(pid, signal) } }
        }

        /// True until the child has exited (reaps it when it has).
        public var isRunning: Bool {
            lock.withLock {
                if exitStatus != nil { return false }
                var status: Int32 = 0
                let r = waitpid(pid, &status, WNOHANG)
                if r == pid { exitStatus = Subprocess.decode(status); return false }
                return r == 0
            }
        }

        /// Waits for the child to exit; its status as `Output.status` counts it.
        @discardableResult
        public func wait() -> Int32 {
            if let s = lock.withLock({ exitStatus }) { return s }
            let s = Subprocess.wait(pid)
            lock.withLock { if exitStatus == nil { exitStatus = s } }
            return lock.withLock { exitStatus ?? s }
        }
    }

    /// Starts `executable` and returns at once. Output goes to `stdout`/`stderr`; with
    /// `input`, `Child.write` feeds its standard input (otherwise it reads `/dev/null`).
    public static func spawn(_ executable: String, _ arguments: [String] = [], environment: [String: String]? = nil,
                             directory: String? = nil, stdout: Sink = .discard, stderr: Sink = .discard,
                             input: Bool = false) throws(Failure) -> Child {
        var inPipe: [Int32] = [-1, -1]
        if input, makePipe(&inPipe) != 0 { throw Failure("cannot run \(executable): pipe: \(errorText())") }
        do {
            let pid = try start(executable, arguments, environment: environment, directory: directory,
                                stdin: input ? .descriptor(inPipe[0]) : .devNull,
                                stdout: stdout.stream, stderr: stderr.stream)
            if input { close(inPipe[0]) }
            return Child(pid: pid, inputFD: input ? inPipe[1] : -1)
        } catch {
            closeAll(inPipe)
            throw error
        }
    }

    // MARK: Internals

    enum Stream {
        case devNull
        case descriptor(Int32)
        case appendFile(String)
    }

    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    /// glibc ≥ 2.34 and ≥ 2.29 have these; Swift's Glibc module does not export them.
    private static let addCloseFrom: AddCloseFrom? = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: AddCloseFrom.self) }
    private static let addChdir: AddChdir? = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addchdir_np")
        .map { unsafeBitCast($0, to: AddChdir.self) }

    static func start(_ executable: String, _ arguments: [String], environment: [String: String]?, directory: String?,
                      stdin: Stream, stdout: Stream, stderr: Stream) throws(Failure) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (fd, s) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
            switch s {
            case .devNull: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
            case .descriptor(let d): posix_spawn_file_actions_adddup2(&actions, d, fd)
            case .appendFile(let path): posix_spawn_file_actions_addopen(&actions, fd, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            }
        }
        if let directory {
            guard let addChdir else { throw Failure("cannot run \(executable) in \(directory): this C library cannot change directory in posix_spawn (glibc 2.29 or later needed)") }
            _ = addChdir(&actions, directory)
        }
        guard let addCloseFrom else { throw Failure("cannot run \(executable): this C library has no posix_spawn_file_actions_addclosefrom_np (glibc 2.34 or later needed)") }
        _ = addCloseFrom(&actions, 3)

        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGPIPE, SIGTERM, SIGINT, SIGHUP] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var envp: [UnsafeMutablePointer<CChar>?]? = nil
        if let environment {
            envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        }
        defer { for e in envp ?? [] { free(e) } }
        var pid: pid_t = 0
        // ETXTBSY: the executable is open for writing somewhere, which includes a child another
        // thread is just starting while it held a descriptor of the file (just written, the
        // descriptor not yet closed). Such a hold is brief: try again a few times (~0.3 s).
        var rc: Int32 = ETXTBSY
        for delay in [0, 5_000, 10_000, 20_000, 40_000, 80_000, 160_000] as [UInt32] where rc == ETXTBSY {
            if delay > 0 { usleep(delay) }
            rc = spawn(executable, argv, envp, &actions, &attr, &pid)
        }
        guard rc == 0 else { throw Failure("cannot run \(executable): \(String(cString: strerror(rc)))") }
        return pid
    }

    private static func spawn(_ executable: String, _ argv: [UnsafeMutablePointer<CChar>?], _ envp: [UnsafeMutablePointer<CChar>?]?,
                              _ actions: inout posix_spawn_file_actions_t, _ attr: inout posix_spawnattr_t,
                              _ pid: inout pid_t) -> Int32 {
        func run(_ a: UnsafePointer<UnsafeMutablePointer<CChar>?>, _ env: UnsafePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
            executable.contains("/")
                ? posix_spawn(&pid, executable, &actions, &attr, a, env)
                : posix_spawnp(&pid, executable, &actions, &attr, a, env)
        }
        return argv.withUnsafeBufferPointer { a in
            if let envp { return envp.withUnsafeBufferPointer { run(a.baseAddress!, $0.baseAddress!) } }
            return run(a.baseAddress!, UnsafePointer(environ))
        }
    }

    static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            if errno != EINTR { return -1 }
        }
        return decode(status)
    }

    static func decode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    static func text(_ bytes: [UInt8]) -> String {
        var b = bytes[...]
        while let last = b.last, last == 10 || last == 13 { b = b.dropLast() }
        return String(decoding: b, as: UTF8.self)
    }

    /// A pipe whose ends are closed on exec (the child gets them only through dup2).
    private static func makePipe(_ fds: inout [Int32]) -> Int32 {
        guard pipe(&fds) == 0 else { return -1 }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return 0
    }

    private static func closeAll(_ fds: [Int32]) { for fd in fds where fd >= 0 { close(fd) } }

    private static func errorText() -> String { String(cString: strerror(errno)) }
}

extension Subprocess.Sink {
    var stream: Subprocess.Stream {
        switch self {
        case .discard: return .devNull
        case .file(let path): return .appendFile(path)
        }
    }
}
