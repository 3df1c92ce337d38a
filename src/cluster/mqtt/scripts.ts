/**
 * The Lua scripts of MQTT across nodes (keys: mqtt/keys.ts). COMMIT is the data plane: one call per
 * batch of a node (batcher.ts) carries every change the node made in that window, and runs them in
 * order, atomically, in the `{vigil}` slot:
 *
 *   cl  claim a session at CONNECT (clean start deletes it; otherwise it moves to this node with a
 *       new generation and its state comes back)
 *   s   writes of one persistent session (subscriptions, inflight, queue, awaiting PUBREL, meta),
 *       only while the session's generation and owner are this node's (else 0 = stale, nothing done)
 *   ra / rd   a node route (this node has a subscriber for a filter) added / removed
 *   p   a message: retained put, one inbox item per node named, one queue entry per persistent
 *       session named (and a notice to the node holding it); guarded by the publisher's session
 *       op (gs, QoS 2: routed only if its awaiting-PUBREL id was written) or by a will record (gw)
 *   wo / wd / wx   a will recorded at CONNECT / due after its delay / discarded
 *
 * Every node inbox named in the batch gets its items in one XADD (one write per node per batch).
 * The batch is fenced like presence (the node's epoch is current and its lease runs), and its reply
 * is kept (`mb:<node>`), so a batch sent again after a lost reply is answered, not applied twice.
 */
import { luaScript } from '../redis.js';

const PRELUDE = `
local P = '{vigil}:'
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function mlog(kind, host, k, f)
  redis.call('XADD', P .. 'mlog', 'MAXLEN', '~', 100000, '*', 't', kind, 'h', host, 'k', k, 'f', f)
end
local function splitKey(sk)
  local bar = string.find(sk, '|', 1, true)
  return string.sub(sk, 1, bar - 1), string.sub(sk, bar + 1)
end
local function delSession(sk)
  local ms = P .. 'ms:' .. sk
  local h = redis.call('HMGET', ms, 'n', 'e')
  if h[1] and h[1] ~= '' then redis.call('SREM', P .. 'mown:' .. h[1] .. ':' .. h[2], sk) end
  local host, cid = splitKey(sk)
  local msub = P .. 'msub:' .. sk
  for _, f in ipairs(redis.call('HKEYS', msub)) do
    redis.call('HDEL', P .. 'rts:' .. host, cid .. '\\0' .. f)
    mlog('s-', host, cid, f)
  end
  redis.call('DEL', ms, msub, P .. 'minf:' .. sk, P .. 'minfo:' .. sk, P .. 'mrel:' .. sk, P .. 'mq:' .. sk)
  redis.call('ZREM', P .. 'mexp', sk)
end
local function dueWill(sk, w, at)
  local wd = P .. 'wd:' .. sk
  redis.call('DEL', wd)
  redis.call('HSET', wd, 'c', w.c, 'x', w.x or '', 'u', w.u or '', 'm', w.m, 'at', at)
  redis.call('ZADD', P .. 'wdue', at, sk)
end
local function liveWill(sk)
  local f = redis.call('HGETALL', P .. 'will:' .. sk)
  if #f == 0 then return nil end
  local w = {}
  for i = 1, #f, 2 do w[f[i]] = f[i + 1] end
  return w
end
local function dropLive(sk, w)
  if w.n and w.n ~= '' then redis.call('SREM', P .. 'wown:' .. w.n .. ':' .. w.e, sk) end
  redis.call('DEL', P .. 'will:' .. sk)
end
`;

