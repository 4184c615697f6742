#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Go's `time.Time` as a template object: an instant plus the zone it is shown in (UTC unless
/// `dateInZone` moved it; the renderer's `Local` zone is UTC).
public struct GoTime: TemplateObject, Sendable {
    /// Seconds since the Unix epoch.
    public var seconds: Int64
    public var nanoseconds: Int64
    /// Seconds east of UTC of the zone the time is shown in.
    public var offset: Int
    /// The zone's abbreviation at this instant (`UTC`, `CEST`, `EST`), printed for `MST`.
    public var zone: String
    public init(seconds: Int64, nanoseconds: Int64 = 0, offset: Int = 0, zone: String = "UTC") {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
        self.offset = offset
        self.zone = zone
    }

    /// The same instant shown in UTC (Go's `Time.UTC()`).
    public var utc: GoTime { GoTime(seconds: seconds, nanoseconds: nanoseconds) }

    public var goTypeName: String { "time.Time" }
    public func field(_ name: String) -> TemplateValue? { nil }

    public func method(_ name: String) -> TemplateMethod? {
        let t = self
        let c = t.civil
        switch name {
        case "Unix": return TemplateMethod { _ in .int64(t.seconds) }
        case "UnixNano": return TemplateMethod { _ in .int64(t.seconds &* 1_000_000_000 &+ t.nanoseconds) }
        case "Year": return TemplateMethod { _ in .int(c.year) }
        case "YearDay": return TemplateMethod { _ in .int(c.yday) }
        case "Day": return TemplateMethod { _ in .int(c.day) }
        case "Hour": return TemplateMethod { _ in .int(c.hour) }
        case "Minute": return TemplateMethod { _ in .int(c.minute) }
        case "Second": return TemplateMethod { _ in .int(c.second) }
        case "Nanosecond": return TemplateMethod { _ in .int(Int(t.nanoseconds)) }
        case "Format": return TemplateMethod(params: [.string]) { a in .string(t.format(a[0].stringValue ?? "")) }
        case "UTC", "Local": return TemplateMethod { _ in .object(t.utc) }
        case "String": return TemplateMethod { _ in .string(t.goString) }
        default: return nil
        }
    }

    public var goFormatted: String? { goString }
    public var dataValue: TemplateValue? { .string(format("2006-01-02T15:04:05.999999999Z07:00")) }

    /// `time.Time.String()`.
    var goString: String { format("2006-01-02 15:04:05.999999999 -0700 MST") }

    struct Civil { var year, month, day, hour, minute, second, weekday, yday: Int }

