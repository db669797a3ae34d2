// An API gateway in front of two services, e.g.:
//   GATEHOUSE_ISSUER=https://id.example.com CLIENT_ID=… CLIENT_SECRET=… API=https://orders.example.com SCOPE="read write" \
//   ROUTES='[{"path":"/orders","upstream":"http://orders.internal:4000/orders"},
//            {"path":"/invoices","upstream":"http://billing.internal:4001/invoices","exchangeFor":"https://billing.example.com"}]' \
//   PORT=8080 node examples/gateway/main.ts
import { gateway, type Route } from './app.ts';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`set ${name}`);
  return value;
};

const issuer = env('GATEHOUSE_ISSUER');
const app = gateway({
  issuer,
  clientId: env('CLIENT_ID'),
  clientSecret: env('CLIENT_SECRET'),
  api: env('API'),
  scope: process.env.SCOPE ?? 'read',
  routes: JSON.parse(env('ROUTES')) as Route[],
  // Serve it behind TLS (a proxy setting X-Forwarded-Proto): the session cookie is then Secure.
  secureCookies: process.env.SECURE_COOKIES !== 'false' && !issuer.startsWith('http://'),
  trustProxy: process.env.TRUST_PROXY === 'true',
  allowInsecureHttp: issuer.startsWith('http://'),
});
const server = app.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? '127.0.0.1', () => {
  const address = server.address();
  console.log(`gateway listening on ${typeof address === 'object' && address !== null ? `http://${address.address}:${address.port}` : String(address)}`);
});
