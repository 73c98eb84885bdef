-- wrk script: each thread sends its own share of the prepared requests (one per line of the
-- file named by BENCH_LINES: path TAB cookie TAB body), so no two threads send the same one.
counter = 0

function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
end

function init(args)
   local threads = tonumber(os.getenv("BENCH_THREADS"))
   requests = {}
   local i = 0
   for line in io.lines(os.getenv("BENCH_LINES")) do
      if i % threads == id then
         local path, cookie, body = line:match("([^\t]*)\t([^\t]*)\t([^\t]*)")
         requests[#requests + 1] = wrk.format("POST", path, {
            ["Cookie"] = cookie,
            ["Content-Type"] = "application/x-www-form-urlencoded",
         }, body)
      end
      i = i + 1
   end
   n = 0
end

function request()
   n = n + 1
   if n > #requests then n = 1 end
   return requests[n]
end
