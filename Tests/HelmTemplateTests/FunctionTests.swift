import PatternCore
import Testing
@testable import HelmTemplate

@Suite struct FormatTests {
    @Test(arguments: [
        ("%d|%5d|%-5d|%05d|%+d|%x|%X|%#x|%o|%b|%c|%U", [TemplateValue.int(42), 42, 42, 42, 42, 255, 255, 255, 8, 5, 65, 0x1F600],
         "42|   42|42   |00042|+42|ff|FF|0xff|10|101|A|U+1F600"),
        ("%s|%10s|%-4s|%.2s|%q|%x|%v|%T", ["go", "go", "go", "golang", "a\"b\n", "hi", "x", "s"],
         "go|        go|go  |go|\"a\\\"b\\n\"|6869|x|string"),
        ("%f|%.2f|%e|%g|%v|%v|%v|%v", [.float64(3.14159), .float64(3.14159), .float64(1234.5678), .float64(0.000012345),
                                          .float64(1e6), .float64(123456789), .float64(100000), .float64(1e-5)],
         "3.141590|3.14|1.234568e+03|1.2345e-05|1e+06|1.23456789e+08|100000|1e-05"),
        ("%t|%v|%v|%d", [true, .null, ["a", 1, .null], ["a": 1, "b": ["c": true]]],
         // Go applies the verb to map keys and values alike.
         "true|<nil>|[a 1 <nil>]|map[%!d(string=a):1 %!d(string=b):map[%!d(string=c):%!d(bool=true)]]"),
        ("%d %s", ["x", 5], "%!d(string=x) %!s(int=5)"),
        ("%s %s", ["only"], "only %!s(MISSING)"),
        ("%s", ["a", 1, true], "a%!(EXTRA int=1, bool=true)"),
        ("100%% %", [], "100% %!(NOVERB)"),
        ("%v %d", [.int64(7), .list([.int(1), .int(2)])], "7 [1 2]"),
        ("%*d|%.*f", [.int(2_000_000), .int(1), .int(5_000_000), .float64(1)], "%!(BADWIDTH)1|%!(BADPREC)1.000000"),
    ] as [(String, [TemplateValue], String)])
    func sprintf(_ format: String, _ args: [TemplateValue], _ expected: String) {
        #expect(GoFormat.sprintf(format, args) == expected)
    }

    @Test func sprintSpacing() {
        #expect(GoFormat.sprint([1, 2, "a", 3, "b", "c"]) == "1 2a3bc")
        #expect(GoFormat.sprintln(["a", 1]) == "a 1\n")
    }
}

