"""Loopback fakes of Upstash Redis REST, QStash, Cloudinary and the Instagram Platform.

Standard library only; see README.md in this folder for constructor options, CLI flags and the
/__control/ API. Import the classes lazily from their modules, e.g.
`from Tests.fakes.upstash import FakeUpstash`.
"""

__all__ = ["FakeUpstash", "FakeQStash", "FakeCloudinary", "FakeInstagram", "RedisServer", "Clock"]


def __getattr__(name):
    if name == "FakeUpstash":
        from .upstash import FakeUpstash
        return FakeUpstash
    if name == "FakeQStash":
        from .qstash import FakeQStash
        return FakeQStash
    if name == "FakeCloudinary":
        from .cloudinary import FakeCloudinary
        return FakeCloudinary
    if name == "FakeInstagram":
        from .instagram import FakeInstagram
        return FakeInstagram
    if name == "RedisServer":
        from .redis_server import RedisServer
        return RedisServer
    if name == "Clock":
        from .httpcore import Clock
        return Clock
    raise AttributeError(name)