export const COMMIT = luaScript('mqtt_commit', `${PRELUDE}
local node, epoch, seq = ARGV[1], ARGV[2], ARGV[3]
local mb = P .. 'mb:' .. node
local last = redis.call('HMGET', mb, 'e', 'b', 'r')
if last[1] == epoch and last[2] == seq then return cmsgpack.unpack(last[3]) end
if redis.call('HGET', P .. 'nodes', node) ~= epoch then return {'FENCED'} end
if tonumber(redis.call('ZSCORE', P .. 'lease', node) or '0') < now then return {'FENCED'} end
local me = node .. ':' .. epoch
local ops = cjson.decode(ARGV[4])
local inbox, order, out = {}, {}, {}
local function push(n, kind, v)
  local l = inbox[n]
  if not l then l = {}; inbox[n] = l; order[#order + 1] = n end
  l[#l + 1] = kind; l[#l + 1] = v
end
local function state(sk)
  local meta = redis.call('HMGET', P .. 'ms:' .. sk, 'x', 'xa')
  return {meta[1] or '', meta[2] or '', redis.call('HGETALL', P .. 'msub:' .. sk), redis.call('HGETALL', P .. 'minfo:' .. sk),
    redis.call('HGETALL', P .. 'minf:' .. sk), redis.call('HGETALL', P .. 'mrel:' .. sk), redis.call('XRANGE', P .. 'mq:' .. sk, '-', '+')}
end
for i, op in ipairs(ops) do
  local o = op.o
  if o == 'cl' then
    local ms = P .. 'ms:' .. op.k
    local h = redis.call('HMGET', ms, 'g', 'n', 'e')
    if op.c == 1 and h[1] then delSession(op.k); h = {false} end
    if h[1] then
      local was = h[2] or ''
      local g = h[1]
      if not (h[2] == node and h[3] == epoch) then
        if was ~= '' then redis.call('SREM', P .. 'mown:' .. h[2] .. ':' .. h[3], op.k) end
        g = redis.call('INCR', P .. 'msgen')
        redis.call('HSET', ms, 'g', g, 'n', node, 'e', epoch, 'xa', '')
        redis.call('SADD', P .. 'mown:' .. me, op.k)
        redis.call('ZREM', P .. 'mexp', op.k)
      end
      out[i] = {tonumber(g), was, state(op.k)}
    elseif op.p == 1 then
      local g = redis.call('INCR', P .. 'msgen')
      redis.call('HSET', ms, 'g', g, 'n', node, 'e', epoch, 'x', '', 'xa', '', 'io', 0)
      redis.call('SADD', P .. 'mown:' .. me, op.k)
      out[i] = {g, ''}
    else
      out[i] = {0}
    end
  elseif o == 's' then
    local ms = P .. 'ms:' .. op.k
    local h = redis.call('HMGET', ms, 'g', 'n', 'e')
    if h[1] ~= tostring(op.g) or h[2] ~= node or h[3] ~= epoch then
      out[i] = 0
    else
      local host, cid = splitKey(op.k)
      local msub, minf, minfo, mrel, mq = P .. 'msub:' .. op.k, P .. 'minf:' .. op.k, P .. 'minfo:' .. op.k, P .. 'mrel:' .. op.k, P .. 'mq:' .. op.k
      local ids, gone = {}, {}
      for _, w in ipairs(op.w) do
        local c = w[1]
        if c == 'ip' then
          local d = nil
          if w[4] > 0 then d = ARGV[4 + w[4]] end
          if w[5] ~= '' then
            local e = redis.call('XRANGE', mq, w[5], w[5])
            if e[1] and not d then d = e[1][2][2] end
            -- a message moving from the queue to the window: its queue_del came first
            if not d then d = gone[w[5]] end
            redis.call('XDEL', mq, w[5])
          end
          if d then
            redis.call('HSET', minf, w[2], d)
            redis.call('HSET', minfo, w[2], redis.call('HINCRBY', ms, 'io', 1) .. '|' .. w[3])
          end
        elseif c == 'ih' then
          local v = redis.call('HGET', minfo, w[2])
          if v then redis.call('HSET', minfo, w[2], string.match(v, '^(%d+)') .. '|' .. w[3]) end
        elseif c == 'id' then
          redis.call('HDEL', minf, w[2]); redis.call('HDEL', minfo, w[2])
        elseif c == 'qp' then
          ids[#ids + 1] = w[3]
          ids[#ids + 1] = redis.call('XADD', mq, '*', 'd', ARGV[4 + w[2]])
        elseif c == 'qd' then
          local e = redis.call('XRANGE', mq, w[2], w[2])
          if e[1] then gone[w[2]] = e[1][2][2] end
          redis.call('XDEL', mq, w[2])
        elseif c == 'rp' then
          redis.call('HSET', mrel, w[2], w[3])
        elseif c == 'rd' then
          redis.call('HDEL', mrel, w[2])
        elseif c == 'su' then
          redis.call('HSET', msub, w[2], w[3])
          redis.call('HSET', P .. 'rts:' .. host, cid .. '\\0' .. w[2], w[3])
          mlog('s+', host, cid, w[2] .. '\\0' .. w[3])
        elseif c == 'sx' then
          if redis.call('HDEL', msub, w[2]) == 1 then
            redis.call('HDEL', P .. 'rts:' .. host, cid .. '\\0' .. w[2])
            mlog('s-', host, cid, w[2])
          end
        elseif c == 'sp' then
          redis.call('HSET', ms, 'x', w[2])
          if w[3] == 1 then
            redis.call('HSET', ms, 'xa', '')
            redis.call('ZREM', P .. 'mexp', op.k)
          else
            redis.call('HSET', ms, 'n', '', 'e', '', 'xa', w[4])
            redis.call('SREM', P .. 'mown:' .. me, op.k)
            if w[4] ~= '' then redis.call('ZADD', P .. 'mexp', w[4], op.k) end
          end
        elseif c == 'sd' then
          delSession(op.k)
        end
      end
      out[i] = {1, ids}
    end
  elseif o == 'ra' or o == 'rd' then
    local rtn, f = P .. 'rtn:' .. op.h, me .. '|' .. op.f
    if o == 'ra' then
      if redis.call('HSETNX', rtn, f, 1) == 1 then
        redis.call('SADD', P .. 'rtown:' .. me, op.h .. '|' .. op.f)
        mlog('n+', op.h, me, op.f)
      end
    elseif redis.call('HDEL', rtn, f) == 1 then
      redis.call('SREM', P .. 'rtown:' .. me, op.h .. '|' .. op.f)
      mlog('n-', op.h, me, op.f)
    end
    out[i] = 1
  elseif o == 'p' then
    local ok = not (op.gs and out[op.gs] == 0)
    if ok and op.gw then
      local sk, c = op.gw[1], op.gw[2]
      if op.gw[3] == 'live' then
        local w = liveWill(sk)
        if w and w.c == c then dropLive(sk, w) else ok = false end
      elseif redis.call('HGET', P .. 'wd:' .. sk, 'c') == c then
        redis.call('DEL', P .. 'wd:' .. sk)
        redis.call('ZREM', P .. 'wdue', sk)
      else
        ok = false
      end
    end
    if not ok then
      out[i] = 0
    else
      local m = ARGV[4 + op.b]
      if op.r == 1 then
        redis.call('HSET', P .. 'ret:' .. op.h, op.t, m)
        mlog('r+', op.h, op.t, '')
      elseif op.r == 2 and redis.call('HDEL', P .. 'ret:' .. op.h, op.t) == 1 then
        mlog('r-', op.h, op.t, '')
      end
      for _, n in ipairs(op.n) do push(n, 'p' .. op.h, m) end
      local mine = {}
      for _, s in ipairs(op.s) do
        local sk = op.h .. '|' .. s[1]
        local h = redis.call('HMGET', P .. 'ms:' .. sk, 'n', 'g')
        if h[2] then
          local online = h[1] ~= ''
          local q0 = string.byte(s[2], 1) == 48
          if not (q0 and (online or op.z == 0)) and (online or op.ml > 0) then
            local d = s[2] .. '\\n' .. m
            local sid
            if online then
              sid = redis.call('XADD', P .. 'mq:' .. sk, '*', 'd', d)
              if h[1] == node then mine[#mine + 1] = s[1]; mine[#mine + 1] = sid
              else push(h[1], 'q' .. op.h, s[1] .. '\\0' .. sid .. '\\0' .. d) end
            else
              redis.call('XADD', P .. 'mq:' .. sk, 'MAXLEN', op.ml, '*', 'd', d)
            end
          end
        end
      end
      out[i] = {1, mine}
    end
  elseif o == 'wo' then
    local sk = op.k
    redis.call('DEL', P .. 'wd:' .. sk)
    redis.call('ZREM', P .. 'wdue', sk)
    local w = liveWill(sk)
    local fire = 0
    if w and w.c ~= op.c then
      dropLive(sk, w)
      if tonumber(w.d) == 0 then dueWill(sk, w, now); fire = 1 end
    end
    if op.b then
      redis.call('HSET', P .. 'will:' .. sk, 'c', op.c, 'n', node, 'e', epoch, 'd', op.d, 'x', op.x, 'u', op.u, 'm', ARGV[4 + op.b])
      redis.call('SADD', P .. 'wown:' .. me, sk)
    end
    out[i] = fire
  elseif o == 'wd' or o == 'wx' then
    local w = liveWill(op.k)
    if w and w.c == op.c then
      dropLive(op.k, w)
      if o == 'wd' then dueWill(op.k, w, now + op.d) end
      out[i] = 1
    else
      out[i] = 0
    end
  elseif o == 'wz' then
    if redis.call('HGET', P .. 'wd:' .. op.k, 'c') == op.c then
      redis.call('DEL', P .. 'wd:' .. op.k)
      redis.call('ZREM', P .. 'wdue', op.k)
    end
    out[i] = 1
  else
    out[i] = 0
  end
end
for _, n in ipairs(order) do
  local items, key = inbox[n], P .. 'mi:' .. n
  for from = 1, #items, 2000 do
    redis.call('XADD', key, 'MAXLEN', '~', 100000, '*', unpack(items, from, math.min(from + 1999, #items)))
  end
end
local reply = {'OK', out}
redis.call('HSET', mb, 'e', epoch, 'b', seq, 'r', cmsgpack.pack(reply))
return reply
`);

