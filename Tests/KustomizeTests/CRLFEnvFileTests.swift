import Testing
import PatternCore
@testable import Kustomize

/// An env file written on Windows (CRLF line ends) is read line by line, as `kubectl kustomize`
/// v5.5.0 reads it: each `KEY=VALUE` is its own key, and the hash suffix is kubectl's.
@Suite struct CRLFEnvFileTests {
    @Test func aCRLFEnvFileGivesOneKeyPerLineAndKubectlsName() throws {
        let files = ["kustomization.yaml": "configMapGenerator:\n- name: e\n  envs:\n  - a.env\n",
                     "a.env": "A=1\r\nB=two\r\n# c\r\nC=x y\r\n"]
        let objects = try KustomizeBuilder(tree: MemoryTree(files: files)).build(.root)
        #expect(objects.count == 1)
        // Output of `kubectl kustomize` on the same two files.
        #expect(objects.first?.metadataName == "e-5b4bghbk6g")
        #expect(objects.first?["data"] == ["A": "1", "B": "two", "C": "x y"])
    }
}
