// Drives @supabase/realtime-js against a sentinel gateway, as a node:
// subscribes to its chunks, tracks presence, and waits for an assignment.
// jsclients_test.go starts it and reads the lines it prints.
import { RealtimeClient } from '@supabase/realtime-js'
import WebSocket from 'ws'

const need = (k) => {
  const v = process.env[k]
  if (!v) {
    console.error(`missing environment variable ${k}`)
    process.exit(2)
  }
  return v
}
const url = need('WOWLAB_REALTIME_URL')
const apikey = need('WOWLAB_ANON_KEY')
const nodeId = need('WOWLAB_NODE_ID')
const token = need('WOWLAB_NODE_TOKEN')
const otherNodeId = need('WOWLAB_OTHER_NODE_ID')

const fail = (msg) => {
  console.error(msg)
  process.exit(1)
}
setTimeout(() => fail('timed out'), 60_000).unref()

// Node 22 has a global WebSocket; older ones use ws.
const client = new RealtimeClient(url, {
  params: { apikey },
  transport: globalThis.WebSocket ?? WebSocket,
  heartbeatIntervalMs: 5_000,
})
await client.setAuth(token)

const chunks = client.channel(`chunks:${nodeId}`)
chunks.on('postgres_changes', { event: '*', schema: 'public', table: 'jobs_chunks', filter: `node_id=eq.${nodeId}` }, (p) => {
  if (p.new && p.new.status === 'running') {
    console.log(`ASSIGNED ${p.new.id} ${p.new.iterations} ${p.eventType}`)
    client.disconnect()
    process.exit(0)
  }
})
chunks.subscribe((status, err) => {
  if (status === 'SUBSCRIBED') console.log('SUBSCRIBED chunks')
  else if (status !== 'CLOSED') fail(`chunks channel: ${status} ${err?.message ?? ''}`)
})

const presence = client.channel('nodes:presence', { config: { presence: { key: nodeId } } })
presence.on('presence', { event: 'sync' }, () => {
  if (presence.presenceState()[nodeId]) console.log('PRESENCE_SYNC')
})
presence.subscribe(async (status, err) => {
  if (status === 'SUBSCRIBED') {
    const res = await presence.track({ node_id: nodeId })
    console.log(`TRACKED ${res}`)
  } else if (status !== 'CLOSED') fail(`presence channel: ${status} ${err?.message ?? ''}`)
})

// Another node's chunks are refused at join.
const foreign = client.channel(`chunks:${otherNodeId}`)
foreign.on('postgres_changes', { event: '*', schema: 'public', table: 'jobs_chunks', filter: `node_id=eq.${otherNodeId}` }, () => {
  fail('received another node\'s chunk')
})
foreign.subscribe((status, err) => {
  if (status === 'CHANNEL_ERROR') {
    console.log(`REFUSED ${err?.message ?? ''}`.replace(/\n/g, ' '))
    client.removeChannel(foreign)
  } else if (status === 'SUBSCRIBED') fail('subscribed to another node\'s chunks')
})
