// SocketIOProvider: syncs one Y.Doc over an existing socket.io-client socket,
// following the wire contract in shared/PROTOCOL.md ("Documents" section).
//
// Wire summary (client side):
//   doc:join  {doc, client_id}  -> ack {ok, access: "read"|"write"} | {ok:false, error}
//   doc:msg   (doc, bytes)      both ways; bytes is one y-protocols message:
//             [0 sync][0 step1 | 1 step2 | 2 update][varUint8Array payload]
//             [1 awareness][varUint8Array awareness update]
//             Client messages carrying changes (step 2 / update) are acked
//             {ok:true, seq} only once durably stored, or refused {ok:false, error}.
//   doc:leave {doc}
//   doc:revoked {doc, reason}   server -> client; the client must drop its copy.
//   doc:access {doc, access, reason}  server -> client; the access level of a joined
//             doc changed (e.g. "read" once the section is archived or the plan
//             closed): from now on local changes are not sent (docs/protocol-notes.md).
//
// Several providers (one per doc name) may share one socket: a single router
// per socket dispatches incoming doc:msg / doc:revoked / doc:access by the doc name.

import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import * as syncProtocol from 'y-protocols/sync'
import * as awarenessProtocol from 'y-protocols/awareness'

export const MESSAGE_SYNC = 0
export const MESSAGE_AWARENESS = 1

/** Error codes after which a retry of the same message may succeed. */
const TRANSIENT_CODES = new Set(['rate-limited', 'unavailable'])

// ---------------------------------------------------------------------------
// Message encoding helpers (pure; exported for tests and tools)
// ---------------------------------------------------------------------------

/**
 * Normalises whatever the transport delivered (Uint8Array, Node Buffer,
 * ArrayBuffer, or another typed-array view) to a Uint8Array.
 * @param {Uint8Array|ArrayBuffer|ArrayBufferView} bytes
 * @returns {Uint8Array}
 */
export function toUint8Array (bytes) {
  if (bytes instanceof Uint8Array) return bytes
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes)
  if (ArrayBuffer.isView(bytes)) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  throw new TypeError('doc:msg payload is not binary')
}

/** @param {Y.Doc} ydoc @returns {Uint8Array} sync step 1 carrying ydoc's state vector */
export function encodeSyncStep1 (ydoc) {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MESSAGE_SYNC)
  syncProtocol.writeSyncStep1(encoder, ydoc)
  return encoding.toUint8Array(encoder)
}

/**
 * @param {Y.Doc} ydoc
 * @param {Uint8Array} [stateVector] the peer's state vector; omitted = everything
 * @returns {Uint8Array} sync step 2: what ydoc has that the peer lacks
 */
export function encodeSyncStep2 (ydoc, stateVector) {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MESSAGE_SYNC)
  syncProtocol.writeSyncStep2(encoder, ydoc, stateVector)
  return encoding.toUint8Array(encoder)
}

/** @param {Uint8Array} update a Yjs v1 update @returns {Uint8Array} sync update message */
export function encodeSyncUpdate (update) {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MESSAGE_SYNC)
  syncProtocol.writeUpdate(encoder, update)
  return encoding.toUint8Array(encoder)
}

/** @param {Uint8Array} awarenessUpdate @returns {Uint8Array} awareness message */
export function encodeAwarenessMessage (awarenessUpdate) {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MESSAGE_AWARENESS)
  encoding.writeVarUint8Array(encoder, awarenessUpdate)
  return encoding.toUint8Array(encoder)
}

const SYNC_TYPES = {
  [syncProtocol.messageYjsSyncStep1]: 'step1',
  [syncProtocol.messageYjsSyncStep2]: 'step2',
  [syncProtocol.messageYjsUpdate]: 'update'
}

/**
 * Decodes one doc:msg payload.
 * @param {Uint8Array|ArrayBuffer|ArrayBufferView} bytes
 * @returns {{kind: 'sync', type: 'step1'|'step2'|'update', payload: Uint8Array}
 *          | {kind: 'awareness', payload: Uint8Array}}
 * @throws {Error} on an unknown or truncated message
 */
