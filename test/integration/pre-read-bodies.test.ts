import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { childEnv, outputOf, type Exit } from '../helpers/process.ts';
import { databaseForSuite, serviceUrls } from '../helpers/stores.ts';

const CHILD = fileURLToPath(new URL('../fixtures/pre-read-bodies.ts', import.meta.url));

function runChild(mongodbUri: string): Promise<Exit> {
  const input = JSON.stringify({ mongodbUri, redisUrl: serviceUrls().redisUrl });
  return outputOf(spawn(process.execPath, [CHILD, input], { env: { ...process.env, ...childEnv({}) }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

describe('bodies Gatehouse reads ahead of the provider (client-auth keys, JWT introspection)', () => {
  const database = databaseForSuite('pre_read');

  it('hand the provider a request it parses itself: no "already parsed request body" line, same answers', async function () {
    this.timeout(60_000);
    const { stdout, stderr, code } = await runChild(database.uri);
    expect(code, stderr).to.equal(0);
    expect(`${stdout}\n${stderr}`).not.to.include('already parsed request body');
    const lines = stdout.trim().split('\n');
    expect(lines, 'nothing but the answer on stdout').to.have.length(1);
    const answer = JSON.parse(lines[0]!) as { issued: number; introspection: { active: boolean; client_id?: string }; revoked: number; after: { active: boolean } };
    expect(answer.issued).to.equal(200);
    expect(answer.introspection.active).to.equal(true);
    expect(answer.revoked).to.equal(200);
    expect(answer.after.active).to.equal(false);
  });
});
