#!/usr/bin/env node
// yclient: a Node Yjs client driven by newline-delimited JSON on stdin, for
// interop tests of the Planrom server (shared/PROTOCOL.md). It uses the real
// npm yjs, y-protocols and socket.io-client, and web/src/provider.js.
//
// Setup: `npm ci` (or `npm install`) in web/ first. Run: `node tests/interop/yclient.mjs`.
//
// Module resolution: every dependency is imported through web/interop.mjs by
// relative path. Bare names ('yjs', ...) are resolved from the importing file,
// so resolving them inside web/ makes this client use web/node_modules and
// exactly the module instances the provider uses (a second copy of yjs would
// break the provider's type checks). No NODE_PATH or package.json is needed,
// and the working directory does not matter.
//
// Protocol: one JSON object per input line; exactly one JSON line is written
// to stdout per input line, in order (commands run one at a time). Any
// "id" field is echoed back. Failures are {"ok": false, "error": {"code",
// "message"}}; server refusals are passed through as the server sent them.
// Client-side codes: bad-json, unknown-command, bad-request, not-connected,
// not-joined-locally, timeout, client-error. Diagnostics go to stderr only.
//
// Commands (fields in brackets are optional):
//   connect    {url, [token], [headers], [transports], [timeout_ms]} -> {ok:true, sid}
//              (replaces any earlier connection and leaves its documents)
//   join       {doc, [client_id], [timeout_ms]}          -> server join ack, plus
//              "synced": true once the handshake finished
//   leave      {doc}                                      -> {ok:true}
//   insert     {doc, field, index, text, [wait], [timeout_ms]}
//   delete     {doc, field, index, length, [wait], [timeout_ms]}
//              -> the server ack {ok:true, seq} of the change; while offline
//                 (or with "wait": false) returns at once {ok:true, buffered:true}
//   text       {doc, field}                               -> {ok:true, text}
//   wait_text  {doc, field, equals, [timeout_ms]}         -> {ok:true, text}
//   status     {doc}                    -> {ok:true, status, pending, access, last_seq, error}
//   raw_update_foreign {doc, [field], [text], [client_id]}
//              sends, straight over the socket, an update made by another
//              Y.Doc whose clientID differs from the bound one -> server ack
//   awareness_set {doc, state}                            -> {ok:true}
//   awareness  {doc}                  -> {ok:true, states: [{client_id, state}]}
//   wait_awareness {doc, [min_remote], [timeout_ms]}
//              waits until at least min_remote (default 1) other clients'
//              states are known -> {ok:true, states: [...]} (the server sets
//              each remote state's "user" field to the sender's identity)
//   wait_revoked {doc, [timeout_ms]}                      -> {ok:true, reason}
//   events     {}                     -> {ok:true, events: [...]} (and clears them):
//              revoked / error / status events seen since the last call
//   disconnect {}                                         -> {ok:true}
//   reconnect  {[timeout_ms]}  -> {ok:true, docs: {name: status}} once every
//              joined doc re-synced and stored its offline edits (or was refused)
//   quit       {}                                         -> {ok:true}, then exit
import { createInterface } from 'node:readline'
import { Y, io, SocketIOProvider, encodeSyncUpdate } from '../../web/interop.mjs'

const DEFAULT_TIMEOUT_MS = 10000

class CommandError extends Error {
  constructor (code, message) {
    super(message)
    this.code = code
  }
}

/** @type {import('socket.io-client').Socket|null} */
let socket = null
/** @type {Map<string, {ydoc: Y.Doc, provider: SocketIOProvider, revoked: object|null}>} */
const docs = new Map()
/** Asynchronous events, drained by the "events" command. */
let events = []

function requireString (cmd, key) {
  if (typeof cmd[key] !== 'string' || cmd[key] === '') throw new CommandError('bad-request', `"${key}" must be a non-empty string`)
  return cmd[key]
}

function requireInt (cmd, key) {
  if (!Number.isInteger(cmd[key]) || cmd[key] < 0) throw new CommandError('bad-request', `"${key}" must be a non-negative integer`)
  return cmd[key]
}

