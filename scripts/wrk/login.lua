-- POST /api/v1/sessions with {phone, code} pairs, each used once: the
-- pairs come from PAIRS (one "phone code" per line, written by the login
-- section of scripts/bench-1m.sh, which requested each code and read it
-- from the console SMS provider's log). Thread i of n takes lines i, i+n,
-- i+2n, ... so no pair is sent twice; a thread that runs out starts over,
-- and the reused codes answer 400 (counted as Non-2xx by wrk): size PAIRS
-- to the run. THREADS: wrk's -t (default 2).
local started = 0

function setup(thread)
  thread:set("idx", started)
  started = started + 1
end

function init()
  pairs_ = {}
  local n = tonumber(os.getenv("THREADS") or "2")
  local i = 0
  for line in io.lines(os.getenv("PAIRS")) do
    if i % n == idx then
      local phone, code = line:match("^(%S+)%s+(%d+)$")
      if phone then
        pairs_[#pairs_ + 1] = '{"phone":"' .. phone .. '","code":"' .. code .. '"}'
      end
    end
    i = i + 1
  end
  assert(#pairs_ > 0, "no phone-code pairs for this thread in " .. os.getenv("PAIRS"))
  next_ = 1
end

function request()
  local body = pairs_[next_]
  next_ = next_ + 1
  if next_ > #pairs_ then next_ = 1 end
  return wrk.format("POST", "/api/v1/sessions", { ["Content-Type"] = "application/json" }, body)
end
