-- wrk script for bench/deliver: measures the counting receiver (bench/DeliveryReceiver.java) alone, POSTing the
-- same pre-built gzipped 1,000-entry Datadog body to /api/v2/logs on every request, as the service would.
--
-- Environment:
--   BENCH_BODY_FILE   the gzipped body (written by DeliveryReceiver.java --write-body) (required)
--   BENCH_API_KEY     sent as DD-API-KEY (required)
--
-- Prints one machine-readable line at the end (parsed by bench/deliver):
--   wrk-result ok=.. non2xx=.. socket_errors=.. rps=.. p50_us=.. p99_us=..

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

local function require_env(name)
   local value = os.getenv(name)
   if value == nil or value == "" then
      error(name .. " is not set")
   end
   return value
end

local req
ok, non2xx, first_error = 0, 0, nil

function init(args)
   local file = assert(io.open(require_env("BENCH_BODY_FILE"), "rb"))
   local body = file:read("*a")
   file:close()
   req = wrk.format("POST", "/api/v2/logs", {
      ["Content-Type"] = "application/json",
      ["Content-Encoding"] = "gzip",
      ["DD-API-KEY"] = require_env("BENCH_API_KEY"),
   }, body)
end

function request()
   return req
end

function response(status, _, response_body)
   if status >= 200 and status < 300 then
      ok = ok + 1
   else
      non2xx = non2xx + 1
      if first_error == nil then
         first_error = status .. " " .. response_body
      end
   end
end

function done(summary, latency, _)
   local total_ok, total_non2xx = 0, 0
   for _, thread in ipairs(threads) do
      total_ok = total_ok + thread:get("ok")
      total_non2xx = total_non2xx + thread:get("non2xx")
      local err = thread:get("first_error")
      if err ~= nil then
         io.stderr:write("first non-2xx response: " .. err .. "\n")
      end
   end
   local e = summary.errors
   io.write(string.format("wrk-result ok=%d non2xx=%d socket_errors=%d rps=%.1f p50_us=%d p99_us=%d\n",
      total_ok, total_non2xx, e.connect + e.read + e.write + e.timeout,
      summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99)))
end
