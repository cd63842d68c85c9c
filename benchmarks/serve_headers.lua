-- wrk script for benchmarks/load_serve.py: the CDR headers on every request, and the figures
-- as one JSON line at the end. The Accept-Encoding comes from the environment (WRK_ENCODING).
wrk.headers["x-v"] = "1"
wrk.headers["x-fapi-interaction-id"] = "6f1c5c2e-6d0c-4a58-9a57-3a3f2d1e0b9a"
local encoding = os.getenv("WRK_ENCODING")
if encoding and encoding ~= "" then
   wrk.headers["Accept-Encoding"] = encoding
end

function done(summary, latency, requests)
   local errors = summary.errors
   io.write(string.format(
      '{"requests": %d, "bytes": %d, "seconds": %.6f, "p50_us": %d, "p95_us": %d, ' ..
      '"p99_us": %d, "max_us": %d, "non_2xx": %d, "socket_errors": %d}\n',
      summary.requests, summary.bytes, summary.duration / 1e6,
      latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
      errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
