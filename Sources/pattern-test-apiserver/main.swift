import KubeTestServer
print("pattern-test-apiserver: not yet implemented")
