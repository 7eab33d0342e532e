// A real OpenID provider (the npm package oidc-provider) for Planrom's sign-in tests.
//
//   node provider.js CONFIG.json
//
// CONFIG names the issuer URL, the loopback port, the shape of the identities it issues
// ("citizen": ID-porten-like, a national identity claim `pid`; "staff": HelseID / Azure
// AD-like, an organisation claim `org`), the one registered client and the signing keys
// (a private JWKS, so that a test can also sign tokens with the provider's own key).
//
// Sign-in needs no browser: GET /interaction/{uid} shows a plain form, and a POST to
// /interaction/{uid}/login with `login` (the subject) and the claims to issue (`pid`,
// `name`, `org`) finishes it. Consent is given automatically for the registered client.
// The process prints "ready" once it listens and stops on SIGTERM.

import http from 'node:http';
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const accounts = new Map();

const claimsByKind = {
  citizen: { openid: ['sub'], profile: ['name', 'pid'] },
  staff: { openid: ['sub'], profile: ['name', 'org'] },
};

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 16384) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const provider = new Provider(config.issuer, {
  clients: [config.client],
  jwks: config.jwks,
  cookies: { keys: config.cookie_keys },
  claims: claimsByKind[config.kind],
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
  },
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    IdToken: config.id_token_ttl || 600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
  interactions: {
    url(ctx, interaction) {
      return `/interaction/${interaction.uid}`;
    },
  },
  async findAccount(ctx, id) {
    const extra = accounts.get(id) || {};
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...extra };
      },
    };
  },
  async loadExistingGrant(ctx) {
    const clientId = ctx.oidc.client.clientId;
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(clientId);
    if (grantId) {
      return ctx.oidc.provider.Grant.find(grantId);
    }
    // The registered client is first-party: consent is implied for what it asks.
    const grant = new ctx.oidc.provider.Grant({ clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(ctx.oidc.params.scope || 'openid');
    await grant.save();
    return grant;
  },
});

provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/);
  if (!match) {
    return next();
  }
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === 'GET' && !match[2]) {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><html><head><title>Test provider sign-in</title></head><body>
<form method="post" action="/interaction/${escapeHtml(details.uid)}/login">
<input name="login" required> <input name="name"> <input name="pid"> <input name="org">
<button type="submit">Sign in</button></form></body></html>`;
    return undefined;
  }
  if (ctx.method === 'POST' && match[2]) {
    const form = await readForm(ctx.req);
    const login = form.get('login');
    if (!login) {
      ctx.status = 400;
      ctx.body = 'login is required';
      return undefined;
    }
    const claims = {};
    for (const name of ['name', 'pid', 'org']) {
      if (form.get(name)) claims[name] = form.get(name);
    }
    accounts.set(login, claims);
    const returnTo = await provider.interactionResult(
      ctx.req, ctx.res, { login: { accountId: login } }, { mergeWithLastSubmission: false },
    );
    ctx.status = 303;
    ctx.redirect(returnTo);
    return undefined;
  }
  ctx.status = 405;
  return undefined;
});

const server = http.createServer(provider.callback());
server.listen(config.port, '127.0.0.1', () => {
  process.stdout.write('ready\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGINT', () => server.close(() => process.exit(0)));