    var civil: Civil {
        let local = seconds &+ Int64(offset)
        let days = Int(local >= 0 ? local / 86400 : (local - 86399) / 86400)
        let secs = Int(local - Int64(days) * 86400)
        // days since 1970-01-01 → civil (Howard Hinnant's algorithm)
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        var y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        if m <= 2 { y += 1 }
        let wd = ((days % 7) + 11) % 7  // 1970-01-01 was a Thursday (4)
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let cum = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334]
        let yday = cum[m - 1] + d + (leap && m > 2 ? 1 : 0)
        return Civil(year: y, month: m, day: d, hour: secs / 3600, minute: secs % 3600 / 60, second: secs % 60, weekday: wd, yday: yday)
    }

    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return Int64(era * 146097 + doe - 719468)
    }

    static let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
    static let days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

    /// Go's `Time.Format` with a reference layout (`2006-01-02T15:04:05Z07:00`), in UTC.
    public func format(_ layout: String) -> String {
        let c = civil
        var out = ""
        let l = Array(layout.unicodeScalars)
        var i = 0
        func pad(_ v: Int, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        func has(_ p: String) -> Bool {
            let ps = Array(p.unicodeScalars)
            guard i + ps.count <= l.count else { return false }
            for k in 0..<ps.count where l[i + k] != ps[k] { return false }
            return true
        }
        while i < l.count {
            if has("January") { out += GoTime.months[c.month - 1]; i += 7 }
            else if has("Jan") { out += String(GoTime.months[c.month - 1].prefix(3)); i += 3 }
            else if has("Monday") { out += GoTime.days[c.weekday]; i += 6 }
            else if has("Mon") { out += String(GoTime.days[c.weekday].prefix(3)); i += 3 }
            else if has("MST") { out += zone.isEmpty ? offsetText(hours: true, minutes: offset % 3600 != 0, seconds: false, colon: false) : zone; i += 3 }
            else if has("2006") { out += pad(c.year, 4); i += 4 }
            else if has("002") { out += pad(c.yday, 3); i += 3 }
            else if has("01") { out += pad(c.month, 2); i += 2 }
            else if has("02") { out += pad(c.day, 2); i += 2 }
            else if has("03") { out += pad(c.hour % 12 == 0 ? 12 : c.hour % 12, 2); i += 2 }
            else if has("04") { out += pad(c.minute, 2); i += 2 }
            else if has("05") { out += pad(c.second, 2); i += 2 }
            else if has("06") { out += pad(c.year % 100, 2); i += 2 }
            else if has("15") { out += pad(c.hour, 2); i += 2 }
            else if has("__2") { out += String(repeating: " ", count: 3 - String(c.yday).count) + String(c.yday); i += 3 }
            else if has("_2") { out += (c.day < 10 ? " " : "") + String(c.day); i += 2 }
            else if l[i] == "Z" || l[i] == "-", let (n, minutes, secs, colon) = GoTime.offsetToken(l, i) {
                out += l[i] == "Z" && offset == 0 ? "Z" : offsetText(hours: true, minutes: minutes, seconds: secs, colon: colon)
                i += n
            }
            else if has("PM") { out += c.hour >= 12 ? "PM" : "AM"; i += 2 }
            else if has("pm") { out += c.hour >= 12 ? "pm" : "am"; i += 2 }
            else if (l[i] == "." || l[i] == ","), i + 1 < l.count, l[i + 1] == "0" || l[i + 1] == "9" {
                let digit = l[i + 1]
                var j = i + 1
                while j < l.count && l[j] == digit { j += 1 }
                // Only a fractional second if not followed by another digit.
                if j < l.count, l[j].properties.numericType != nil { out.unicodeScalars.append(l[i]); i += 1; continue }
                let n = j - i - 1
                var frac = pad(Int(nanoseconds), 9)
                frac = String(frac.prefix(n))
                if digit == "9" {
                    while frac.hasSuffix("0") { frac.removeLast() }
                    if !frac.isEmpty { out.unicodeScalars.append(l[i]); out += frac }
                } else {
                    out.unicodeScalars.append(l[i])
                    out += frac
                }
                i = j
            }
            else if has("1") { out += String(c.month); i += 1 }
            else if has("2") { out += String(c.day); i += 1 }
            else if has("3") { out += String(c.hour % 12 == 0 ? 12 : c.hour % 12); i += 1 }
            else if has("4") { out += String(c.minute); i += 1 }
            else if has("5") { out += String(c.second); i += 1 }
            else { out.unicodeScalars.append(l[i]); i += 1 }
        }
        return out
    }

    /// The numeric zone layout element at `i` (`Z07:00:00 Z070000 Z07:00 Z0700 Z07` and the
    /// same with `-`): its length and which parts it prints.
    static func offsetToken(_ l: [Unicode.Scalar], _ i: Int) -> (Int, Bool, Bool, Bool)? {
        for (text, minutes, secs, colon) in [("07:00:00", true, true, true), ("070000", true, true, false), ("07:00", true, false, true),
                                             ("0700", true, false, false), ("07", false, false, false)] {
            let t = Array(text.unicodeScalars)
            guard i + 1 + t.count <= l.count else { continue }
            var match = true
            for k in 0..<t.count where l[i + 1 + k] != t[k] { match = false; break }
            if match { return (1 + t.count, minutes, secs, colon) }
        }
        return nil
    }

    /// The zone offset as Go prints it: `+01`, `+0100`, `+01:00`, `-05:00:00`.
    func offsetText(hours: Bool, minutes: Bool, seconds withSeconds: Bool, colon: Bool) -> String {
        let m = offset.magnitude
        func two(_ v: UInt) -> String { v < 10 ? "0\(v)" : String(v) }
        var s = (offset < 0 ? "-" : "+") + two(m / 3600)
        if minutes { s += (colon ? ":" : "") + two(m / 60 % 60) }
        if withSeconds { s += (colon ? ":" : "") + two(m % 60) }
        return s
    }

    /// Go's `time.Parse` for numeric layouts (years, months, days, clock, fractions, numeric
    /// offsets, `Z`); nil when `value` does not match `layout`.
    public static func parse(layout: String, value: String) -> GoTime? {
        let l = Array(layout.unicodeScalars), v = Array(value.unicodeScalars)
        var i = 0, j = 0
        var year = 1, month = 1, day = 1, hour = 0, minute = 0, second = 0, nanos: Int64 = 0, offset = 0, pm: Bool? = nil
        func has(_ p: String) -> Bool {
            let ps = Array(p.unicodeScalars)
            guard i + ps.count <= l.count else { return false }
            for k in 0..<ps.count where l[i + k] != ps[k] { return false }
            return true
        }
        func num(_ minDigits: Int, _ maxDigits: Int) -> Int? {
            var n = 0, k = 0
            while k < maxDigits && j < v.count, let d = Int(String(v[j])), v[j].value < 128 { n = n * 10 + d; j += 1; k += 1 }
            return k >= minDigits ? n : nil
        }
        func offsetValue(colon: Bool) -> Int? {
            guard j < v.count else { return nil }
            if v[j] == "Z" { j += 1; return 0 }
            guard v[j] == "+" || v[j] == "-" else { return nil }
            let sign = v[j] == "-" ? -1 : 1
            j += 1
            guard let h = num(2, 2) else { return nil }
            if colon { guard j < v.count, v[j] == ":" else { return nil }; j += 1 }
            guard let mm = num(2, 2) else { return nil }
            return sign * (h * 3600 + mm * 60)
        }
        while i < l.count {
            if has("2006") { guard let x = num(4, 4) else { return nil }; year = x; i += 4 }
            else if has("01") { guard let x = num(2, 2) else { return nil }; month = x; i += 2 }
            else if has("02") { guard let x = num(2, 2) else { return nil }; day = x; i += 2 }
            else if has("15") { guard let x = num(2, 2) else { return nil }; hour = x; i += 2 }
            else if has("03") { guard let x = num(2, 2) else { return nil }; hour = x; i += 2 }
            else if has("04") { guard let x = num(2, 2) else { return nil }; minute = x; i += 2 }
            else if has("05") {
                guard let x = num(2, 2) else { return nil }
                second = x
                i += 2
                // Go accepts a fractional second after "05" even when the layout has none.
                if j < v.count, v[j] == ".", !(i < l.count && l[i] == ".") {
                    j += 1
                    var digits = 0
                    while j < v.count, let d = Int(String(v[j])), v[j].value < 128 { if digits < 9 { nanos = nanos * 10 + Int64(d) }; digits += 1; j += 1 }
                    for _ in digits..<9 where digits < 9 { nanos *= 10 }
                }
            }
            else if has("06") { guard let x = num(2, 2) else { return nil }; year = x + (x >= 69 ? 1900 : 2000); i += 2 }
            else if has("Z07:00") { guard let o = offsetValue(colon: true) else { return nil }; offset = o; i += 6 }
            else if has("-07:00") { guard let o = offsetValue(colon: true) else { return nil }; offset = o; i += 6 }
            else if has("Z0700") { guard let o = offsetValue(colon: false) else { return nil }; offset = o; i += 5 }
            else if has("-0700") { guard let o = offsetValue(colon: false) else { return nil }; offset = o; i += 5 }
            else if has("MST") {
                guard j + 3 <= v.count else { return nil }
                j += 3
                i += 3
            }
            else if has("PM") || has("pm") {
                guard j + 2 <= v.count else { return nil }
                pm = String(String.UnicodeScalarView(v[j..<(j + 2)])).uppercased() == "PM"
                j += 2
                i += 2
            }
            else if (l[i] == "." || l[i] == ","), i + 1 < l.count, l[i + 1] == "0" || l[i + 1] == "9" {
                var k = i + 1
                while k < l.count && (l[k] == "0" || l[k] == "9") { k += 1 }
                i = k
                if j < v.count && (v[j] == "." || v[j] == ",") {
                    j += 1
                    var digits = 0
                    while j < v.count, let d = Int(String(v[j])), v[j].value < 128 { if digits < 9 { nanos = nanos * 10 + Int64(d) }; digits += 1; j += 1 }
                    for _ in digits..<9 where digits < 9 { nanos *= 10 }
                }
            }
            else if has("1") { guard let x = num(1, 2) else { return nil }; month = x; i += 1 }
            else if has("2") { guard let x = num(1, 2) else { return nil }; day = x; i += 1 }
            else if has("3") { guard let x = num(1, 2) else { return nil }; hour = x; i += 1 }
            else if has("4") { guard let x = num(1, 2) else { return nil }; minute = x; i += 1 }
            else if has("5") { guard let x = num(1, 2) else { return nil }; second = x; i += 1 }
            else {
                guard j < v.count, v[j] == l[i] else { return nil }
                i += 1
                j += 1
            }
        }
        guard j == v.count else { return nil }
        if let pm { if pm && hour < 12 { hour += 12 } else if !pm && hour == 12 { hour = 0 } }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60 else { return nil }
        let secs = daysFromCivil(year, month, day) * 86400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offset)
        return GoTime(seconds: secs, nanoseconds: nanos, offset: offset, zone: offset == 0 ? "UTC" : "")
    }
}

