-- Enqueue phase of the pass benchmark (setup, not a measurement).
-- POSTs new tickets and writes each returned ticket id to <dir>/ids.<thread>, one per line, until
-- the thread has its share; then its connections go quiet, and the last thread to finish ends
-- wrk early (SIGINT to itself: wrk's main thread otherwise sleeps for the whole -d).
-- Usage: wrk -tT ... -s collect_tickets.lua URL -- <dir> <per_thread> <T>
local ffi = require("ffi")
ffi.cdef [[
  int kill(int pid, int sig);
  int getpid(void);
]]
local kSigint = 2
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  dir, want, nthreads = args[1], tonumber(args[2]), tonumber(args[3])
  got, bad, finished = 0, 0, false
  out = assert(io.open(dir .. "/ids." .. tid, "w"))
  req = wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, "")
end

-- Appends this thread to <dir>/done; whoever sees every thread there stops wrk.
local function finish()
  if finished then return end
  finished = true
  out:close()
  local f = assert(io.open(dir .. "/done", "a"))
  f:write(tid, "\n")
  f:close()
  local n = 0
  for _ in io.lines(dir .. "/done") do n = n + 1 end
  if n >= nthreads then ffi.C.kill(ffi.C.getpid(), kSigint) end
end

function request()
  if got >= want then
    finish()
    return "" -- an empty request sends nothing: the connection stays idle
  end
  return req
end

function response(status, headers, body)
  if got >= want then return end
  local id = status == 201 and body:match('"ticket"%s*:%s*"([^"]+)"')
  if id then
    out:write(id, "\n")
    got = got + 1
  else
    bad = bad + 1
    if bad == 1 then io.stderr:write("collect: first bad answer ", status, ": ", body, "\n") end
  end
  if got >= want then finish() end
end

function done(summary, latency, requests)
  local g, b = 0, 0
  for _, t in ipairs(threads) do
    g = g + t:get("got")
    b = b + t:get("bad")
  end
  io.write(string.format("collected=%d bad=%d duration_us=%d\n", g, b, summary.duration))
end
