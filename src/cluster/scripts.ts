/**
 * The Lua scripts of cluster mode (keys: keys.ts). Each runs atomically on the one `{vigil}` slot,
 * so a state change and its feed entry are written together or not at all, and every check
 * (epoch, lease, connection token) and the write it guards happen in one step.
 *
 * Endpoint hash fields: g gen, n node, e epoch, c connection token (`node:epoch:local`), st
 * online|offline, av available 0|1, sh show, su status, pr priority, lv liveness, ca connected_at,
 * da disconnected_at, la last_activity_at, rt last_rtt_ms, lr last disconnect reason, m meta
 * (JSON), o creation seq (paging order), s seq of the last change. A feed entry holds k (endpoint
 * name), t (kind), r (reason), x (takeover 1|0, or q = a quiet meta change, not served), at, then
 * every field of the hash after the change, so an entry alone rebuilds the row (mirror.ts).
 *
 * Fencing: a write batch (APPLY) runs only while the writer's epoch is the node's current epoch
 * and its lease (Redis TIME) has not run out; otherwise it answers FENCED and writes nothing.
 * Inside, every op but `on` is a compare-and-set on the connection token (which names node,
 * epoch and connection): a late write of a taken-over or swept connection answers STALE.
 */
import { luaScript } from './redis.js';

const PRELUDE = `
local P = '{vigil}:'
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function emit(k, key, kind, reason, x, at, maxlen)
  local seq = redis.call('INCR', P .. 'seq')
  redis.call('HSET', key, 's', seq)
  local f = redis.call('HGETALL', key)
  redis.call('XADD', P .. 'feed', 'MAXLEN', '~', maxlen, seq .. '-0', 'k', k, 't', kind, 'r', reason, 'x', x, 'at', at, unpack(f))
  return seq
end
local function mergeMeta(key, add)
  if not add then return end
  local cur = redis.call('HGET', key, 'm')
  local m = (cur and cur ~= '') and cjson.decode(cur) or {}
  for name, v in pairs(add) do m[name] = v end
  redis.call('HSET', key, 'm', cjson.encode(m))
end
local function offline(k, key, reason, at, la, rt, meta, maxlen)
  local h = redis.call('HMGET', key, 'n', 'e')
  redis.call('HSET', key, 'st', 'offline', 'av', '0', 'lv', '', 'sh', '', 'su', '', 'pr', '', 'da', at, 'la', la, 'rt', rt, 'lr', reason)
  mergeMeta(key, meta)
  redis.call('SREM', P .. 'own:' .. h[1] .. ':' .. h[2], k)
  redis.call('ZADD', P .. 'off', at, k)
  return emit(k, key, 'offline', reason, '', at, maxlen)
end
`;

/**
 * APPLY: KEYS[1] = {vigil}:seq; ARGV node, epoch, feed maxlen, ops (JSON array). Ops:
 *   {o:'on', k, c, at, av, m?}      online (takeover when the row is online elsewhere): new gen
 *   {o:'off', k, c, at, r, la, rt, m?}   offline with reason
 *   {o:'lv', k, c, at, s, la, rt}   liveness state
 *   {o:'av', k, c, at, av, sh, su, pr}  availability (XMPP presence)
 *   {o:'me', k, c, at, m, a}        meta merge (a = announce in the feed)
 * Answers {'FENCED'} or {'OK', per op: {gen, seq, takeover 0|1, previous node | 'STALE' | 'REPLAY'}}.
 */
