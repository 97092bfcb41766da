# Makes `python3 -m Tests.fakes.<name>` and `python3 -m pytest Tests/fakes/tests` import the fakes
# as the `Tests.fakes` package from the repository root. SwiftPM ignores this file.
