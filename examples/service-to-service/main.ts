// Calls an API with a client_credentials token, e.g.:
//   GATEHOUSE_ISSUER=https://id.example.com CLIENT_ID=… CLIENT_SECRET=… API=https://orders.example.com \
//   node examples/service-to-service/main.ts https://orders.internal/orders
import { tokenSource } from './token-source.ts';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`set ${name}`);
  return value;
};

const source = tokenSource({
  issuer: env('GATEHOUSE_ISSUER'),
  clientId: env('CLIENT_ID'),
  clientSecret: env('CLIENT_SECRET'),
  resource: process.env.API,
  scope: process.env.SCOPE,
  allowInsecureHttp: env('GATEHOUSE_ISSUER').startsWith('http://'),
});
const target = process.argv[2];
if (target === undefined) throw new Error('usage: main.ts URL');
const response = await source.fetch(target);
console.log(response.status, await response.text());