export function decodeMessage (bytes) {
  const decoder = decoding.createDecoder(toUint8Array(bytes))
  const kind = decoding.readVarUint(decoder)
  if (kind === MESSAGE_SYNC) {
    const type = SYNC_TYPES[decoding.readVarUint(decoder)]
    if (type === undefined) throw new Error('unknown sync message type')
    return { kind: 'sync', type, payload: decoding.readVarUint8Array(decoder) }
  }
  if (kind === MESSAGE_AWARENESS) {
    return { kind: 'awareness', payload: decoding.readVarUint8Array(decoder) }
  }
  throw new Error(`unknown message kind ${kind}`)
}

/**
 * Deletes every item of every root type of ydoc in one transaction. With
 * garbage collection on (the Y.Doc default) the deleted content is dropped
 * from memory when the transaction ends, so nothing readable remains.
 * Uses the root types' item lists (_start / _map) because root types that
 * were only received, never declared with getText/getArray/..., have no
 * typed API to delete through.
 * @param {Y.Doc} ydoc
 * @param {any} origin transaction origin (so the provider does not send it)
 */
export function clearDocContent (ydoc, origin) {
  ydoc.transact((tr) => {
    for (const type of ydoc.share.values()) {
      for (let item = type._start; item !== null; item = item.right) {
        if (!item.deleted) item.delete(tr)
      }
      for (const item of type._map.values()) {
        if (!item.deleted) item.delete(tr)
      }
    }
  }, origin)
}

// ---------------------------------------------------------------------------
// Tiny event emitter
// ---------------------------------------------------------------------------

export class Emitter {
  constructor () {
    /** @type {Map<string, Set<Function>>} */
    this._listeners = new Map()
  }

  /** @returns {() => void} a function that removes the listener */
  on (name, fn) {
    if (!this._listeners.has(name)) this._listeners.set(name, new Set())
    this._listeners.get(name).add(fn)
    return () => this.off(name, fn)
  }

  off (name, fn) {
    this._listeners.get(name)?.delete(fn)
  }

  emit (name, ...args) {
    // Copy so listeners may remove themselves while being called.
    for (const fn of [...(this._listeners.get(name) ?? [])]) fn(...args)
  }
}

// ---------------------------------------------------------------------------
// Per-socket router: one doc:msg / doc:revoked listener, dispatch by doc name
// ---------------------------------------------------------------------------

/** @type {WeakMap<object, DocRouter>} */
const routers = new WeakMap()

class DocRouter {
  constructor (socket) {
    this.socket = socket
    /** @type {Map<string, SocketIOProvider>} */
    this.providers = new Map()
    this._onMsg = (doc, bytes) => {
      this.providers.get(doc)?._onMessage(bytes)
    }
    this._onRevoked = (payload) => {
      const doc = payload?.doc
      this.providers.get(doc)?._onRevoked(payload?.reason ?? null)
    }
    this._onAccess = (payload) => {
      this.providers.get(payload?.doc)?._onAccess(payload?.access, payload?.reason ?? null)
    }
    socket.on('doc:msg', this._onMsg)
    socket.on('doc:revoked', this._onRevoked)
    socket.on('doc:access', this._onAccess)
  }

  static for (socket) {
    let router = routers.get(socket)
    if (router === undefined) {
      router = new DocRouter(socket)
      routers.set(socket, router)
    }
    return router
  }

  add (name, provider) {
    if (this.providers.has(name)) {
      throw new Error(`a provider for ${name} is already attached to this socket`)
    }
    this.providers.set(name, provider)
  }

  remove (name, provider) {
    if (this.providers.get(name) !== provider) return
    this.providers.delete(name)
    if (this.providers.size === 0) {
      this.socket.off('doc:msg', this._onMsg)
      this.socket.off('doc:revoked', this._onRevoked)
      this.socket.off('doc:access', this._onAccess)
      routers.delete(this.socket)
    }
  }
}

// ---------------------------------------------------------------------------
// The provider
// ---------------------------------------------------------------------------