/**
 * MAINT: KEYS[1] = {vigil}:mexp; ARGV batch. Deletes offline sessions past their deadline (with
 * their routes) and answers the wills whose delay is over: {expired, {sk, conn, expiry s, user,
 * message blob, ...}}. Any node may run it at any time (idempotent); publishing a will is the
 * guarded `p` op of COMMIT, so a will answered to two nodes is published by one.
 */
export const MAINT = luaScript('mqtt_maint', `${PRELUDE}
local n = 0
for _, sk in ipairs(redis.call('ZRANGEBYSCORE', P .. 'mexp', '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))) do
  local h = redis.call('HMGET', P .. 'ms:' .. sk, 'n', 'xa')
  if not h[2] then
    redis.call('ZREM', P .. 'mexp', sk)
  elseif h[1] == '' and h[2] ~= '' and tonumber(h[2]) <= now then
    delSession(sk)
    n = n + 1
  end
end
local due = {}
for _, sk in ipairs(redis.call('ZRANGEBYSCORE', P .. 'wdue', '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))) do
  local w = redis.call('HMGET', P .. 'wd:' .. sk, 'c', 'x', 'u', 'm')
  if w[1] then
    for _, v in ipairs({sk, w[1], w[2], w[3], w[4]}) do due[#due + 1] = v end
  else
    redis.call('ZREM', P .. 'wdue', sk)
  end
end
local nextDue = redis.call('ZRANGE', P .. 'wdue', 0, 0, 'WITHSCORES')
return {n, due, nextDue[2] or ''}
`);

