/**
 * Lua scripts that change a job atomically inside Redis: the status check and the write happen
 * in one step, so two writers (say, a cancel and a completion) can never both win.
 */

/**
 * KEYS[1] job hash. ARGV[1] target status, ARGV[2] comma-separated allowed sources,
 * ARGV[3] now (ISO), ARGV[4] 1 to count a new attempt, ARGV[5] comma-separated fields to delete,
 * ARGV[6..] field/value pairs. Returns {1, previous} on success, {0, current} when refused,
 * {-1, ''} when the job does not exist.
 */
export const TRANSITION_SCRIPT = `
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return {-1, ''} end
local allowed = false
for source in string.gmatch(ARGV[2], '[^,]+') do
  if source == current then allowed = true end
end
if not allowed then return {0, current} end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'updated_at', ARGV[3])
if ARGV[4] == '1' then
  redis.call('HINCRBY', KEYS[1], 'attempts', 1)
  if not redis.call('HGET', KEYS[1], 'started_at') then redis.call('HSET', KEYS[1], 'started_at', ARGV[3]) end
  redis.call('HSET', KEYS[1], 'progress', '0')
end
if ARGV[1] == 'COMPLETED' or ARGV[1] == 'FAILED' or ARGV[1] == 'CANCELLED' then
  redis.call('HSET', KEYS[1], 'finished_at', ARGV[3])
end
for field in string.gmatch(ARGV[5], '[^,]+') do redis.call('HDEL', KEYS[1], field) end
for i = 6, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return {1, current}
`;

/**
 * KEYS[1] job hash. ARGV[1] progress, ARGV[2] stage, ARGV[3] now, ARGV[4..] extra field/value pairs.
 * Applies only while PROCESSING, and progress never goes backwards.
 * Returns {applied (0|1), cancel_requested (0|1)}.
 */
export const PROGRESS_SCRIPT = `
if redis.call('HGET', KEYS[1], 'status') ~= 'PROCESSING' then return {0, 0} end
local old = tonumber(redis.call('HGET', KEYS[1], 'progress') or '0')
local new = tonumber(ARGV[1])
if new < old then new = old end
redis.call('HSET', KEYS[1], 'progress', tostring(new), 'stage', ARGV[2], 'updated_at', ARGV[3])
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
local cancel = redis.call('HGET', KEYS[1], 'cancel_requested') == '1' and 1 or 0
return {1, cancel}
`;

/**
 * KEYS[1] job hash. ARGV[1] now, ARGV[2] cancel channel, ARGV[3] job id, ARGV[4] error message.
 * QUEUED → CANCELLED at once; PROCESSING → flag + announcement to the workers (the worker that
 * holds the job stops it and writes CANCELLED). Returns the outcome and the status seen.
 */
export const REQUEST_CANCEL_SCRIPT = `
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return {'missing', ''} end
if current == 'QUEUED' then
  redis.call('HSET', KEYS[1], 'status', 'CANCELLED', 'stage', 'cancelled', 'updated_at', ARGV[1],
    'finished_at', ARGV[1], 'cancel_requested', '1', 'error_code', 'JOB_CANCELLED', 'error_message', ARGV[4])
  return {'cancelled', current}
end
if current == 'PROCESSING' then
  redis.call('HSET', KEYS[1], 'cancel_requested', '1', 'stage', 'cancelling', 'updated_at', ARGV[1])
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return {'requested', current}
end
return {'final', current}
`;
