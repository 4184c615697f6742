import Testing
import PatternCore
@testable import Helm

@Suite struct ArchiveTests {
    @Test func gzipRoundTripAndConcatenatedMembers() throws {
        let data = Array("hello chart".utf8)
        let z = Gzip.compress(data)
        #expect(try Gzip.decompress(z, maxBytes: 1 << 20) == data)
        // Two members read as one stream, as Go's gzip.Reader does.
        #expect(try Gzip.decompress(z + Gzip.compress(Array("!".utf8)), maxBytes: 1 << 20) == data + Array("!".utf8))
    }

    @Test func gzipRefusesGarbageTruncationAndBombs() {
        #expect(throws: ArchiveError.self) { try Gzip.decompress(Array("not gzip at all".utf8), maxBytes: 1 << 20) }
        let z = Gzip.compress([UInt8](repeating: 7, count: 100_000))
        #expect(throws: ArchiveError.self) { try Gzip.decompress(Array(z.dropLast(12)), maxBytes: 1 << 20) }
        // 100 kB of one byte compresses to a few hundred bytes; a 10 kB output limit stops it.
        do {
            _ = try Gzip.decompress(z, maxBytes: 10_000)
            Issue.record("expected tooLarge")
        } catch {
            guard case .tooLarge = error else { Issue.record("wrong error \(error)"); return }
        }
    }

    @Test func archiveStripsTheTopDirectoryAndLoadsAChart() throws {
        let tgz = ChartArchive.write(top: "web", files: [
            chartYAML("web"), file("values.yaml", "replicas: 2\n"), file("templates/cm.yaml", "kind: ConfigMap\n"),
        ])
        let c = try ChartLoader().loadArchive(tgz, origin: "web-1.0.0.tgz")
        #expect(c.name == "web")
        #expect(c.values["replicas"] == 2)
        #expect(c.templates.map(\.name) == ["templates/cm.yaml"])
    }

    func archive(_ entries: [(String, UInt8, String)]) -> [UInt8] {
        // Hand-made headers with arbitrary type flags (symlinks, devices, …).
        var tar = TarReader.write(entries.map { ChartFile(name: $0.0, data: Array($0.2.utf8)) })
        var off = 0
        for e in entries {
            tar[off + 156] = e.1
            for i in 148..<156 { tar[off + i] = 32 }
            let sum = tar[off..<(off + 512)].reduce(0) { $0 + Int($1) }
            let oct = Array(String(sum, radix: 8).utf8)
            let field = [UInt8](repeating: 48, count: 6 - oct.count) + oct + [0, 32]
            for (i, b) in field.enumerated() { tar[off + 148 + i] = b }
            off += 512 + ((e.2.utf8.count + 511) / 512) * 512
        }
        return Gzip.compress(tar)
    }

    @Test func hostileArchivesAreRefused() {
        let cases: [[(String, UInt8, String)]] = [
            [("web/Chart.yaml", 48, "name: web"), ("web/../../etc/passwd", 48, "x")],   // traversal
            [("/web/Chart.yaml", 48, "name: web")],                                       // absolute
            [("web/Chart.yaml", 48, "name: web"), ("web/link", 50, "")],                 // symlink
            [("web/Chart.yaml", 48, "name: web"), ("web/hard", 49, "")],                 // hard link
            [("web/Chart.yaml", 48, "name: web"), ("web/dev", 51, "")],                  // char device
            [("web/Chart.yaml", 48, "name: web"), ("other/x", 48, "")],                  // two top dirs
            [("Chart.yaml", 48, "name: web")],                                            // no top dir
        ]
        for c in cases {
            #expect(throws: ArchiveError.self) { try ChartArchive.read(archive(c)) }
        }
    }

    @Test func corruptChecksumAndOversizedFilesAreRefused() {
        var tar = TarReader.write([ChartFile(name: "web/Chart.yaml", data: Array("x".utf8))])
        tar[0] = UInt8(ascii: "X")  // header no longer matches its checksum
        #expect(throws: ArchiveError.self) { try ChartArchive.read(Gzip.compress(tar)) }
        let big = ChartArchive.write(top: "web", files: [ChartFile(name: "big", data: [UInt8](repeating: 1, count: 2000))])
        #expect(throws: ArchiveError.self) { try ChartArchive.read(big, limits: ArchiveLimits(maxFileBytes: 1000)) }
    }

    @Test func tgzSubchartsLoadAndTamperedOnesFailWithTheirPath() throws {
        let sub = ChartArchive.write(top: "db", files: [chartYAML("db", version: "2.0.0"), file("values.yaml", "port: 5432\n")])
        let c = try chart([chartYAML("app"), ChartFile(name: "charts/db-2.0.0.tgz", data: sub)], origin: "app")
        #expect(c.dependencies.map(\.name) == ["db"])
        #expect(c.dependencies[0].origin == "app/charts/db-2.0.0.tgz")
        var bad = sub
        bad[bad.count / 2] ^= 0xff
        do {
            _ = try chart([chartYAML("app"), ChartFile(name: "charts/db-2.0.0.tgz", data: bad)], origin: "app")
            Issue.record("expected an error")
        } catch let e as ChartError {
            #expect(e.diagnostics[0].location?.file == "app/charts/db-2.0.0.tgz")
            #expect(e.diagnostics[0].message.contains("error unpacking db-2.0.0.tgz in app"))
            #expect(e.diagnostics[0].fix != nil)
        }
    }
}

@Suite struct HelmIgnoreTests {
    @Test func crlfLinesAndABOMAreReadAsHelmReadsThem() throws {
        // Written on Windows: CRLF line ends and a byte-order mark before the first rule.
        let r = try HelmIgnore(text: "\u{FEFF}*.bak\r\n# comment\r\n/secret.txt\r\ndocs/\r\n")
        #expect(r.ignores("a/b.bak", isDirectory: false))
        #expect(r.ignores("secret.txt", isDirectory: false))
        #expect(!r.ignores("x/secret.txt", isDirectory: false))
        #expect(r.ignores("docs", isDirectory: true))
        #expect(!r.ignores("values.yaml", isDirectory: false))
    }

    @Test func helmSemantics() throws {
        let r = try HelmIgnore(text: "# comment\n*.bak\n/secret.txt\ndocs/\ntemplates/*.tmp\n")
        #expect(r.ignores("a/b/file.bak", isDirectory: false))     // basename rule anywhere
        #expect(r.ignores("secret.txt", isDirectory: false))       // rooted
        #expect(!r.ignores("sub/secret.txt", isDirectory: false))  // rooted only at the root
        #expect(r.ignores("docs", isDirectory: true))               // dir-only rule
        #expect(!r.ignores("docs", isDirectory: false))
        #expect(r.ignores("templates/x.tmp", isDirectory: false))  // structural
        #expect(!r.ignores("values.yaml", isDirectory: false))
        #expect(HelmIgnore.defaults.ignores("templates/.hidden", isDirectory: false))
    }

    @Test func doubleStarAndBadPatternsAreErrorsWithLines() {
        #expect(throws: HelmIgnoreError(line: 2, message: "double-star (**) syntax is not supported")) {
            try HelmIgnore(text: "ok\n**/x\n")
        }
        #expect(throws: HelmIgnoreError.self) { try HelmIgnore(text: "[abc\n") }
    }

    @Test func negationKeepsHelmsInvertedMeaning() throws {
        // Helm's quirk: a path that does not match a negated rule is ignored.
        let r = try HelmIgnore(text: "!keep.txt\n")
        #expect(!r.ignores("keep.txt", isDirectory: false))
        #expect(r.ignores("other.txt", isDirectory: false))
    }
}
