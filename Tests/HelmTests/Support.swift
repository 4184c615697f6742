import Testing
import TestSupport
import PatternCore
@testable import Helm

let helmFixtures: String = {
    let parts = #filePath.split(separator: "/").dropLast(2)
    return "/" + parts.joined(separator: "/") + "/Fixtures/helm"
}()

func file(_ name: String, _ text: String) -> ChartFile { ChartFile(name: name, data: Array(text.utf8)) }

func yaml(_ s: String) -> Value { try! HelmYAML.parse(Array(s.utf8), file: "<test>") }

/// A chart from in-memory files.
func chart(_ files: [ChartFile], origin: String = "c") throws -> Chart {
    try ChartLoader().loadFiles(files, origin: origin, nesting: 0)
}

func chartYAML(_ name: String, version: String = "1.0.0", extra: String = "") -> ChartFile {
    file("Chart.yaml", "apiVersion: v2\nname: \(name)\nversion: \(version)\n" + extra)
}

#if canImport(Glibc)
import Glibc
#endif

/// A temporary directory removed by `remove()`.
struct TempDir {
    let path: String
    init() throws {
        path = TemporaryDirectories.make("pattern-helm")
    }
    func mkdirs(_ rel: String) {
        var cur = path
        for c in rel.split(separator: "/") { cur += "/" + c; mkdir(cur, 0o755) }
    }
    func write(_ rel: String, _ text: String) throws { try write(rel, Array(text.utf8)) }
    func write(_ rel: String, _ bytes: [UInt8]) throws {
        if let slash = rel.lastIndex(of: "/") { mkdirs(String(rel[..<slash])) }
        let fd = open(path + "/" + rel, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
    func symlink(_ rel: String, to target: String) throws {
        if let slash = rel.lastIndex(of: "/") { mkdirs(String(rel[..<slash])) }
        Glibc.symlink(target, path + "/" + rel)
    }
    func remove() {
        func rm(_ p: String) {
            var st = stat()
            guard lstat(p, &st) == 0 else { return }
            if st.st_mode & S_IFMT == S_IFDIR {
                if let d = opendir(p) {
                    var names: [String] = []
                    while let e = readdir(d) {
                        let n = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                        if n != "." && n != ".." { names.append(n) }
                    }
                    closedir(d)
                    for n in names { rm(p + "/" + n) }
                }
                rmdir(p)
            } else { unlink(p) }
        }
        rm(path)
    }
}
