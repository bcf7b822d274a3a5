-- wrk's half of bench/wrk_load.py: each wrk thread holds one connection and walks its share
-- of the applicants through the form. A user's next webhook goes only after the previous one
-- was answered 200; the thread's users wait in one queue, so they interleave, as the
-- aiohttp senders of bench/load.py do. The webhooks were signed beforehand in Python
-- (walk-<thread>.tsv: user, reply token, X-Line-Signature, body); the times are
-- CLOCK_MONOTONIC, the clock of Python's time.monotonic() and so of the fake LINE API.
--
-- wrk -t N -c N -s bench/walk.lua URL -- FOLDER   (writes FOLDER/acks.tsv when done)

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *now);
]])
local CLOCK_MONOTONIC = 1
local stamp = ffi.new("bench_timespec")

local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, stamp)
  return tonumber(stamp.tv_sec) + tonumber(stamp.tv_nsec) * 1e-9
end

-- The main Lua state: numbers the threads (setup runs before each thread's init).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

-- Each thread's own Lua state from here on.
local walks = {} -- user -> list of {token, signature, body}; walks[user].next: step to send
local queue, head, tail = {}, 1, 0 -- users whose previous webhook was answered
local sent -- when the webhook in flight went
local current -- the user whose webhook is in flight
local headers = {
  ["Content-Type"] = "application/json; charset=utf-8",
  ["User-Agent"] = "LineBotWebhook/2.0",
}
acked = {} -- "token \t user \t step \t sent \t acked" per webhook answered 200
statuses = {} -- HTTP status -> count
resent = 0 -- webhooks sent again after the connection broke before an answer

local function push(user)
  tail = tail + 1
  queue[tail] = user
end

function init(args)
  folder = args[1]
  for line in io.lines(folder .. "/walk-" .. id .. ".tsv") do
    local user, token, signature, body = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t(.*)$")
    if walks[user] == nil then
      walks[user] = { next = 1 }
      push(user)
    end
    table.insert(walks[user], { token, signature, body })
  end
end

function request()
  if current ~= nil then
    resent = resent + 1 -- wrk reconnected: the same event again, as LINE redelivers it
  else
    current, queue[head], head = queue[head], nil, head + 1
  end
  local webhook = walks[current][walks[current].next]
  headers["X-Line-Signature"] = webhook[2]
  sent = now()
  return wrk.format("POST", nil, headers, webhook[3])
end

function response(status, _, _)
  local answered = now()
  local walk = walks[current]
  statuses[status] = (statuses[status] or 0) + 1
  if status == 200 then
    local token = walk[walk.next][1]
    acked[#acked + 1] = string.format("%s\t%s\t%d\t%.6f\t%.6f", token, current, walk.next - 1, sent, answered)
    walk.next = walk.next + 1
  end -- any other answer: the same event again on the user's next turn
  if walk.next <= #walk then
    push(current)
  end
  current = nil
  if head > tail then
    wrk.thread:stop() -- every user of this thread has walked the whole form
  end
end

function done(_, _, _)
  local out = assert(io.open(threads[1]:get("folder") .. "/acks.tsv", "w"))
  for _, thread in ipairs(threads) do
    for _, line in ipairs(thread:get("acked")) do
      out:write("ack\t", line, "\n")
    end
    for status, count in pairs(thread:get("statuses")) do
      out:write("status\t", status, "\t", count, "\n")
    end
    out:write("resent\t", thread:get("resent"), "\n")
  end
  out:close()
end
