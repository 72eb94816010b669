-- wrk script for bench/run's `submit-attachment`: POST BENCH_PATH with the body read
-- from BENCH_BODY_FILE (megabytes of base64: too large for an environment variable,
-- which Linux caps at 128 KiB) and a unique Idempotency-Key per request (thread number
-- + a random per-thread prefix + a counter), as gateapi.lua's `submit` mode does.
--
-- At the end it prints the count of each response status and, when some answer was not
-- a 201, the first such answer's status and body (e.g. a 422 naming the field, or the
-- 503 of a replica whose large-submission slots were all taken).

local path = os.getenv("BENCH_PATH")
local token = os.getenv("BENCH_TOKEN")
local body_file = os.getenv("BENCH_BODY_FILE")

local threads = {}
local thread_count = 0

function setup(thread)
   thread_count = thread_count + 1
   thread:set("thread_number", thread_count)
   table.insert(threads, thread)
end

local body
local headers
local counter = 0
local prefix
statuses = {}
refusal = ""

function init(args)
   local file = assert(io.open(body_file, "rb"))
   body = file:read("*a")
   file:close()
   math.randomseed(os.time() * 1000 + thread_number * 7919)
   prefix = string.format("bench-att-%d-%d-%08x-", os.time(), thread_number, math.random(0, 0x7fffffff))
   headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
end

function request()
   counter = counter + 1
   headers["Idempotency-Key"] = prefix .. counter
   return wrk.format("POST", path, headers, body)
end

function response(status, response_headers, response_body)
   statuses[status] = (statuses[status] or 0) + 1
   if status ~= 201 and refusal == "" then
      refusal = status .. " " .. string.sub(response_body or "", 1, 600)
   end
end

function done(summary, latency, requests)
   local total = {}
   local first_refusal = ""
   for _, thread in ipairs(threads) do
      for status, count in pairs(thread:get("statuses")) do
         total[status] = (total[status] or 0) + count
      end
      local r = thread:get("refusal")
      if first_refusal == "" and r ~= nil and r ~= "" then first_refusal = r end
   end
   local parts = {}
   for status, count in pairs(total) do parts[#parts + 1] = status .. "=" .. count end
   table.sort(parts)
   io.write("statuses: " .. table.concat(parts, " ") .. "\n")
   if first_refusal ~= "" then io.write("first refusal: " .. first_refusal .. "\n") end
end
