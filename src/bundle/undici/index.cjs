'use strict'
// What the bundle gets for `import ... from 'undici'` (src/tsconfig.json maps it here, for ncc only): the
// same classes, each loaded from its own file of the real undici the first time it is used. undici's index
// runs all of undici when loaded (fetch, WebSocket, caches, mocks: about 40 ms at every start of the
// action), and @actions/core loads it through @actions/http-client even though the action never uses a
// proxy agent. These three are every name the bundle imports from undici: ours (Agent), @actions/http-client
// (ProxyAgent) and @actions/github (fetch); bundle.test.ts fails if another one appears.
function onDemand(name, load) {
  Object.defineProperty(exports, name, { enumerable: true, get: load })
}

onDemand('Agent', () => require('undici/lib/dispatcher/agent.js'))
onDemand('ProxyAgent', () => require('undici/lib/dispatcher/proxy-agent.js'))
onDemand('fetch', () => require('undici/lib/web/fetch/index.js').fetch)
