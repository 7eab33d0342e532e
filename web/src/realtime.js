// One Socket.IO connection for the whole app (cookie-authenticated, same
// origin), and the open Yjs documents: one Y.Doc + SocketIOProvider per doc
// name, shared by whoever uses it and kept until its changes are stored.
import * as Y from 'yjs'
import { io } from 'socket.io-client'
import { Awareness } from 'y-protocols/awareness'
import { SocketIOProvider, Emitter } from './provider.js'

export const events = new Emitter()
let socket = null
let wantOnline = true

export function getSocket () {
  if (socket === null) {
    socket = io({
      path: '/socket.io/',
      transports: ['websocket', 'polling'],
      tryAllTransports: true,
      withCredentials: true,
      reconnectionDelayMax: 4000
    })
    socket.on('connect', () => events.emit('connection', true))
    socket.on('disconnect', () => events.emit('connection', false))
    socket.on('connect_error', (err) => {
      if (err?.data?.code === 'unauthenticated') events.emit('unauthenticated')
    })
    // When the browser knows it is offline, say so at once instead of waiting
    // for the heartbeat; changes stay buffered and go out after reconnecting.
    window.addEventListener('offline', () => {
      wantOnline = false
      socket.disconnect()
    })
    window.addEventListener('online', () => {
      wantOnline = true
      if (!socket.connected) socket.connect()
    })
    if (typeof navigator !== 'undefined' && navigator.onLine === false) wantOnline = false
  }
  return socket
}

export function isConnected () {
  return socket !== null && socket.connected
}

export function closeSocket () {
  if (socket) socket.disconnect()
}

/** @type {Map<string, DocEntry>} */
const docs = new Map()

class DocEntry {
  constructor (name) {
    this.name = name
    this.refs = 0
    this.ydoc = new Y.Doc()
    this.awareness = new Awareness(this.ydoc)
    this.awareness.setLocalState({ here: true })
    this.provider = null
    this.listeners = new Emitter()
    this.revoked = false
    this._attach()
  }

  _attach () {
    const provider = new SocketIOProvider(getSocket(), this.name, this.ydoc, { awareness: this.awareness })
    this.provider = provider
    provider.on('status', (status) => {
      this.listeners.emit('status', status)
      events.emit('status')
    })
    provider.on('joined', (info) => this.listeners.emit('joined', info))
    provider.on('access', (info) => {
      this.listeners.emit('access', info)
      events.emit('status')
    })
    provider.on('error', (err) => this.listeners.emit('error', err))
    provider.on('revoked', (info) => {
      this.revoked = true
      docs.delete(this.name)
      this.listeners.emit('revoked', info)
      events.emit('revoked', info)
      events.emit('status')
    })
    events.emit('status')
  }

  get access () {
    return this.provider?.access ?? null
  }

  /** Join again (e.g. after the pen moved) so that the access level is fresh. */
  rejoin () {
    if (this.revoked) return
    if (this.provider.pendingCount > 0) {
      // Keep unsent changes: let them be stored first.
      this.provider.whenSaved().then(() => this.rejoin())
      return
    }
    this.provider.destroy()
    this.awareness.setLocalState({ here: true })
    this._attach()
  }

  destroy () {
    docs.delete(this.name)
    this.provider.destroy()
    this.listeners.emit('closed')
    this.ydoc.destroy()
    events.emit('status')
  }
}

/**
 * Opens (or shares) a document. Returns the entry; call release() when the
 * view no longer needs it. A document with unsaved changes is kept open
 * until they are stored.
 */
export function openDoc (name) {
  let entry = docs.get(name)
  if (entry === undefined) {
    entry = new DocEntry(name)
    docs.set(name, entry)
  }
  entry.refs += 1
  let released = false
  return {
    entry,
    release () {
      if (released) return
      released = true
      entry.refs -= 1
      if (entry.refs > 0 || entry.revoked || docs.get(name) !== entry) return
      const close = () => { if (entry.refs === 0 && docs.get(name) === entry) entry.destroy() }
      if (entry.provider.pendingCount > 0) entry.provider.whenSaved().then(close)
      else close()
    }
  }
}

/** The combined save state of all open documents: saved | pending | offline | connecting | error | full. */
export function overallStatus () {
  if (!isConnected() || !wantOnline) {
    const unsaved = [...docs.values()].some((e) => e.provider.pendingCount > 0)
    return unsaved ? 'offline-unsaved' : 'offline'
  }
  let status = 'saved'
  for (const entry of docs.values()) {
    const s = entry.provider.status
    if (s === 'refused' && entry.provider.pendingCount > 0) {
      // A document at its size limit says so; any other refusal is a plain error.
      return entry.provider.error?.code === 'too-large' ? 'full' : 'error'
    }
    if (s === 'pending') status = 'pending'
    else if (s === 'connecting' && status === 'saved') status = 'connecting'
  }
  return status
}

export function hasUnsaved () {
  return [...docs.values()].some((e) => e.provider.pendingCount > 0)
}
