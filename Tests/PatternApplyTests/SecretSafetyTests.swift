import Testing
import PatternCore
import PatternCompile
import PatternApply
import KubeTestServer

@Suite struct SecretSafetyTests {
    @Test func secretValuesNeverAppearInFailuresOrDiffs() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let repo = ExampleRepo()
        repo.write("patterns/multicloud-platform/components/secrets-store/secret.yaml", """
            apiVersion: v1
            kind: Secret
            metadata: {name: store-token, namespace: platform-secrets}
            stringData:
              token: hunter2-very-secret
            """)
        let site = try repo.render("dev")
        // Diff shows a fingerprint, never the value.
        let diff = try await cluster.engine.diff(site)
        let secretDiff = try #require(diff.diffs.first { $0.key.name == "store-token" })
        #expect(!secretDiff.text.contains("hunter2"))
        #expect(secretDiff.text.contains("sha256:"))
        // A server error that quotes the value is scrubbed before it reaches the report.
        _ = cluster.server.faults.add(FaultRule(times: 10, predicate: { $0.name == "store-token" && $0.verb == "apply" },
                                                action: .error(APIError(code: 422, reason: "Invalid",
                                                                        message: "Secret \"store-token\" is invalid: stringData.token: Invalid value: \"hunter2-very-secret\""))))
        let result = try await cluster.engine.apply(site, options: fastOptions())
        let failure = try #require(result.failed.first { $0.key.name == "store-token" })
        #expect(failure.message?.contains("hunter2") == false)
        #expect(failure.message?.contains("<redacted>") == true)
        let ledger = try await cluster.engine.records.loadLedger(SiteIdentity(site))
        #expect(!(ledger.entries.last?.message.contains("hunter2") ?? true))
    }
}
