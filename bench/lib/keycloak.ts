import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import type { Child } from './children.ts';
import { stopProcessOnExit } from './exit-guard.ts';
import { REDIRECT_URI, type BenchUser } from './fixture.ts';
import { freePort } from './services.ts';

/**
 * Keycloak 26 for the side-by-side bench (bench/vs-keycloak.ts), in its production setup:
 * `kc.sh start --optimized` on PostgreSQL (the bench's own throwaway cluster), HTTP on loopback.
 * The distribution comes from the local Maven repository (docs/PERFORMANCE.md says how to get
 * it) and is unpacked and built for PostgreSQL once, under ~/.cache/gatehouse.
 */
export const KEYCLOAK_VERSION = '26.7.3';
const DIST_ZIP = `${homedir()}/.m2/repository/org/keycloak/keycloak-quarkus-dist/${KEYCLOAK_VERSION}/keycloak-quarkus-dist-${KEYCLOAK_VERSION}.zip`;
export const REALM = 'bench';

export interface KeycloakClient {
  readonly client_id: string;
  readonly client_secret: string;
}

export interface KeycloakFixture {
  /** client_credentials → JWT (Keycloak's access tokens are RS256 JWTs). */
  readonly service: KeycloakClient;
  /** Confidential web app: code + refresh_token, no consent (first-party, like Gatehouse's). */
  readonly web: KeycloakClient;
  readonly users: BenchUser[];
}

/** A Java runtime Keycloak 26 accepts (21+): JAVA_HOME if set, else the newest JDK under /usr/lib/jvm. */
function javaHome(): string {
  if (process.env.JAVA_HOME !== undefined && process.env.JAVA_HOME !== '') return process.env.JAVA_HOME;
  const candidates = existsSync('/usr/lib/jvm') ? readdirSync('/usr/lib/jvm') : [];
  const versioned = candidates
    .map((name) => ({ name, major: Number(name.match(/-(\d+)(?:-|$|\.)/)?.[1] ?? 0) }))
    .filter((candidate) => candidate.major >= 21 && existsSync(`/usr/lib/jvm/${candidate.name}/bin/java`))
    .sort((a, b) => b.major - a.major);
  if (versioned[0] === undefined) throw new Error('Keycloak 26 needs Java 21+: set JAVA_HOME (none found under /usr/lib/jvm)');
  return `/usr/lib/jvm/${versioned[0].name}`;
}

/** Unpacks the distribution (once) and builds it for PostgreSQL with health checks (once). */
export function keycloakHome(log: (message: string) => void): { home: string; javaHome: string } {
  const home = process.env.GATEHOUSE_KEYCLOAK_HOME ?? `${homedir()}/.cache/gatehouse/keycloak-${KEYCLOAK_VERSION}`;
  const java = javaHome();
  if (!existsSync(`${home}/bin/kc.sh`)) {
    if (!existsSync(DIST_ZIP)) {
      throw new Error(`no Keycloak distribution at ${DIST_ZIP}: mvn dependency:get -Dartifact=org.keycloak:keycloak-quarkus-dist:${KEYCLOAK_VERSION}:zip -Dtransitive=false`);
    }
    log(`unpacking Keycloak ${KEYCLOAK_VERSION} into ${home}`);
    const parent = home.replace(/\/[^/]+$/, '');
    execFileSync('unzip', ['-q', '-o', DIST_ZIP, '-d', parent]);
    if (!existsSync(`${home}/bin/kc.sh`)) throw new Error(`unpacked, but ${home}/bin/kc.sh is missing (GATEHOUSE_KEYCLOAK_HOME must end in keycloak-${KEYCLOAK_VERSION})`);
  }
  // kc.sh keeps the build options inside its jars; a marker beside them says which build this is.
  const buildOptions = ['build', '--db=postgres', '--health-enabled=true'];
  const marker = `${home}/lib/quarkus/gatehouse-bench-build`;
  if (!existsSync(marker) || readFileSync(marker, 'utf8') !== buildOptions.join(' ')) {
    log('building Keycloak for PostgreSQL (kc.sh build, once; about a minute)');
    execFileSync(`${home}/bin/kc.sh`, buildOptions, { env: { ...process.env, JAVA_HOME: java }, stdio: ['ignore', 'ignore', 'inherit'] });
    writeFileSync(marker, buildOptions.join(' '));
  }
  return { home, javaHome: java };
}

