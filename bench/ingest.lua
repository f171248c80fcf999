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

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_no", #threads)
end

local function require_env(name)
   local value = os.getenv(name)
   if value == nil or value == "" then
      error(name .. " is not set")
   end
   return value
end

local body, headers, key_prefix
sent, ok, non2xx, first_error = 0, 0, 0, nil

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
   local total_ok, total_non2xx, total_sent = 0, 0, 0
   for _, thread in ipairs(threads) do
      total_ok = total_ok + thread:get("ok")
      total_non2xx = total_non2xx + thread:get("non2xx")
      total_sent = total_sent + thread:get("sent")
      local err = thread:get("first_error")
      if err ~= nil then
         io.stderr:write("first non-2xx response: " .. err .. "\n")
      end
   end
   local e = summary.errors
   io.write(string.format("wrk-result ok=%d non2xx=%d sent=%d socket_errors=%d rps=%.1f p50_us=%d p99_us=%d\n",
      total_ok, total_non2xx, total_sent, e.connect + e.read + e.write + e.timeout,
      summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99)))
end