@Suite struct SprigTests {
    @Test(arguments: [
        // strings
        ("{{ upper \"abc\" }}|{{ lower \"ABC\" }}|{{ title \"hello wide-world\" }}|{{ untitle \"Hello World\" }}", "ABC|abc|Hello Wide-World|hello world"),
        ("{{ trim \"  x  \" }}|{{ trimAll \"$\" \"$5.00$\" }}|{{ trimPrefix \"-\" \"-x\" }}|{{ trimSuffix \"-\" \"x-\" }}", "x|5.00|x|x"),
        ("{{ replace \" \" \"-\" \"a b c\" }}|{{ \"a b\" | replace \" \" \"_\" }}", "a-b-c|a_b"),
        ("{{ quote \"a\" 1 }}|{{ squote \"a\" }}|{{ quote nil }}|{{ \"x\\\"y\" | quote }}", "\"a\" \"1\"|'a'||\"x\\\"y\""),
        ("{{ indent 2 \"a\\nb\" }}|{{ nindent 2 \"a\" }}", "  a\n  b|\n  a"),
        ("{{ contains \"cat\" \"catch\" }}|{{ hasPrefix \"ca\" \"cat\" }}|{{ hasSuffix \"at\" \"cat\" }}", "true|true|true"),
        ("{{ trunc 5 \"hello world\" }}|{{ trunc -5 \"hello world\" }}|{{ trunc 50 \"hi\" }}", "hello|world|hi"),
        ("{{ substr 0 5 \"hello world\" }}|{{ substr 6 -1 \"hello world\" }}", "hello|world"),
        ("{{ repeat 3 \"ab\" }}|{{ nospace \"a b  c\" }}|{{ cat \"a\" 1 nil \"b\" }}", "ababab|abc|a 1 <nil> b"),
        ("{{ splitList \",\" \"a,b,c\" }}|{{ (split \"$\" \"foo$bar$baz\")._1 }}|{{ (splitn \"$\" 2 \"a$b$c\")._1 }}", "[a b c]|bar|b$c"),
        ("{{ join \"-\" (list \"a\" 1 true) }}|{{ toString 3.5 }}|{{ toStrings (list 1 2) }}", "a-1-true|3.5|[1 2]"),
        ("{{ plural \"one\" \"many\" 1 }}|{{ plural \"one\" \"many\" 2 }}|{{ initials \"First Try\" }}|{{ swapcase \"Hello\" }}", "one|many|FT|hELLO"),
        ("{{ abbrev 5 \"hello world\" }}|{{ abbrevboth 5 10 \"1234 5678 9123\" }}|{{ wrap 5 \"Hello World\" }}", "he...|...5678...|Hello\nWorld"),
        ("{{ camelcase \"http_server\" }}|{{ snakecase \"FirstName\" }}|{{ kebabcase \"FirstName\" }}", "HttpServer|first_name|first-name"),
        // encodings and hashes
        ("{{ b64enc \"hello\" }}|{{ b64dec \"aGVsbG8=\" }}|{{ b32enc \"hi\" }}|{{ b32dec \"NBUQ====\" }}", "aGVsbG8=|hello|NBUQ====|hi"),
        ("{{ sha1sum \"abc\" }}", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("{{ sha256sum \"abc\" | trunc 16 }}|{{ adler32sum \"Wikipedia\" }}", "ba7816bf8f01cfea|300286872"),
        // defaults and flow
        ("{{ default \"d\" .missing }}|{{ default \"d\" \"\" }}|{{ default \"d\" \"x\" }}|{{ default 1 0 }}", "d|d|x|1"),
        ("{{ empty \"\" }}|{{ empty (list) }}|{{ empty 0 }}|{{ empty \"a\" }}|{{ empty (dict) }}", "true|true|true|false|true"),
        ("{{ coalesce 0 \"\" \"x\" }}|{{ ternary \"y\" \"n\" true }}|{{ all 1 \"a\" }}|{{ any 0 \"\" }}", "x|y|true|false"),
        // lists
        ("{{ first (list 1 2 3) }}|{{ last (list 1 2 3) }}|{{ rest (list 1 2 3) }}|{{ initial (list 1 2 3) }}", "1|3|[2 3]|[1 2]"),
        ("{{ append (list 1) 2 }}|{{ prepend (list 1) 0 }}|{{ concat (list 1) (list 2 3) }}|{{ reverse (list 1 2) }}", "[1 2]|[0 1]|[1 2 3]|[2 1]"),
        ("{{ uniq (list 1 1 2) }}|{{ without (list 1 2 3) 2 }}|{{ has 2 (list 1 2) }}|{{ compact (list 1 \"\" 0 2) }}", "[1 2]|[1 3]|true|[1 2]"),
        ("{{ sortAlpha (list \"b\" \"a\" \"C\") }}|{{ until 3 }}|{{ untilStep 0 6 2 }}|{{ seq 3 }}|{{ seq 2 -2 -2 }}", "[C a b]|[0 1 2]|[0 2 4]|1 2 3|2 0 -2"),
        ("{{ slice (list 1 2 3 4) 1 3 }}|{{ chunk 2 (list 1 2 3) }}", "[2 3]|[[1 2] [3]]"),
        // dicts
        ("{{ $d := dict \"a\" 1 \"b\" 2 }}{{ get $d \"a\" }}|{{ hasKey $d \"b\" }}|{{ keys $d }}|{{ values $d }}", "1|true|[a b]|[1 2]"),
        ("{{ $d := dict \"a\" 1 \"b\" 2 }}{{ pick $d \"a\" }}|{{ omit $d \"a\" }}|{{ unset $d \"a\" }}|{{ pluck \"b\" $d (dict \"b\" 3) }}", "map[a:1]|map[b:2]|map[b:2]|[2 3]"),
        ("{{ $a := dict \"x\" (dict \"y\" 1) \"k\" \"\" }}{{ $_ := merge $a (dict \"x\" (dict \"z\" 2) \"k\" \"v\") }}{{ $a }}", "map[k:v x:map[y:1 z:2]]"),
        ("{{ $a := dict \"k\" \"old\" }}{{ mergeOverwrite $a (dict \"k\" \"new\") }}|{{ merge (dict \"k\" \"keep\") (dict \"k\" \"new\") }}", "map[k:new]|map[k:keep]"),
        ("{{ dig \"a\" \"b\" \"def\" (dict \"a\" (dict \"b\" \"found\")) }}|{{ dig \"a\" \"x\" \"def\" (dict \"a\" (dict)) }}", "found|def"),
        ("{{ $c := deepCopy (dict \"a\" (list 1)) }}{{ $c }}", "map[a:[1]]"),
        // math
        ("{{ add 1 2 3 }}|{{ add1 1.9 }}|{{ sub 5 2 }}|{{ mul 2 3 4 }}|{{ div 7 2 }}|{{ mod 7 2 }}", "6|2|3|24|3|1"),
        ("{{ max 1 5 3 }}|{{ min 4 2 }}|{{ floor 1.7 }}|{{ ceil 1.2 }}|{{ round 3.746 2 }}|{{ add 1.5 1.5 }}", "5|2|1|2|3.75|2"),
        ("{{ addf 1.1 2.2 }}|{{ subf 3.3 1.1 }}|{{ mulf 1.1 3 }}|{{ divf 10 4 }}|{{ maxf 1 2.5 }}", "3.3|2.2|3.3|2.5|2.5"),
        ("{{ typeOf (add 1 2) }}|{{ typeOf 1 }}|{{ typeOf 1.5 }}|{{ kindOf (list) }}|{{ kindOf (dict) }}|{{ typeIs \"string\" \"x\" }}", "int64|int|float64|slice|map|true"),
        // conversions
        ("{{ atoi \"42\" }}|{{ int \"7\" }}|{{ int 3.9 }}|{{ int64 \"0x10\" }}|{{ float64 \"1.5\" }}|{{ toDecimal \"0777\" }}", "42|7|3|16|1.5|511"),
        ("{{ deepEqual (list 1 2) (list 1 2) }}|{{ deepEqual 1 1.0 }}", "true|false"),
        // paths and URLs
        ("{{ base \"/a/b.txt\" }}|{{ dir \"/a/b.txt\" }}|{{ ext \"b.tar.gz\" }}|{{ clean \"a//b/../c\" }}|{{ isAbs \"/x\" }}", "b.txt|/a|.gz|a/c|true"),
        ("{{ $u := urlParse \"https://user@host:8080/p/a?q=1#frag\" }}{{ $u.scheme }}|{{ $u.host }}|{{ $u.hostname }}|{{ $u.path }}|{{ $u.query }}|{{ $u.fragment }}|{{ $u.userinfo }}",
         "https|host:8080|host|/p/a|q=1|frag|user"),
        ("{{ urlJoin (dict \"scheme\" \"http\" \"host\" \"h\" \"path\" \"/p\" \"query\" \"a=b\") }}", "http://h/p?a=b"),
        // regex
        ("{{ regexMatch \"^[a-z]+$\" \"abc\" }}|{{ regexFind \"[0-9]+\" \"ab12cd34\" }}|{{ regexFindAll \"[0-9]\" \"a1b2c3\" -1 }}|{{ regexFindAll \"[0-9]\" \"a1b2c3\" 2 }}",
         "true|12|[1 2 3]|[1 2]"),
        ("{{ regexReplaceAll \"a(x*)b\" \"-ab-axxb-\" \"${1}W\" }}|{{ regexReplaceAllLiteral \"a(x*)b\" \"-ab-axxb-\" \"${1}\" }}|{{ regexSplit \"z+\" \"pizza\" -1 }}",
         "-W-xxW-|-${1}-${1}-|[pi a]"),
        ("{{ regexQuoteMeta \"1.2\" }}", "1\\.2"),
        // semver
        ("{{ semverCompare \">=1.19-0\" \"v1.28.3\" }}|{{ semverCompare \"^1.2\" \"2.0.0\" }}|{{ (semver \"1.2.3-beta+b\").Minor }}|{{ (semver \"v1.2\").String }}",
         "true|false|2|1.2.0"),
        // dates (deterministic ones)
        ("{{ date \"2006-01-02 15:04:05\" 0 }}|{{ toDate \"2006-01-02\" \"2024-02-29\" | date \"Jan 2, 2006 Mon\" }}|{{ unixEpoch (toDate \"2006-01-02T15:04:05Z07:00\" \"2024-01-01T01:00:00+01:00\") }}",
         "1970-01-01 00:00:00|Feb 29, 2024 Thu|1704067200"),
        // time zones from the system tzdata; unknown zones and Local fall back to UTC as in Sprig
        ("{{ dateInZone \"2006-01-02 15:04 MST Z07:00\" 1704067200 \"Europe/Berlin\" }}|{{ dateInZone \"15:04 MST -0700\" 1719792000 \"Europe/Berlin\" }}|{{ date_in_zone \"Jan 2 15:04 MST -07:00\" 1704067200 \"America/New_York\" }}",
         "2024-01-01 01:00 CET +01:00|02:00 CEST +0200|Dec 31 19:00 EST -05:00"),
        ("{{ dateInZone \"15:04 MST Z07:00\" 1704067200 \"Asia/Kolkata\" }}|{{ dateInZone \"15:04 MST Z07:00\" 1704067200 \"Mars/Olympus\" }}|{{ dateInZone \"15:04 MST\" 1704067200 \"../../etc/passwd\" }}|{{ htmlDateInZone 1704067200 \"Pacific/Auckland\" }}",
         "05:30 IST +05:30|00:00 UTC Z|00:00 UTC|2024-01-01"),
        ("{{ (toDate \"2006-01-02T15:04:05Z07:00\" \"2024-01-01T01:00:00+01:00\").Format \"15:04 -07:00\" }}|{{ toDate \"2006-01-02T15:04:05Z07:00\" \"2024-01-01T01:00:00+01:00\" | date \"15:04 Z07:00\" }}",
         "01:00 +01:00|00:00 Z"),
        ("{{ duration 95 }}|{{ duration 3600 }}|{{ durationRound \"2h10m\" }}|{{ dateModify \"1.5h\" (toDate \"2006-01-02\" \"2024-01-01\") | date \"15:04\" }}",
         "1m35s|1h0m0s|2h|01:30"),
        // derivePassword: Sprig's own test vectors (scrypt + HMAC-SHA256, the Master Password algorithm)
        ("{{ derivePassword 1 \"long\" \"password\" \"user\" \"example.com\" }}|{{ derivePassword 2 \"long\" \"password\" \"user\" \"example.com\" }}|{{ derivePassword 1 \"maximum\" \"password\" \"user\" \"example.com\" }}|{{ derivePassword 1 \"pin\" \"password\" \"user\" \"example.com\" }}|{{ derivePassword 1 \"nope\" \"p\" \"u\" \"s\" }}",
         "ZedaFaxcZaso9*|Fovi2@JifpTupx|pf4zS1LjCg&LjhsZ7T2~|6685|cannot find password template nope"),
        // Helm codecs
        ("{{ toYaml (dict \"b\" (list 1 \"two\") \"a\" (dict \"x\" \"yes\")) }}", "a:\n  x: \"yes\"\nb:\n- 1\n- two"),
        ("{{ toJson (dict \"h\" \"<a&b>\" \"n\" 1.5 \"i\" 3 \"l\" (list) \"z\" nil) }}", "{\"h\":\"\\u003ca\\u0026b\\u003e\",\"i\":3,\"l\":[],\"n\":1.5,\"z\":null}"),
        ("{{ toPrettyJson (dict \"a\" (list 1)) }}", "{\n  \"a\": [\n    1\n  ]\n}"),
        ("{{ (fromYaml \"a: 1\\nb: [x]\").a }}|{{ typeOf (fromYaml \"a: 1\").a }}|{{ (fromJson \"{\\\"k\\\": true}\").k }}|{{ fromYamlArray \"- 1\\n- 2\" }}", "1|float64|true|[1 2]"),
        ("{{ toToml (dict \"a\" 1 \"s\" \"x\" \"t\" (dict \"b\" true)) }}", "a = 1\ns = \"x\"\n\n[t]\n  b = true\n"),
        ("{{ lookup \"v1\" \"Pod\" \"ns\" \"n\" }}", "map[]"),
    ])
    func functions(_ text: String, _ expected: String) throws {
        #expect(try render(text, ["missing": .null]) == expected)
    }

    @Test func toYamlOfValuesFileNumbers() throws {
        // Values-file numbers are float64: toYaml prints integral ones as integers (JSON step),
        // while printing one directly gives Go's %v form.
        let v = TemplateValue(helmValues: try YAMLParser.parse("port: 8080\nbig: 1000000\nratio: 0.25\nname: \"on\"\n"))
        #expect(try render("{{ toYaml . }}|{{ .big }}", v) == "big: 1000000\nname: \"on\"\nport: 8080\nratio: 0.25|1e+06")
    }

    @Test(arguments: [
        ("{{ first \"abc\" }}", "error calling first: Cannot find first on type string"),
        ("{{ div 1 0 }}", "error calling div: runtime error: integer divide by zero"),
        ("{{ semverCompare \"!!\" \"1.0.0\" }}", "error calling semverCompare: improper constraint: !!"),
        ("{{ semver \"x.y\" }}", "error calling semver: Invalid Semantic Version"),
        ("{{ mustRegexMatch \"(\" \"x\" }}", "error calling mustRegexMatch: error parsing regexp:"),
        ("{{ indent 100000000 \"x\" }}", "error calling indent: indent: 100000000 spaces"),
    ])
    func functionErrors(_ text: String, _ contains: String) {
        let e = renderError(text)
        #expect(e.contains(contains), "\(e)")
    }
}

@Suite struct SemverTests {
    @Test(arguments: [
        ("1.2.3", "1.2.3"), ("v1.2", "1.2.0"), ("1", "1.0.0"), ("1.2.3-beta.1+build.5", "1.2.3-beta.1+build.5"),
        ("v1.28.3-eks-4f4795d", "1.28.3-eks-4f4795d"),
    ])
    func parses(_ text: String, _ canonical: String) throws {
        #expect(try SemanticVersion(text).description == canonical)
    }

