// A view's lifetime: documents, listeners and timers it opened are closed
// together when the view goes away.
import { openDoc } from './realtime.js'

export class Scope {
  constructor () {
    this.disposed = false
    this._cleanups = []
  }

  onDispose (fn) {
    if (this.disposed) fn()
    else this._cleanups.push(fn)
  }

  /** Opens a shared Yjs document for this view's lifetime. */
  doc (name) {
    const handle = openDoc(name)
    this.onDispose(() => handle.release())
    return handle.entry
  }

  /** emitter.on(event, fn), removed on dispose; works with socket.io sockets too. */
  listen (emitter, event, fn) {
    if (typeof emitter.addEventListener === 'function' && !emitter.on) {
      emitter.addEventListener(event, fn)
      this.onDispose(() => emitter.removeEventListener(event, fn))
      return
    }
    emitter.on(event, fn)
    this.onDispose(() => emitter.off(event, fn))
  }

  interval (fn, ms) {
    const id = setInterval(() => { if (!this.disposed) fn() }, ms)
    this.onDispose(() => clearInterval(id))
  }

  dispose () {
    if (this.disposed) return
    this.disposed = true
    const fns = this._cleanups.reverse()
    this._cleanups = []
    for (const fn of fns) {
      try { fn() } catch (err) { console.error(err) }
    }
  }
}
