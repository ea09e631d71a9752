-- POST /api/v1/swipes as a random token holder on a random user: 45 % like,
-- the rest dislike (a Tantan-like rate; dislikes use no quota).
-- TOKENS: file of session tokens; USERS: how many users were seeded.
local tokens = {}
for line in io.lines(os.getenv("TOKENS")) do tokens[#tokens + 1] = line end
local users = tonumber(os.getenv("USERS") or "1000000")

function setup(thread)
  thread:set("salt", math.random(1, 1e9))
end

function init()
  math.randomseed(os.time() + salt)
end

function request()
  local tok = tokens[math.random(#tokens)]
  local action = "dislike"
  if math.random() < 0.45 then action = "like" end
  local body = '{"user_id":' .. math.random(1, users) .. ',"action":"' .. action .. '"}'
  return wrk.format("POST", "/api/v1/swipes",
    { ["Authorization"] = "Bearer " .. tok, ["Content-Type"] = "application/json" }, body)
end
