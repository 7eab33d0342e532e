// Entry for Node tools outside web/ (tests/interop/yclient.mjs).
//
// Yjs must be loaded exactly once per process: a Y.Doc made by one copy of
// the module and handed to code importing another copy breaks type checks.
// ES module resolution of bare names starts from the importing file, so a
// file outside web/ cannot reach web/node_modules by name. Importing this
// file by relative path makes the bare names below resolve here, inside web/,
// to the same module instances that src/provider.js uses.
export * as Y from 'yjs'
export * as awarenessProtocol from 'y-protocols/awareness'
export { io } from 'socket.io-client'
export * from './src/provider.js'
