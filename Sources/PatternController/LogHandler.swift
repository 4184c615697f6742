import Logging
import PatternCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How the controller writes its logs (`--log-format`).
public enum LogFormat: String, Sendable, CaseIterable {
    /// One line per record: `time level message key=value …` (logfmt-style values, quoted when needed).
    case text
    /// One JSON object per line: `time`, `level`, `logger`, `msg`, then the metadata keys.
    case json
}

/// A swift-log `LogHandler` writing one line per record to a file descriptor (stderr by
/// default) in `LogFormat`. Metadata keys are written sorted, so lines are stable to grep.
public struct ControllerLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public let label: String
    public let format: LogFormat
    let sink: LogSink

    public init(label: String, format: LogFormat, level: Logger.Level = .info, sink: LogSink = .standardError) {
        self.label = label; self.format = format; self.logLevel = level; self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let explicit = event.metadata { all.merge(explicit) { _, new in new } }
        if let error = event.error, all["error"] == nil { all["error"] = "\(error)" }
        sink.write(ControllerLogHandler.render(format: format, time: Timestamp.micro(), level: event.level, label: label,
                                               message: event.message.description, metadata: all))
    }

    /// One formatted line (with its newline).
    public static func render(format: LogFormat, time: String, level: Logger.Level, label: String, message: String,
                              metadata: Logger.Metadata) -> String {
        let keys = metadata.keys.sorted()
        switch format {
        case .json:
            var o = Value.emptyObject
            o["time"] = .string(time)
            o["level"] = .string(level.rawValue)
            o["logger"] = .string(label)
            o["msg"] = .string(message)
            for k in keys where o[k] == nil { o[k] = value(metadata[k]!) }
            return JSONWriter.string(o) + "\n"
        case .text:
            var line = "\(time) \(level.rawValue) \(quoted(message))"
            for k in keys { line += " \(k)=\(quoted(flat(metadata[k]!)))" }
            return line + "\n"
        }
    }

    static func value(_ m: Logger.Metadata.Value) -> Value {
        switch m {
        case .string(let s): return .string(s)
        case .stringConvertible(let c): return .string(c.description)
        case .array(let a): return .array(a.map(value))
        case .dictionary(let d):
            var o = Value.emptyObject
            for k in d.keys.sorted() { o[k] = value(d[k]!) }
            return o
        }
    }

    static func flat(_ m: Logger.Metadata.Value) -> String {
        switch m {
        case .string(let s): return s
        case .stringConvertible(let c): return c.description
        default: return JSONWriter.string(value(m))
        }
    }

    /// The value as is when it is one plain word, else in double quotes with `"`, `\` and
    /// control characters escaped (the message of an error never breaks the line).
    static func quoted(_ s: String) -> String {
        let plain = !s.isEmpty && s.unicodeScalars.allSatisfy { $0.value > 0x20 && $0 != "\"" && $0 != "=" && $0 != "\\" && $0.value != 0x7f }
        if plain { return s }
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if c.value < 0x20 || c.value == 0x7f { out += "\\u{\(String(c.value, radix: 16))}" } else { out.unicodeScalars.append(c) }
            }
        }
        return out + "\""
    }
}

/// Where log lines go: a file descriptor, one whole line per `write` under a lock, or (tests)
/// a buffer in memory.
public final class LogSink: Sendable {
    private let fd: Int32
    private let buffer = Mutex<[String]?>(nil)
    private let lock = Mutex(())

    init(fd: Int32, capture: Bool) {
        self.fd = fd
        if capture { buffer.withLock { $0 = [] } }
    }

    /// Standard error.
    public static let standardError = LogSink(fd: 2, capture: false)
    /// Keeps the lines in memory (`lines`), for tests.
    public static func memory() -> LogSink { LogSink(fd: -1, capture: true) }

    /// The lines written so far (memory sinks only).
    public var lines: [String] { buffer.withLock { $0 ?? [] } }

    func write(_ line: String) {
        if buffer.withLock({ b -> Bool in
            guard b != nil else { return false }
            if b!.count >= 10_000 { b!.removeFirst(b!.count / 2) }
            b!.append(line)
            return true
        }) { return }
        let bytes = Array(line.utf8)
        lock.withLock { _ in
            var off = 0
            while off < bytes.count {
                let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, bytes.count - off) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                off += n
            }
        }
    }
}
