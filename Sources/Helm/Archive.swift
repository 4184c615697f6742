import CZlib
import PatternCore

/// Bounds for reading chart archives (`.tgz`): hostile archives fail with a typed error
/// instead of exhausting memory.
public struct ArchiveLimits: Sendable, Hashable {
    /// Largest accepted compressed archive, in bytes.
    public var maxCompressedBytes: Int
    /// Largest total of decompressed data (tar headers included), as Helm's 100 MiB default.
    public var maxDecompressedBytes: Int
    /// Largest single file, as Helm's 5 MiB default.
    public var maxFileBytes: Int
    /// Most entries in one archive.
    public var maxEntries: Int
    /// Deepest nesting of `.tgz` subcharts inside `.tgz` charts.
    public var maxNesting: Int

    public init(maxCompressedBytes: Int = 64 << 20, maxDecompressedBytes: Int = 100 << 20, maxFileBytes: Int = 5 << 20,
                maxEntries: Int = 20_000, maxNesting: Int = 16) {
        self.maxCompressedBytes = maxCompressedBytes
        self.maxDecompressedBytes = maxDecompressedBytes
        self.maxFileBytes = maxFileBytes
        self.maxEntries = maxEntries
        self.maxNesting = maxNesting
    }

    public static let `default` = ArchiveLimits()
}

/// One regular file of a chart: its path relative to the chart root (`/`-separated) and bytes.
public struct ChartFile: Sendable, Hashable {
    public var name: String
    public var data: [UInt8]
    public init(name: String, data: [UInt8]) { self.name = name; self.data = data }
}

/// What can be wrong with a chart archive.
public enum ArchiveError: Error, Sendable, Hashable, CustomStringConvertible {
    case notGzip(String)
    case tooLarge(String)
    case corruptTar(String)
    case unsafeEntry(name: String, reason: String)
    case layout(String)

    public var description: String {
        switch self {
        case .notGzip(let m): return "not a gzip-compressed archive: \(m)"
        case .tooLarge(let m): return "archive too large: \(m)"
        case .corruptTar(let m): return "corrupt tar archive: \(m)"
        case .unsafeEntry(let n, let r): return "refusing archive entry '\(n)': \(r)"
        case .layout(let m): return m
        }
    }
}

/// gzip via the `CZlib` shim, bounded.
public enum Gzip {
    /// Decompresses a gzip stream, failing once the output passes `maxBytes`.
    public static func decompress(_ data: [UInt8], maxBytes: Int) throws(ArchiveError) -> [UInt8] {
        final class Sink { var out: [UInt8] = [] }
        let sink = Sink()
        let rc = data.withUnsafeBufferPointer { buf -> Int32 in
            withExtendedLifetime(sink) {
                czlib_gunzip(buf.baseAddress, buf.count, maxBytes, { ctx, bytes, n in
                    let s = Unmanaged<Sink>.fromOpaque(ctx!).takeUnretainedValue()
                    s.out.append(contentsOf: UnsafeBufferPointer(start: bytes, count: n))
                }, Unmanaged.passUnretained(sink).toOpaque())
            }
        }
        switch rc {
        case Int32(CZLIB_OK): return sink.out
        case Int32(CZLIB_TOO_LARGE): throw .tooLarge("decompressed size passes the limit of \(maxBytes) bytes")
        case Int32(CZLIB_TRUNCATED): throw .notGzip("the compressed stream is truncated")
        case Int32(CZLIB_MEMORY): throw .tooLarge("zlib could not allocate memory")
        default: throw .notGzip("invalid gzip header or corrupt data")
        }
    }

    /// Compresses `data` as one gzip member (for writing archives).
    public static func compress(_ data: [UInt8]) -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>? = nil
        var n = 0
        let rc = data.withUnsafeBufferPointer { czlib_gzip($0.baseAddress, $0.count, &out, &n) }
        guard rc == Int32(CZLIB_OK), let out else { return [] }
        defer { czlib_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: n))
    }
}