export const APPLY = luaScript('apply', `${PRELUDE}
local node, epoch, maxlen = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HGET', P .. 'nodes', node) ~= epoch then return {'FENCED'} end
local lease = tonumber(redis.call('ZSCORE', P .. 'lease', node) or '0')
if lease < now then return {'FENCED'} end
local own = P .. 'own:' .. node .. ':' .. epoch
local out = {}
for i, op in ipairs(cjson.decode(ARGV[4])) do
  local k = op.k
  local key = P .. 'ep:' .. k
  if op.o == 'on' then
    local h = redis.call('HMGET', key, 'c', 'st', 'n', 'e', 'o', 'ca', 'lr', 'g')
    if h[1] == op.c and h[2] == 'online' then
      out[i] = {tonumber(h[8]), 0, 0, 'REPLAY'}
    else
      local gen = redis.call('INCR', P .. 'gen')
      local takeover = h[2] == 'online'
      if takeover then redis.call('SREM', P .. 'own:' .. h[3] .. ':' .. h[4], k) end
      local o = takeover and h[5] or (tonumber(redis.call('GET', P .. 'seq') or '0') + 1)
      local ca = takeover and h[6] or op.at
      redis.call('DEL', key)
      redis.call('HSET', key, 'g', gen, 'n', node, 'e', epoch, 'c', op.c, 'st', 'online', 'av', op.av, 'lv', 'active',
        'ca', ca, 'la', op.at, 'm', op.m and cjson.encode(op.m) or '{}', 'o', o, 'lr', h[7] or '')
      redis.call('ZADD', P .. 'eps', o, k)
      redis.call('ZREM', P .. 'off', k)
      redis.call('SADD', own, k)
      local seq = emit(k, key, 'online', '', takeover and '1' or '0', op.at, maxlen)
      out[i] = {gen, seq, takeover and 1 or 0, takeover and h[3] or ''}
    end
  else
    local h = redis.call('HMGET', key, 'c', 'st', 'g')
    if h[1] ~= op.c or h[2] ~= 'online' then
      out[i] = {0, 0, 0, 'STALE'}
    elseif op.o == 'off' then
      out[i] = {tonumber(h[3]), offline(k, key, op.r, op.at, op.la, op.rt or '', op.m, maxlen), 0, ''}
    elseif op.o == 'lv' then
      redis.call('HSET', key, 'lv', op.s, 'la', op.la, 'rt', op.rt or '')
      out[i] = {tonumber(h[3]), emit(k, key, 'liveness', '', '', op.at, maxlen), 0, ''}
    elseif op.o == 'av' then
      redis.call('HSET', key, 'av', op.av, 'sh', op.sh or '', 'su', op.su or '', 'pr', op.pr or '')
      out[i] = {tonumber(h[3]), emit(k, key, 'availability', '', '', op.at, maxlen), 0, ''}
    elseif op.o == 'me' then
      mergeMeta(key, op.m)
      out[i] = {tonumber(h[3]), emit(k, key, 'meta', '', op.a and '' or 'q', op.at, maxlen), 0, ''}
    end
  end
end
return {'OK', out}
`);

/**
 * REGISTER: KEYS[1] = {vigil}:nodes; ARGV node, lease ms, version, http address, started_at, the
 * node's previous epoch (0 at start).
 * Takes a new epoch (INCR) and a lease. Answers {epoch, previous epoch or '', Redis now}.
 */
export const REGISTER = luaScript('register', `${PRELUDE}
local node = ARGV[1]
local old = redis.call('HGET', P .. 'nodes', node)
local epoch = redis.call('INCR', P .. 'epoch')
-- After Redis lost its data the counter starts again: never hand a node an epoch it had before.
if epoch <= tonumber(ARGV[6]) then
  epoch = tonumber(ARGV[6]) + 1
  redis.call('SET', P .. 'epoch', epoch)
end
redis.call('HSET', P .. 'nodes', node, epoch)
redis.call('ZADD', P .. 'lease', now + tonumber(ARGV[2]), node)
redis.call('DEL', P .. 'info:' .. node)
redis.call('HSET', P .. 'info:' .. node, 'version', ARGV[3], 'http', ARGV[4], 'started_at', ARGV[5], 'epoch', epoch)
return {epoch, old or '', now}
`);

/**
 * RENEW: KEYS[1] = {vigil}:nodes; ARGV node, epoch, lease ms. Answers {'FENCED', why}: `replaced`
 * (another epoch holds the node id), `expired` (an expired lease is never renewed: a sweep may have
 * begun) or `missing` (no record: Redis lost its data, or the node was swept); else {'OK', now, the next other lease deadline or '', expired node,
 * its epoch, ...} (leases run out), so the caller can look again right when the next one ends.
 */
export const RENEW = luaScript('renew', `${PRELUDE}
local node, epoch = ARGV[1], ARGV[2]
local cur = redis.call('HGET', P .. 'nodes', node)
if not cur then return {'FENCED', 'missing'} end
if cur ~= epoch then return {'FENCED', 'replaced'} end
if tonumber(redis.call('ZSCORE', P .. 'lease', node) or '0') < now then return {'FENCED', 'expired'} end
redis.call('ZADD', P .. 'lease', now + tonumber(ARGV[3]), node)
local nextDl = redis.call('ZRANGEBYSCORE', P .. 'lease', now, '+inf', 'WITHSCORES', 'LIMIT', 0, 2)
local soonest = ''
for i = 1, #nextDl, 2 do
  if nextDl[i] ~= node then soonest = nextDl[i + 1]; break end
end
local out = {'OK', now, soonest}
for _, n in ipairs(redis.call('ZRANGEBYSCORE', P .. 'lease', '-inf', now - 1)) do
  table.insert(out, n)
  table.insert(out, redis.call('HGET', P .. 'nodes', n) or '')
end
return out
`);

