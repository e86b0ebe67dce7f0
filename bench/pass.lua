-- First pass issue: POST /v1/rooms/<room>/tickets/<id>/pass exactly once for each id in a file.
-- Thread k takes lines k, k+T, k+2T… (disjoint slices). When its slice is sent, a thread's
-- connections go quiet; when every answer is in, the thread is finished, and the last thread to
-- finish ends wrk early (SIGINT to itself). Time runs from a thread's first request to its last
-- answer (CLOCK_MONOTONIC); passes/s = 200 answers / (last answer − first request) over all threads.
-- Usage: wrk -tT ... -s pass.lua URL -- <ids file> <T> <room> <done file>
local ffi = require("ffi")
ffi.cdef [[
  int kill(int pid, int sig);
  int getpid(void);
  int gettid(void);
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock_id, bench_timespec *ts);
]]
local kSigint = 2
local kClockMonotonic = 1
local ts = ffi.new("bench_timespec")
local function now_s()
  ffi.C.clock_gettime(kClockMonotonic, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  nthreads, done_file = tonumber(args[2]), args[4]
  local prefix = "/v1/rooms/" .. args[3] .. "/tickets/"
  local headers = { ["Content-Type"] = "application/json" }
  reqs = {}
  local line_no = 0
  for line in io.lines(args[1]) do
    if line_no % nthreads == tid then
      reqs[#reqs + 1] = wrk.format("POST", prefix .. line .. "/pass", headers, "")
    end
    line_no = line_no + 1
  end
  sent, answered, ok, bad, finished = 0, 0, 0, 0, false
  first_s, last_s = 0, 0
end

local function finish()
  if finished then return end
  finished = true
  local f = assert(io.open(done_file, "a"))
  f:write(tid, "\n")
  f:close()
  local n = 0
  for _ in io.lines(done_file) do n = n + 1 end
  if n >= nthreads then ffi.C.kill(ffi.C.getpid(), kSigint) end
end

function request()
  -- wrk calls request() once from its main thread to check the script (nothing is sent then):
  -- answer without using up an id.
  if ffi.C.gettid() == ffi.C.getpid() then return reqs[1] or wrk.format("GET", "/healthz") end
  if sent >= #reqs then
    if answered >= #reqs then finish() end
    return "" -- an empty request sends nothing: the connection stays idle
  end
  if sent == 0 then first_s = now_s() end
  sent = sent + 1
  return reqs[sent]
end

function response(status, headers, body)
  answered = answered + 1
  last_s = now_s()
  if status == 200 then
    ok = ok + 1
  else
    bad = bad + 1
    if bad == 1 then io.stderr:write("pass: first non-200 answer ", status, ": ", body, "\n") end
  end
  if answered >= #reqs then finish() end
end

function done(summary, latency, requests)
  local o, b, first, last = 0, 0, math.huge, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    b = b + t:get("bad")
    local f, l = t:get("first_s"), t:get("last_s")
    if f > 0 and f < first then first = f end
    if l > last then last = l end
  end
  local span_us = last > first and (last - first) * 1e6 or summary.duration
  io.write(string.format("passes=%d non200=%d span_us=%d\n", o, b, span_us))
end