function requireSocket () {
  if (socket === null) throw new CommandError('not-connected', 'send "connect" first')
  return socket
}

function entryFor (cmd) {
  const doc = requireString(cmd, 'doc')
  const entry = docs.get(doc)
  if (entry === undefined) throw new CommandError('not-joined-locally', `"join" ${doc} first`)
  return entry
}

/** Resolves with the promise's value, or with a timeout error after ms. */
function withTimeout (promise, ms, what) {
  let timer
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, error: { code: 'timeout', message: `${what} after ${ms} ms` } }), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Resolves when check() returns a non-undefined value, re-checking on each emitter event. */
function waitUntil (subscribe, check) {
  return new Promise((resolve) => {
    const first = check()
    if (first !== undefined) return resolve(first)
    const unsubscribe = subscribe(() => {
      const value = check()
      if (value !== undefined) {
        unsubscribe()
        resolve(value)
      }
    })
  })
}

function timeoutOf (cmd) {
  return Number.isInteger(cmd.timeout_ms) && cmd.timeout_ms > 0 ? cmd.timeout_ms : DEFAULT_TIMEOUT_MS
}

// -- commands -------------------------------------------------------------

async function connect (cmd) {
  const url = requireString(cmd, 'url')
  shutdown() // a new connection starts with no documents joined
  const opts = { reconnection: true, forceNew: true }
  if (typeof cmd.token === 'string') opts.auth = { token: cmd.token }
  if (cmd.headers && typeof cmd.headers === 'object') opts.extraHeaders = cmd.headers
  if (Array.isArray(cmd.transports)) opts.transports = cmd.transports
  const s = io(url, opts)
  socket = s
  return withTimeout(new Promise((resolve) => {
    s.once('connect', () => resolve({ ok: true, sid: s.id }))
    s.once('connect_error', (err) => {
      s.close() // do not keep retrying a refused connection
      if (socket === s) socket = null
      const data = err.data && typeof err.data === 'object' ? err.data : {}
      resolve({ ok: false, error: { code: data.code ?? 'connect-error', message: data.message ?? err.message } })
    })
  }), timeoutOf(cmd), 'connect')
}

async function join (cmd) {
  const s = requireSocket()
  const doc = requireString(cmd, 'doc')
  if (docs.has(doc)) throw new CommandError('bad-request', `${doc} is already joined`)
  const ydoc = new Y.Doc()
  if (cmd.client_id !== undefined) ydoc.clientID = requireInt(cmd, 'client_id')
  const provider = new SocketIOProvider(s, doc, ydoc)
  const entry = { ydoc, provider, revoked: null }
  docs.set(doc, entry)
  provider.on('revoked', (e) => { entry.revoked = e; events.push({ event: 'revoked', ...e }) })
  provider.on('error', (e) => events.push({ event: 'error', doc, ...e }))
  provider.on('status', (status) => events.push({ event: 'status', doc, status }))

  const result = await withTimeout(new Promise((resolve) => {
    const offJoined = provider.on('joined', (ack) => { cleanup(); resolve(ack) })
    const offError = provider.on('error', (e) => {
      if (e.during !== 'join') return
      cleanup()
      resolve({ ok: false, error: { code: e.code, message: e.message } })
    })
    function cleanup () { offJoined(); offError() }
  }), timeoutOf(cmd), 'join')
  if (!result.ok) {
    // A refused join leaves nothing behind, so the test may try again.
    provider.destroy()
    docs.delete(doc)
    return result
  }
  const synced = await withTimeout(provider.whenSynced().then(() => ({ ok: true })), timeoutOf(cmd), 'sync')
  return synced.ok ? { ...result, synced: true } : synced
}

function leave (cmd) {
  const entry = entryFor(cmd)
  entry.provider.destroy()
  docs.delete(cmd.doc)
  return { ok: true }
}

