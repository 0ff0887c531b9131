/**
 * Lua scripts that change a job atomically inside Redis: the status check, the write, the
 * history indexes and the change event happen in one step, so two writers (say, a cancel and a
 * completion) can never both win and an index can never disagree with a record.
 */
import { JOB_STATUSES } from '../contract/index.js';

/**
 * The keys of every script that touches a job's indexes, in this order (see `JobStore.keysOf`):
 * KEYS[1] job hash, KEYS[2] the owner's event stream, KEYS[3] the owner's filename hash,
 * KEYS[4] the owner's index of all jobs, KEYS[5] of the job's type, KEYS[6..10] one per status
 * (JOB_STATUSES order), KEYS[11..15] one per status within the job's type, KEYS[16] the index of
 * every active (QUEUED or PROCESSING) job of all owners, which the reconciler walks.
 * The last ALL_JOBS_INDEX_KEY_COUNT KEYS (after any a script adds of its own) are the index of
 * every owner's jobs: all, of the job's type, one per status, one per status within the type.
 * ARGV[1] is the events channel and ARGV[2] the event stream's approximate maximum length.
 */
export const ALL_JOBS_INDEX_KEY_COUNT = 2 + 2 * JOB_STATUSES.length;

const PRELUDE = `
local STATUSES = {${JOB_STATUSES.map((s) => `'${s}'`).join(', ')}}
local ALL = #KEYS - ${ALL_JOBS_INDEX_KEY_COUNT}
local function status_slot(status)
  for i, s in ipairs(STATUSES) do if s == status then return i end end
  return nil
end
local function index_status(job_id, from, to)
  local a = status_slot(from)
  local b = status_slot(to)
  if a then
    redis.call('ZREM', KEYS[5 + a], job_id)
    redis.call('ZREM', KEYS[10 + a], job_id)
    redis.call('ZREM', KEYS[ALL + 2 + a], job_id)
    redis.call('ZREM', KEYS[ALL + 2 + #STATUSES + a], job_id)
  end
  if b then
    redis.call('ZADD', KEYS[5 + b], 0, job_id)
    redis.call('ZADD', KEYS[10 + b], 0, job_id)
    redis.call('ZADD', KEYS[ALL + 2 + b], 0, job_id)
    redis.call('ZADD', KEYS[ALL + 2 + #STATUSES + b], 0, job_id)
  end
  if to == 'QUEUED' or to == 'PROCESSING' then
    redis.call('ZADD', KEYS[16], 0, job_id)
  else
    redis.call('ZREM', KEYS[16], job_id)
  end
end
local function announce(job_id, owner, kind)
  local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'job_id', job_id, 'kind', kind)
  redis.call('PUBLISH', ARGV[1], cjson.encode({owner = owner, job_id = job_id, event_id = id, kind = kind}))
  return id
end
`;

/** ARGV[3] job id, ARGV[4] normalised file name, ARGV[5..] field/value pairs of the new record. */
export const CREATE_SCRIPT = `${PRELUDE}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
local job_id = ARGV[3]
redis.call('ZADD', KEYS[4], 0, job_id)
redis.call('ZADD', KEYS[5], 0, job_id)
redis.call('ZADD', KEYS[ALL + 1], 0, job_id)
redis.call('ZADD', KEYS[ALL + 2], 0, job_id)
index_status(job_id, nil, redis.call('HGET', KEYS[1], 'status'))
redis.call('HSET', KEYS[3], job_id, ARGV[4])
announce(job_id, redis.call('HGET', KEYS[1], 'owner_id'), 'changed')
return 1
`;

/**
 * ARGV[3] target status, ARGV[4] comma-separated allowed sources, ARGV[5] now (ISO), ARGV[6] 1 to
 * count a new attempt, ARGV[7] comma-separated fields to delete, ARGV[8] a dead letter (JSON) to
 * store at KEYS[17] and index at KEYS[18] by ARGV[9] (ms) when the transition applies, or '',
 * ARGV[10] the claim token the writer holds ('' for writers outside an attempt: API, replay,
 * reconciler), ARGV[11] an attempt-history entry (JSON) to append to KEYS[20] (kept ARGV[12]
 * seconds) when the transition applies, or '', ARGV[13] the job's queue name and ARGV[14] the
 * lifetime (s) of the per-minute throughput hash KEYS[21], ARGV[15..] field/value pairs.
 * The dead letter is written in the same step as FAILED, so no crash can leave a FAILED job
 * without one. A final status also adds the job to the announcements outbox KEYS[19] (scored
 * ARGV[9]), in the same step. COMPLETED and FAILED are counted in KEYS[21] here, only when the
 * status actually changes, so a repeated write or announcement never counts a job twice.
 * A writer whose claim token is no longer the job's (its attempt was taken over) changes nothing.
 * Returns {1, previous} on success, {0, current} when refused, {-1, ''} when the job does not
 * exist, {-2, current} when the writer's attempt is stale.
 */
