// A server-side web app signing users in with Gatehouse, e.g.:
//   GATEHOUSE_ISSUER=https://id.example.com CLIENT_ID=… CLIENT_SECRET=… BASE_URL=https://app.example.com PORT=3001 \
//   node examples/web-app/main.ts
import { webApp } from './app.ts';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`set ${name}`);
  return value;
};

const issuer = env('GATEHOUSE_ISSUER');
const baseUrl = env('BASE_URL').replace(/\/$/, '');
const app = webApp({
  issuer,
  clientId: env('CLIENT_ID'),
  clientSecret: env('CLIENT_SECRET'),
  baseUrl,
  // Served over HTTPS (usually a TLS proxy in front setting X-Forwarded-Proto): Secure cookies.
  secureCookies: baseUrl.startsWith('https://'),
  trustProxy: process.env.TRUST_PROXY === 'true',
  allowInsecureHttp: issuer.startsWith('http://'),
});
const server = app.listen(Number(process.env.PORT ?? 3001), process.env.HOST ?? '127.0.0.1', () => {
  const address = server.address();
  console.log(`web app listening on ${typeof address === 'object' && address !== null ? `http://${address.address}:${address.port}` : String(address)}`);
});
