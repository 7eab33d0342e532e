// Unit tests for src/provider.js with the real yjs / y-protocols and an
// in-memory socket double. A second Y.Doc plays the server's document, so the
// tests check what actually arrives, not only which events were emitted.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as Y from 'yjs'
import * as awarenessProtocol from 'y-protocols/awareness'
import {
  SocketIOProvider,
  decodeMessage,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeSyncUpdate,
  encodeAwarenessMessage,
  toUint8Array,
  clearDocContent
} from '../src/provider.js'

/** Records emits and lets the test play the server. */
class FakeSocket {
  constructor ({ connected = true } = {}) {
    this.connected = connected
    this.handlers = new Map()
    /** @type {Array<{event: string, args: any[], ack: Function|null}>} */
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

  listenerCount (event) {
    return this.handlers.get(event)?.size ?? 0
  }

  emit (event, ...args) {
    const ack = typeof args.at(-1) === 'function' ? args.pop() : null
    this.sent.push({ event, args, ack })
    return this
  }

  /** Delivers a server → client event. */
  serverEmit (event, ...args) {
    for (const fn of [...(this.handlers.get(event) ?? [])]) fn(...args)
  }

  goOnline () {
    this.connected = true
    this.serverEmit('connect')
  }

  goOffline () {
    this.connected = false
    this.serverEmit('disconnect', 'transport close')
  }

  /** Sent events with this name, optionally only doc:msg of one sync type. */
  take (event, filter = () => true) {
    return this.sent.filter((s) => s.event === event && filter(s))
  }

  docMsgs (doc, type) {
    return this.take('doc:msg', (s) => s.args[0] === doc).map((s) => ({ ...s, msg: decodeMessage(s.args[1]) }))
      .filter((s) => type === undefined || (s.msg.kind === 'sync' ? s.msg.type : s.msg.kind) === type)
  }
}

/** Joins `doc` with the given access and runs the server's half of the handshake. */
function joinAndSync (socket, doc, serverDoc, access = 'write') {
  const join = socket.take('doc:join', (s) => s.args[0].doc === doc).at(-1)
  assert.ok(join, `no doc:join for ${doc}`)
  socket.serverEmit('doc:msg', doc, encodeSyncStep1(serverDoc))
  join.ack({ ok: true, access })
  socket.serverEmit('doc:msg', doc, encodeSyncStep2(serverDoc, Y.encodeStateVector(new Y.Doc())))
}

/** Applies every change-carrying client message to serverDoc and acks them. */
function serverStoreAll (socket, doc, serverDoc, startSeq = 1) {
  let seq = startSeq
  for (const s of socket.docMsgs(doc)) {
    if (s.msg.kind === 'sync' && s.msg.type !== 'step1' && !s.handled) {
      Y.applyUpdate(serverDoc, s.msg.payload)
      s.ack?.({ ok: true, seq: seq++ })
    }
  }
  socket.sent = socket.sent.filter((s) => s.event !== 'doc:msg' || s.args[0] !== doc)
  return seq
}

function newDoc (text = '') {
  const d = new Y.Doc()
  if (text) d.getText('situation').insert(0, text)
  return d
}

test('message helpers round-trip every message kind', () => {
  const doc = newDoc('hei')
  const step1 = decodeMessage(encodeSyncStep1(doc))
  assert.deepEqual([step1.kind, step1.type], ['sync', 'step1'])
  assert.deepEqual(step1.payload, Y.encodeStateVector(doc))

  const step2 = decodeMessage(encodeSyncStep2(doc, new Uint8Array([0])))
  assert.equal(step2.type, 'step2')
  const copy = new Y.Doc()
  Y.applyUpdate(copy, step2.payload)
  assert.equal(copy.getText('situation').toString(), 'hei')

  const update = Y.encodeStateAsUpdate(doc)
  const upd = decodeMessage(encodeSyncUpdate(update))
  assert.equal(upd.type, 'update')
  assert.deepEqual(upd.payload, update)

  const aw = decodeMessage(encodeAwarenessMessage(new Uint8Array([1, 2, 3])))
  assert.equal(aw.kind, 'awareness')
  assert.deepEqual(aw.payload, new Uint8Array([1, 2, 3]))
})

test('decodeMessage accepts Buffer and ArrayBuffer and rejects junk', () => {
  const bytes = encodeSyncUpdate(new Uint8Array([0, 0]))
  assert.equal(decodeMessage(Buffer.from(bytes)).type, 'update')
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
  assert.equal(decodeMessage(ab).type, 'update')
  assert.throws(() => decodeMessage(new Uint8Array([7, 0])), /unknown message kind/)
  assert.throws(() => decodeMessage(new Uint8Array([0, 9, 0])), /unknown sync message type/)
  assert.throws(() => toUint8Array('text'), TypeError)
})

test('joins with the Y.Doc clientID and sends step 1 only after the ack', () => {
  const socket = new FakeSocket()
  const ydoc = newDoc()
  const p = new SocketIOProvider(socket, 'plan:1:section:2', ydoc)
  const [join] = socket.take('doc:join')
  assert.deepEqual(join.args[0], { doc: 'plan:1:section:2', client_id: ydoc.clientID })
  assert.equal(socket.docMsgs('plan:1:section:2', 'step1').length, 0)
  assert.equal(p.status, 'connecting')
  join.ack({ ok: true, access: 'write' })
  assert.equal(p.access, 'write')
  assert.equal(socket.docMsgs('plan:1:section:2', 'step1').length, 1)
  p.destroy()
})

test('applies the server state and reaches synced without echoing it back', () => {
  const socket = new FakeSocket()
  const ydoc = newDoc()
  const server = newDoc('from server')
  const p = new SocketIOProvider(socket, 'd', ydoc)
  const statuses = []
  p.on('status', (s) => statuses.push(s))
  joinAndSync(socket, 'd', server)
  assert.equal(ydoc.getText('situation').toString(), 'from server')
  assert.equal(p.status, 'synced')
  assert.deepEqual(statuses, ['synced'])
  // Only our step 1 and the step 2 answering the server's step 1: no update echo.
  assert.equal(socket.docMsgs('d', 'update').length, 0)
  const [step2] = socket.docMsgs('d', 'step2')
  const probe = new Y.Doc()
  Y.applyUpdate(probe, step2.msg.payload)
  assert.equal(probe.getText('situation').toString(), '', 'step 2 must not resend what the server has')
  p.destroy()
})

test('local edits are sent as updates, pending until acked with a seq', async () => {
  const socket = new FakeSocket()
  const ydoc = newDoc()
  const server = newDoc()
  const p = new SocketIOProvider(socket, 'd', ydoc)
  joinAndSync(socket, 'd', server)
  serverStoreAll(socket, 'd', server)

  ydoc.getText('situation').insert(0, 'hei')
  assert.equal(p.status, 'pending')
  assert.equal(p.pendingCount, 1)
  const saved = p.whenSaved()
  const [upd] = socket.docMsgs('d', 'update')
  assert.ok(upd.ack, 'change messages must request an ack')
  Y.applyUpdate(server, upd.msg.payload)
  upd.ack({ ok: true, seq: 42 })
  assert.deepEqual(await saved, { ok: true, seq: 42 })
  assert.equal(p.status, 'synced')
  assert.equal(p.lastSeq, 42)
  assert.equal(server.getText('situation').toString(), 'hei')
  p.destroy()
})

test('a refused change emits the error code and keeps the change unsaved', async () => {
  const socket = new FakeSocket()
  const ydoc = newDoc()
  const p = new SocketIOProvider(socket, 'd', ydoc)
  joinAndSync(socket, 'd', newDoc())
  serverStoreAll(socket, 'd', newDoc())
  const errors = []
  p.on('error', (e) => errors.push(e))
  ydoc.getText('situation').insert(0, 'x')
  const saved = p.whenSaved()
  socket.docMsgs('d', 'update')[0].ack({ ok: false, error: { code: 'foreign-client', message: 'no' } })
  assert.deepEqual(errors, [{ code: 'foreign-client', message: 'no', during: 'update' }])
  assert.equal(p.status, 'refused')
  assert.equal(p.pendingCount, 1)
  assert.equal((await saved).error.code, 'foreign-client')
  p.destroy()
})

test('join refusal reports the code and sends no sync messages', () => {
  const socket = new FakeSocket()
  const p = new SocketIOProvider(socket, 'd', newDoc())
  const errors = []
  p.on('error', (e) => errors.push(e.code))
  socket.take('doc:join')[0].ack({ ok: false, error: { code: 'forbidden', message: 'no access' } })
  assert.deepEqual(errors, ['forbidden'])
  assert.equal(p.status, 'refused')
  assert.equal(socket.take('doc:msg').length, 0)
  p.destroy()
})

test('read-only access sends no changes and reports attempts', () => {
  const socket = new FakeSocket()
  const ydoc = newDoc()
  const p = new SocketIOProvider(socket, 'd', ydoc)
  joinAndSync(socket, 'd', newDoc('server text'), 'read')
  assert.equal(p.access, 'read')
  // No step 2 reply: a read-only client has nothing to store.
  assert.equal(socket.docMsgs('d', 'step2').length, 0)
  const errors = []
  p.on('error', (e) => errors.push(e))
  ydoc.getText('situation').insert(0, 'sneaky')
  assert.equal(socket.docMsgs('d', 'update').length, 0)
  assert.equal(errors.length, 1)
  assert.equal(errors[0].code, 'forbidden')
  assert.equal(p.pendingCount, 0)
  p.destroy()
})

test('edits made offline are buffered and delivered by the step 2 after reconnect', async () => {
  const socket = new FakeSocket()
  const ydoc = newDoc()
  const server = newDoc('A')
  const p = new SocketIOProvider(socket, 'd', ydoc)
  joinAndSync(socket, 'd', server)
  serverStoreAll(socket, 'd', server)

  socket.goOffline()
  assert.equal(p.status, 'offline')
  ydoc.getText('situation').insert(1, 'B')
  ydoc.getText('situation').insert(2, 'C')
  assert.equal(socket.take('doc:msg').length, 0, 'nothing may be emitted while offline')
  assert.equal(p.pendingCount, 2)
  // Meanwhile someone else edited on the server.
  server.getText('situation').insert(0, '>')

  socket.sent = []
  socket.goOnline()
  assert.equal(p.status, 'connecting')
  assert.equal(socket.take('doc:join').length, 1, 're-joins on connect')
  const saved = p.whenSaved()
  joinAndSync(socket, 'd', server)
  assert.equal(socket.docMsgs('d', 'update').length, 0, 'step 2 already carries the offline edits')
  serverStoreAll(socket, 'd', server, 7)
  assert.deepEqual(await saved, { ok: true, seq: 7 })
  assert.equal(server.getText('situation').toString(), '>ABC')
  assert.equal(ydoc.getText('situation').toString(), '>ABC')
  assert.equal(p.status, 'synced')
  p.destroy()
})

test('unacked updates are resent after a reconnect even if the server never sends step 1', async () => {
  const socket = new FakeSocket()
  const ydoc = newDoc()
  const server = newDoc()
  const p = new SocketIOProvider(socket, 'd', ydoc)
  joinAndSync(socket, 'd', server)
  serverStoreAll(socket, 'd', server)

  ydoc.getText('situation').insert(0, 'lost')
  assert.equal(socket.docMsgs('d', 'update').length, 1)
  socket.goOffline() // the update's ack never arrives
  socket.sent = []
  socket.goOnline()
  socket.take('doc:join')[0].ack({ ok: true, access: 'write' })
  // Server answers our step 1 but sends no step 1 of its own.
  socket.serverEmit('doc:msg', 'd', encodeSyncStep2(server, Y.encodeStateVector(ydoc)))
  const resent = socket.docMsgs('d', 'update')
  assert.equal(resent.length, 1)
  const probe = new Y.Doc()
  Y.applyUpdate(probe, resent[0].msg.payload)
  assert.equal(probe.getText('situation').toString(), 'lost')
  resent[0].ack({ ok: true, seq: 2 })
  assert.equal(p.pendingCount, 0)
  p.destroy()
})

test('a late ack from an earlier connection is ignored', () => {
  const socket = new FakeSocket()
  const ydoc = newDoc()
  const p = new SocketIOProvider(socket, 'd', ydoc)
  joinAndSync(socket, 'd', newDoc())
  ydoc.getText('situation').insert(0, 'x')
  const [old] = socket.docMsgs('d', 'update')
  socket.goOffline()
  socket.goOnline()
  old.ack({ ok: true, seq: 1 })
  assert.equal(p.pendingCount, 1, 'the old session cannot confirm anything')
  p.destroy()
})

test('server step 1 arriving before the join ack is answered after it', () => {
  const socket = new FakeSocket()
  const ydoc = newDoc('local')
  const server = newDoc()
  const p = new SocketIOProvider(socket, 'd', ydoc)
  socket.serverEmit('doc:msg', 'd', encodeSyncStep1(server))
  assert.equal(socket.take('doc:msg').length, 0, 'access unknown: no reply yet')
  socket.take('doc:join')[0].ack({ ok: true, access: 'write' })
  const [step2] = socket.docMsgs('d', 'step2')
  Y.applyUpdate(server, step2.msg.payload)
  assert.equal(server.getText('situation').toString(), 'local')
  p.destroy()
})

test('incoming doc:msg is routed by doc name between providers on one socket', () => {
  const socket = new FakeSocket()
  const a = newDoc()
  const b = newDoc()
  const pa = new SocketIOProvider(socket, 'plan:1:section:1', a)
  const pb = new SocketIOProvider(socket, 'plan:1:section:2', b)
  assert.equal(socket.listenerCount('doc:msg'), 1, 'one router listener per socket')
  joinAndSync(socket, 'plan:1:section:1', newDoc('for A'))
  joinAndSync(socket, 'plan:1:section:2', newDoc('for B'))
  const u = newDoc('x')
  socket.serverEmit('doc:msg', 'plan:9:section:9', encodeSyncUpdate(Y.encodeStateAsUpdate(u)))
  assert.equal(a.getText('situation').toString(), 'for A')
  assert.equal(b.getText('situation').toString(), 'for B')
  assert.throws(() => new SocketIOProvider(socket, 'plan:1:section:1', newDoc()), /already attached/)
  pa.destroy()
  pb.destroy()
  assert.equal(socket.listenerCount('doc:msg'), 0, 'router detaches with the last provider')
  assert.equal(socket.listenerCount('connect'), 0)
})

test('revocation clears the content, stops syncing and emits revoked', async () => {
  const socket = new FakeSocket()
  const ydoc = new Y.Doc()
  const p = new SocketIOProvider(socket, 'd', ydoc)
  joinAndSync(socket, 'd', newDoc('confidential therapy notes'))
  assert.equal(ydoc.getText('situation').toString(), 'confidential therapy notes')
  ydoc.getText('situation').insert(0, 'unsaved ')
  const saved = p.whenSaved()
  const events = []
  p.on('revoked', (e) => events.push(e))
  socket.serverEmit('doc:revoked', { doc: 'd', reason: 'consent-withdrawn' })
  assert.deepEqual(events, [{ doc: 'd', reason: 'consent-withdrawn' }])
  assert.equal(p.status, 'revoked')
  assert.equal((await saved).error.code, 'revoked')
  assert.equal(ydoc.getText('situation').toString(), '')
  const state = Buffer.from(Y.encodeStateAsUpdate(ydoc)).toString('latin1')
  assert.ok(!state.includes('therapy'), 'content must not survive in the doc state')
  // Nothing more is sent or applied for this doc.
  socket.sent = []
  ydoc.getText('situation').insert(0, 'after')
  socket.serverEmit('doc:msg', 'd', encodeSyncUpdate(Y.encodeStateAsUpdate(newDoc('more'))))
  assert.equal(socket.take('doc:msg').length, 0)
  assert.equal(socket.take('doc:leave').length, 0)
  assert.equal(ydoc.getText('situation').toString(), 'after')
})

test('clearDocContent empties root types that were never declared locally', () => {
  const src = new Y.Doc()
  src.getText('notes').insert(0, 'secret')
  src.getArray('goals').push([new Y.Map([['text', 'goal secret']])])
  const doc = new Y.Doc()
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(src))
  clearDocContent(doc, null)
  assert.equal(doc.getText('notes').toString(), '')
  assert.equal(doc.getArray('goals').length, 0)
  assert.ok(!Buffer.from(Y.encodeStateAsUpdate(doc)).toString('latin1').includes('secret'))
})