export interface StartKeycloakOptions {
  readonly home: string;
  readonly javaHome: string;
  /** JDBC URL of an empty database. */
  readonly dbUrl: string;
  readonly dbUser: string;
  readonly heap: string;
}

/** Starts Keycloak and waits for /health/ready (first start on a new database takes about a minute here). */
export async function startKeycloak(options: StartKeycloakOptions): Promise<Child & { admin: { username: string; password: string } }> {
  const [port, managementPort] = [await freePort(), await freePort()];
  const admin = { username: 'bench-admin', password: randomBytes(12).toString('base64url') };
  const started = performance.now();
  const child = spawn(
    `${options.home}/bin/kc.sh`,
    [
      'start', '--optimized',
      `--db-url=${options.dbUrl}`, `--db-username=${options.dbUser}`, '--db-password=unused',
      '--http-enabled=true', '--http-host=127.0.0.1', `--http-port=${port}`, `--http-management-port=${managementPort}`,
      '--hostname-strict=false', '--log-level=warn',
    ],
    {
      env: {
        PATH: process.env.PATH ?? '',
        JAVA_HOME: options.javaHome,
        JAVA_OPTS_KC_HEAP: options.heap,
        KC_BOOTSTRAP_ADMIN_USERNAME: admin.username,
        KC_BOOTSTRAP_ADMIN_PASSWORD: admin.password,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    },
  );
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
  });
  // kc.sh execs java in its own process group (detached): stop the group.
  const stop = stopProcessOnExit('keycloak', child, { group: true, graceMs: 30_000 });
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`Keycloak exited with ${child.exitCode}: ${tail}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Keycloak was not ready within 300 s: ${tail}`);
    }
    const ready = await fetch(`http://127.0.0.1:${managementPort}/health/ready`).then((response) => response.ok, () => false);
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return { name: 'keycloak', url: `http://127.0.0.1:${port}`, process: child, startToReadyMs: performance.now() - started, stop, admin };
}

