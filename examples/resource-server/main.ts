// GATEHOUSE_ISSUER=https://id.example.com API=https://orders.example.com [API_CLIENT_ID=… API_CLIENT_SECRET=…] PORT=4000 [HOST=0.0.0.0] \
//   node examples/resource-server/main.ts
import { resourceServer } from './app.ts';

const issuer = process.env.GATEHOUSE_ISSUER ?? 'http://localhost:3000';
const audience = process.env.API ?? 'https://orders.example.com';
const { API_CLIENT_ID: clientId, API_CLIENT_SECRET: clientSecret } = process.env;
const app = resourceServer({
  issuer,
  audience,
  introspection: clientId !== undefined && clientSecret !== undefined ? { clientId, clientSecret } : undefined,
  allowInsecureHttp: issuer.startsWith('http://'),
});
const server = app.listen(Number(process.env.PORT ?? 4000), process.env.HOST ?? '127.0.0.1', () => {
  const address = server.address();
  console.log(`resource server listening on ${typeof address === 'object' && address !== null ? `http://${address.address}:${address.port}` : String(address)}`);
});