/// A small bounded tar reader (ustar, GNU long names, PAX `path`/`size` records).
///
/// Accepts regular files and directories only: symlinks, hard links, devices and FIFOs are
/// refused, as are absolute names and names with `..` components.
public enum TarReader {
    /// The regular files of `data`, in archive order, with their full names.
    public static func files(_ data: [UInt8], limits: ArchiveLimits = .default) throws(ArchiveError) -> [ChartFile] {
        var out: [ChartFile] = []
        var pos = 0
        var longName: String? = nil
        var paxPath: String? = nil
        var paxSize: Int? = nil
        var entries = 0
        while pos + 512 <= data.count {
            let h = data[pos..<(pos + 512)]
            if h.allSatisfy({ $0 == 0 }) { return out }  // end-of-archive marker
            entries += 1
            if entries > limits.maxEntries { throw .tooLarge("more than \(limits.maxEntries) entries") }
            guard checksumOK(h) else { throw .corruptTar("bad header checksum at offset \(pos)") }
            let type = h[h.startIndex + 156]
            var size = try parseSize(h, at: 124, length: 12)
            if let s = paxSize { size = s }
            if size < 0 || size > limits.maxDecompressedBytes { throw .tooLarge("entry of \(size) bytes") }
            let bodyStart = pos + 512
            let bodyEnd = bodyStart + size
            guard bodyEnd <= data.count else { throw .corruptTar("entry body passes the end of the archive") }
            let body = data[bodyStart..<bodyEnd]
            pos = bodyStart + ((size + 511) / 512) * 512

            var name = cString(h, 0, 100)
            let magic = cString(h, 257, 6)
            if magic.hasPrefix("ustar") {
                let prefix = cString(h, 345, 155)
                if !prefix.isEmpty { name = prefix + "/" + name }
            }
            switch type {
            case UInt8(ascii: "L"):  // GNU long name for the next entry
                if size > 4096 { throw .corruptTar("long name of \(size) bytes") }
                longName = String(decoding: body.prefix { $0 != 0 }, as: UTF8.self)
                continue
            case UInt8(ascii: "x"):  // PAX extended header for the next entry
                if size > 1 << 20 { throw .corruptTar("PAX header of \(size) bytes") }
                (paxPath, paxSize) = try parsePAX(Array(body))
                continue
            case UInt8(ascii: "g"):  // PAX global header: ignored, as Helm does
                continue
            default: break
            }
            if let l = longName { name = l; longName = nil }
            if let p = paxPath { name = p; paxPath = nil }
            paxSize = nil
            name = name.replacingBackslashes()
            switch type {
            case UInt8(ascii: "5"):
                try checkName(name)
                continue
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
                try checkName(name)
                if size > limits.maxFileBytes {
                    throw .tooLarge("file '\(name)' is \(size) bytes, more than the limit of \(limits.maxFileBytes)")
                }
                out.append(ChartFile(name: name, data: Array(body)))
            case UInt8(ascii: "1"): throw .unsafeEntry(name: name, reason: "hard links are not allowed in charts")
            case UInt8(ascii: "2"): throw .unsafeEntry(name: name, reason: "symbolic links are not allowed in chart archives")
            case UInt8(ascii: "3"), UInt8(ascii: "4"): throw .unsafeEntry(name: name, reason: "device files are not allowed")
            case UInt8(ascii: "6"): throw .unsafeEntry(name: name, reason: "FIFOs are not allowed")
            default: throw .unsafeEntry(name: name, reason: "unsupported entry type '\(Character(Unicode.Scalar(type)))'")
            }
        }
        if pos < data.count || data.isEmpty { throw .corruptTar("archive ends inside a header") }
        return out
    }

    static func checkName(_ name: String) throws(ArchiveError) {
        if name.hasPrefix("/") { throw .unsafeEntry(name: name, reason: "absolute paths are not allowed") }
        let parts = name.split(separator: "/", omittingEmptySubsequences: true)
        if parts.contains(where: { $0 == ".." }) { throw .unsafeEntry(name: name, reason: "'..' leaves the chart directory") }
        if name.utf8.contains(0) { throw .unsafeEntry(name: name, reason: "NUL in name") }
    }

    static func cString(_ h: ArraySlice<UInt8>, _ off: Int, _ len: Int) -> String {
        let s = h.startIndex + off
        let field = h[s..<(s + len)]
        return String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }

    static func parseSize(_ h: ArraySlice<UInt8>, at off: Int, length: Int) throws(ArchiveError) -> Int {
        let s = h.startIndex + off
        let field = h[s..<(s + length)]
        if let f = field.first, f & 0x80 != 0 {  // base-256
            var v = 0
            for (i, b) in field.enumerated() {
                let byte = i == 0 ? Int(b & 0x7f) : Int(b)
                if v > (Int.max >> 9) { throw .tooLarge("entry size overflows") }
                v = v << 8 | byte
            }
            return v
        }
        var v = 0
        var seen = false
        for b in field {
            if b == 0 || b == 32 { if seen { break } else { continue } }
            guard b >= 48 && b <= 55 else { throw .corruptTar("invalid octal size field") }
            seen = true
            if v > (Int.max >> 4) { throw .tooLarge("entry size overflows") }
            v = v * 8 + Int(b - 48)
        }
        return v
    }

    static func checksumOK(_ h: ArraySlice<UInt8>) -> Bool {
        guard let stored = try? parseSize(h, at: 148, length: 8) else { return false }
        var sum = 0
        for (i, b) in h.enumerated() { sum += (i >= 148 && i < 156) ? 32 : Int(b) }
        return sum == stored
    }

