-- wrk script for bench/deliver: measures the counting receiver (bench/DeliveryReceiver.java) alone, POSTing the
-- same pre-built gzipped 1,000-entry Datadog body to /api/v2/logs on every request, as the service would.
--
-- Environment:
--   BENCH_BODY_FILE   the gzipped body (written by DeliveryReceiver.java --write-body) (required)
--   BENCH_API_KEY     sent as DD-API-KEY (required)
--
-- Prints one machine-readable line at the end (parsed by bench/deliver):
--   wrk-result ok=.. non2xx=.. sent=.. socket_errors=.. rps=.. p50_us=.. p99_us=..

-- setup, require_env, response and done come from wrk-common.lua beside this script
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk-common.lua")

local req

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
