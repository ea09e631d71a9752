-- Shared by the wrk scripts that act as seeded users: loads the session
-- tokens of TOKENS (swiper seed --tokens-file) into `tokens` and seeds each
-- thread's random numbers differently.
tokens = {}
for line in io.lines(os.getenv("TOKENS")) do tokens[#tokens + 1] = line end

function setup(thread)
  thread:set("salt", math.random(1, 1e9))
end

function init()
  math.randomseed(os.time() + salt)
end