test('awareness: local state is relayed, remote state applied, neither echoed', () => {
  const socket = new FakeSocket()
  const ydoc = newDoc()
  const p = new SocketIOProvider(socket, 'd', ydoc)
  joinAndSync(socket, 'd', newDoc())
  assert.equal(socket.docMsgs('d', 'awareness').length, 1, 'initial presence sent on join')
  socket.sent = []

  p.awareness.setLocalStateField('cursor', 3)
  const [mine] = socket.docMsgs('d', 'awareness')
  const peer = new awarenessProtocol.Awareness(new Y.Doc())
  awarenessProtocol.applyAwarenessUpdate(peer, mine.msg.payload, 'test')
  assert.equal(peer.getStates().get(ydoc.clientID).cursor, 3)

  socket.sent = []
  peer.setLocalState({ cursor: 9, user: { name: 'Siw' } })
  const remote = awarenessProtocol.encodeAwarenessUpdate(peer, [peer.clientID])
  socket.serverEmit('doc:msg', 'd', encodeAwarenessMessage(remote))
  assert.equal(p.awareness.getStates().get(peer.clientID).user.name, 'Siw')
  assert.equal(socket.take('doc:msg').length, 0, 'remote presence is not echoed')

  socket.goOffline()
  assert.equal(p.awareness.getStates().has(peer.clientID), false, 'stale presence dropped offline')
  peer.destroy()
  p.destroy()
})

