import { expect } from 'chai';
import { z } from 'zod';
import { API_FLAGS } from '../../src/cli/commands/apis.ts';
import { AUDIT_FLAGS } from '../../src/cli/commands/audit.ts';
import { CLIENT_FLAGS } from '../../src/cli/commands/clients.ts';
import { IDP_FLAGS } from '../../src/cli/commands/idps.ts';
import { LABEL_FLAGS } from '../../src/cli/commands/labels.ts';
import { USER_FLAGS } from '../../src/cli/commands/users.ts';
import { CliError } from '../../src/cli/cli-error.ts';
import { flagPath, inFlags } from '../../src/cli/flag-errors.ts';
import { ConflictError, GatehouseError, invalid, NotFoundError } from '../../src/errors/gatehouse-error.ts';
import { runCli } from '../helpers/process.ts';

describe('CLI errors name the flags that were typed (src/cli/flag-errors.ts)', () => {
  it('a field becomes its flag; one value of several, or one word of a value, is shown as typed', () => {
    const args = ['--name', 'X', '--redirect-uri', 'https://a.example.com/cb', '--redirect-uri=javascript:x', '--api-scope', 'https://api read'];
    expect(flagPath('name', CLIENT_FLAGS, args)).to.equal('--name');
    expect(flagPath('redirect_uris.1', CLIENT_FLAGS, args)).to.equal("--redirect-uri 'javascript:x'");
    expect(flagPath('redirect_uris.0', CLIENT_FLAGS, args)).to.equal("--redirect-uri 'https://a.example.com/cb'");
    expect(flagPath('api_scopes.0.scopes.1', CLIENT_FLAGS, args)).to.equal("--api-scope 'https://api read'");
    expect(flagPath('scopes.1', API_FLAGS, ['--scope', 'read wr"ite'])).to.equal(`--scope 'wr"ite'`);
    expect(flagPath('scopes.0', API_FLAGS, ['--scope', 'r"ead write'])).to.equal(`--scope 'r"ead'`);
    expect(flagPath('token_exchange.trusted_clients.0', CLIENT_FLAGS, ['--exchange-trust', 'svc'])).to.equal("--exchange-trust 'svc'");
    // Of alternatives, the one typed; --unset names the field it removed; a path without a flag stays.
    expect(flagPath('jwks.keys.0.d', CLIENT_FLAGS, ['--jwks-file', 'k.json'])).to.equal('--jwks-file');
    expect(flagPath('jwks', CLIENT_FLAGS, [])).to.equal('--jwks');
    expect(flagPath('first_party', CLIENT_FLAGS, ['--no-first-party'])).to.equal('--no-first-party');
    expect(flagPath('logo_uri', CLIENT_FLAGS, ['--unset', 'logo-uri'])).to.equal('--unset logo-uri');
    expect(flagPath('address.postal_code', USER_FLAGS, [])).to.equal('--address-postal-code');
    // An attribute's error names the attribute (it said --attribute alone), escaped as typed input is.
    expect(flagPath('attributes.department', USER_FLAGS, ['--attribute', 'department=x'])).to.equal('--attribute department');
    expect(flagPath('attributes.langs.1', USER_FLAGS, ['--attribute', 'langs=en'])).to.equal('--attribute langs');
    expect(flagPath('attributes.__proto__', USER_FLAGS, [])).to.equal('--attribute __proto__');
    expect(flagPath('attributes', USER_FLAGS, [])).to.equal('--attribute');
    expect(flagPath('name', LABEL_FLAGS, ['ops team'])).to.equal('NAME');
    expect(flagPath('nothing_here', CLIENT_FLAGS, [])).to.equal('nothing_here');
    // What was typed cannot drive the terminal.
    expect(flagPath('redirect_uris.0', CLIENT_FLAGS, ['--redirect-uri', 'x\u001b[2J'])).to.equal("--redirect-uri 'x\\x1b[2J'");
    // After `--` nothing is a flag.
    expect(flagPath('redirect_uris.0', CLIENT_FLAGS, ['--', '--redirect-uri', 'x'])).to.equal('--redirect-uri');
  });

  it('rewords an error with fields and keeps its status, codes and exit code; leaves the rest alone', () => {
    const args = ['--redirect-uri', 'nope'];
    const said = inFlags(invalid('redirect_uris.0', 'redirect_uri'), CLIENT_FLAGS, args) as GatehouseError;
    expect(said).to.be.instanceOf(GatehouseError);
    expect(said.description).to.equal("--redirect-uri 'nope': must be an absolute URI without a fragment (javascript:, data:, file: and the like are refused)");
    expect([said.status, said.code, said.exitCode, said.details[0]!.code]).to.deep.equal([400, 'invalid_request', 2, 'redirect_uri']);
    const conflict = inFlags(new ConflictError('client_exists', { client_id: 'crm' }, 'client_id'), CLIENT_FLAGS, []) as GatehouseError;
    expect([conflict.description, conflict.exitCode, conflict.problem?.code]).to.deep.equal(['--client-id: a client with id crm already exists', 1, 'client_exists']);
    const parsed = z.object({ limit: z.coerce.number() }).safeParse({ limit: 'abc' });
    expect((inFlags(parsed.error, AUDIT_FLAGS, ['--limit', 'abc']) as GatehouseError).description).to.equal('--limit: must be a number');
    for (const untouched of [new NotFoundError('client_not_found', { id: 'x' }), new CliError('--name is required', 2), new Error('boom')]) expect(inFlags(untouched, CLIENT_FLAGS, [])).to.equal(untouched);
    expect(inFlags(invalid('name', 'empty'), undefined, [])).to.be.instanceOf(GatehouseError);
  });

  it("every flag a command's errors can name is one of its options (its --help lists it)", async () => {
    for (const [group, flags] of Object.entries({ clients: CLIENT_FLAGS, users: USER_FLAGS, apis: API_FLAGS, roles: LABEL_FLAGS, groups: LABEL_FLAGS, idps: IDP_FLAGS, audit: AUDIT_FLAGS })) {
      const help = (await runCli([group, '--help'], {})).stdout;
      const named = Object.values(flags).flatMap((source) => source.split(' ')[0]!.split('|')).filter((flag) => flag.startsWith('--'));
      expect(named.filter((flag) => !new RegExp(`${flag}(?![a-z-])`).test(help)), group).to.deep.equal([]);
    }
  });
});