/** Runs a local edit and, unless buffered, waits for the server's ack. */
async function edit (cmd, apply) {
  const entry = entryFor(cmd)
  const field = requireString(cmd, 'field')
  const { provider } = entry
  const refused = []
  const offError = provider.on('error', (e) => refused.push(e))
  try {
    apply(entry.ydoc.getText(field))
  } finally {
    offError()
  }
  if (refused.length > 0) return { ok: false, error: { code: refused[0].code, message: refused[0].message } }
  if (cmd.wait === false || provider.status === 'offline') {
    return { ok: true, buffered: true, pending: provider.pendingCount }
  }
  return withTimeout(provider.whenSaved(), timeoutOf(cmd), 'waiting for the ack')
}

function insert (cmd) {
  const index = requireInt(cmd, 'index')
  if (typeof cmd.text !== 'string') throw new CommandError('bad-request', '"text" must be a string')
  return edit(cmd, (t) => {
    if (index > t.length) throw new CommandError('bad-request', `index ${index} beyond length ${t.length}`)
    t.insert(index, cmd.text)
  })
}

function del (cmd) {
  const index = requireInt(cmd, 'index')
  const length = requireInt(cmd, 'length')
  return edit(cmd, (t) => {
    if (index + length > t.length) throw new CommandError('bad-request', `range beyond length ${t.length}`)
    t.delete(index, length)
  })
}

function text (cmd) {
  const entry = entryFor(cmd)
  return { ok: true, text: entry.ydoc.getText(requireString(cmd, 'field')).toString() }
}

async function waitText (cmd) {
  const entry = entryFor(cmd)
  const field = requireString(cmd, 'field')
  if (typeof cmd.equals !== 'string') throw new CommandError('bad-request', '"equals" must be a string')
  const ytext = entry.ydoc.getText(field)
  const found = waitUntil(
    (fn) => { entry.ydoc.on('update', fn); return () => entry.ydoc.off('update', fn) },
    () => (ytext.toString() === cmd.equals ? { ok: true, text: cmd.equals } : undefined)
  )
  const result = await withTimeout(found, timeoutOf(cmd), 'waiting for the text')
  if (!result.ok) result.error.message += `; text is ${JSON.stringify(ytext.toString())}`
  return result
}

function status (cmd) {
  const { provider } = entryFor(cmd)
  return {
    ok: true,
    status: provider.status,
    pending: provider.pendingCount,
    access: provider.access,
    last_seq: provider.lastSeq,
    error: provider.error
  }
}

function rawUpdateForeign (cmd) {
  const s = requireSocket()
  const entry = entryFor(cmd)
  const foreign = new Y.Doc()
  if (cmd.client_id !== undefined) foreign.clientID = requireInt(cmd, 'client_id')
  while (foreign.clientID === entry.ydoc.clientID) foreign.clientID = new Y.Doc().clientID
  foreign.getText(typeof cmd.field === 'string' ? cmd.field : 'situation')
    .insert(0, typeof cmd.text === 'string' ? cmd.text : 'foreign')
  const bytes = encodeSyncUpdate(Y.encodeStateAsUpdate(foreign))
  return withTimeout(new Promise((resolve) => {
    s.emit('doc:msg', cmd.doc, bytes, (ack) => resolve(ack ?? { ok: false, error: { code: 'client-error', message: 'empty ack' } }))
  }), timeoutOf(cmd), 'waiting for the ack')
}

function awarenessSet (cmd) {
  const { provider } = entryFor(cmd)
  if (cmd.state !== null && typeof cmd.state !== 'object') throw new CommandError('bad-request', '"state" must be an object or null')
  provider.awareness.setLocalState(cmd.state)
  return { ok: true }
}

function awarenessStates (provider) {
  return [...provider.awareness.getStates()].map(([clientId, state]) => ({ client_id: clientId, state }))
}

function awareness (cmd) {
  return { ok: true, states: awarenessStates(entryFor(cmd).provider) }
}