/**
 * SWEEP: KEYS[1] = {vigil}:nodes; ARGV sweeper, sweeper epoch, dead node, dead epoch, batch,
 * feed maxlen, claim ms. Sets up to `batch` endpoints of the dead incarnation offline with reason
 * node_down, each only if it still names that node and epoch (idempotent: a second sweeper, or
 * the next after one that died, finds nothing to redo). One claim (SET NX PX) lets one survivor
 * sweep; it expires if that survivor dies. When the set is empty the node record goes.
 * Answers {'FENCED'} | {'ALIVE'} | {'CLAIMED', by} | {'OK', swept, left}.
 */
export const SWEEP = luaScript('sweep', `${PRELUDE}
local me, myEpoch, dead, deadEpoch = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if redis.call('HGET', P .. 'nodes', me) ~= myEpoch then return {'FENCED'} end
local cur = redis.call('HGET', P .. 'nodes', dead)
if cur == deadEpoch then
  local dl = redis.call('ZSCORE', P .. 'lease', dead)
  if dl and tonumber(dl) >= now then return {'ALIVE'} end
end
local claim = P .. 'sweep:' .. dead .. ':' .. deadEpoch
local by = redis.call('GET', claim)
if by and by ~= me then return {'CLAIMED', by} end
redis.call('SET', claim, me, 'PX', ARGV[7])
local own = P .. 'own:' .. dead .. ':' .. deadEpoch
local swept = 0
for _, k in ipairs(redis.call('SPOP', own, tonumber(ARGV[5]))) do
  local key = P .. 'ep:' .. k
  local h = redis.call('HMGET', key, 'st', 'n', 'e', 'la', 'rt')
  if h[1] == 'online' and h[2] == dead and h[3] == deadEpoch then
    offline(k, key, 'node_down', now, h[4] or now, h[5] or '', nil, ARGV[6])
    swept = swept + 1
  end
end
local left = redis.call('SCARD', own)
if left == 0 then
  if cur == deadEpoch then
    redis.call('HDEL', P .. 'nodes', dead)
    redis.call('ZREM', P .. 'lease', dead)
    redis.call('DEL', P .. 'info:' .. dead)
  end
  redis.call('DEL', claim)
end
return {'OK', swept, left}
`);

/** LEAVE: KEYS[1] = {vigil}:nodes; ARGV node, epoch. A graceful stop: the node record goes. */
export const LEAVE = luaScript('leave', `${PRELUDE}
if redis.call('HGET', P .. 'nodes', ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', P .. 'nodes', ARGV[1])
redis.call('ZREM', P .. 'lease', ARGV[1])
redis.call('DEL', P .. 'info:' .. ARGV[1])
return 1
`);

/**
 * GC: KEYS[1] = {vigil}:eps; ARGV cutoff (ms), max offline rows, batch. Deletes offline rows that
 * went offline before the cutoff, then the oldest beyond the maximum (presence.offline_ttl,
 * presence.max_offline). Idempotent; any node may run it. Answers the number deleted.
 */
export const GC = luaScript('gc', `
local P = '{vigil}:'
local batch = tonumber(ARGV[3])
local gone = redis.call('ZRANGEBYSCORE', P .. 'off', '-inf', ARGV[1], 'LIMIT', 0, batch)
local over = redis.call('ZCARD', P .. 'off') - #gone - tonumber(ARGV[2])
if over > 0 then
  for _, k in ipairs(redis.call('ZRANGE', P .. 'off', #gone, #gone + math.min(over, batch) - 1)) do table.insert(gone, k) end
end
for _, k in ipairs(gone) do
  redis.call('DEL', P .. 'ep:' .. k)
  redis.call('ZREM', P .. 'eps', k)
  redis.call('ZREM', P .. 'off', k)
end
return #gone
`);

/** ROWS: KEYS[1] = {vigil}:eps; ARGV endpoint names. Answers HGETALL of each (empty when gone). */
export const ROWS = luaScript('rows', `
local out = {}
for i, k in ipairs(ARGV) do out[i] = redis.call('HGETALL', '{vigil}:ep:' .. k) end
return out
`);
