-- wrk script for bench/intake.py: POST /api/v1/callbacks at a steady offered rate.
--
--   wrk -t T -c C -d Ds -s bench/intake_load.lua URL -- RATE WIDGET BASE
--
-- RATE: requests per second over all threads. Each thread spaces its requests
-- T/RATE seconds apart on whichever of its connections is free (wrk's `delay()`), so
-- with enough connections the load is open loop: a slow answer does not delay the
-- next request. When every connection is busy the server is slower than the offered
-- rate, and the achieved rate (printed) falls below it.
-- Each request carries its own valid Estonian mobile number, +372 BASE + thread *
-- 100000 + n, so the duplicate check never short-cuts intake.
-- done() prints one JSON line (latencies in microseconds, from wrk's histogram).

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local clock = ffi.new("bench_timespec")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local interval_ms, widget, base, sent, next_slot
statuses = {}

function init(args)
  local rate = tonumber(args[1])
  widget = args[2]
  base = tonumber(args[3]) + thread_id * 100000
  interval_ms = 1000 * #args[4] / rate -- args[4]: one character per wrk thread
  sent = 0
end

function delay()
  local now = now_ms()
  if next_slot == nil then
    next_slot = now + interval_ms * (thread_id / 2)
  end
  local wait = next_slot - now
  next_slot = next_slot + interval_ms
  if wait < 0 then
    return 0
  end
  return wait
end

function request()
  sent = sent + 1
  local body = string.format(
    '{"widget": "%s", "phone": "+372%d", "page_url": "https://shop.example/p/%d"}',
    widget, base + sent, sent % 50
  )
  return wrk.format("POST", "/api/v1/callbacks", { ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(counts) do
    table.insert(parts, string.format('"%s": %d', status, n))
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "statuses": {%s}, ' ..
    '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "p999": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration, table.concat(parts, ", "),
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean
  ))
end
