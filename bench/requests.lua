-- wrk script (bench/load.py): cycle through pre-built requests, one a line: METHOD \t path \t headers \t body
-- (headers "Name: value|Name: value"). Arguments: file, expected text in every reply ("" for none), threads.
-- Thread k takes lines k, k+n, k+2n, … so no request is sent twice until its share runs out ("wrapped").
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(args[3])
  expected = args[2]
  reqs, n, bad, wrapped = {}, 0, 0, 0
  local i = 0
  for line in io.lines(args[1]) do
    if i % nthreads == id then
      local method, path, hdrs, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {}
      for k, v in hdrs:gmatch("([^|:]+): ([^|]*)") do headers[k] = v end
      if body == "" then body = nil end
      table.insert(reqs, wrk.format(method, path, headers, body))
    end
    i = i + 1
  end
end

function request()
  n = n + 1
  if n > #reqs then n, wrapped = 1, wrapped + 1 end
  return reqs[n]
end

function response(status, headers, body)
  if status < 200 or status > 299 or (expected ~= "" and not body:find(expected, 1, true)) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local bad, wrapped = 0, 0
  for _, t in ipairs(threads) do
    bad, wrapped = bad + t:get("bad"), wrapped + t:get("wrapped")
  end
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), bad, e.connect + e.read + e.write + e.timeout, wrapped,
    e.connect, e.read, e.write, e.timeout))
end
