-- GET /api/v1/users/me as a random token holder.
-- TOKENS: file of session tokens (swiper seed --tokens-file).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "tokens.lua")

function request()
  local tok = tokens[math.random(#tokens)]
  return wrk.format("GET", "/api/v1/users/me", { ["Authorization"] = "Bearer " .. tok })
end