export const TRANSITION_SCRIPT = `${PRELUDE}
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return {-1, ''} end
if ARGV[10] ~= '' and redis.call('HGET', KEYS[1], 'claim_token') ~= ARGV[10] then return {-2, current} end
local allowed = false
for source in string.gmatch(ARGV[4], '[^,]+') do
  if source == current then allowed = true end
end
if not allowed then return {0, current} end
local to = ARGV[3]
redis.call('HSET', KEYS[1], 'status', to, 'updated_at', ARGV[5])
if ARGV[6] == '1' then
  redis.call('HINCRBY', KEYS[1], 'attempts', 1)
  if not redis.call('HGET', KEYS[1], 'started_at') then redis.call('HSET', KEYS[1], 'started_at', ARGV[5]) end
  redis.call('HSET', KEYS[1], 'progress', '0')
end
if to == 'COMPLETED' or to == 'FAILED' or to == 'CANCELLED' then
  redis.call('HSET', KEYS[1], 'finished_at', ARGV[5])
  redis.call('ZADD', KEYS[19], ARGV[9], redis.call('HGET', KEYS[1], 'job_id'))
end
for field in string.gmatch(ARGV[7], '[^,]+') do redis.call('HDEL', KEYS[1], field) end
for i = 15, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
local job_id = redis.call('HGET', KEYS[1], 'job_id')
index_status(job_id, current, to)
if ARGV[8] ~= '' then
  redis.call('SET', KEYS[17], ARGV[8])
  redis.call('ZADD', KEYS[18], ARGV[9], job_id)
end
if ARGV[11] ~= '' then
  redis.call('RPUSH', KEYS[20], ARGV[11])
  redis.call('EXPIRE', KEYS[20], ARGV[12])
end
if to == 'COMPLETED' or to == 'FAILED' then
  if to == 'COMPLETED' then
    redis.call('HINCRBY', KEYS[21], 'completed:' .. ARGV[13], 1)
  else
    redis.call('HINCRBY', KEYS[21], 'failed:' .. ARGV[13], 1)
    redis.call('HINCRBY', KEYS[21], 'code:' .. (redis.call('HGET', KEYS[1], 'error_code') or 'INTERNAL_ERROR'), 1)
  end
  redis.call('EXPIRE', KEYS[21], ARGV[14])
end
announce(job_id, redis.call('HGET', KEYS[1], 'owner_id'), 'changed')
return {1, current}
`;

/**
 * KEYS[1] job hash, KEYS[2] event stream. ARGV[1] events channel, ARGV[2] stream length,
 * ARGV[3] progress, ARGV[4] stage, ARGV[5] now, ARGV[6] the writer's claim token ('' for none),
 * ARGV[7..] extra field/value pairs.
 * Applies only while PROCESSING under that claim, and progress never goes backwards.
 * Returns {applied (0|1), cancel_requested (0|1), stale (0|1)}.
 */
export const PROGRESS_SCRIPT = `${PRELUDE}
if ARGV[6] ~= '' and redis.call('HGET', KEYS[1], 'claim_token') ~= ARGV[6] then return {0, 0, 1} end
if redis.call('HGET', KEYS[1], 'status') ~= 'PROCESSING' then return {0, 0, 0} end
local old = tonumber(redis.call('HGET', KEYS[1], 'progress') or '0')
local new = tonumber(ARGV[3])
if new < old then new = old end
redis.call('HSET', KEYS[1], 'progress', tostring(new), 'stage', ARGV[4], 'updated_at', ARGV[5])
for i = 7, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
announce(redis.call('HGET', KEYS[1], 'job_id'), redis.call('HGET', KEYS[1], 'owner_id'), 'changed')
local cancel = redis.call('HGET', KEYS[1], 'cancel_requested') == '1' and 1 or 0
return {1, cancel, 0}
`;

/**
 * ARGV[3] now, ARGV[4] cancel channel, ARGV[5] job id, ARGV[6] error message, ARGV[7] now (ms);
 * KEYS[17] the final-announcements outbox.
 * QUEUED → CANCELLED at once; PROCESSING → flag + announcement to the workers (the worker that
 * holds the job stops it and writes CANCELLED). Returns the outcome and the status seen.
 */
