-- bench/post.lua: wrk POSTs one fixed body and prints one machine-readable result line.
--
-- The body, its content type and an optional Authorization header come from the environment
-- (BENCH_BODY, BENCH_CONTENT_TYPE, BENCH_AUTHORIZATION), so an API key or a control token is
-- never on a command line (visible in ps) nor written into a file.

local body = os.getenv("BENCH_BODY")
if body == nil then
  error("BENCH_BODY is not set: run this script through bench/wrk.py")
end

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = os.getenv("BENCH_CONTENT_TYPE") or "application/x-www-form-urlencoded"
local authorization = os.getenv("BENCH_AUTHORIZATION")
if authorization ~= nil and authorization ~= "" then
  wrk.headers["Authorization"] = authorization
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH-RESULT {"requests": %d, "duration_us": %d, "connect_errors": %d, '
      .. '"read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, '
      .. '"p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, errors.connect, errors.read, errors.write,
    errors.status, errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