test('destroy leaves the doc, withdraws presence and detaches from the Y.Doc', () => {
  const socket = new FakeSocket()
  const ydoc = newDoc()
  const p = new SocketIOProvider(socket, 'd', ydoc)
  joinAndSync(socket, 'd', newDoc())
  socket.sent = []
  p.destroy()
  const [presence] = socket.docMsgs('d', 'awareness')
  const peer = new awarenessProtocol.Awareness(new Y.Doc())
  awarenessProtocol.applyAwarenessUpdate(peer, presence.msg.payload, 'test')
  assert.equal(peer.getStates().has(ydoc.clientID), false)
  assert.deepEqual(socket.take('doc:leave').map((s) => s.args[0]), [{ doc: 'd' }])
  socket.sent = []
  ydoc.getText('situation').insert(0, 'x')
  assert.equal(socket.sent.length, 0)
  assert.equal(p.status, 'closed')
  peer.destroy()
})

test('not-joined refusal triggers a fresh join and handshake', () => {
  const socket = new FakeSocket()
  const ydoc = newDoc()
  const p = new SocketIOProvider(socket, 'd', ydoc)
  joinAndSync(socket, 'd', newDoc())
  serverStoreAll(socket, 'd', newDoc())
  socket.sent = []
  ydoc.getText('situation').insert(0, 'x')
  socket.docMsgs('d', 'update')[0].ack({ ok: false, error: { code: 'not-joined', message: '' } })
  assert.equal(socket.take('doc:join').length, 1)
  const server = newDoc()
  joinAndSync(socket, 'd', server)
  serverStoreAll(socket, 'd', server)
  assert.equal(server.getText('situation').toString(), 'x')
  assert.equal(p.status, 'synced')
  p.destroy()
})

test('presence announced on (re)join is accepted by peers, even after a server-side removal', () => {
  const socket = new FakeSocket()
  const ydoc = newDoc()
  const p = new SocketIOProvider(socket, 'd', ydoc)
  const peer = new awarenessProtocol.Awareness(new Y.Doc())
  const deliver = () => {
    for (const s of socket.docMsgs('d', 'awareness')) awarenessProtocol.applyAwarenessUpdate(peer, s.msg.payload, 'test')
    socket.sent = []
  }
  joinAndSync(socket, 'd', newDoc())
  deliver()
  assert.ok(peer.getStates().has(ydoc.clientID), 'a peer that never saw us accepts the initial state')

  // The connection drops; the server tells the peer we left, one clock later.
  socket.goOffline()
  awarenessProtocol.removeAwarenessStates(peer, [ydoc.clientID], 'server')
  peer.meta.get(ydoc.clientID).clock += 1
  assert.equal(peer.getStates().has(ydoc.clientID), false)
  socket.sent = []
  socket.goOnline()
  joinAndSync(socket, 'd', newDoc())
  deliver()
  assert.ok(peer.getStates().has(ydoc.clientID), 'the re-announced state is newer than the removal')
  peer.destroy()
  p.destroy()
})
