-- wrk script for bench/ingest: POSTs one audit log event per request to /audit_logs/events.
--
-- Environment:
--   BENCH_ORG_ID       organization the events belong to (required)
--   BENCH_API_KEY      API key sent as "Authorization: Bearer ..." (required)
--   BENCH_KEY_PREFIX   when set, every request carries a unique "Idempotency-Key: <prefix>-<thread>-<n>",
--                      as the WorkOS SDKs send; when unset, no Idempotency-Key header
--
-- Prints one machine-readable line at the end (parsed by bench/ingest):
--   wrk-result ok=.. non2xx=.. sent=.. socket_errors=.. rps=.. p50_us=.. p99_us=..
-- ok/non2xx count the responses seen by response(); sent counts requests built by request(), so after the run
-- ok <= rows stored <= sent (requests still in flight when wrk stops are stored but never answered to wrk).

-- setup, require_env, response and done come from wrk-common.lua beside this script
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk-common.lua")

local body, headers, key_prefix

function init(args)
   body = '{"organization_id":"' .. require_env("BENCH_ORG_ID") .. '","event":{'
      .. '"action":"user.signed_in","occurred_at":"2024-01-15T10:30:00.000Z",'
      .. '"actor":{"id":"user_456","type":"user"},'
      .. '"targets":[{"id":"user_123","type":"user"}],'
      .. '"context":{"location":"192.168.1.1","user_agent":"Chrome/91.0"}}}'
   headers = {
      ["Authorization"] = "Bearer " .. require_env("BENCH_API_KEY"),
      ["Content-Type"] = "application/json",
   }
   local prefix = os.getenv("BENCH_KEY_PREFIX")
   if prefix ~= nil and prefix ~= "" then
      key_prefix = prefix .. "-" .. thread_no .. "-"
   end
end

function request()
   sent = sent + 1
   if key_prefix then
      headers["Idempotency-Key"] = key_prefix .. sent
   end
   return wrk.format("POST", "/audit_logs/events", headers, body)
end
