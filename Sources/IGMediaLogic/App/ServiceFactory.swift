import Logging

/// Builds the running service from configuration: the one place dependencies are wired.
public enum ServiceFactory {
    public static func makeApplication(config: AppConfig, logger: Logger) -> Application {
        let handlers = Routes.Handlers()
        return Application(router: Router(routes: Routes.table(handlers)), logger: logger)
    }
}
