-- POST /api/v1/swipes as a random token holder on a random user: 45 % like,
-- the rest dislike (a Tantan-like rate; dislikes use no quota).
-- TOKENS: file of session tokens; USERS: how many users were seeded.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "tokens.lua")
local users = tonumber(os.getenv("USERS") or "1000000")

function request()
  local tok = tokens[math.random(#tokens)]
  local action = "dislike"
  if math.random() < 0.45 then action = "like" end
  local body = '{"user_id":' .. math.random(1, users) .. ',"action":"' .. action .. '"}'
  return wrk.format("POST", "/api/v1/swipes",
    { ["Authorization"] = "Bearer " .. tok, ["Content-Type"] = "application/json" }, body)
end