extension Sprig {
    /// The time a date function's argument stands for (time.Time, or Unix seconds as int/int64/int32).
    static func timeArg(_ v: TemplateValue) -> GoTime? {
        switch v {
        case .object(let o): return o as? GoTime
        case .int(let s): return GoTime(seconds: Int64(s))
        case .int64(let s): return GoTime(seconds: s)
        default: return nil
        }
    }

    static func now() -> GoTime {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return GoTime(seconds: Int64(ts.tv_sec), nanoseconds: Int64(ts.tv_nsec))
    }

    /// Go's `time.Duration.String()`.
    static func durationString(_ d: Int64) -> String {
        if d == 0 { return "0s" }
        let neg = d < 0
        var u = d.magnitude
        var s = ""
        if u < 1_000_000_000 {
            // sub-second: ns, µs, ms
            let (unit, div): (String, UInt64) = u < 1000 ? ("ns", 1) : u < 1_000_000 ? ("µs", 1000) : ("ms", 1_000_000)
            s = trimFraction(u, div) + unit
        } else {
            let h = u / 3_600_000_000_000
            u -= h * 3_600_000_000_000
            let m = u / 60_000_000_000
            u -= m * 60_000_000_000
            s = trimFraction(u, 1_000_000_000) + "s"
            if h > 0 { s = "\(h)h\(m)m" + s } else if m > 0 { s = "\(m)m" + s }
        }
        return (neg ? "-" : "") + s
    }

