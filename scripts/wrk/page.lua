-- GET a conversation page (limit 50) as one user: PAGE_TOKEN, PAGE_PEER.
-- Run: PAGE_TOKEN=<session token> PAGE_PEER=<matched user id> wrk -t2 -c4 -d10s --latency -s scripts/wrk/page.lua http://127.0.0.1:8080
local token = os.getenv("PAGE_TOKEN")
local path = "/api/v1/conversations/" .. os.getenv("PAGE_PEER") .. "/messages?limit=50"
function request()
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end
