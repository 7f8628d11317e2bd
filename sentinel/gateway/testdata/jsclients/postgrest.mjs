// Drives @supabase/postgrest-js against a sentinel gateway: a node reads a
// config and a rotation, is refused a private rotation not assigned to it,
// and a user creates a job. jsclients_test.go starts it.
import { PostgrestClient } from '@supabase/postgrest-js'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'

const need = (k) => {
  const v = process.env[k]
  if (!v) {
    console.error(`missing environment variable ${k}`)
    process.exit(2)
  }
  return v
}
const api = need('WOWLAB_API_URL')
const apikey = need('WOWLAB_ANON_KEY')
const nodeToken = need('WOWLAB_NODE_TOKEN')
const userToken = need('WOWLAB_USER_TOKEN')
const configHash = need('WOWLAB_CONFIG_HASH')
const jobConfig = JSON.parse(need('WOWLAB_JOB_CONFIG'))
const rotationId = need('WOWLAB_ROTATION_ID')
const privateRotationId = need('WOWLAB_PRIVATE_ROTATION_ID')

const rest = (token) => new PostgrestClient(`${api}/rest/v1`, { headers: { apikey, Authorization: `Bearer ${token}` } })
const node = rest(nodeToken)

let { data, error } = await node.from('jobs_configs').select('config').eq('hash', configHash)
assert.equal(error, null)
assert.equal(data.length, 1)
assert.equal(data[0].config.rotationId, rotationId)
console.log('CONFIG ok')

;({ data, error } = await node.from('rotations').select('id,script,checksum').eq('id', rotationId).single())
assert.equal(error, null)
assert.equal(data.id, rotationId)
assert.equal(data.checksum, createHash('sha256').update(data.script).digest('hex'))
console.log('ROTATION ok')

;({ data, error } = await node.from('rotations').select('id,script').eq('id', privateRotationId))
assert.equal(error, null)
assert.deepEqual(data, [])
;({ data, error } = await node.from('rotations').select('id').eq('id', privateRotationId).single())
assert.equal(data, null)
assert.equal(error.code, 'PGRST116')
console.log('PRIVATE refused')

;({ data, error } = await node.from('rotations').select('nope'))
assert.equal(error.code, '42703')

let status
;({ data, error, status } = await rest('wlu_forged').from('jobs_configs').select('hash'))
assert.equal(status, 401)
assert.ok(error)

;({ data, error } = await node.rpc('create_job', { p_config: jobConfig, p_iterations: 1500 }))
assert.equal(data, null)
assert.equal(error.code, '42501')

;({ data, error } = await rest(userToken).rpc('create_job', { p_config: jobConfig, p_iterations: 1500 }))
assert.equal(error, null)
assert.equal(data.chunks, 2)
console.log(`CREATED ${data.jobId}`)