    static func trimFraction(_ v: UInt64, _ div: UInt64) -> String {
        let whole = v / div
        var frac = v % div
        if frac == 0 { return String(whole) }
        var digits = String(div).count - 1
        var f = ""
        while digits > 0 { f = String(frac % 10) + f; frac /= 10; digits -= 1 }
        while f.hasSuffix("0") { f.removeLast() }
        return "\(whole).\(f)"
    }

    /// Go's `time.ParseDuration`.
    static func parseDuration(_ s: String) -> Int64? {
        var u = Array(s.utf8)[...]
        var neg = false
        if let f = u.first, f == UInt8(ascii: "-") || f == UInt8(ascii: "+") { neg = f == UInt8(ascii: "-"); u = u.dropFirst() }
        if u.elementsEqual("0".utf8) { return 0 }
        if u.isEmpty { return nil }
        var total: Double = 0
        while !u.isEmpty {
            var numText = ""
            while let c = u.first, (c >= 48 && c <= 57) || c == UInt8(ascii: ".") { numText.append(Character(Unicode.Scalar(c))); u = u.dropFirst() }
            guard let n = Double(numText) else { return nil }
            var unit = ""
            while let c = u.first, !(c >= 48 && c <= 57) && c != UInt8(ascii: ".") { unit.unicodeScalars.append(Unicode.Scalar(c)); u = u.dropFirst() }
            let scale: Double
            switch unit {
            case "ns": scale = 1
            case "us", "µs", "μs": scale = 1e3
            case "ms": scale = 1e6
            case "s": scale = 1e9
            case "m": scale = 60e9
            case "h": scale = 3600e9
            default: return nil
            }
            total += n * scale
        }
        guard total < 9.2e18 else { return nil }
        return Int64(neg ? -total : total)
    }

