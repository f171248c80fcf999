-- Shared by the bench/*.lua wrk scripts: thread bookkeeping, required environment, response counting, and the
-- machine-readable result line the bench scripts parse:
--   wrk-result ok=.. non2xx=.. sent=.. socket_errors=.. rps=.. p50_us=.. p99_us=..
-- ok/non2xx count the responses seen by response(); sent counts requests a script built (0 when it does not count).

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_no", #threads)
end

function require_env(name)
   local value = os.getenv(name)
   if value == nil or value == "" then
      error(name .. " is not set")
   end
   return value
end

sent, ok, non2xx, first_error = 0, 0, 0, nil

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