    @Test(arguments: ["", "1.2.3.4", "a.b.c", "1.2.3-", "1.2.3-01", "1..2"])
    func rejects(_ text: String) {
        #expect(throws: SemverError.self) { try SemanticVersion(text) }
    }

    @Test func ordering() throws {
        let ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "2.0.0"]
        let vs = try ordered.map { try SemanticVersion($0) }
        for i in 1..<vs.count { #expect(vs[i - 1] < vs[i], "\(vs[i - 1]) < \(vs[i])") }
        #expect(try SemanticVersion("1.0.0+a") == SemanticVersion("1.0.0+b"))
    }

    @Test(arguments: [
        ("^1.2", "1.2.0", true), ("^1.2", "1.9.9", true), ("^1.2", "2.0.0", false), ("^1.2", "1.1.9", false),
        ("^0.2.3", "0.2.9", true), ("^0.2.3", "0.3.0", false), ("^0.0.3", "0.0.3", true), ("^0.0.3", "0.0.4", false),
        ("~1.2.3", "1.2.9", true), ("~1.2.3", "1.3.0", false), ("~1", "1.9.0", true), ("~1", "2.0.0", false),
        ("1.2.x", "1.2.7", true), ("1.2.x", "1.3.0", false), ("*", "3.4.5", true), ("*", "1.0.0-beta", false),
        (">=1.0 <2.0", "1.5.0", true), (">=1.0 <2.0", "2.0.0", false), (">=1.0, <2.0", "0.9.0", false),
        ("<1.0 || >=2.0", "2.1.0", true), ("<1.0 || >=2.0", "1.5.0", false),
        ("1.2 - 1.4.5", "1.4.5", true), ("1.2 - 1.4.5", "1.4.6", false), ("1.2 - 1.4", "1.4.9", true), ("1.2 - 1.4", "1.1.0", false),
        (">=1.19-0", "1.28.3-eks-4f4795d", true), (">=1.19", "1.28.3-eks-4f4795d", false), (">1.2", "1.2.5", false), (">1.2", "1.3.0", true),
        ("!=1.2.3", "1.2.4", true), ("!=1.2.3", "1.2.3", false), ("=1.2.3", "1.2.3", true), ("1.2.3", "1.2.4", false),
        ("<=1.2", "1.2.9", true), ("<=1.2", "1.3.0", false), ("", "0.1.0", true), (">= 1.0.0-0", "1.0.0-rc.1", true),
    ])
    func constraints(_ constraint: String, _ version: String, _ expected: Bool) throws {
        #expect(try SemverConstraint(constraint).check(try SemanticVersion(version)) == expected)
    }

    @Test(arguments: [">>1.0", "1.0 -", "~~1", "abc"])
    func improperConstraints(_ c: String) {
        #expect(throws: SemverError.self) { try SemverConstraint(c) }
    }
}