    static func parsePAX(_ body: [UInt8]) throws(ArchiveError) -> (String?, Int?) {
        var path: String? = nil, size: Int? = nil
        var i = 0
        while i < body.count {
            // "<len> <key>=<value>\n"
            var j = i
            var len = 0
            while j < body.count, body[j] >= 48, body[j] <= 57 { len = len * 10 + Int(body[j] - 48); j += 1; if len > body.count { break } }
            guard j < body.count, body[j] == 32, len > 0, i + len <= body.count else { throw .corruptTar("malformed PAX record") }
            let record = body[(j + 1)..<(i + len)]
            let text = String(decoding: record.last == 10 ? record.dropLast() : record, as: UTF8.self)
            if let eq = text.firstIndex(of: "=") {
                let key = text[..<eq], value = String(text[text.index(after: eq)...])
                if key == "path" { path = value }
                if key == "size" { guard let s = Int(value) else { throw .corruptTar("bad PAX size") }; size = s }
            }
            i += len
        }
        return (path, size)
    }

    /// Writes a minimal ustar archive of regular files (for tests, fixtures and `pattern`
    /// tooling); names longer than 100 bytes use the ustar prefix field.
    public static func write(_ files: [ChartFile]) -> [UInt8] {
        var out: [UInt8] = []
        for f in files {
            var h = [UInt8](repeating: 0, count: 512)
            var name = Array(f.name.utf8)
            var prefix: [UInt8] = []
            if name.count > 100, let slash = name.prefix(155).lastIndex(of: UInt8(ascii: "/")) {
                prefix = Array(name[..<slash]); name = Array(name[(slash + 1)...])
            }
            func put(_ bytes: [UInt8], _ off: Int, _ len: Int) { for (i, b) in bytes.prefix(len).enumerated() { h[off + i] = b } }
            func octal(_ v: Int, _ len: Int) -> [UInt8] {
                var s = String(v, radix: 8)
                while s.utf8.count < len - 1 { s = "0" + s }
                return Array(s.utf8) + [0]
            }
            put(name, 0, 100)
            put(octal(0o644, 8), 100, 8)
            put(octal(0, 8), 108, 8)
            put(octal(0, 8), 116, 8)
            put(octal(f.data.count, 12), 124, 12)
            put(octal(0, 12), 136, 12)
            h[156] = UInt8(ascii: "0")
            put(Array("ustar\u{0}00".utf8), 257, 8)
            put(prefix, 345, 155)
            for i in 148..<156 { h[i] = 32 }
            let sum = h.reduce(0) { $0 + Int($1) }
            put(octal(sum, 7) + [32], 148, 8)
            out += h
            out += f.data
            let pad = (512 - f.data.count % 512) % 512
            out += [UInt8](repeating: 0, count: pad)
        }
        out += [UInt8](repeating: 0, count: 1024)
        return out
    }
}

extension String {
    func replacingBackslashes() -> String {
        guard contains("\\") else { return self }
        return String(map { $0 == "\\" ? "/" : $0 })
    }
}

/// Reading a chart archive as Helm's `loader.LoadArchiveFiles` does: every file must sit
/// under exactly one top-level directory, which is stripped.
public enum ChartArchive {
    /// The chart's files (names relative to the chart root) and the top-level directory name.
    public static func read(_ data: [UInt8], limits: ArchiveLimits = .default) throws(ArchiveError) -> (top: String, files: [ChartFile]) {
        if data.count > limits.maxCompressedBytes {
            throw .tooLarge("\(data.count) compressed bytes, more than the limit of \(limits.maxCompressedBytes)")
        }
        let tar = try Gzip.decompress(data, maxBytes: limits.maxDecompressedBytes)
        let entries = try TarReader.files(tar, limits: limits)
        var top: String? = nil
        var files: [ChartFile] = []
        var seen = Set<String>()
        for e in entries {
            let parts = e.name.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
            guard parts.count >= 2 else {
                if parts.first == "Chart.yaml" { throw .layout("Chart.yaml is not in a chart directory inside the archive") }
                throw .layout("file '\(e.name)' is outside the chart's directory in the archive")
            }
            if let t = top, t != parts[0] {
                throw .layout("the archive holds more than one top-level directory ('\(t)' and '\(parts[0])')")
            }
            top = parts[0]
            let rel = parts.dropFirst().joined(separator: "/")
            if !seen.insert(rel).inserted { throw .unsafeEntry(name: e.name, reason: "the archive holds this file twice") }
            files.append(ChartFile(name: rel, data: e.data))
        }
        guard let top else { throw .layout("the archive holds no files") }
        return (top, files)
    }

    /// Builds a `.tgz` of `files` under the directory `top` (for tests and fixtures).
    public static func write(top: String, files: [ChartFile]) -> [UInt8] {
        Gzip.compress(TarReader.write(files.map { ChartFile(name: top + "/" + $0.name, data: $0.data) }))
    }
}