    static func addDates(_ m: inout FunctionMap) {
        m["now"] = f([], nondeterministic: true) { _ in .object(now()) }
        // Sprig's date functions format the current time when the argument is not a time
        // (`date "2006" .Values.unset`): that reads the clock, so it is refused like `now`.
        for name in ["date", "dateInZone", "date_in_zone", "htmlDate", "htmlDateInZone"] {
            let zoned = name.hasSuffix("InZone") || name == "date_in_zone"
            let html = name.hasPrefix("html")
            var params: [TemplateParam] = html ? [.any] : [.string, .any]
            if zoned { params.append(.string) }
            m[name] = TemplateFunction(params: params) { call in
                let a = call.args
                // Sprig: an unknown zone falls back to UTC; `Local` is the renderer's zone, UTC.
                let zone = zoned ? TimeZones.zone(named: a.last?.stringValue ?? "") : nil
                let layout = html ? "2006-01-02" : (a[0].stringValue ?? "")
                let v = html ? a[0] : a[1]
                if let t = timeArg(v) { return .string((zone.map { $0.shown(t) } ?? t.utc).format(layout)) }
                call.state.shared.nondeterministicUsed.insert(name)
                if !call.options.allowNondeterministic {
                    throw TemplateFunctionError(
                        "\(name) of \(v.isNull ? "nil" : v.goTypeName) formats the current time (it is not a time), so the output would change on every render",
                        fix: "fix: pass a time (toDate, Unix seconds) or render with --allow-nondeterministic", kind: .nondeterministic)
                }
                let t = now()
                return .string((zone.map { $0.shown(t) } ?? t).format(layout))
            }
        }
        for name in ["toDate", "mustToDate"] {
            let must = name == "mustToDate"
            m[name] = f([.string, .string]) { a in
                guard let t = GoTime.parse(layout: s(a[0]), value: s(a[1])) else {
                    if must { throw err("parsing time \(GoFormat.quote(s(a[1]))) as \(GoFormat.quote(s(a[0]))): cannot parse") }
                    return .object(GoTime(seconds: -62135596800))  // Go's zero time.Time
                }
                return .object(t)
            }
        }
        m["unixEpoch"] = f([.any]) { a in
            guard let t = timeArg(a[0]) else { throw err("unixEpoch: \(a[0].goTypeName) is not a time") }
            return .string(String(t.seconds))
        }
        for name in ["dateModify", "date_modify", "mustDateModify", "must_date_modify"] {
            let must = name.hasPrefix("must")
            m[name] = f([.string, .any]) { a in
                guard let t = timeArg(a[1]) else { throw err("dateModify: \(a[1].goTypeName) is not a time") }
                guard let d = parseDuration(s(a[0])) else {
                    if must { throw err("time: invalid duration \(GoFormat.quote(s(a[0])))") }
                    return .object(t)
                }
                var ns = t.nanoseconds + d % 1_000_000_000
                var secs = t.seconds + d / 1_000_000_000
                if ns < 0 { ns += 1_000_000_000; secs -= 1 } else if ns >= 1_000_000_000 { ns -= 1_000_000_000; secs += 1 }
                return .object(GoTime(seconds: secs, nanoseconds: ns))
            }
        }
        m["duration"] = f([.any]) { a in
            .string(durationString(toInt64(a[0]) &* 1_000_000_000))
        }
        m["durationRound"] = f([.any]) { a in
            var d: Int64
            switch a[0] {
            case .string(let str): d = parseDuration(str) ?? 0
            case .int64(let x): d = x
            default: d = 0
            }
            let u = d.magnitude
            let hour: UInt64 = 3_600_000_000_000
            let units: [(UInt64, String)] = [(hour * 24 * 365, "y"), (hour * 24 * 30, "mo"), (hour * 24, "d"), (hour, "h"), (60_000_000_000, "m"), (1_000_000_000, "s")]
            for (size, name) in units where u > size { return .string(String(u / size) + name) }
            return .string("0s")
        }
        m["ago"] = f([.any], nondeterministic: true) { a in
            guard let t = timeArg(a[0]) else { return .string("0s") }
            let d = (now().seconds - t.seconds) * 1_000_000_000
            return .string(durationString(d))
        }
    }
}
