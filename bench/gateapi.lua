-- wrk script for bench/run. One file, five modes (BENCH_MODE):
--
--   submit   POST BENCH_PATH with BENCH_BODY and a unique Idempotency-Key per request
--            (thread number + a random per-thread prefix + a counter)
--   replay   the same POST with one fixed key (BENCH_IDEMPOTENCY_KEY) every time
--   approve  POST BENCH_PATH/<id>/approve for the approval ids in BENCH_IDS_FILE, each
--            id once: thread t of n takes ids t, t+n, t+2n, …
--   read     GET BENCH_PATH/<id> for job ids from BENCH_IDS_FILE, picked at random
--   page     GET BENCH_PATH (a console page, query included) with BENCH_TOKEN as the
--            Cookie header; a 200 without a queue row is counted as "200-no-rows"
--
-- BENCH_TOKEN is the bearer credential (in `page` mode, the console's session cookie).
-- At the end the script prints the count of each response status (the runner checks
-- that every answer had the expected one) and whether `approve` ran out of ids (then
-- the run is not valid: repeated votes are cheaper no-ops).

local mode = os.getenv("BENCH_MODE") or "submit"
local path = os.getenv("BENCH_PATH")
local token = os.getenv("BENCH_TOKEN")
local body = os.getenv("BENCH_BODY") or "{}"

local threads = {}
local thread_count = 0

-- Runs in the main Lua state, once per thread before it starts.
function setup(thread)
   thread_count = thread_count + 1
   thread:set("thread_number", thread_count)
   thread:set("thread_total", tonumber(os.getenv("BENCH_THREADS") or "2"))
   table.insert(threads, thread)
end

local function read_ids(file)
   local ids = {}
   for line in io.lines(file) do
      if #line > 0 then ids[#ids + 1] = line end
   end
   return ids
end

local headers
local counter = 0
local prefix
local ids
local position
statuses = {}
exhausted = 0

-- Runs in each thread's own Lua state.
function init(args)
   math.randomseed(os.time() * 1000 + thread_number * 7919)
   prefix = string.format("bench-%d-%d-%08x-", os.time(), thread_number, math.random(0, 0x7fffffff))
   headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
   if mode == "page" then
      headers = { ["Cookie"] = token }
   end
   if mode == "replay" then
      headers["Idempotency-Key"] = os.getenv("BENCH_IDEMPOTENCY_KEY")
   end
   if mode == "approve" or mode == "read" then
      ids = read_ids(os.getenv("BENCH_IDS_FILE"))
      position = thread_number
   end
end

function request()
   if mode == "submit" then
      counter = counter + 1
      headers["Idempotency-Key"] = prefix .. counter
      return wrk.format("POST", path, headers, body)
   elseif mode == "replay" then
      return wrk.format("POST", path, headers, body)
   elseif mode == "approve" then
      if position > #ids then
         exhausted = 1
         position = thread_number
      end
      local id = ids[position]
      position = position + thread_total
      return wrk.format("POST", path .. "/" .. id .. "/approve", headers, body)
   elseif mode == "page" then
      return wrk.format("GET", path, headers)
   else
      return wrk.format("GET", path .. "/" .. ids[math.random(1, #ids)], headers)
   end
end

function response(status, response_headers, response_body)
   if mode == "page" and status == 200 and not string.find(response_body, '<tr data-approval="apr_', 1, true) then
      status = "200-no-rows"
   end
   statuses[status] = (statuses[status] or 0) + 1
end

-- Runs in the main state after the run.
function done(summary, latency, requests)
   local total = {}
   local ran_out = 0
   for _, thread in ipairs(threads) do
      for status, count in pairs(thread:get("statuses")) do
         total[status] = (total[status] or 0) + count
      end
      ran_out = ran_out + thread:get("exhausted")
   end
   local parts = {}
   for status, count in pairs(total) do parts[#parts + 1] = status .. "=" .. count end
   table.sort(parts)
   io.write("statuses: " .. table.concat(parts, " ") .. "\n")
   io.write("exhausted: " .. (ran_out > 0 and "yes" or "no") .. "\n")
end
