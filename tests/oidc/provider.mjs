// A real OpenID provider (panva's oidc-provider) for the browser tests, on localhost only.
//
// Usage: node provider.mjs '<json>' where the JSON holds
//   {"port": <free port>, "client": {"client_id", "client_secret", "redirect_uris": [...]},
//    "users": [{"login", "password", "sub", "email"}]}
// Prints one line "listening <issuer>" once it serves. Test data only: never a real person.
import http from 'node:http';
import { once } from 'node:events';

import Provider, { interactionPolicy } from 'oidc-provider';

const { port, client, users } = JSON.parse(process.argv[2]);
const issuer = `http://localhost:${port}`;
const bySubject = new Map(users.map((user) => [user.sub, user]));
const byLogin = new Map(users.map((user) => [user.login, user]));

// Streamlit asks for prompt=select_account; the sign-in form below is where the account is chosen.
const policy = interactionPolicy.base();
policy.add(new interactionPolicy.Prompt({ name: 'select_account', requestable: true }), 0);

const provider = new Provider(issuer, {
  clients: [{ ...client, grant_types: ['authorization_code'], response_types: ['code'] }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: [] },
  // Like institutional providers, put the email in the ID token (Streamlit reads only that).
  conformIdTokenClaims: false,
  cookies: { keys: ['obscode-tests-only'] },
  features: { devInteractions: { enabled: false } },
  interactions: { policy, url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const user = bySubject.get(sub);
    return user && { accountId: sub, claims: () => ({ sub, email: user.email, email_verified: true }) };
  },
  // obscode is the institution's own (first-party) client: no consent screen.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
});

const page = (uid, error) => `<!doctype html><html><head><meta charset="utf-8"><title>Test institution: sign in</title></head>
<body><h1>Test institution</h1>${error ? `<p role="alert">${error}</p>` : ''}
<form method="post" action="/interaction/${uid}">
<label>Login <input name="login" required></label>
<label>Password <input name="password" type="password" required></label>
<button type="submit">Sign in</button></form></body></html>`;

async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(uid));
    return;
  }
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const form = new URLSearchParams(Buffer.concat(chunks).toString());
  const user = byLogin.get(form.get('login'));
  if (!user || user.password !== form.get('password')) {
    res.writeHead(401, { 'content-type': 'text/html; charset=utf-8' }).end(page(uid, 'Wrong login or password.'));
    return;
  }
  await provider.interactionFinished(req, res, { select_account: {}, login: { accountId: user.sub } },
    { mergeWithLastSubmission: false });
}

const handle = provider.callback();
const server = http.createServer((req, res) => {
  const match = /^\/interaction\/([\w-]+)$/.exec(new URL(req.url, issuer).pathname);
  if (!match) return handle(req, res);
  return interaction(req, res, match[1]).catch((error) => {
    console.error(error);
    if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
    res.end('interaction failed');
  });
});
server.listen(port, '127.0.0.1');
await once(server, 'listening');
console.log(`listening ${issuer}`);