/**
 * MSWEEP: KEYS[1] = {vigil}:mexp; ARGV dead node, its epoch, batch. For a dead incarnation: its
 * connected sessions go offline (their deadline starts now), its live wills become due after
 * their delay, its node routes go. Each step only if the record still names that incarnation
 * (idempotent; a sweeper that dies midway is finished by the next). Answers {sessions, wills, left}
 * (left -1: the incarnation's lease is still running, nothing done).
 */
export const MSWEEP = luaScript('mqtt_sweep', `${PRELUDE}
local dead, de, batch = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('HGET', P .. 'nodes', dead) == de then
  local dl = redis.call('ZSCORE', P .. 'lease', dead)
  if dl and tonumber(dl) >= now then return {0, 0, -1} end
end
local inc = dead .. ':' .. de
local sessions, wills = 0, 0
for _, sk in ipairs(redis.call('SPOP', P .. 'mown:' .. inc, batch)) do
  local ms = P .. 'ms:' .. sk
  local h = redis.call('HMGET', ms, 'n', 'e', 'x')
  if h[1] == dead and h[2] == de then
    local xa = ''
    if h[3] and h[3] ~= '' then
      xa = now + tonumber(h[3])
      redis.call('ZADD', P .. 'mexp', xa, sk)
    end
    redis.call('HSET', ms, 'n', '', 'e', '', 'xa', xa)
    sessions = sessions + 1
  end
end
for _, sk in ipairs(redis.call('SPOP', P .. 'wown:' .. inc, batch)) do
  local w = liveWill(sk)
  if w and w.n == dead and w.e == de then
    dropLive(sk, w)
    dueWill(sk, w, now + tonumber(w.d))
    wills = wills + 1
  end
end
for _, r in ipairs(redis.call('SPOP', P .. 'rtown:' .. inc, batch)) do
  local host, f = splitKey(r)
  if redis.call('HDEL', P .. 'rtn:' .. host, inc .. '|' .. f) == 1 then mlog('n-', host, inc, f) end
end
local left = redis.call('SCARD', P .. 'mown:' .. inc) + redis.call('SCARD', P .. 'wown:' .. inc) + redis.call('SCARD', P .. 'rtown:' .. inc)
return {sessions, wills, left}
`);