/**
 * Statuses (the `status` property, also emitted as 'status'):
 *   connecting  socket up, join or handshake not finished
 *   synced      joined, handshake done, every local change durably stored
 *               by the server (a UI may label this "saved")
 *   pending     local changes sent or about to be sent, not yet acked
 *   offline     socket disconnected; local changes are buffered and
 *               delivered by the handshake after reconnect
 *   refused     the join or the last change was refused (see `error`)
 *   revoked     the server revoked access; the doc content was cleared
 *   closed      destroy() was called
 *
 * Events: 'status' (status), 'joined' ({ok, access}), 'synced' (),
 *   'ack' ({ok:true, seq}), 'error' ({code, message, during}),
 *   'revoked' ({doc, reason}), 'access' ({doc, access, reason}) when the server
 *   changes the access level of the joined doc (read-only from now on, or
 *   writable again).
 */
export class SocketIOProvider extends Emitter {
  /**
   * @param {import('socket.io-client').Socket} socket connected or not; the
   *   provider joins on every 'connect'
   * @param {string} doc document name, e.g. "plan:1:section:2"
   * @param {Y.Doc} ydoc
   * @param {object} [opts]
   * @param {awarenessProtocol.Awareness} [opts.awareness] defaults to a new
   *   Awareness owned (and destroyed) by the provider
   * @param {number} [opts.retryDelayMs=1000] first delay before retrying after
   *   a transient refusal (rate-limited, unavailable); doubles up to 30 s
   */
  constructor (socket, doc, ydoc, opts = {}) {
    super()
    // Register first: a duplicate doc name throws before anything is created.
    this._router = DocRouter.for(socket)
    this._router.add(doc, this)
    this.socket = socket
    this.doc = doc
    this.ydoc = ydoc
    this._ownsAwareness = opts.awareness === undefined
    this.awareness = opts.awareness ?? new awarenessProtocol.Awareness(ydoc)
    this._retryDelayMs = opts.retryDelayMs ?? 1000

    /** @type {'read'|'write'|null} access granted by the last successful join */
    this.access = null
    /** @type {{code: string, message?: string}|null} last refusal */
    this.error = null
    /** sequence number of the last acknowledged change */
    this.lastSeq = null
    this.status = 'connecting'

    this._joined = false
    this._synced = false // received the server's step 2 in this session
    this._flushed = false // sent everything buffered in this session
    this._serverStateVector = null // server's step 1, waiting for the join ack
    this._session = 0 // bumped on every join and disconnect; guards stale acks
    this._retryTimer = null
    this._retryAttempt = 0
    this._closed = false
    this._revoked = false

    /** Local updates not yet acknowledged as stored (unsent or in flight). */
    this._unconfirmed = new Set()
    /** Subset of _unconfirmed already sent in this session. */
    this._inflight = new Set()
    /** @type {Array<(ack: object) => void>} whenSaved() resolvers */
    this._saveWaiters = []

    this._onDocUpdate = (update, origin) => this._handleLocalUpdate(update, origin)
    this._onAwarenessUpdate = ({ added, updated, removed }, origin) => {
      if (origin === this || !this._joined) return
      const changed = added.concat(updated, removed)
      this._send(encodeAwarenessMessage(awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed)))
    }
    this._onConnect = () => this._join()
    this._onDisconnect = () => this._handleDisconnect()
    this._onDocDestroy = () => this.destroy()

    ydoc.on('update', this._onDocUpdate)
    ydoc.on('destroy', this._onDocDestroy)
    this.awareness.on('update', this._onAwarenessUpdate)
    socket.on('connect', this._onConnect)
    socket.on('disconnect', this._onDisconnect)

