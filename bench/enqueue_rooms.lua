-- Durable enqueue spread over several rooms: every request is a POST without a cookie (a new
-- ticket, 201) to the next room of the list, round robin, each wrk thread starting one room
-- further on, so every room gets the same share. The rooms come from the environment (bench/run's
-- run_wrk puts the URL last, so they cannot follow wrk's `--`):
--   BENCH_ROOMS="ROOM ROOM…" wrk … -s bench/enqueue_rooms.lua http://HOST:PORT/
wrk.method = "POST"
wrk.body = ""
wrk.headers["Content-Type"] = "application/json"

local threads = 0
function setup(thread)
  thread:set("offset", threads)
  threads = threads + 1
end

local requests, next_i = {}, 0
function init(args)
  for room in (os.getenv("BENCH_ROOMS") or ""):gmatch("%S+") do
    requests[#requests + 1] = wrk.format(nil, "/v1/rooms/" .. room .. "/tickets")
  end
  if #requests == 0 then error("enqueue_rooms.lua: BENCH_ROOMS names no room") end
  next_i = offset or 0
end

function request()
  next_i = next_i + 1
  return requests[next_i % #requests + 1]
end