function waitAwareness (cmd) {
  const { ydoc, provider } = entryFor(cmd)
  const min = cmd.min_remote === undefined ? 1 : requireInt(cmd, 'min_remote')
  const enough = waitUntil(
    (fn) => { provider.awareness.on('change', fn); return () => provider.awareness.off('change', fn) },
    () => {
      const remote = [...provider.awareness.getStates().keys()].filter((id) => id !== ydoc.clientID)
      return remote.length >= min ? { ok: true, states: awarenessStates(provider) } : undefined
    }
  )
  return withTimeout(enough, timeoutOf(cmd), 'waiting for awareness states')
}

async function waitRevoked (cmd) {
  const entry = entryFor(cmd)
  const revoked = waitUntil(
    (fn) => entry.provider.on('revoked', fn),
    () => (entry.revoked !== null ? { ok: true, reason: entry.revoked.reason } : undefined)
  )
  return withTimeout(revoked, timeoutOf(cmd), 'waiting for doc:revoked')
}

function drainEvents () {
  const out = events
  events = []
  return { ok: true, events: out }
}

function disconnect () {
  requireSocket().disconnect()
  return { ok: true }
}

async function reconnect (cmd) {
  const s = requireSocket()
  const live = [...docs.entries()].filter(([, e]) => e.revoked === null)
  // Settled: re-synced with every offline edit stored, or refused / revoked.
  const SETTLED = new Set(['synced', 'refused', 'revoked', 'closed'])
  const waits = live.map(([, { provider }]) => waitUntil(
    (fn) => provider.on('status', fn),
    () => (SETTLED.has(provider.status) ? true : undefined)
  ))
  s.connect()
  const result = await withTimeout(Promise.all(waits).then(() => ({ ok: true })), timeoutOf(cmd), 'reconnect')
  if (!result.ok) return result
  return { ok: true, docs: Object.fromEntries(live.map(([name, { provider }]) => [name, provider.status])) }
}

const COMMANDS = {
  connect,
  join,
  leave,
  insert,
  delete: del,
  text,
  wait_text: waitText,
  status,
  raw_update_foreign: rawUpdateForeign,
  awareness_set: awarenessSet,
  awareness,
  wait_awareness: waitAwareness,
  wait_revoked: waitRevoked,
  events: drainEvents,
  disconnect,
  reconnect
}

// -- main loop ------------------------------------------------------------

function write (obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

function shutdown () {
  for (const { provider } of docs.values()) provider.destroy()
  docs.clear()
  socket?.close()
  socket = null
}

async function run (line) {
  let cmd
  try {
    cmd = JSON.parse(line)
  } catch (err) {
    return { ok: false, error: { code: 'bad-json', message: err.message } }
  }
  if (cmd === null || typeof cmd !== 'object' || Array.isArray(cmd)) {
    return { ok: false, error: { code: 'bad-request', message: 'each line must be a JSON object' } }
  }
  const withId = (result) => ('id' in cmd ? { id: cmd.id, ...result } : result)
  if (cmd.cmd === 'quit') return withId({ ok: true, quit: true })
  const handler = Object.hasOwn(COMMANDS, cmd.cmd) ? COMMANDS[cmd.cmd] : undefined
  if (handler === undefined) {
    return withId({ ok: false, error: { code: 'unknown-command', message: `unknown command ${JSON.stringify(cmd.cmd)}` } })
  }
  try {
    return withId(await handler(cmd))
  } catch (err) {
    const code = err instanceof CommandError ? err.code : 'client-error'
    return withId({ ok: false, error: { code, message: String(err?.message ?? err) } })
  }
}

process.on('unhandledRejection', (err) => process.stderr.write(`yclient: unhandled rejection: ${err?.stack ?? err}\n`))
process.on('uncaughtException', (err) => process.stderr.write(`yclient: uncaught exception: ${err?.stack ?? err}\n`))

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of rl) {
  if (line.trim() === '') continue
  const result = await run(line)
  if (result.quit) {
    delete result.quit
    write(result)
    break
  }
  write(result)
}
shutdown()
// Awareness timers and socket handles are closed above; exit explicitly so a
// half-closed transport can never keep the test waiting.
process.exit(0)