    if (socket.connected) this._join()
    this._updateStatus()
  }

  /** Number of local changes not yet acknowledged as stored. */
  get pendingCount () {
    return this._unconfirmed.size
  }

  /** True once the handshake of the current session has completed. */
  get synced () {
    return this._synced
  }

  /**
   * Resolves with the ack that confirmed the last local change
   * ({ok:true, seq}), immediately if nothing is pending. Resolves with
   * {ok:false, error} if a message carrying pending changes is refused, or
   * if the provider is revoked or closed first. Never rejects.
   */
  whenSaved () {
    if (this._closed || this._revoked) {
      return Promise.resolve({ ok: false, error: { code: this._revoked ? 'revoked' : 'closed' } })
    }
    if (this._unconfirmed.size === 0) return Promise.resolve({ ok: true, seq: this.lastSeq })
    return new Promise((resolve) => this._saveWaiters.push(resolve))
  }

  /** Resolves when the handshake of the current session has completed. */
  whenSynced () {
    if (this._synced) return Promise.resolve()
    return new Promise((resolve) => {
      const off = this.on('synced', () => { off(); resolve() })
    })
  }

  /** Leaves the doc and detaches from the socket, the Y.Doc and awareness. */
  destroy () {
    if (this._closed) return
    if (this._joined && !this._revoked) {
      // Tell the others this client's presence is gone, then leave.
      awarenessProtocol.removeAwarenessStates(this.awareness, [this.ydoc.clientID], 'destroy')
      this.socket.emit('doc:leave', { doc: this.doc })
    }
    this._closed = true
    this._detach()
    this._resolveSaveWaiters({ ok: false, error: { code: this._revoked ? 'revoked' : 'closed' } })
    this._updateStatus()
  }

  // -- session lifecycle ---------------------------------------------------

  _join () {
    if (this._closed || this._revoked) return
    const session = this._resetSession()
    this.error = null // a new attempt; a refusal is reported again if it recurs
    this._updateStatus()
    this.socket.emit('doc:join', { doc: this.doc, client_id: this.ydoc.clientID }, (ack) => {
      if (session !== this._session) return
      this._handleJoinAck(ack ?? {})
    })
  }

  _handleJoinAck (ack) {
    if (!ack.ok) {
      this._refuse(ack.error, 'join')
      if (TRANSIENT_CODES.has(ack.error?.code)) this._scheduleRetry(() => this._join())
      return
    }
    this._joined = true
    this._retryAttempt = 0
    this.access = ack.access === 'write' ? 'write' : 'read'
    this.error = null
    if (this.access === 'read') this._dropUnsendable()
    this.emit('joined', { ok: true, access: this.access })
    this._sendSync(encodeSyncStep1(this.ydoc), null)
    if (this._serverStateVector !== null) this._answerStep1()
    this._announcePresence()
    this._updateStatus()
  }

  /**
   * Re-publishes the local awareness state with a clock peers will accept.
   * Peers ignore a state whose clock is not newer than the one they hold:
   * the constructor's initial state has clock 0 (which a peer that never saw
   * us treats as already known), and when our previous connection dropped the
   * server may have announced our removal with clock + 1. Skipping one clock
   * value before setLocalState (which adds one more) beats both; the change
   * reaches the server through the awareness 'update' listener.
   */
  _announcePresence () {
    const local = this.awareness.getLocalState()
    if (local === null) return
    const meta = this.awareness.meta.get(this.ydoc.clientID)
    if (meta !== undefined) meta.clock += 1
    this.awareness.setLocalState(local)
  }

  _handleDisconnect () {
    this._resetSession()
    // Remote presence is stale without a connection.
    const others = [...this.awareness.getStates().keys()].filter((id) => id !== this.ydoc.clientID)
    if (others.length > 0) awarenessProtocol.removeAwarenessStates(this.awareness, others, this)
    this._updateStatus()
  }

  /** Forgets per-connection state; unconfirmed changes are kept. */
  _resetSession () {
    this._session += 1
    this._joined = false
    this._synced = false
    this._flushed = false
    this._serverStateVector = null
    this._inflight.clear()
    clearTimeout(this._retryTimer)
    this._retryTimer = null
    return this._session
  }

  _detach () {
    clearTimeout(this._retryTimer)
    this._router.remove(this.doc, this)
    this.ydoc.off('update', this._onDocUpdate)
    this.ydoc.off('destroy', this._onDocDestroy)
    this.awareness.off('update', this._onAwarenessUpdate)
    this.socket.off('connect', this._onConnect)
    this.socket.off('disconnect', this._onDisconnect)
    if (this._ownsAwareness) this.awareness.destroy()
    this._joined = false
  }

  // -- incoming ------------------------------------------------------------

  _onMessage (bytes) {
    if (this._closed || this._revoked) return
    let msg
    try {
      msg = decodeMessage(bytes)
    } catch (err) {
      this.emit('error', { code: 'malformed', message: `undecodable message from server: ${err.message}`, during: 'sync' })
      return
    }
    if (msg.kind === 'awareness') {
      try {
        awarenessProtocol.applyAwarenessUpdate(this.awareness, msg.payload, this)
      } catch (err) {
        this.emit('error', { code: 'malformed', message: `bad awareness update: ${err.message}`, during: 'sync' })
      }
      return
    }
    if (msg.type === 'step1') {
      // The join ack may arrive after the server's step 1; answer once the
      // access level is known (a read-only client sends no changes).
      this._serverStateVector = msg.payload
      if (this._joined) this._answerStep1()
      return
    }
    try {
      Y.applyUpdate(this.ydoc, msg.payload, this)
    } catch (err) {
      this.emit('error', { code: 'malformed', message: `bad update from server: ${err.message}`, during: 'sync' })
      return
    }
    if (msg.type === 'step2' && !this._synced) {
      this._synced = true
      // Normally our step 2 (answering the server's step 1) has delivered the
      // buffered changes already; if the server sent no step 1, send them now.
      if (!this._flushed) this._flushUnsent()
      this.emit('synced')
      this._updateStatus()
    }
  }

  /**
   * The server changed the access level of the joined doc. Read-only: nothing
   * more is sent (the server refuses it anyway) and unstored changes are given
   * up; writable again: local changes are sent from now on.
   */
  _onAccess (access, reason) {
    if (this._closed || this._revoked || !this._joined) return
    const next = access === 'write' ? 'write' : 'read'
    if (next === this.access) return
    this.access = next
    if (next === 'read') {
      this._inflight.clear()
      this._dropUnsendable()
    }
    this.emit('access', { doc: this.doc, access: next, reason })
    this._updateStatus()
  }

  /** Changes not yet stored can no longer be: report them and settle whenSaved(). */
  _dropUnsendable () {
    if (this._unconfirmed.size === 0) return
    this._unconfirmed.clear()
    this._reportReadOnly()
    this._resolveSaveWaiters({ ok: false, error: { code: 'forbidden', message: 'read-only document' } })
  }

  _onRevoked (reason) {
    if (this._closed || this._revoked) return
    this._revoked = true
    this._unconfirmed.clear()
    this._detach()
    // Drop remote presence and all content: access has ended.
    const others = [...this.awareness.getStates().keys()].filter((id) => id !== this.ydoc.clientID)
    if (others.length > 0) awarenessProtocol.removeAwarenessStates(this.awareness, others, this)
    clearDocContent(this.ydoc, this)
    this._resolveSaveWaiters({ ok: false, error: { code: 'revoked', message: reason ?? 'access revoked' } })
    this._updateStatus()
    this.emit('revoked', { doc: this.doc, reason })
    this.ydoc.destroy()
  }

  // -- outgoing ------------------------------------------------------------

  _handleLocalUpdate (update, origin) {
    if (origin === this || this._closed || this._revoked) return
    if (this.access === 'read' && this._joined) {
      this._reportReadOnly()
      return
    }
    this._unconfirmed.add(update)
    if (this._joined && this._flushed && this.access === 'write') {
      this._inflight.add(update)
      this._sendSync(encodeSyncUpdate(update), [update])
    }
    this._updateStatus()
  }

  /** Replies to the server's step 1 with everything it lacks (incl. offline edits). */
  _answerStep1 () {
    const sv = this._serverStateVector
    this._serverStateVector = null
    if (this.access !== 'write') {
      this._flushed = true
      return
    }
    const covers = [...this._unconfirmed]
    covers.forEach((u) => this._inflight.add(u))
    this._sendSync(encodeSyncStep2(this.ydoc, sv), covers)
    this._flushed = true
    this._updateStatus()
  }

  /** Sends unconfirmed changes not yet in flight in this session, merged. */
  _flushUnsent () {
    this._flushed = true
    if (this.access !== 'write') return
    const unsent = [...this._unconfirmed].filter((u) => !this._inflight.has(u))
    if (unsent.length === 0) return
    unsent.forEach((u) => this._inflight.add(u))
    this._sendSync(encodeSyncUpdate(Y.mergeUpdates(unsent)), unsent)
    this._updateStatus()
  }

  /**
   * Emits a sync message with an ack callback.
   * @param {Uint8Array} bytes
   * @param {Uint8Array[]|null} covers the local updates this message carries
   *   (null for step 1, which carries none)
   */
  _sendSync (bytes, covers) {
    const session = this._session
    this.socket.emit('doc:msg', this.doc, bytes, (ack) => {
      if (session !== this._session || this._closed || this._revoked) return
      this._handleSyncAck(ack ?? { ok: true }, covers)
    })
  }

  _handleSyncAck (ack, covers) {
    if (ack.ok) {
      if (covers === null) return
      covers.forEach((u) => { this._unconfirmed.delete(u); this._inflight.delete(u) })
      if (typeof ack.seq === 'number') this.lastSeq = ack.seq
      this._retryAttempt = 0
      this.error = null
      this.emit('ack', { ok: true, seq: ack.seq })
      if (this._unconfirmed.size === 0) this._resolveSaveWaiters({ ok: true, seq: ack.seq })
      this._updateStatus()
      return
    }
    const code = ack.error?.code
    if (code === 'forbidden' && this.access === 'read' && covers !== null &&
        covers.every((u) => !this._unconfirmed.has(u))) {
      // Sent before the doc became read-only; already given up and reported then.
      return
    }
    if (covers !== null) {
      // Not stored: keep the changes for a retry or the next handshake.
      covers.forEach((u) => this._inflight.delete(u))
      this._resolveSaveWaiters(ack)
    }
    this._refuse(ack.error, 'update')
    if (code === 'not-joined') {
      // The server lost our membership (e.g. it restarted): join again.
      this._join()
    } else if (TRANSIENT_CODES.has(code)) {
      this._scheduleRetry(() => this._flushUnsent())
    }
  }

  _send (bytes) {
    this.socket.emit('doc:msg', this.doc, bytes)
  }

  _scheduleRetry (fn) {
    clearTimeout(this._retryTimer)
    const delay = Math.min(this._retryDelayMs * 2 ** this._retryAttempt, 30000)
    this._retryAttempt += 1
    const session = this._session
    this._retryTimer = setTimeout(() => {
      this._retryTimer = null
      if (session === this._session && !this._closed && !this._revoked) fn()
    }, delay)
  }

  // -- status --------------------------------------------------------------

  _refuse (error, during) {
    this.error = { code: error?.code ?? 'unknown', message: error?.message ?? '' }
    this.emit('error', { ...this.error, during })
    this._updateStatus()
  }

  _reportReadOnly () {
    this.emit('error', { code: 'forbidden', message: 'read-only document: local change not sent', during: 'local' })
  }

  _resolveSaveWaiters (value) {
    const waiters = this._saveWaiters
    this._saveWaiters = []
    waiters.forEach((resolve) => resolve(value))
  }

  _computeStatus () {
    if (this._revoked) return 'revoked'
    if (this._closed) return 'closed'
    if (!this.socket.connected) return 'offline'
    if (this.error !== null) return 'refused'
    if (!this._joined || !this._synced) return 'connecting'
    if (this._unconfirmed.size > 0) return 'pending'
    return 'synced'
  }

  _updateStatus () {
    const status = this._computeStatus()
    if (status === this.status) return
    this.status = status
    this.emit('status', status)
  }
}
