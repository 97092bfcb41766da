"""igmedia benchmark: the whole stack on loopback, one command, targets interleaved.

    scripts/bench                 full run (make bench): writes bench/results/latest.md and the
                                  README's Performance table
    scripts/bench --smoke         ~1 s per target, a few tenants, writes nothing in the repository
                                  (Tests/e2e/test_bench_smoke.py runs it so the script cannot rot)

What one run does, everything private to its run directory (default .run/bench) and bound to
127.0.0.1 only:

 1. starts redis-server, the loopback fakes (Instagram, Cloudinary, Upstash REST on the same
    redis), the responder twice (native Redis backend, and Upstash REST backend through the
    fake), and php-fpm with its own pool (8 workers, unix socket); nginx instances are rendered
    from the project's own configs (scripts/render-nginx-conf) and started per measurement;
 2. registers the tenants through POST /register and fills each with a 50-item feed with the
    real `igmedia-fcgi sync --all --parallel 8` against the fakes;
 3. measures, in rounds that interleave the targets, `wrk -t2 -c64 -dNs` with bench/photos.lua
    spreading the requests over every tenant's token:
       photos   GET /photos through nginx (native Redis backend)
       photos-gzip  the same with `Accept-Encoding: gzip` (the pre-compressed gzip body)
       health   GET /health through the same nginx and responder (the floor)
       static   nginx serving one tenant's exact /photos body as a static file (the box's limit)
       php      php-fpm + phpredis doing the same reads (bench/php/photos.php)
       upstash  GET /photos with the Upstash REST backend (FakeUpstash, a Python server)
       cached   GET /photos with the nginx feed microcache on
 4. sends 1,000,000 GET /photos (bounded by count and time) and reads the responder's VmRSS
    before, half way and after;
 5. times a cold sync of one 50-media tenant with the fakes adding 100 ms to every Instagram and
    Cloudinary call, then an unchanged re-sync.

Every load loop is bounded in time (wrk -d, subprocess timeouts) and in count.

The parts: common (paths, logging), settings (targets and run sizes), tools (wrk, php-fpm: found
or installed), processes (the fakes, php-fpm, the reference nginx config; redis, the responder
and nginx with the local config come from the e2e harness), measure (wrk runs and /proc
readings), stack (starting and stopping a run's services), tenants (registering and filling
them), targets (the checked request, wrk, the interleaved rounds), run (the memory and sync
checks, the whole run), report (the markdown and the README table), cli (arguments and the main
flow).
"""

import sys
from pathlib import Path

# The e2e harness (Tests/e2e/harness.py) starts redis, the responder and nginx the way the tests
# do; every part of the benchmark imports it from there.
_HARNESS = Path(__file__).resolve().parent.parent.parent / "Tests" / "e2e"
if str(_HARNESS) not in sys.path:
    sys.path.insert(0, str(_HARNESS))
