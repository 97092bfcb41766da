/// What a sync did about the tenant's Instagram token, as the webhook's `refreshTokenResult` and
/// the sync CLI's `token=` show it.
public enum RefreshOutcome: Sendable, Equatable, CustomStringConvertible {
    /// Refreshed and stored: `success`.
    case refreshed
    /// Younger than `TOKEN_REFRESH_AFTER_HOURS`: `not_due`.
    case notDue
    /// Instagram refused or could not be reached; the sync went on with the old token:
    /// `failed: <reason>`.
    case failed(String)
    /// The sync did not run (another one held the tenant's lock): `not_run`.
    case notRun

    /// The exact strings the API has always returned.
    public var description: String {
        switch self {
        case .refreshed: return "success"
        case .notDue: return "not_due"
        case .failed(let reason): return "failed: \(reason)"
        case .notRun: return "not_run"
        }
    }
}
