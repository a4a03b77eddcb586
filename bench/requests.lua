-- One benchmark row for wrk, driven by a plan that bench/wrk.py writes as a Lua file:
--   return {method = "PATCH", diff = true, body_file = nil, seconds = 4,
--           drained_file = "/…/drained", partition = nil,
--           targets = {{path = "/api/…", headers = {…}}, …}}
-- Each request goes to the next target, round-robin. With `partition = N` (as many wrk
-- threads as connections), thread k only sends to targets k, k+N, …: each session's
-- requests then travel on one connection, as one browser's would. `diff` sends a small
-- patch with a fresh counter value; `body_file` sends that file's bytes. `members` (with
-- `diff`) makes each diff set its own member of MEMBERS round-robin, with a fresh
-- `Idempotency-Key`: with 16 connections, a member's previous write was answered long
-- before it is written again, so the paths of the writes in flight are disjoint.
-- `rebase_from` adds `Solo-Base-Rev`: the highest rev answered so far (from `rebase_from`
-- on), and such a rebase never conflicts. Requests are sent for `seconds` from the first
-- one; then the thread waits for every request in flight to be answered, writes
-- `drained_file`, and stops, so every write the server applied has been counted.
-- done() prints "@bench <name> <value>" lines, summed over threads, that the harness parses.

local ffi = require("ffi")
ffi.cdef([[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock_id, bench_timespec *tp);
]])
local CLOCK_MONOTONIC = 1
local PAUSE_MS = 3600 * 1000
local clock = ffi.new("bench_timespec")

local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) + tonumber(clock.tv_nsec) * 1e-9
end

local threads = {}

function setup(thread)
  thread:set("thread_number", #threads)
  table.insert(threads, thread)
end

local MEMBERS = 256
local plan, body, cursor, deadline, base_rev

function init(args)
  plan = dofile(args[1])
  if plan.body_file then
    local file = assert(io.open(plan.body_file, "rb"))
    body = file:read("*a")
    file:close()
  end
  if plan.partition then
    -- One connection per thread, and each session on one connection only.
    local mine = {}
    for index, target in ipairs(plan.targets) do
      if (index - 1) % plan.partition == thread_number then
        table.insert(mine, target)
      end
    end
    plan.targets = mine
  end
  cursor = thread_number % #plan.targets
  base_rev = plan.rebase_from
  sent, answered, in_window = 0, 0, 0
  statuses = {}
end

-- wrk calls delay() before each request it sends, but request() once more before the run
-- to check the script: the window opens, and requests count, from the first delay().
function delay()
  deadline = deadline or now() + plan.seconds
  if now() > deadline then
    -- Every answer may be in already (the last one just before the deadline): no
    -- response() would come to notice the drain.
    if answered == sent then
      drained()
    end
    return PAUSE_MS
  end
  return 0
end

-- Every request sent is answered: say so, and stop.
function drained()
  assert(io.open(plan.drained_file .. "." .. thread_number, "w")):close()
  wrk.thread:stop()
end

function request()
  local target = plan.targets[cursor + 1]
  cursor = (cursor + 1) % #plan.targets
  if deadline then
    sent = sent + 1
  end
  local payload = body
  local headers = target.headers
  if plan.members then
    payload = string.format(
      '{"ops":[{"op":"add","path":"/member%d","value":%d}]}', sent % MEMBERS, sent
    )
    headers = {}
    for name, value in pairs(target.headers) do
      headers[name] = value
    end
    headers["Idempotency-Key"] = string.format("%s-%d-%d", plan.keys, thread_number, sent)
    if base_rev then
      headers["Solo-Base-Rev"] = tostring(base_rev)
    end
  elseif plan.diff then
    payload = string.format('{"ops":[{"op":"replace","path":"/counter","value":%d}]}', sent)
  end
  return wrk.format(plan.method, target.path, headers, payload)
end

function response(status, _headers, answer)
  if base_rev and status == 200 then
    base_rev = math.max(base_rev, tonumber(answer:match('"rev":(%d+)')))
  end
  statuses[status] = (statuses[status] or 0) + 1
  answered = answered + 1
  if now() <= deadline then
    in_window = in_window + 1
  elseif answered == sent then
    drained()
  end
end

function done(_summary, latency)
  local totals = {sent = 0, in_window = 0}
  local statuses = {}
  for _, thread in ipairs(threads) do
    for name in pairs(totals) do
      totals[name] = totals[name] + thread:get(name)
    end
    for status, count in pairs(thread:get("statuses")) do
      statuses[status] = (statuses[status] or 0) + count
    end
  end
  totals.p50_us = latency:percentile(50)
  totals.p99_us = latency:percentile(99)
  for name, value in pairs(totals) do
    io.write(string.format("@bench %s %d\n", name, value))
  end
  for status, count in pairs(statuses) do
    io.write(string.format("@bench status_%d %d\n", status, count))
  end
end
