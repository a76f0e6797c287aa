-- wrk script: each request is a GET of a random line of a paths file, with a fixed
-- Cookie header; at the end one line "BENCH_JSON {...}" with counts and latency
-- percentiles (microseconds) for run_http_load.py to parse.
--
--   wrk -t1 -c16 -d10s -s paths.lua http://127.0.0.1:8100 -- PATHS_FILE COOKIE

local paths = {}
local cookie = ""

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    if #line > 0 then
      paths[#paths + 1] = line
    end
  end
  file:close()
  assert(#paths > 0, "empty paths file: " .. args[1])
  cookie = args[2] or ""
  -- Threads run separate Lua states: give each its own sequence.
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16))
end

function request()
  local path = paths[math.random(#paths)]
  local headers = { ["Accept"] = "application/json" }
  if #cookie > 0 then
    headers["Cookie"] = cookie
  end
  return wrk.format("GET", path, headers)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency.min, latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max))
end
