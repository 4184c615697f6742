#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Time zones for `dateInZone` (Go's `time.LoadLocation`), read from the system's tzdata
/// (`/usr/share/zoneinfo`, TZif files, as Go reads them). Off the hot path: a zone is loaded
/// only when a template names one.
public enum TimeZones {
    /// Where zone files are read from.
    public static let directory = "/usr/share/zoneinfo"
    /// Zone files are small (Europe/Berlin 2.3 KB); anything bigger is not read.
    static let maxFileBytes = 256 * 1024

    /// One zone: its transitions (Unix seconds, ascending) and the local time type after each.
    public struct Zone: Sendable {
        public struct TimeType: Sendable { public var offset: Int; public var abbreviation: String; public var isDST: Bool }
        public var name: String
        var transitions: [Int64]
        var typeIndex: [Int]
        var types: [TimeType]

        /// The local time type at `seconds`: the one set by the last transition at or before it;
        /// before the first transition, the first standard-time type (as Go's `lookupFirstZone`).
        /// After the last transition the last type stays (Go would apply the file's POSIX rule;
        /// system tzdata lists transitions up to 2037).
        public func type(at seconds: Int64) -> TimeType {
            guard let first = transitions.first, seconds >= first else {
                return types.first { !$0.isDST } ?? types.first ?? TimeType(offset: 0, abbreviation: "UTC", isDST: false)
            }
            var lo = 0, hi = transitions.count - 1
            while lo < hi {
                let mid = (lo + hi + 1) / 2
                if transitions[mid] <= seconds { lo = mid } else { hi = mid - 1 }
            }
            return types[typeIndex[lo]]
        }

        /// `t.In(zone)`.
        public func shown(_ t: GoTime) -> GoTime {
            let tt = type(at: t.seconds)
            return GoTime(seconds: t.seconds, nanoseconds: t.nanoseconds, offset: tt.offset, zone: tt.abbreviation)
        }
    }

    static let utc = Zone(name: "UTC", transitions: [], typeIndex: [], types: [Zone.TimeType(offset: 0, abbreviation: "UTC", isDST: false)])

    /// The zone `name` as Sprig's `dateInZone` gets it: `""`, `UTC` and `Local` (the renderer's
    /// local zone is UTC, so renders do not depend on the machine) are UTC; an unknown or
    /// invalid name also gives UTC (Sprig falls back to UTC when `LoadLocation` fails).
    public static func zone(named name: String) -> Zone {
        if name.isEmpty || name == "UTC" || name == "Local" { return utc }
        // Go's LoadLocation refuses these (errLocation) before touching the file system.
        if name.hasPrefix("/") || name.hasPrefix("\\") || name.contains("..") || name.utf8.count > 255 { return utc }
        guard let bytes = read(directory + "/" + name), let z = parse(bytes, name: name) else { return utc }
        return z
    }

    static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, Int(st.st_size) <= maxFileBytes else { return nil }
        let size = Int(st.st_size)
        var out = [UInt8](repeating: 0, count: size)
        var got = 0
        while got < size {
            let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + got, size - got) }
            if n <= 0 { return nil }
            got += n
        }
        return out
    }

    /// Parses a TZif file (RFC 8536): the 64-bit version-2+ data when present, else version 1.
    static func parse(_ b: [UInt8], name: String) -> Zone? {
        func be(_ at: Int, _ n: Int) -> Int64? {
            guard at >= 0, at + n <= b.count else { return nil }
            var v: UInt64 = 0
            for k in 0..<n { v = v << 8 | UInt64(b[at + k]) }
            return n == 4 ? Int64(Int32(bitPattern: UInt32(v))) : Int64(bitPattern: v)
        }
        struct Header { var isut, isstd, leap, time, type, char: Int }
        func header(_ at: Int) -> Header? {
            guard at + 44 <= b.count, b[at] == 0x54, b[at + 1] == 0x5A, b[at + 2] == 0x69, b[at + 3] == 0x66 else { return nil }
            var c: [Int] = []
            for k in 0..<6 { guard let v = be(at + 20 + 4 * k, 4), v >= 0, v < 100_000 else { return nil }; c.append(Int(v)) }
            return Header(isut: c[0], isstd: c[1], leap: c[2], time: c[3], type: c[4], char: c[5])
        }
        guard var h = header(0) else { return nil }
        var at = 44
        var timeSize = 4
        if b[4] >= UInt8(ascii: "2") {
            // Skip the version-1 block to the 64-bit one.
            at += h.time * 5 + h.type * 6 + h.char + h.leap * 8 + h.isstd + h.isut
            guard let h2 = header(at) else { return nil }
            h = h2
            at += 44
            timeSize = 8
        }
        guard h.type > 0, at + h.time * (timeSize + 1) + h.type * 6 + h.char <= b.count else { return nil }
        var transitions: [Int64] = []
        transitions.reserveCapacity(h.time)
        for k in 0..<h.time { transitions.append(be(at + k * timeSize, timeSize)!) }
        at += h.time * timeSize
        var typeIndex: [Int] = []
        for k in 0..<h.time {
            let i = Int(b[at + k])
            guard i < h.type else { return nil }
            typeIndex.append(i)
        }
        at += h.time
        let charsAt = at + h.type * 6
        var types: [Zone.TimeType] = []
        for k in 0..<h.type {
            let p = at + k * 6
            let offset = Int(be(p, 4)!)
            let isDST = b[p + 4] != 0
            let ai = Int(b[p + 5])
            var abbr = ""
            var q = charsAt + ai
            while q < charsAt + h.char, b[q] != 0 { abbr.unicodeScalars.append(Unicode.Scalar(b[q])); q += 1 }
            types.append(Zone.TimeType(offset: offset, abbreviation: abbr, isDST: isDST))
        }
        return Zone(name: name, transitions: transitions, typeIndex: typeIndex, types: types)
    }
}
