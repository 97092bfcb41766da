-- wrk script for scripts/bench: every request carries `Authorization: Bearer <token>`, the
-- tokens taken in turn from a file (one per line), so the load spreads over every tenant.
--
--   wrk -t2 -c64 -d10s -s bench/photos.lua http://127.0.0.1:PORT/photos -- TOKENS_FILE [MAX_PER_THREAD [ACCEPT_ENCODING]]
--
-- MAX_PER_THREAD (optional, 0 = none) stops each thread after it has sent that many requests,
-- so a run can be bounded by count as well as by wrk's -d. ACCEPT_ENCODING (optional, empty =
-- none) is sent as `Accept-Encoding` on every request, e.g. `gzip` for the pre-compressed feed. The path and method come from the URL,
-- so the same script drives /photos, /health and the reference targets.
--
-- done() prints one line `WRK_JSON {...}` (latencies in microseconds) that scripts/bench parses.

local thread_count = 0

function setup(thread)
   thread_count = thread_count + 1
   thread:set("thread_id", thread_count)
end

local requests = {}
local count = 0
local index = 0
local sent = 0
local cap = 0

function init(args)
   local path = args[1]
   if path == nil then
      error("usage: ... -s photos.lua URL -- TOKENS_FILE [MAX_PER_THREAD [ACCEPT_ENCODING]]")
   end
   cap = tonumber(args[2] or "0") or 0
   local accept_encoding = args[3]
   for line in io.lines(path) do
      if #line > 0 then
         count = count + 1
         local headers = { ["Authorization"] = "Bearer " .. line }
         if accept_encoding ~= nil and #accept_encoding > 0 then
            headers["Accept-Encoding"] = accept_encoding
         end
         -- Formatted once here: request() only picks the next one.
         requests[count] = wrk.format(nil, nil, headers)
      end
   end
   if count == 0 then
      error("no tokens in " .. path)
   end
   -- Threads start at different tokens so they do not walk the list in step.
   index = (((thread_id or 1) - 1) * 37) % count
end

function request()
   index = index % count + 1
   sent = sent + 1
   if cap > 0 and sent >= cap then
      wrk.thread:stop()
   end
   return requests[index]
end

function done(summary, latency, _)
   local e = summary.errors
   io.write(string.format(
      'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"mean_us":%.1f,"max_us":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
      summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
      latency.mean, latency.max,
      e.connect, e.read, e.write, e.status, e.timeout))
end
