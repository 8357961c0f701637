-- wrk script of tools/bench/serve_bench.sh and serve_soak.sh: GET requests
-- cycling through the paths in the file args[1], one per line, each
-- connection pausing args[2] milliseconds (default 0) before a request.
-- Prints "RESULT req/s p50_ms p99_ms errors requests http_errors", where
-- errors counts HTTP statuses above 399, socket errors and timeouts.
local paths = {}
local i = 0
local pause = 0
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  pause = tonumber(args[2] or "0")
end
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
delay = function() return pause end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %.1f %.3f %.3f %d %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status + e.connect + e.read + e.write + e.timeout, summary.requests, e.status))
end