async function adminToken(base: string, admin: { username: string; password: string }): Promise<string> {
  const response = await fetch(`${base}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: admin.username, password: admin.password }).toString(),
  });
  if (!response.ok) throw new Error(`Keycloak admin token → ${response.status} ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

/**
 * The realm Gatehouse's bench fixture corresponds to: a client_credentials client, a first-party
 * web client (code + refresh, no consent) and users with passwords hashed by Keycloak's default
 * policy (argon2id). Refresh tokens rotate single-use (`revokeRefreshToken`, no reuse), as
 * Gatehouse's do; access tokens live 10 minutes in both.
 */
export async function createRealm(base: string, admin: { username: string; password: string }, users: readonly BenchUser[]): Promise<KeycloakFixture> {
  const secret = () => randomBytes(24).toString('base64url');
  const service = { client_id: 'bench-service', client_secret: secret() };
  const web = { client_id: 'bench-web', client_secret: secret() };
  const realm = {
    realm: REALM,
    enabled: true,
    accessTokenLifespan: 600,
    revokeRefreshToken: true,
    refreshTokenMaxReuse: 0,
    // Keep the bench's many sign-ins from tripping Keycloak's own limits.
    bruteForceProtected: false,
    clients: [
      {
        clientId: service.client_id,
        secret: service.client_secret,
        publicClient: false,
        clientAuthenticatorType: 'client-secret',
        serviceAccountsEnabled: true,
        standardFlowEnabled: false,
        directAccessGrantsEnabled: false,
        // Keycloak 26 answers `active: false` to a client outside the token's audience; Gatehouse's
        // service client introspects its own tokens, so this one is in its own audience too.
        protocolMappers: [
          {
            name: 'own audience',
            protocol: 'openid-connect',
            protocolMapper: 'oidc-audience-mapper',
            config: { 'included.client.audience': service.client_id, 'access.token.claim': 'true', 'introspection.token.claim': 'true' },
          },
        ],
      },
      {
        clientId: web.client_id,
        secret: web.client_secret,
        publicClient: false,
        clientAuthenticatorType: 'client-secret',
        standardFlowEnabled: true,
        directAccessGrantsEnabled: false,
        consentRequired: false,
        redirectUris: [REDIRECT_URI],
      },
    ],
    users: users.map((user, index) => ({
      username: user.username,
      enabled: true,
      email: `${user.username}@bench.example`,
      emailVerified: true,
      firstName: 'Bench',
      lastName: `User ${index}`,
      credentials: [{ type: 'password', value: user.password, temporary: false }],
    })),
  };
  const token = await adminToken(base, admin);
  const response = await fetch(`${base}/admin/realms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(realm),
  });
  if (response.status !== 201) throw new Error(`Keycloak realm import → ${response.status} ${await response.text()}`);
  return { service, web, users: [...users] };
}

/** Keycloak's password hashing for new credentials in this realm, read back from a stored credential. */
export async function keycloakHashParameters(base: string, admin: { username: string; password: string }, username: string): Promise<string> {
  const token = await adminToken(base, admin);
  const headers = { authorization: `Bearer ${token}` };
  const found = (await (await fetch(`${base}/admin/realms/${REALM}/users?exact=true&username=${encodeURIComponent(username)}`, { headers })).json()) as Array<{ id: string }>;
  const credentials = (await (await fetch(`${base}/admin/realms/${REALM}/users/${found[0]!.id}/credentials`, { headers })).json()) as Array<{ credentialData?: string }>;
  const data = JSON.parse(credentials[0]?.credentialData ?? '{}') as { algorithm?: string; hashIterations?: number; additionalParameters?: Record<string, string[]> };
  const extra = Object.entries(data.additionalParameters ?? {}).map(([name, values]) => `${name}=${values.join(',')}`).join(', ');
  return `${data.algorithm ?? 'unknown'}, iterations ${data.hashIterations ?? '?'}${extra === '' ? '' : `, ${extra}`}`;
}

/**
 * A fresh database for Keycloak in the bench's PostgreSQL cluster (scripts/services runs it for
 * FerretDB's PostgreSQL backend: both servers then stand on the same PostgreSQL). Returns the JDBC URL.
 */
export function freshKeycloakDatabase(servicesDir: string, name: string): { dbUrl: string; dbUser: string } {
  const portFile = `${servicesDir}/postgres.port`;
  if (!existsSync(portFile)) throw new Error(`no PostgreSQL cluster in ${servicesDir}: the Keycloak comparison needs PostgreSQL (apt-get install postgresql)`);
  const port = readFileSync(portFile, 'utf8').trim();
  const bin = readdirSync('/usr/lib/postgresql').sort().reverse().map((version) => `/usr/lib/postgresql/${version}/bin/psql`).find((path) => existsSync(path)) ?? 'psql';
  // The cluster runs as `postgres` with trust auth on loopback (scripts/services).
  const asPostgres = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', bin]] as const : [bin, []] as const;
  for (const sql of [`DROP DATABASE IF EXISTS ${name}`, `CREATE DATABASE ${name}`]) {
    execFileSync(asPostgres[0], [...asPostgres[1], '-h', '127.0.0.1', '-p', port, '-U', 'postgres', '-d', 'postgres', '-qX', '-c', sql], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return { dbUrl: `jdbc:postgresql://127.0.0.1:${port}/${name}`, dbUser: 'postgres' };
}

/** Resident memory of a process group (kc.sh and the JVM it starts), from /proc. */
export function groupRssBytes(pgid: number): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): state ppid pgrp ...
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue;
      const rss = readFileSync(`/proc/${entry}/status`, 'utf8').split('\n').find((line) => line.startsWith('VmRSS:'));
      total += Number(rss?.replace(/\D+/g, '') ?? 0) * 1024;
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}
