import { expect } from 'chai';
import { withJsonFingerprint } from '../../src/clients/json-fingerprint.ts';
import { CREDENTIAL_FIELDS } from '../../src/observability/log-redaction.ts';
import { captureLogs } from '../helpers/log-capture.ts';

const CENSOR = '[redacted]';

/** The one line a logger call wrote. */
function logged(write: (logger: ReturnType<typeof captureLogs>['logger']) => void): Record<string, unknown> {
  const capture = captureLogs('info');
  write(capture.logger);
  const lines = capture.lines();
  expect(lines).to.have.length(1);
  return lines[0]!;
}

describe("the logger's redaction of credentials (src/observability/log-redaction.ts)", () => {
  it('redacts every credential field at the top level and one level down, and nothing else', () => {
    for (const field of CREDENTIAL_FIELDS) {
      const line = logged((logger) => logger.info({ [field]: 'secret-value', nested: { [field]: 'secret-value', kept: 'visible' }, kept: 'visible' }, 'fields'));
      expect(line[field], field).to.equal(CENSOR);
      expect(line.nested, field).to.deep.equal({ [field]: CENSOR, kept: 'visible' });
      expect(line.kept).to.equal('visible');
      expect(JSON.stringify(line)).not.to.include('secret-value');
    }
  });

  it("redacts the credential headers of `req` and `res` and of a `headers` object, and leaves the others", () => {
    const line = logged((logger) =>
      logger.info(
        {
          req: { method: 'POST', headers: { authorization: 'Basic c2VjcmV0', cookie: 'sid=1', dpop: 'proof', host: 'idp.example' } },
          res: { statusCode: 200, headers: { 'set-cookie': 'sid=2', 'content-type': 'text/html' } },
          headers: { authorization: 'Bearer at', accept: '*/*' },
        },
        'headers',
      ),
    );
    expect(line.req).to.deep.equal({ method: 'POST', headers: { authorization: CENSOR, cookie: CENSOR, dpop: CENSOR, host: 'idp.example' } });
    expect(line.res).to.deep.equal({ statusCode: 200, headers: { 'set-cookie': CENSOR, 'content-type': 'text/html' } });
    expect(line.headers).to.deep.equal({ authorization: CENSOR, accept: '*/*' });
  });

  it("serializes an error under `err` as pino does and redacts its credential fields and a client library's config, params and body", () => {
    const error = Object.assign(new TypeError('upstream refused'), { token: 'at-123', config: { headers: { authorization: 'Bearer x' } }, params: { client_secret: 's' }, body: 'code=abc', status: 400 });
    for (const line of [logged((logger) => logger.error({ err: error }, 'failed')), logged((logger) => logger.error(error))]) {
      const err = line.err as Record<string, unknown>;
      expect(err.type).to.equal('TypeError');
      expect(err.message).to.equal('upstream refused');
      expect(err.stack).to.be.a('string').and.include('upstream refused');
      expect(err.status).to.equal(400);
      expect(err).to.include({ token: CENSOR, config: CENSOR, params: CENSOR, body: CENSOR });
    }
  });

  it("never changes the caller's objects", () => {
    const nested = { password: 'pw', kept: 1 };
    const fields = { token: 'tk', nested, req: { headers: { authorization: 'Basic x' } } };
    const error = Object.assign(new Error('boom'), { config: { url: 'https://api.example' } });
    logged((logger) => logger.info({ ...fields, err: error }, 'unchanged'));
    expect(fields).to.deep.equal({ token: 'tk', nested: { password: 'pw', kept: 1 }, req: { headers: { authorization: 'Basic x' } } });
    expect(fields.nested).to.equal(nested);
    expect(error.config).to.deep.equal({ url: 'https://api.example' });
  });

  it("redacts a child logger's bindings, and its children's", () => {
    const capture = captureLogs('info');
    const child = capture.logger.child({ token: 'bound-token', context: { password: 'bound-password', kept: 'yes' } });
    child.child({ refresh_token: 'rt' }).info({ x: 1 }, 'child');
    const [line] = capture.lines();
    expect(line).to.include({ token: CENSOR, refresh_token: CENSOR, x: 1 });
    expect(line!.context).to.deep.equal({ password: CENSOR, kept: 'yes' });
    expect(capture.text()).not.to.match(/bound-token|bound-password|"rt"/);
  });

  it("writes a value by its toJSON, as JSON does: a client record as its fingerprint, never its fields", () => {
    const record = withJsonFingerprint({ client_id: 'app', client_secret: 'client-secret-value', redirect_uris: ['https://app.example/cb'] });
    const line = logged((logger) => logger.info({ client: record }, 'client'));
    expect(line.client).to.be.a('string').and.match(/^gatehouse-client:/);
  });

  it('leaves a line without credentials as it is (an access log line)', () => {
    const fields = { requestId: 'req-12345678', method: 'GET', route: 'userinfo', status: 200, durationMs: 1.5 };
    const line = logged((logger) => logger.info(fields, 'request'));
    expect(line).to.include(fields);
    expect(line).not.to.have.property('undefinedField');
    const withUndefined = logged((logger) => logger.info({ password: undefined, status: 200 }, 'request'));
    expect(withUndefined).not.to.have.property('password');
  });
});
