-- Drives one endpoint with varied ids. Set by the environment:
--   BENCH_IDS (a file with one id per line), BENCH_PATH (with {id}), BENCH_METHOD,
--   BENCH_TOKENS (a file with one bearer token per line, one picked per request; empty for
--   none), BENCH_BODY (for POST).
local ids = {}
local path = os.getenv("BENCH_PATH")
local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
local headers = {}
local tokens = {}

function init(args)
  for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
  math.randomseed(os.time() + math.floor(os.clock() * 100000))
  local file = os.getenv("BENCH_TOKENS")
  if file and file ~= "" then
    for line in io.lines(file) do tokens[#tokens + 1] = "Bearer " .. line end
  end
  if body then headers["Content-Type"] = "application/json" end
end

function request()
  local id = ids[math.random(#ids)]
  if #tokens > 0 then headers["Authorization"] = tokens[math.random(#tokens)] end
  return wrk.format(method, (path:gsub("{id}", id)), headers, body)
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p99_ms": %.3f, "errors": %d, "non_2xx": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, errors, summary.errors.status))
end
