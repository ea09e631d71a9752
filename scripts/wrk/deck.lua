-- GET /api/v1/recommendations?limit=20 as a random token holder.
-- TOKENS: file of session tokens (swiper seed --tokens-file).
local tokens = {}
for line in io.lines(os.getenv("TOKENS")) do tokens[#tokens + 1] = line end

function setup(thread)
  thread:set("salt", math.random(1, 1e9))
end

function init()
  math.randomseed(os.time() + salt)
end

function request()
  local tok = tokens[math.random(#tokens)]
  return wrk.format("GET", "/api/v1/recommendations?limit=20", { ["Authorization"] = "Bearer " .. tok })
end
