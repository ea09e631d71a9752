-- GET /api/v1/recommendations?limit=20 as a random token holder.
-- TOKENS: file of session tokens (swiper seed --tokens-file).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "tokens.lua")

function request()
  local tok = tokens[math.random(#tokens)]
  return wrk.format("GET", "/api/v1/recommendations?limit=20", { ["Authorization"] = "Bearer " .. tok })
end
