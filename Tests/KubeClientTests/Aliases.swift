// KubeTestServer also declares `WatchEvent` and `HTTPRequest`; files that import both modules
// use these names. (`KubeClient.WatchEvent` would resolve to a member of the class `KubeClient`.)
import KubeClient

typealias ClientWatchEvent = WatchEvent
