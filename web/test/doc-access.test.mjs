// doc:access (docs/protocol-notes.md): the server changes the access level of a
// joined document; the provider stops or resumes sending, and the views' text
// fields follow (read-only while the document is). Real yjs and provider, an
// in-memory socket double, plain objects standing in for <textarea>s.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as Y from 'yjs'
import { SocketIOProvider, decodeMessage, encodeSyncStep1, encodeSyncStep2 } from '../src/provider.js'
import { followAccess, setFieldsWritable } from '../src/doc-access.js'

class FakeSocket {
  constructor () {
    this.connected = true
    this.handlers = new Map()
    this.sent = []
  }

  on (event, fn) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set())
    this.handlers.get(event).add(fn)
    return this
  }

  off (event, fn) {
    this.handlers.get(event)?.delete(fn)
    return this
  }

  emit (event, ...args) {
    const ack = typeof args.at(-1) === 'function' ? args.pop() : null
    this.sent.push({ event, args, ack })
    return this
  }

  serverEmit (event, ...args) {
    for (const fn of [...(this.handlers.get(event) ?? [])]) fn(...args)
  }

  updates (doc) {
    return this.sent.filter((s) => s.event === 'doc:msg' && s.args[0] === doc)
      .map((s) => ({ ...s, msg: decodeMessage(s.args[1]) }))
      .filter((s) => s.msg.kind === 'sync' && s.msg.type === 'update')
  }
}

function joinAndSync (socket, doc, access) {
  const server = new Y.Doc()
  server.getText('situation').insert(0, 'Fra serveren.')
  const join = socket.sent.filter((s) => s.event === 'doc:join').at(-1)
  socket.serverEmit('doc:msg', doc, encodeSyncStep1(server))
  join.ack({ ok: true, access })
  socket.serverEmit('doc:msg', doc, encodeSyncStep2(server, Y.encodeStateVector(new Y.Doc())))
}

/** What realtime.js's DocEntry gives a view: the access level and its events. */
function entryOf (provider) {
  return { get access () { return provider.access }, listeners: provider }
}

test('doc:access "read" makes a joined writer read-only: nothing more is sent, the field is read-only', () => {
  const socket = new FakeSocket()
  const ydoc = new Y.Doc()
  const p = new SocketIOProvider(socket, 'd', ydoc)
  const area = { readOnly: true }
  const changes = []
  followAccess(entryOf(p), (writable, change) => {
    setFieldsWritable([area], writable)
    changes.push(change)
  })
  joinAndSync(socket, 'd', 'write')
  assert.equal(area.readOnly, false)
  ydoc.getText('situation').insert(0, 'Skrevet. ')
  assert.equal(socket.updates('d').length, 1)

  socket.serverEmit('doc:access', { doc: 'd', access: 'read', reason: 'the section is archived' })
  assert.equal(p.access, 'read')
  assert.equal(area.readOnly, true)
  assert.deepEqual(changes.at(-1), { doc: 'd', access: 'read', reason: 'the section is archived' })
  const errors = []
  p.on('error', (e) => errors.push(e))
  ydoc.getText('situation').insert(0, 'Etterpå. ')
  assert.equal(socket.updates('d').length, 1, 'no update sent after the downgrade')
  assert.equal(errors.at(-1).code, 'forbidden')
  // Still joined: the document keeps receiving and showing what others write.
  assert.equal(p.status, 'synced')
  assert.ok(ydoc.getText('situation').toString().includes('Fra serveren.'))
  p.destroy()
})

test('changes not stored when the doc becomes read-only are given up, and their refusal is not an error', async () => {
  const socket = new FakeSocket()
  const ydoc = new Y.Doc()
  const p = new SocketIOProvider(socket, 'd', ydoc)
  joinAndSync(socket, 'd', 'write')
  ydoc.getText('situation').insert(0, 'I lufta. ')
  const saved = p.whenSaved()
  const inFlight = socket.updates('d').at(-1)
  socket.serverEmit('doc:access', { doc: 'd', access: 'read', reason: 'the plan is closed' })
  assert.equal(p.pendingCount, 0) // checked first, so a missing handler fails instead of waiting
  const result = await saved
  assert.equal(result.ok, false)
  assert.equal(result.error.code, 'forbidden')
  // The server refuses the update that was in flight: already settled.
  inFlight.ack({ ok: false, error: { code: 'forbidden', message: 'read-only' } })
  assert.equal(p.status, 'synced')
  p.destroy()
})

test('doc:access "write" makes the field writable again and changes are sent again', () => {
  const socket = new FakeSocket()
  const ydoc = new Y.Doc()
  const p = new SocketIOProvider(socket, 'd', ydoc)
  const area = { readOnly: true }
  followAccess(entryOf(p), (writable) => setFieldsWritable([area], writable))
  joinAndSync(socket, 'd', 'read')
  assert.equal(area.readOnly, true)
  socket.serverEmit('doc:access', { doc: 'd', access: 'write', reason: 'reopened' })
  assert.equal(area.readOnly, false)
  ydoc.getText('situation').insert(0, 'Igjen. ')
  assert.equal(socket.updates('d').length, 1)
  p.destroy()
})

test('doc:access for another document, or before joining, changes nothing', () => {
  const socket = new FakeSocket()
  const p = new SocketIOProvider(socket, 'd', new Y.Doc())
  const events = []
  p.on('access', (e) => events.push(e))
  socket.serverEmit('doc:access', { doc: 'd', access: 'write' }) // not joined yet
  joinAndSync(socket, 'd', 'read')
  socket.serverEmit('doc:access', { doc: 'other', access: 'write' })
  assert.equal(p.access, 'read')
  assert.deepEqual(events, [])
  p.destroy()
})

test('followAccess stops following when disposed', () => {
  const socket = new FakeSocket()
  const p = new SocketIOProvider(socket, 'd', new Y.Doc())
  const area = { readOnly: true }
  const stop = followAccess(entryOf(p), (writable) => setFieldsWritable([area], writable))
  joinAndSync(socket, 'd', 'write')
  stop()
  socket.serverEmit('doc:access', { doc: 'd', access: 'read' })
  assert.equal(area.readOnly, false)
  p.destroy()
})