export const REQUEST_CANCEL_SCRIPT = `${PRELUDE}
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return {'missing', ''} end
local owner = redis.call('HGET', KEYS[1], 'owner_id')
if current == 'QUEUED' then
  redis.call('HSET', KEYS[1], 'status', 'CANCELLED', 'stage', 'cancelled', 'updated_at', ARGV[3],
    'finished_at', ARGV[3], 'cancel_requested', '1', 'error_code', 'JOB_CANCELLED', 'error_message', ARGV[6])
  index_status(ARGV[5], current, 'CANCELLED')
  redis.call('ZADD', KEYS[17], ARGV[7], ARGV[5])
  announce(ARGV[5], owner, 'changed')
  return {'cancelled', current}
end
if current == 'PROCESSING' then
  redis.call('HSET', KEYS[1], 'cancel_requested', '1', 'stage', 'cancelling', 'updated_at', ARGV[3])
  redis.call('PUBLISH', ARGV[4], ARGV[5])
  announce(ARGV[5], owner, 'changed')
  return {'requested', current}
end
return {'final', current}
`;

/**
 * KEYS[1] job hash. ARGV[1] the spending attempt's claim token ('' for none). Counts one extra
 * engine call (a re-read, a re-run) of the job and returns the count so far, -1 when the job no
 * longer exists (nothing is created for it), or -2 when the claim is no longer the job's running
 * one (a superseded attempt spends nothing of the job's budget).
 */
export const SPEND_EXTRA_WORK_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if ARGV[1] ~= '' and (redis.call('HGET', KEYS[1], 'claim_token') ~= ARGV[1]
  or redis.call('HGET', KEYS[1], 'status') ~= 'PROCESSING') then return -2 end
return redis.call('HINCRBY', KEYS[1], 'extra_work_used', 1)
`;

/**
 * KEYS[1] job hash, KEYS[2] the job's output-claims set, KEYS[3] the index of jobs with unsettled
 * output claims. ARGV[1] the claim token, ARGV[2] now (ms), ARGV[3] job id.
 * Before an attempt writes its first output: only while the job is PROCESSING under that claim,
 * the claim is added to the set and the job to the index (scored now), so every folder
 * `output/<claim>/` that may exist is listed before it does. Returns 1, or 0 (nothing written)
 * when the attempt is no longer the job's.
 */
export const REGISTER_OUTPUT_CLAIM_SCRIPT = `
if redis.call('HGET', KEYS[1], 'status') ~= 'PROCESSING' or redis.call('HGET', KEYS[1], 'claim_token') ~= ARGV[1] then
  return 0
end
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
return 1
`;

/**
 * KEYS[1] job hash, KEYS[2] the job's output-claims set, KEYS[3] the index of jobs with unsettled
 * output claims. ARGV[1] job id, ARGV[2] now (ms), ARGV[3..] claims whose outputs were removed by
 * someone who knows nothing more is written under them (their own run, or the reconciler).
 * Those claims leave the set. The job is settled (set deleted, index entry removed) when it is
 * gone, or final with no claim left but the published one (COMPLETED: the record's claim).
 * Otherwise its index entry is scored now, so the reconciler looks again after its grace period.
 * Returns {1} when settled, {0, other claims...} when final with other claims left, {2, other
 * claims...} while the job is not final yet.
 */
export const SETTLE_OUTPUT_CLAIMS_SCRIPT = `
for i = 3, #ARGV do redis.call('SREM', KEYS[2], ARGV[i]) end
local status = redis.call('HGET', KEYS[1], 'status')
local final = status == 'COMPLETED' or status == 'FAILED' or status == 'CANCELLED'
local keep = false
if status == 'COMPLETED' then keep = redis.call('HGET', KEYS[1], 'claim_token') end
local others = {}
for _, claim in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if claim ~= keep then table.insert(others, claim) end
end
if not status or (final and #others == 0) then
  redis.call('DEL', KEYS[2])
  redis.call('ZREM', KEYS[3], ARGV[1])
  return {1}
end
if redis.call('SCARD', KEYS[2]) > 0 then
  redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
else
  redis.call('ZREM', KEYS[3], ARGV[1])
end
local reply = {final and 0 or 2}
for _, claim in ipairs(others) do table.insert(reply, claim) end
return reply
`;

/**
 * ARGV[3] job id. Deletes the record and every index entry, and the job's output-claims set
 * (KEYS[17]) with its entry in the index of unsettled outputs (KEYS[18]); returns 1, or 0 if the
 * record did not exist.
 */
export const REMOVE_SCRIPT = `${PRELUDE}
redis.call('DEL', KEYS[17])
redis.call('ZREM', KEYS[18], ARGV[3])
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return 0 end
local owner = redis.call('HGET', KEYS[1], 'owner_id')
local job_id = ARGV[3]
index_status(job_id, current, nil)
redis.call('ZREM', KEYS[4], job_id)
redis.call('ZREM', KEYS[5], job_id)
redis.call('ZREM', KEYS[ALL + 1], job_id)
redis.call('ZREM', KEYS[ALL + 2], job_id)
redis.call('HDEL', KEYS[3], job_id)
redis.call('DEL', KEYS[1])
announce(job_id, owner, 'deleted')
return 1
`;
