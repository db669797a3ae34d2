import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, PASSWORD, type Deployment } from '../helpers/e2e.ts';

const BUILT_IN = ['constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty'];

/**
 * Probe (probe22): custom attribute names that every JavaScript object already has. The store
 * dropped `constructor` and `prototype` without a word (201, then the attribute was gone), and a
 * mapper reading `toString` of a user without it found the inherited function. They are refused
 * (400 naming the attribute, `builtin_name`) on the way in: admin API create and update, and a
 * Keycloak import (the user imported without it, reported). A `__proto__` member is never stored
 * and never becomes anyone's prototype.
 */
describe('probe: custom attribute names that objects have built in', function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  const call = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);
  const problems = (body: { details?: Array<{ path: string; code?: string }> }) => (body.details ?? []).map((detail) => `${detail.path}: ${detail.code}`);

  before(async () => {
    deploy = await deployment('probe_attr_names');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('POST and PATCH /users refuse them naming the attribute; nothing is written', async () => {
    for (const name of BUILT_IN) {
      const created = await call('POST', '/users', { username: `b${name.toLowerCase()}`, password: PASSWORD, attributes: { [name]: 'x', department: 'eng' } });
      expect(created.status, `${name}: ${JSON.stringify(created.body)}`).to.equal(400);
      expect(problems(created.body), name).to.deep.equal([`attributes.${name}: builtin_name`]);
    }
    expect((await call('GET', '/users?q=b')).body.users ?? []).to.have.lengthOf(0);

    const user = await call('POST', '/users', { username: 'keeper', password: PASSWORD, attributes: { department: 'eng' } });
    expect(user.status, JSON.stringify(user.body)).to.equal(201);
    const patched = await call('PATCH', `/users/${user.body.id as string}`, { attributes: { constructor: ['a', 'b'] } });
    expect(patched.status).to.equal(400);
    expect(problems(patched.body)).to.deep.equal(['attributes.constructor: builtin_name']);
    // A different case is an ordinary name, kept as given.
    const fine = await call('PATCH', `/users/${user.body.id as string}`, { attributes: { Constructor: 'c' } });
    expect(fine.status, JSON.stringify(fine.body)).to.equal(200);
    expect((await call('GET', `/users/${user.body.id as string}`)).body.attributes).to.deep.equal({ department: 'eng', Constructor: 'c' });
  });

  it('a __proto__ member is neither stored nor taken as the prototype', async () => {
    for (const [i, value] of ['"x"', '["a"]', '{"isAdmin":true}', '{"roles":["admin"]}'].entries()) {
      const response = await fetch(`${gatehouse.url}/admin/api/v1/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: `{"username":"proto${i}","password":"${PASSWORD}","attributes":{"__proto__":${value},"department":"eng"}}`,
      });
      const body = (await response.json()) as { details?: Array<{ path: string; code?: string }> };
      // Refused by name (fixes23): before, the member was dropped without a word and the user created (201).
      expect(response.status, `${value}: ${JSON.stringify(body)}`).to.equal(400);
      expect(problems(body), value).to.deep.equal(['attributes.__proto__: attribute_name']);
    }
    expect((await call('GET', '/users?q=proto')).body.users ?? []).to.have.lengthOf(0);
    expect(({} as Record<string, unknown>).isAdmin).to.equal(undefined);
    const user = await call('POST', '/users', { username: 'protopatch', password: PASSWORD, attributes: { department: 'eng' } });
    const patched = await fetch(`${gatehouse.url}/admin/api/v1/users/${user.body.id as string}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"attributes":{"__proto__":["a"]}}',
    });
    expect(patched.status).to.equal(400);
    expect(problems((await patched.json()) as { details?: Array<{ path: string; code?: string }> })).to.deep.equal(['attributes.__proto__: attribute_name']);
  });

  it('values with control or invisible format characters are refused naming the attribute (a U+202E reverses the text shown around it)', async () => {
    const created = await call('POST', '/users', { username: 'bidi', password: PASSWORD, attributes: { department: 'eng\u202e' } });
    expect(created.status, JSON.stringify(created.body)).to.equal(400);
    expect(problems(created.body)).to.deep.equal(['attributes.department: hidden_character']);
    const user = await call('POST', '/users', { username: 'bidi', password: PASSWORD, attributes: { department: 'eng' } });
    expect(user.status, JSON.stringify(user.body)).to.equal(201);
    const patched = await call('PATCH', `/users/${user.body.id as string}`, { attributes: { langs: ['en', 'f\u200br'], department: 'ops\nx' } });
    expect(patched.status).to.equal(400);
    expect(problems(patched.body).sort()).to.deep.equal(['attributes.department: hidden_character', 'attributes.langs.1: hidden_character']);
    expect((await call('GET', `/users/${user.body.id as string}`)).body.attributes).to.deep.equal({ department: 'eng' });
  });

  it('a Keycloak import brings the user without such an attribute and reports it', async () => {
    const realm = {
      realm: 'probeattr',
      enabled: true,
      users: [{ id: '7a0c3c1e-0000-4000-8000-000000000001', username: 'kcproto', enabled: true, attributes: { constructor: ['x'], toString: ['y'], department: ['eng'] } }],
    };
    const imported = await call('POST', '/import/keycloak', realm);
    expect(imported.status, JSON.stringify(imported.body)).to.equal(200);
    const shown = await call('GET', '/users/7a0c3c1e-0000-4000-8000-000000000001');
    expect(shown.body.attributes).to.deep.equal({ department: 'eng' });
    const reported = JSON.stringify(imported.body.unmapped);
    expect(reported).to.include('constructor');
    expect(reported).to.include('toString');
  });
});
