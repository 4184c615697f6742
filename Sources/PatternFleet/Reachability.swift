import KubeClient

/// Whether a cluster answers at all, before a site's operation runs.
public enum Reachability {
    /// Why `error` means the cluster could not be reached (nil: it answered, e.g. 401/403/404):
    /// every transport failure (DNS, connect, TLS, timeout, a cut connection), a request
    /// timeout, and 502/503/504 from whatever sits in front of the API server.
    public static func unreachableReason(_ error: KubeError) -> String? {
        switch error {
        case .transport(let t): return t.message
        case .timeout(let m): return "timeout: \(m)"
        case .serverError(let s) where s.code == 502 || s.code == 503 || s.code == 504:
            return "the API server answered HTTP \(s.code) (\(s.message.isEmpty ? "unavailable" : s.message))"
        case .http(let s) where s.code == 502 || s.code == 503 || s.code == 504:
            return "the API server answered HTTP \(s.code)"
        default: return nil
        }
    }

    /// One `GET /version` with `attempts` tries and a `connectTimeout`: nil when the cluster
    /// answered, else why it is unreachable; other errors (401, 403) are thrown.
    public static func probe(_ client: KubeClient, attempts: Int = 2, connectTimeout: Double = 5) async throws(KubeError) -> String? {
        var cfg = client.config
        cfg.retry = RetryPolicy(maxAttempts: attempts, baseDelay: 0.2, maxDelay: 1)
        cfg.connectTimeout = connectTimeout
        do {
            _ = try await KubeClient(config: cfg).serverVersion()
            return nil
        } catch {
            if let reason = unreachableReason(error) { return reason }
            throw error
        }
    }
}
