import { expect } from 'chai';
import Koa from 'koa';
import { z } from 'zod';
import { adminRouter } from '../../src/admin/router.ts';
import type { AdminRoute } from '../../src/admin/route-table.ts';
import { DuplicateUserError, HashQueueFullError } from '../../src/accounts/errors.ts';
import { ApiConflictError } from '../../src/apis/registry.ts';
import { ClientConflictError } from '../../src/clients/repository.ts';
import { ConfigError } from '../../src/config/load.ts';
import { GatehouseError } from '../../src/errors/gatehouse-error.ts';
import { normalizeError } from '../../src/errors/normalize.ts';
import { SettingError } from '../../src/errors/setting-error.ts';
import { StoreUnavailableError } from '../../src/errors/store-unavailable.ts';
import { requestId } from '../../src/http/request-id.ts';
import { OperationError } from '../../src/operations/errors.ts';
import { LabelConflictError } from '../../src/roles/directory.ts';
import { captureLogs } from '../helpers/log-capture.ts';

/** A raw driver error as mongoose throws it when the server is gone. */
function mongoDown(): Error {
  const error = new Error('connection <monitor> to 127.0.0.1:27017 closed');
  error.name = 'MongoNetworkError';
  return error;
}

async function callAdmin(thrown: unknown, accept = 'application/json'): Promise<Response> {
  const route: AdminRoute = {
    method: 'get',
    path: '/things',
    tag: 'things',
    summary: 'things',
    handle: () => Promise.reject(thrown),
  };
  const app = new Koa();
  app.use(requestId());
  app.use(adminRouter({ routes: [route], auth: (_ctx, next) => next(), adminUrl: 'http://localhost/admin/api/v1', logger: captureLogs('info').logger }).routes());
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as { port: number };
    return await fetch(`http://127.0.0.1:${port}/admin/api/v1/things`, { headers: { accept } });
  } finally {
    server.close();
  }
}

describe('one error model', () => {
  it('every domain error is a GatehouseError carrying status, code and exposure', () => {
    const cases: Array<[GatehouseError, number, string]> = [
      [new ApiConflictError('https://api'), 409, 'conflict'],
      [new ClientConflictError('web'), 409, 'conflict'],
      [new LabelConflictError('role', 'admin'), 409, 'conflict'],
      [new DuplicateUserError('email'), 409, 'conflict'],
      [new OperationError(404, 'client_not_found', { id: 'x' }), 404, 'not_found'],
      [new HashQueueFullError(3), 503, 'temporarily_unavailable'],
      [new StoreUnavailableError('redis'), 503, 'temporarily_unavailable'],
      [new SettingError('PORT', 'must be a number'), 500, 'server_error'],
      [new ConfigError(['PORT: must be a number']), 500, 'server_error'],
    ];
    for (const [error, status, code] of cases) {
      expect(error, error.name).to.be.instanceOf(GatehouseError);
      expect(error.status, error.name).to.equal(status);
      expect(error.code, error.name).to.equal(code);
    }
  });

  it('the CLI exit code follows the error: usage 2, failure 1, outage 75, configuration 78', () => {
    expect(normalizeError(z.object({ a: z.string() }).safeParse({}).error).exitCode).to.equal(2);
    expect(new OperationError(409, 'user_disabled').exitCode).to.equal(1);
    expect(normalizeError(mongoDown()).exitCode).to.equal(75);
    expect(new ConfigError(['X: bad']).exitCode).to.equal(78);
    expect(new SettingError('GATEHOUSE_SECRET', 'cannot open the keys').exitCode).to.equal(78);
  });

  it('a zod failure is a 400 naming each field', () => {
    const error = normalizeError(z.object({ name: z.string(), ttl: z.number() }).safeParse({ ttl: 'x' }).error);
    expect(error.status).to.equal(400);
    expect(error.details.map((d) => d.path)).to.deep.equal(['name', 'ttl']);
  });

  it('the admin API answers a store outage with 503 and Retry-After, not 500', async () => {
    const response = await callAdmin(mongoDown());
    expect(response.status).to.equal(503);
    expect(response.headers.get('retry-after')).to.equal('5');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.error).to.equal('temporarily_unavailable');
    expect(body.request_id).to.equal(response.headers.get('x-request-id'));
  });

  it('the admin API answers JSON whatever the Accept header says', async () => {
    const response = await callAdmin(new ClientConflictError('web'), 'text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2');
    expect(response.status).to.equal(409);
    expect(response.headers.get('content-type')).to.match(/^application\/json/);
    expect(await response.json()).to.include({ error: 'conflict', error_description: 'a client with id web already exists' });
  });

  it('the admin API hides internals of unexpected failures', async () => {
    const response = await callAdmin(new Error('secret internals at /srv/app.js:12'));
    expect(response.status).to.equal(500);
    const text = await response.text();
    expect(text).to.contain('server_error').and.not.contain('secret internals');
  });
});
