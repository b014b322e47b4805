// An OpenID Connect provider on loopback for the tests (the npm oidc-provider package):
// one confidential client, PKCE required, the accounts given in ACCOUNTS (JSON: login ->
// claims), and the package's own login and consent pages.
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const accounts = JSON.parse(process.env.ACCOUNTS);
const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    redirect_uris: [process.env.REDIRECT_URI],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    id_token_signed_response_alg: 'RS256',
  }],
  pkce: { methods: ['S256'], required: () => true },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  conformIdTokenClaims: false,
  findAccount: async (ctx, id) => (accounts[id]
    ? { accountId: id, claims: async () => ({ sub: id, ...accounts[id] }) }
    : undefined),
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['a key for the tests only'] },
});
provider.listen(port, '127.0.0.1', () => { console.log('READY'); });
