#!lua name=churnwatch
-- store_functions.lua - the Redis Functions library `churnwatch`, loaded by the store
-- (embedded into the daemon at build time by cmake/EmbedLua.cmake).
--
-- Every function touches only the keys it is given, all of one account's hash tag (or one
-- global key), so the library works unchanged on Redis Cluster. Numbers that may exceed
-- 14 significant digits (offsets, epoch milliseconds) are stored as the strings the client
-- sent: Lua's number-to-string conversion would round them. The key layout and argument
-- formats are documented in docs/state.md.
--
-- Compatibility rule: a new version may add functions but must keep the calling
-- convention of existing ones (an incompatible change gets a new function name), because
-- the store never downgrades a newer library loaded by a newer daemon.
local VERSION = @CW_STORE_FUNCTIONS_VERSION@
local U32_MAX = 4294967295
local CHUNK = 1000

-- HMGET / HDEL / HSET over a long list in chunks (Lua's unpack has a stack limit).
local function hmget(key, fields)
  local out = {}
  for first = 1, #fields, CHUNK do
    local last = math.min(first + CHUNK - 1, #fields)
    local r = redis.call('HMGET', key, unpack(fields, first, last))
    for k = 1, #r do out[first + k - 1] = r[k] end
  end
  return out
end
local function hdel(key, fields)
  for first = 1, #fields, CHUNK do
    redis.call('HDEL', key, unpack(fields, first, math.min(first + CHUNK - 1, #fields)))
  end
end
local function hset(key, kv)
  for first = 1, #kv, 2 * CHUNK do
    redis.call('HSET', key, unpack(kv, first, math.min(first + 2 * CHUNK - 1, #kv)))
  end
end

-- Delete the fields of a day-keyed hash whose day (field name, or value when
-- by_value) is <= oldest. A field 'day:slot' (a metric's values of the day) is of its day.
local function prune_days(key, oldest, by_value)
  local all = redis.call('HGETALL', key)
  local del = {}
  for k = 1, #all, 2 do
    local d = tonumber(by_value and all[k + 1] or all[k])
    if not d and not by_value then d = tonumber(string.match(all[k], '^(%-?%d+):%d+$')) end
    if d and d <= oldest then del[#del + 1] = all[k] end
  end
  hdel(key, del)
end

-- Give key the remaining lifetime of the account's :m key when it has none.
local function inherit_ttl(km, key, ttl_long)
  if redis.call('PTTL', key) == -1 then
    local pt = redis.call('PTTL', km)
    if pt > 0 then redis.call('PEXPIRE', key, pt) else redis.call('EXPIRE', key, ttl_long) end
  end
end

-- Packed day counters: little-endian u32 per metric slot. struct is called once per
-- value string with a format for its width (cached), not once per slot.
local FORMATS = {}
local function format_of(n)
  local f = FORMATS[n]
  if not f then f = '<' .. string.rep('I4', n); FORMATS[n] = f end
  return f
end
local function unpack_counters(v, width)
  local n = v and math.floor(#v / 4) or 0
  if n > width then width = n end
  local t = {}
  if n > 0 then t = {struct.unpack(format_of(n), v)}; t[n + 1] = nil end
  for s = n + 1, width do t[s] = 0 end
  return t, width
end
local function pack_counters(t, width)
  return struct.pack(format_of(width), unpack(t, 1, width))
end

-- A metric's values of one day (field 'day:slot' of :d), as lib/values.c keeps them:
-- 'n promoters detractors sum min max last_ms last', doubles as %.17g. Merging is
-- commutative (sums add, min, max, the last value by event time, of equal times the larger),
-- so every path and order of applying the same events stores the same text.
local function vd_parse(s)
  if not s then return nil end
  local n, p, q, sum, mn, mx, ms, last = string.match(s,
    '^(%d+) (%d+) (%d+) (%S+) (%S+) (%S+) (%-?%d+) (%S+)$')
  if not n then return nil end
  return {n = tonumber(n), p = tonumber(p), q = tonumber(q), sum = tonumber(sum),
          min = tonumber(mn), max = tonumber(mx), ms = tonumber(ms), last = tonumber(last)}
end
local function vd_merge(a, b)
  if not a then return b end
  if not b then return a end
  local ms, last = a.ms, a.last
  if b.ms > ms or (b.ms == ms and b.last > last) then ms, last = b.ms, b.last end
  return {n = math.min(U32_MAX, a.n + b.n), p = math.min(U32_MAX, a.p + b.p),
          q = math.min(U32_MAX, a.q + b.q), sum = a.sum + b.sum,
          min = math.min(a.min, b.min), max = math.max(a.max, b.max), ms = ms, last = last}
end
local function vd_one(v, ms)
  return {n = 1, p = v >= 9 and 1 or 0, q = v <= 6 and 1 or 0, sum = v, min = v, max = v,
          ms = ms, last = v}
end
local function vd_format(t)
  return string.format('%d %d %d %.17g %.17g %.17g %.17g %.17g', t.n, t.p, t.q, t.sum, t.min,
                       t.max, t.ms, t.last)
end

-- A user's engagement (:e, docs/users.md): 'day:points,day:points' ascending, as
-- lib/users.c writes it. eng_parse gives day -> points; eng_format writes the days after
-- oldest (nil: all), '' when none is left.
local function eng_parse(s)
  local t = {}
  if s then
    for d, p in string.gmatch(s, '(%-?%d+):(%d+)') do t[tonumber(d)] = tonumber(p) end
  end
  return t
end
local function eng_format(t, oldest)
  local days = {}
  for d in pairs(t) do if not oldest or d > oldest then days[#days + 1] = d end end
  table.sort(days)
  for k = 1, #days do days[k] = string.format('%d:%d', days[k], t[days[k]]) end
  return table.concat(days, ',')
end

-- The six traits of the calling convention, then tr:parent_id (sent apart: flag 8 of a
-- cw_apply event, the parents section of cw_apply_delta).
local TRAITS = {'tr:seats', 'tr:created_at', 'tr:renewal_at', 'tr:plan', 'tr:segment',
                'tr:owner', 'tr:parent_id'}

-- ---- applying -------------------------------------------------------------------------
-- What an account's new events come to, built by cw_apply (event by event, watermarks
-- checked per event) and by cw_apply_delta (from the client's sums), and written by
-- write_account:
--   cur      the stored {first_day, last_day, last_seen, tr:ts, ...} (HMGET of :m)
--   m        :m fields to set besides those below (watermarks, type times): {f, v, ...}
--   first_day, last_day, last_seen_s   of the new activity events (nil: none)
--   traits_ts_s, traits                 the traits event that wins, and its fields
--   counts   day -> slot (0-based) -> n
--   users    user -> newest active day; ulist: the users, in order
--   vals     day -> slot (0-based) -> values of the day (vd_*)
--   eng      user -> day -> engagement points; elist: those users, in order
--   ke, ewin, emax   the :e key, users.window (days) and users.max_tracked; ke nil: the
--            config has no users section, :e is neither read nor written
local function new_account(cur)
  return {cur = cur, m = {}, counts = {}, users = {}, ulist = {}, traits = {}, vals = {},
          eng = {}, elist = {}}
end

-- Points of a user on a day (activity events of a type with users.weights).
local function eng_add(a, user, day, points)
  local u = a.eng[user]
  if not u then u = {}; a.eng[user] = u; a.elist[#a.elist + 1] = user end
  u[day] = (u[day] or 0) + points
end

-- :e: merge the engagement of a (days after eoldest only); a user not held yet is added
-- only while :e holds fewer than emax users. Returns whether anything was written.
local function write_eng(a, eoldest)
  if not a.ke or #a.elist == 0 then return false end
  local had = hmget(a.ke, a.elist)
  local held -- how many users :e holds, read when a user not held yet asks for room
  local wrote = false
  for k = 1, #a.elist do
    if not had[k] and not held then held = redis.call('HLEN', a.ke) end
    if had[k] or held < a.emax then
      local t = eng_parse(had[k])
      for day, p in pairs(a.eng[a.elist[k]]) do
        if not eoldest or day > eoldest then t[day] = math.min(U32_MAX, (t[day] or 0) + p) end
      end
      local v = eng_format(t, eoldest)
      if v ~= '' and v ~= had[k] then
        redis.call('HSET', a.ke, a.elist[k], v); wrote = true
        if not had[k] then held = held + 1 end
      elseif v == '' and had[k] then
        redis.call('HDEL', a.ke, a.elist[k]); if held then held = held - 1 end
      end
    end
  end
  return wrote
end

-- Drop the engagement days at or before oldest of every user of :e (a user left with none
-- goes).
local function prune_eng(ke, oldest)
  local all = redis.call('HGETALL', ke)
  for k = 1, #all, 2 do
    local v = eng_format(eng_parse(all[k + 1]), oldest)
    if v == '' then redis.call('HDEL', ke, all[k])
    elseif v ~= all[k + 1] then redis.call('HSET', ke, all[k], v) end
  end
end

-- The lifetimes of :m :d :u :r :h (keys 1-5) and of :e (ke, nil: none): all refreshed, or
-- else :d's when days were written, :u's when users were and :e's when engagement was,
-- each only when it has none (NX).
local function refresh_lifetimes(keys, all, days, users, ttl_short, ttl_long, ke, eng)
  if all then
    redis.call('EXPIRE', keys[2], ttl_short)
    redis.call('EXPIRE', keys[3], ttl_short)
    redis.call('EXPIRE', keys[1], ttl_long)
    redis.call('EXPIRE', keys[4], ttl_long)
    redis.call('EXPIRE', keys[5], ttl_long)
    if ke then redis.call('EXPIRE', ke, ttl_short) end
  else
    if days then redis.call('EXPIRE', keys[2], ttl_short, 'NX') end
    if users then redis.call('EXPIRE', keys[3], ttl_short, 'NX') end
    if ke and eng then redis.call('EXPIRE', ke, ttl_short, 'NX') end
  end
end

local function write_account(keys, a, horizon, clock_day, ttl_short, ttl_long)
  local km, kd, ku = keys[1], keys[2], keys[3]
  local m = a.m
  local function put(f, v) m[#m + 1] = f; m[#m + 1] = v end
  local first_day, last_day = tonumber(a.cur[1]), tonumber(a.cur[2])
  local prev_last_day = last_day
  if a.first_day and (not first_day or a.first_day < first_day) then first_day = a.first_day end
  if a.last_day and (not last_day or a.last_day > last_day) then last_day = a.last_day end
  if first_day then put('first_day', string.format('%d', first_day)) end
  if last_day then put('last_day', string.format('%d', last_day)) end
  local seen = tonumber(a.cur[3])
  if a.last_seen_s and (not seen or tonumber(a.last_seen_s) > seen) then
    put('last_seen', a.last_seen_s)
  end
  if a.traits_ts_s then
    put('tr:ts', a.traits_ts_s)
    for k = 1, #TRAITS do if a.traits[TRAITS[k]] then put(TRAITS[k], a.traits[TRAITS[k]]) end end
  end
  hset(km, m)
  -- a new version: a daemon holding the account in memory must load it again (cw_put)
  redis.call('HINCRBY', km, 'v', 1)

  -- :d: day counters, except days already outside the horizon. The horizon never reaches
  -- past the daemon's clock day (nil: unknown), so events applied ahead of the clock
  -- during a backfill cannot prune days it still judges.
  local ref = last_day
  if ref and clock_day and clock_day < ref then ref = clock_day end
  local oldest = ref and (ref - horizon) or nil
  local wrote_days, wrote_users = false, false
  for day, c in pairs(a.counts) do
    if not oldest or day > oldest then
      local width = 0
      for slot in pairs(c) do if slot + 1 > width then width = slot + 1 end end
      local t
      t, width = unpack_counters(redis.call('HGET', kd, day), width)
      for slot, n in pairs(c) do t[slot + 1] = math.min(U32_MAX, t[slot + 1] + n) end
      redis.call('HSET', kd, day, pack_counters(t, width))
      wrote_days = true
    end
  end
  for day, sv in pairs(a.vals) do
    if not oldest or day > oldest then
      for slot, v in pairs(sv) do
        local f = string.format('%d:%d', day, slot)
        redis.call('HSET', kd, f, vd_format(vd_merge(vd_parse(redis.call('HGET', kd, f)), v)))
      end
      wrote_days = true
    end
  end

  -- :u: each user's last active day (max)
  if #a.ulist > 0 then
    local had = hmget(ku, a.ulist)
    local u = {}
    for k = 1, #a.ulist do
      local d = a.users[a.ulist[k]]
      if (not oldest or d > oldest) and (not had[k] or tonumber(had[k]) < d) then
        u[#u + 1] = a.ulist[k]; u[#u + 1] = string.format('%d', d)
      end
    end
    if #u > 0 then hset(ku, u); wrote_users = true end
  end

  -- :e: each user's engagement points of the days in users.window (docs/users.md)
  local eoldest = ref and a.ewin and (ref - a.ewin) or nil
  local wrote_eng = write_eng(a, eoldest)

  -- a new last day: drop day buckets and users that left the horizon, and engagement days
  -- that left the window
  local advanced = prev_last_day and last_day > prev_last_day
  if advanced then
    prune_days(kd, oldest, false)
    prune_days(ku, oldest, true)
    if a.ke and eoldest then prune_eng(a.ke, eoldest) end
  end
  -- Lifetimes run from the newest activity day: refreshed when it moves, for a traits
  -- event and for a new account; otherwise only a key without one gets it (NX).
  refresh_lifetimes(keys, not prev_last_day or advanced or a.traits_ts_s, wrote_days,
                    wrote_users, ttl_short, ttl_long, a.ke, wrote_eng)
end

-- cw_apply: apply one account's events exactly once, one by one.
-- KEYS: :m :d :u :r :h [:e]
-- ARGV: horizon ttl_short ttl_long nsrc src*nsrc ntypes type*ntypes nev event*nev clock_day
--       [ewin emax]   with :e (since version 11): users.window and users.max_tracked
--   src   'topic:partition' (watermark field o:<src> in :m)
--   event 'src off day ts slot type flags' user [6 traits args when flags has 2]
--         [parent_id when flags has 8] [value when flags has 4] [points when flags has 16]
--         src, type: 1-based indexes; slot -1 = no counter; flags 1 activity, 2 traits,
--         4 a value (%.17g) for the slot's values of the day, 8 (with 2) a parent_id
--         ('' detaches the account from its parent, since version 10), 16 the engagement
--         points of the event's user (with :e, since version 11)
-- Returns the number of events applied (the others were replays).
local function cw_apply(keys, args)
  local horizon, ttl_short, ttl_long = tonumber(args[1]), tonumber(args[2]), tonumber(args[3])
  local i = 4
  local nsrc = tonumber(args[i]); i = i + 1
  local fields = {'first_day', 'last_day', 'last_seen', 'tr:ts'}
  for s = 1, nsrc do fields[4 + s] = 'o:' .. args[i]; i = i + 1 end
  local ntypes = tonumber(args[i]); i = i + 1
  for t = 1, ntypes do fields[4 + nsrc + t] = 't:' .. args[i]; i = i + 1 end
  local nev = tonumber(args[i]); i = i + 1
  if not horizon or not nev then return redis.error_reply('ERR churnwatch: bad cw_apply arguments') end

  local cur = hmget(keys[1], fields)
  local a = new_account(cur)
  local last_seen, traits_ts = tonumber(cur[3]), tonumber(cur[4])
  local wm, wm_s, tl, tl_s = {}, {}, {}, {}
  for s = 1, nsrc do wm[s] = tonumber(cur[4 + s]) or -1 end
  for t = 1, ntypes do tl[t] = tonumber(cur[4 + nsrc + t]) end

  local applied = 0
  for e = 1, nev do
    local s, off, day, ts, slot, ty, flags = string.match(args[i] or '',
      '^(%d+) (%d+) (%-?%d+) (%-?%d+) (%-?%d+) (%d+) (%d+)$')
    local user = args[i + 1]
    i = i + 2
    if not s or not user then return redis.error_reply('ERR churnwatch: bad cw_apply event ' .. e) end
    s, day, slot, ty, flags = tonumber(s), tonumber(day), tonumber(slot), tonumber(ty), tonumber(flags)
    local tr_at = i
    local has_tr, has_val = math.floor(flags / 2) % 2 == 1, math.floor(flags / 4) % 2 == 1
    local has_parent = has_tr and math.floor(flags / 8) % 2 == 1
    if has_tr then i = i + 6 end
    if has_parent then i = i + 1 end
    local val = has_val and tonumber(args[i]) or nil
    if has_val then i = i + 1 end
    local has_points = math.floor(flags / 16) % 2 == 1
    local points = has_points and tonumber(args[i]) or nil
    if has_points then i = i + 1 end
    if s < 1 or s > nsrc or ty < 1 or ty > ntypes or i - 1 > #args or (has_val and not val) or
       (has_points and not points) then
      return redis.error_reply('ERR churnwatch: bad cw_apply event ' .. e)
    end
    local offn, tsn = tonumber(off), tonumber(ts)
    if offn > wm[s] then
      applied = applied + 1
      wm[s], wm_s[s] = offn, off
      if not tl[ty] or tsn > tl[ty] then tl[ty], tl_s[ty] = tsn, ts end
      if flags % 2 == 1 then
        if slot >= 0 then
          local c = a.counts[day]
          if not c then c = {}; a.counts[day] = c end
          c[slot] = (c[slot] or 0) + 1
          if val then
            local sv = a.vals[day]
            if not sv then sv = {}; a.vals[day] = sv end
            sv[slot] = vd_merge(sv[slot], vd_one(val, tsn))
          end
        end
        if user ~= '' then
          local ud = a.users[user]
          if not ud then a.ulist[#a.ulist + 1] = user end
          if not ud or day > ud then a.users[user] = day end
          if points then eng_add(a, user, day, points) end
        end
        if not a.first_day or day < a.first_day then a.first_day = day end
        if not a.last_day or day > a.last_day then a.last_day = day end
        if not last_seen or tsn > last_seen then last_seen, a.last_seen_s = tsn, ts end
      end
      if has_tr and (not traits_ts or tsn >= traits_ts) then
        traits_ts, a.traits_ts_s = tsn, ts
        for k = 1, 6 do
          if args[tr_at + k - 1] ~= '' then a.traits[TRAITS[k]] = args[tr_at + k - 1] end
        end
        -- a carried parent_id is kept even when empty: '' detaches (since version 10)
        if has_parent then a.traits[TRAITS[7]] = args[tr_at + 6] end
      end
    end
  end
  if applied == 0 then return 0 end
  for s = 1, nsrc do
    if wm_s[s] then a.m[#a.m + 1] = fields[4 + s]; a.m[#a.m + 1] = wm_s[s] end
  end
  for t = 1, ntypes do
    if tl_s[t] then a.m[#a.m + 1] = fields[4 + nsrc + t]; a.m[#a.m + 1] = tl_s[t] end
  end
  if keys[6] then
    a.ke, a.ewin, a.emax = keys[6], tonumber(args[i + 1]), tonumber(args[i + 2])
    if not a.ewin or not a.emax then return redis.error_reply('ERR churnwatch: bad cw_apply users') end
  end
  -- the daemon's clock day ('' unknown)
  write_account(keys, a, horizon, tonumber(args[i] or ''), ttl_short, ttl_long)
  return applied
end

-- The state the score pass reads, in cw_store_load's order: HGETALL of the seven keys,
-- but only the values (each user's last day) of :u and, when :m knows the newest history
-- day (h_last) and hist_from is given, only that point and the days hist_from..hist_to
-- of :h (what score_drop compares with); all of :h otherwise.
local function history_points(km, kh, hist_from, hist_to)
  local last = redis.call('HGET', km, 'h_last')
  if last and hist_from then
    local days, lastn = {last}, tonumber(last)
    for d = hist_from, math.min(hist_to, lastn - 1) do days[#days + 1] = d end
    local v = redis.call('HMGET', kh, unpack(days))
    local h = {}
    for k = 1, #days do
      if v[k] then h[#h + 1] = tostring(days[k]); h[#h + 1] = v[k] end
    end
    return h
  end
  return redis.call('HGETALL', kh)
end
local function account_state(keys, out, hist_from, hist_to)
  out[#out + 1] = redis.call('HGETALL', keys[1])
  out[#out + 1] = redis.call('HGETALL', keys[2])
  out[#out + 1] = redis.call('HVALS', keys[3])
  out[#out + 1] = redis.call('HGETALL', keys[4])
  out[#out + 1] = history_points(keys[1], keys[5], hist_from, hist_to)
  out[#out + 1] = redis.call('HGETALL', keys[6])
  out[#out + 1] = redis.call('HGETALL', keys[7])
  if keys[8] then out[#out + 1] = redis.call('HGETALL', keys[8]) end
  return out
end

-- The count n of an optional trailing section at args[i] (n, then n entries of width
-- arguments each), or nil when it is not a number or runs past the arguments.
local function section_len(args, i, width)
  local n = tonumber(args[i])
  if n and i + width * n <= #args then return n end
  return nil
end

-- cw_apply_delta: one account's events of a batch, coalesced, applied exactly once.
-- KEYS: :m :d :u :r :h :x :o [:e]
-- ARGV: horizon ttl_short ttl_long clock_day want_state hist_from hist_to nev
--       nsrc (src min_offset max_offset)*nsrc     src 'topic:partition'
--       ntypes (type max_ts)*ntypes
--       first_day last_day last_seen               of the activity events ('' if none)
--       ndays (day packed_counts)*ndays            packed as in :d (u32 LE per slot)
--       nusers (user day)*nusers                   each user's newest active day
--       ntraits (ts seats created_at renewal_at plan segment owner)*ntraits  in order
--       [nvals (day slot values)*nvals]            the metrics' values per day (vd_*), only
--                                                  when there are some (or parents follow)
--       [nparents (k parent_id)*nparents]          the parent_id of the k-th traits entry
--                                                  ('' detaches: since version 10)
--                                                  (1-based, ascending), only when some
--                                                  entry carries one (or engagement follows)
--       [neng (user day points)*neng ewin emax]    with :e (since version 11): each user's
--                                                  engagement points per day, users.window,
--                                                  users.max_tracked
-- When the watermark of every source is below its min_offset, everything is new and is
-- applied (the same effect as cw_apply with the events one by one); when it is at or
-- above max_offset for every source, all was applied before (a replay); anything else
-- is a partial replay: nothing is done, and the client sends the events by cw_apply.
-- Returns {status, applied, state...}: status 1 applied, 0 replay, -1 partial; the
-- state (account_state) follows when want_state is 1 (not for a partial replay).
local function cw_apply_delta(keys, args)
  local horizon, ttl_short, ttl_long = tonumber(args[1]), tonumber(args[2]), tonumber(args[3])
  local clock_day = tonumber(args[4])
  local want = args[5] == '1'
  local hist_from, hist_to = tonumber(args[6]), tonumber(args[7])
  local nev = tonumber(args[8])
  local i = 9
  local nsrc = tonumber(args[i]); i = i + 1
  if not horizon or not nev or not nsrc then
    return redis.error_reply('ERR churnwatch: bad cw_apply_delta arguments')
  end
  local fields = {'first_day', 'last_day', 'last_seen', 'tr:ts'}
  local smin, smax, smax_s = {}, {}, {}
  for s = 1, nsrc do
    fields[4 + s] = 'o:' .. args[i]
    smin[s], smax_s[s] = tonumber(args[i + 1]), args[i + 2]
    smax[s] = tonumber(smax_s[s])
    i = i + 3
  end
  local ntypes = tonumber(args[i]); i = i + 1
  local tmax_s = {}
  for t = 1, ntypes do fields[4 + nsrc + t] = 't:' .. args[i]; tmax_s[t] = args[i + 1]; i = i + 2 end
  local cur = hmget(keys[1], fields)
  local new, old = 0, 0
  for s = 1, nsrc do
    local w = tonumber(cur[4 + s]) or -1
    if not smin[s] or not smax[s] then return redis.error_reply('ERR churnwatch: bad cw_apply_delta source') end
    if w < smin[s] then new = new + 1 elseif w >= smax[s] then old = old + 1 end
  end
  if old == nsrc then
    local out = {0, 0}
    if want then account_state(keys, out, hist_from, hist_to) end
    return out
  end
  if new ~= nsrc then return {-1, 0} end

  local a = new_account(cur)
  for s = 1, nsrc do a.m[#a.m + 1] = fields[4 + s]; a.m[#a.m + 1] = smax_s[s] end
  for t = 1, ntypes do
    local had = tonumber(cur[4 + nsrc + t])
    if not had or tonumber(tmax_s[t]) > had then
      a.m[#a.m + 1] = fields[4 + nsrc + t]; a.m[#a.m + 1] = tmax_s[t]
    end
  end
  if args[i] ~= '' then
    a.first_day, a.last_day, a.last_seen_s = tonumber(args[i]), tonumber(args[i + 1]), args[i + 2]
  end
  i = i + 3
  local ndays = tonumber(args[i]); i = i + 1
  for k = 1, ndays or 0 do
    local day, packed = tonumber(args[i]), args[i + 1]
    local n = packed and math.floor(#packed / 4) or 0
    if not day or n < 1 then return redis.error_reply('ERR churnwatch: bad cw_apply_delta day') end
    local t = {struct.unpack(format_of(n), packed)}
    local c = {}
    for slot = 1, n do if t[slot] > 0 then c[slot - 1] = t[slot] end end
    a.counts[day] = c
    i = i + 2
  end
  local nusers = tonumber(args[i]); i = i + 1
  for k = 1, nusers or 0 do
    a.ulist[k] = args[i]; a.users[args[i]] = tonumber(args[i + 1]); i = i + 2
  end
  local ntraits = tonumber(args[i]); i = i + 1
  if not ndays or not nusers or not ntraits or i - 1 + 7 * ntraits > #args then
    return redis.error_reply('ERR churnwatch: bad cw_apply_delta arguments')
  end
  local traits_ts = tonumber(cur[4])
  local won = {}
  for k = 1, ntraits do
    local ts = args[i]
    local tsn = tonumber(ts)
    if not traits_ts or tsn >= traits_ts then
      won[k] = true
      traits_ts, a.traits_ts_s = tsn, ts
      for f = 1, 6 do
        if args[i + f] ~= '' then a.traits[TRAITS[f]] = args[i + f] end
      end
    end
    i = i + 7
  end
  if args[i] then
    local nvals = section_len(args, i, 3); i = i + 1
    if not nvals then return redis.error_reply('ERR churnwatch: bad cw_apply_delta values') end
    for k = 1, nvals do
      local day, slot, v = tonumber(args[i]), tonumber(args[i + 1]), vd_parse(args[i + 2])
      if not day or not slot or not v then
        return redis.error_reply('ERR churnwatch: bad cw_apply_delta value ' .. k)
      end
      local sv = a.vals[day]
      if not sv then sv = {}; a.vals[day] = sv end
      sv[slot] = vd_merge(sv[slot], v)
      i = i + 3
    end
  end
  if args[i] then
    -- Each parent_id counts as part of its traits entry: kept when the entry won, later
    -- entries over earlier ones.
    local np = section_len(args, i, 2); i = i + 1
    if not np then return redis.error_reply('ERR churnwatch: bad cw_apply_delta parents') end
    for p = 1, np do
      local k = tonumber(args[i])
      if not k then return redis.error_reply('ERR churnwatch: bad cw_apply_delta parent ' .. p) end
      if won[k] then a.traits['tr:parent_id'] = args[i + 1] end
      i = i + 2
    end
  end
  if keys[8] then
    local ne = section_len(args, i, 3)
    if not ne or not tonumber(args[i + 1 + 3 * ne]) or not tonumber(args[i + 2 + 3 * ne]) then
      return redis.error_reply('ERR churnwatch: bad cw_apply_delta engagement')
    end
    i = i + 1
    for k = 1, ne do
      local day, points = tonumber(args[i + 1]), tonumber(args[i + 2])
      if not day or not points then
        return redis.error_reply('ERR churnwatch: bad cw_apply_delta engagement ' .. k)
      end
      eng_add(a, args[i], day, points)
      i = i + 3
    end
    a.ke, a.ewin, a.emax = keys[8], tonumber(args[i]), tonumber(args[i + 1])
  end
  write_account(keys, a, horizon, clock_day, ttl_short, ttl_long)
  local out = {1, nev}
  if want then account_state(keys, out, hist_from, hist_to) end
  return out
end

-- args[from .. from + 2n - 1] as n field/value pairs into HSET, args[from .. from + n - 1]
-- as n fields into HDEL, in chunks (unpack's stack limit).
local function hset_args(key, args, from, n)
  local last = from + 2 * n - 1
  for first = from, last, 2 * CHUNK do
    redis.call('HSET', key, unpack(args, first, math.min(first + 2 * CHUNK - 1, last)))
  end
end
local function hdel_args(key, args, from, n)
  local last = from + n - 1
  for first = from, last, CHUNK do
    redis.call('HDEL', key, unpack(args, first, math.min(first + CHUNK - 1, last)))
  end
end

-- cw_put: write back what a daemon holding the account in memory changed, when nobody
-- else wrote its applied state since it loaded it or last wrote it: the version `v` of
-- :m must still be the one it holds ('0' when absent). The daemon computed the values
-- (the same as cw_apply_delta would have written), so nothing is read or summed here.
-- KEYS: :m :d :u :r :h :x :o [:e]
-- ARGV: version new_version ttl_short ttl_long expire want_state hist_from hist_to
--       nm (field value)*nm  nd (day packed)*nd  nu (user day)*nu  ngd day*ngd  ngu user*ngu
--       [ne (user engagement)*ne  nge user*nge]   with :e (since version 11)
--   expire: 1 = all five lifetimes (and :e's) refreshed; else 2 = :d's, 4 = :u's and 8 =
--   :e's when it has none
-- Returns {0} when the version differs (nothing written); else {1} followed, when
-- want_state is 1, by the rest of the state the score pass reads: HGETALL of :r, the
-- history points (as account_state), HGETALL of :x and of :o.
local function cw_put(keys, args)
  if (redis.call('HGET', keys[1], 'v') or '0') ~= args[1] then return {0} end
  local i = 9
  local nm = tonumber(args[i]) or -1; local mi = i + 1; i = mi + 2 * math.max(nm, 0)
  local nd = tonumber(args[i]) or -1; local di = i + 1; i = di + 2 * math.max(nd, 0)
  local nu = tonumber(args[i]) or -1; local ui = i + 1; i = ui + 2 * math.max(nu, 0)
  local ngd = tonumber(args[i]) or -1; local gdi = i + 1; i = gdi + math.max(ngd, 0)
  local ngu = tonumber(args[i]) or -1; local gui = i + 1; i = gui + math.max(ngu, 0)
  local ne, ei, nge, gei = 0, i, 0, i
  if keys[8] then
    ne = tonumber(args[i]) or -1; ei = i + 1; i = ei + 2 * math.max(ne, 0)
    nge = tonumber(args[i]) or -1; gei = i + 1; i = gei + math.max(nge, 0)
  end
  if math.min(nm, nd, nu, ngd, ngu, ne, nge) < 0 or i - 1 ~= #args then
    return redis.error_reply('ERR churnwatch: bad cw_put arguments')
  end
  if nm + nd + nu + ngd + ngu + ne + nge > 0 then
    local km, kd, ku = keys[1], keys[2], keys[3]
    redis.call('HSET', km, 'v', args[2])
    hset_args(km, args, mi, nm)
    hdel_args(kd, args, gdi, ngd)
    hdel_args(ku, args, gui, ngu)
    hset_args(kd, args, di, nd)
    hset_args(ku, args, ui, nu)
    if keys[8] then
      hdel_args(keys[8], args, gei, nge)
      hset_args(keys[8], args, ei, ne)
    end
    local expire = tonumber(args[5]) or 0
    refresh_lifetimes(keys, expire % 2 == 1, math.floor(expire / 2) % 2 == 1,
                      math.floor(expire / 4) % 2 == 1, args[3], args[4], keys[8],
                      math.floor(expire / 8) % 2 == 1)
  end
  if args[6] ~= '1' then return {1} end
  return {1, redis.call('HGETALL', keys[4]),
          history_points(keys[1], keys[5], tonumber(args[7]), tonumber(args[8])),
          redis.call('HGETALL', keys[6]), redis.call('HGETALL', keys[7])}
end

-- cw_slots: the stable slot of each metric name, allocated append-only.
-- KEYS: <prefix>metrics   ARGV: names. The field '' holds the number of slots.
local function cw_slots(keys, args)
  local out = {}
  for k = 1, #args do
    local v = redis.call('HGET', keys[1], args[k])
    if not v then
      v = redis.call('HINCRBY', keys[1], '', 1) - 1
      redis.call('HSET', keys[1], args[k], v)
    end
    out[k] = tonumber(v)
  end
  return out
end

-- cw_save: today's score point; trims the history when a new day starts, and keeps the
-- newest day of the history in :m (h_last).
-- KEYS: :m :h   ARGV: today score keep_days ttl_long
local function cw_save(keys, args)
  if redis.call('HSET', keys[2], args[1], args[2]) == 1 then
    prune_days(keys[2], tonumber(args[1]) - tonumber(args[3]), false)
    local last = tonumber(redis.call('HGET', keys[1], 'h_last'))
    if not last or tonumber(args[1]) > last then redis.call('HSET', keys[1], 'h_last', args[1]) end
  end
  inherit_ttl(keys[1], keys[2], tonumber(args[4]))
  return 1
end

-- cw_save_feed: cw_save, and in the same atomic step the score feed's message: when the
-- feed's state (field ':feed' of :r) still is the one the daemon loaded ('' = none), it
-- becomes new_state and the message waits in the feed's outbox (field key of :r, deleted by
-- the daemon once the broker acknowledged it). The score is saved either way.
-- KEYS: :m :h :r   ARGV: today score keep_days ttl_long expected new_state key json
-- Returns 1 when the message was saved, 0 when another writer's state was found.
local function cw_save_feed(keys, args)
  cw_save({keys[1], keys[2]}, args)
  if (redis.call('HGET', keys[3], ':feed') or '') ~= args[5] then return 0 end
  redis.call('HSET', keys[3], ':feed', args[6], args[7], args[8])
  inherit_ttl(keys[1], keys[3], tonumber(args[4]))
  return 1
end

-- Keep the recent resolved episode field -> value in :r, with at most `keep` of them: the
-- oldest resolutions (value 'started|resolved|...') beyond it are deleted, ties by field.
local function keep_episode(kr, field, value, keep)
  redis.call('HSET', kr, field, value)
  local all = redis.call('HGETALL', kr)
  local eps = {}
  for k = 1, #all, 2 do
    if string.sub(all[k], 1, 4) == ':ep:' then
      local at = tonumber(string.match(all[k + 1], '^%-?%d+|(%-?%d+)|')) or 0
      eps[#eps + 1] = {all[k], at}
    end
  end
  if #eps <= keep then return end
  table.sort(eps, function(a, b)
    if a[2] ~= b[2] then return a[2] < b[2] end
    return a[1] > b[1]
  end)
  local del = {}
  for k = 1, #eps - keep do del[k] = eps[k][1] end
  hdel(kr, del)
end

-- cw_rule_cas: compare-and-set one rule state. '' expected = absent, '' new = delete.
-- When it wins and an alert is given, the alert enters the account's outbox in the
-- same step (deleted by the daemon once the broker acknowledged it); when it wins and a
-- resolved episode is given (since version 9; callers of earlier versions pass 6
-- arguments), the episode is kept in :r with the account's recent ones, `keep` at most.
-- KEYS: :m :r :o   ARGV: rule expected new ttl_long alert_key alert_json
--                        [episode_field episode_value keep].
-- Returns 1 when it won, else 0.
local function cw_rule_cas(keys, args)
  local cur = redis.call('HGET', keys[2], args[1])
  if (cur or '') ~= args[2] then return 0 end
  if args[3] == '' then
    redis.call('HDEL', keys[2], args[1])
  else
    redis.call('HSET', keys[2], args[1], args[3])
    inherit_ttl(keys[1], keys[2], tonumber(args[4]))
  end
  if args[5] and args[5] ~= '' then
    redis.call('HSET', keys[3], args[5], args[6])
    inherit_ttl(keys[1], keys[3], tonumber(args[4]))
  end
  if args[7] and args[7] ~= '' then
    keep_episode(keys[2], args[7], args[8], tonumber(args[9]) or 5)
    inherit_ttl(keys[1], keys[2], tonumber(args[4]))
  end
  return 1
end

-- cw_silence_set: set one silence 'until|created|reason'; the key expires with the
-- last of its silences. The lifetime is counted from the new silence's 'created' (the
-- setter's clock), not from the server's: a clock apart from Redis' cannot make a silence
-- vanish early or linger. KEYS: :x   ARGV: field value
local function cw_silence_set(keys, args)
  redis.call('HSET', keys[1], args[1], args[2])
  local created = tonumber(string.match(args[2], '^%-?%d+|(%-?%d+)|'))
  local all = redis.call('HGETALL', keys[1])
  local last = 0
  for k = 2, #all, 2 do
    local u = tonumber(string.match(all[k], '^(%-?%d+)|'))
    if u and u > last then last = u end
  end
  redis.call('PEXPIRE', keys[1], math.max(last - created, 0))
  return 1
end

redis.register_function{function_name = 'cw_version', callback = function() return VERSION end,
                        flags = {'no-writes'}}
redis.register_function('cw_apply', cw_apply)
redis.register_function('cw_apply_delta', cw_apply_delta)
redis.register_function('cw_slots', cw_slots)
redis.register_function('cw_save', cw_save)
redis.register_function('cw_rule_cas', cw_rule_cas)
redis.register_function('cw_silence_set', cw_silence_set)
redis.register_function('cw_put', cw_put)
redis.register_function('cw_save_feed', cw_save_feed)
