// A local OpenID Connect provider standing in for the provincial unified
// identity (统一身份认证) in tests: panva's certified `oidc-provider`, with
// one confidential client and one resident.
//
//   OIDC_REDIRECT_URI=http://127.0.0.1:8123/login/oidc/callback node provider.mjs
//
// Prints `oidc-provider listening on http://127.0.0.1:PORT` once it serves.
// Environment:
//   OIDC_REDIRECT_URI   the relying party's callback (required)
//   OIDC_CLIENT_ID      default `weidong-portal`
//   OIDC_CLIENT_SECRET  default `weidong-demo-secret`
//   OIDC_AUTH_METHOD    `client_secret_basic` (default) or `client_secret_post`
//
// Logins go through the provider's development interactions (a login form
// that takes any password, then a consent form): a test completes them
// over plain HTTP. Only the account `zhangwei` exists; any other login name
// ends the authorization with an error.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const redirectUri = process.env.OIDC_REDIRECT_URI;
if (!redirectUri) {
  console.error('OIDC_REDIRECT_URI is required');
  process.exit(2);
}

/** The one resident: 张伟, whose number is bound to the portal's demo account. */
const ACCOUNTS = {
  zhangwei: {
    name: '张伟',
    id_number: '410403198503150013',
  },
};

async function findAccount(_ctx, id) {
  const person = ACCOUNTS[id];
  if (!person) return undefined;
  return {
    accountId: id,
    async claims() {
      return { sub: id, ...person };
    },
  };
}

// Fresh signing keys for every run (RS256 for ID tokens, ES256 offered too).
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.OIDC_CLIENT_ID || 'weidong-portal',
      client_secret: process.env.OIDC_CLIENT_SECRET || 'weidong-demo-secret',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: process.env.OIDC_AUTH_METHOD || 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
  ],
  claims: {
    openid: ['sub'],
    profile: ['name'],
    id_card: ['id_number'],
  },
  scopes: ['openid', 'profile', 'id_card'],
  findAccount,
  pkce: { required: () => true },
  jwks: {
    keys: [
      { ...rsa, alg: 'RS256', use: 'sig', kid: `rs-${randomBytes(4).toString('hex')}` },
      { ...ec, alg: 'ES256', use: 'sig', kid: `ec-${randomBytes(4).toString('hex')}` },
    ],
  },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  features: { devInteractions: { enabled: true } },
  renderError(ctx, out) {
    ctx.type = 'json';
    ctx.body = out;
  },
});

server.on('request', provider.callback());
console.log(`oidc-provider listening on ${issuer}`);

// Stop at once: keep-alive connections of the relying party must not hold it up.
const stop = () => {
  server.closeAllConnections();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
