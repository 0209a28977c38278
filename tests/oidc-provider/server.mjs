// A real OpenID provider (the oidc-provider package) for Pilotage's identity tests. Not for production.
//
//   node server.mjs --port N [--audience AUD] [--client-id ID] [--client-secret S] [--redirect-uri URI]...
//
// Prints one line "listening <issuer>" once it serves. It offers:
//  - the client Pilotage's dashboard signs in with (authorization code + PKCE, client_secret_basic),
//    with the redirect and post-logout redirect URIs given on the command line;
//  - a test client ("pilotage-tests", secret "tests-secret") that obtains JWT access tokens for an
//    account by the grant "urn:pilotage:test:account" (params: account, resource, ttl, iat_offset),
//    issued and signed by the provider exactly as an authorization-code token would be;
//  - accounts with e-mails and a "groups" claim (POST /test/accounts {id, email, groups} adds one);
//  - POST /test/rotate-keys: a new signing key replaces the old one (same issuer, new kid).
import * as http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const all = (name) => args.flatMap((a, i) => (a === `--${name}` ? [args[i + 1]] : []));

const port = Number(arg('port', '0'));
const audience = arg('audience', 'https://pilotage.test/api');
const clientId = arg('client-id', 'pilotage-dashboard');
const clientSecret = arg('client-secret', 'dashboard-secret');
const redirectUris = all('redirect-uri');
const postLogoutRedirectUris = all('post-logout-redirect-uri');
const testGrant = 'urn:pilotage:test:account';

const accounts = new Map([
  ['alice', { email: 'alice@example.org', groups: ['support-pilot'], name: 'Alice Example' }],
  ['bob', { email: 'bob@example.org', groups: ['finance'], name: 'Bob Example' }],
  ['nomail', { groups: ['support-pilot'] }],
]);

let generation = 0;
function newKey() {
  generation += 1;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: `key-${generation}-${Date.now()}`, use: 'sig', alg: 'RS256' };
}

function accountClaims(id) {
  const account = accounts.get(id);
  if (!account) return undefined;
  const claims = { sub: id, groups: account.groups ?? [] };
  if (account.email) Object.assign(claims, { email: account.email, email_verified: account.emailVerified ?? true });
  if (account.name) claims.name = account.name;
  return claims;
}

function build(issuer, key) {
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: redirectUris.length ? redirectUris : ['http://127.0.0.1/callback'],
        post_logout_redirect_uris: postLogoutRedirectUris,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        client_id: 'pilotage-tests',
        client_secret: 'tests-secret',
        redirect_uris: [],
        response_types: [],
        grant_types: ['client_credentials', testGrant],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [key] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
    // The id token carries the claims of every granted scope, as Entra ID and Okta can be set to do.
    conformIdTokenClaims: false,
    findAccount: (ctx, id) => (accounts.has(id) ? { accountId: id, claims: () => accountClaims(id) } : undefined),
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        // Any resource the caller names gets a JWT access token for it: tests ask for a wrong audience too.
        getResourceServerInfo: (ctx, resource) => ({
          scope: 'openid email profile groups',
          audience: resource,
          accessTokenTTL: 3600,
          accessTokenFormat: 'jwt',
        }),
      },
    },
    formats: {
      customizers: {
        // Access tokens carry the person's e-mail and groups, as a directory's would.
        jwt: (ctx, token, jwt) => {
          const claims = token.accountId ? accountClaims(token.accountId) : undefined;
          if (claims) {
            if (claims.email) Object.assign(jwt.payload, { email: claims.email, email_verified: claims.email_verified });
            jwt.payload.groups = claims.groups;
          }
          const offset = Number(ctx?.oidc?.params?.iat_offset ?? 0);
          if (offset) {
            jwt.payload.iat += offset;
            jwt.payload.exp += offset;
          }
        },
      },
    },
    pkce: { required: () => true },
    cookies: { keys: ['pilotage-test-oidc-cookie-key'] },
  });
  provider.proxy = false;

  // A resource-owner-ish grant for tests: an access token for the named account, issued by the provider.
  provider.registerGrantType(testGrant, async (ctx) => {
    const { client } = ctx.oidc;
    const { account, ttl } = ctx.oidc.params;
    if (!accounts.has(account)) {
      ctx.status = 400;
      ctx.body = { error: 'invalid_grant', error_description: `no account '${account}'` };
      return;
    }
    const resource = ctx.oidc.params.resource ?? audience;
    const resourceServer = new ctx.oidc.provider.ResourceServer(resource, {
      scope: 'openid email profile groups', audience: resource, accessTokenFormat: 'jwt',
    });
    const token = new ctx.oidc.provider.AccessToken({
      accountId: account,
      client,
      grantId: `test-${Date.now()}`,
      gty: testGrant,
      scope: 'openid email groups',
      expiresIn: ttl ? Number(ttl) : 3600,
      resourceServer,
    });
    const value = await token.save();
    ctx.body = { access_token: value, token_type: 'Bearer', expires_in: token.expiration };
  }, ['account', 'resource', 'ttl', 'iat_offset']);

  // Sign-out asks the person to confirm; the page names its button so a browser test can press it.
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  return provider;
}

let current;
let issuer;

async function readJson(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

const server = http.createServer(async (req, res) => {
  try {
    if (req.method === 'POST' && req.url === '/test/rotate-keys') {
      const key = newKey();
      current = build(issuer, key);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kid: key.kid }));
      return;
    }
    if (req.method === 'POST' && req.url === '/test/accounts') {
      const body = await readJson(req);
      accounts.set(body.id, { email: body.email, groups: body.groups ?? [], name: body.name, emailVerified: body.emailVerified });
      res.writeHead(204);
      res.end();
      return;
    }
    current.callback()(req, res);
  } catch (e) {
    res.writeHead(500);
    res.end(String(e));
  }
});

server.listen(port, '127.0.0.1', () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  current = build(issuer, newKey());
  console.log(`listening ${issuer}`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The test process owns this one: when its stdin closes (the test host ended), the provider ends too.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
