import { randomBytes } from 'node:crypto';

/** What the gateway keeps for a browser session: the tokens never reach the browser. */
export interface Session {
  readonly sub: string;
  accessToken: string;
  /** Milliseconds (the gateway's clock) after which the access token is treated as expired. */
  accessTokenExpiresAt: number;
  refreshToken: string | undefined;
  /** Tokens for other APIs got by token exchange, by API identifier. */
  readonly exchanged: Map<string, { token: string; expiresAt: number }>;
  /** A refresh in flight: concurrent requests of one session share it (refresh tokens rotate). */
  refreshing?: Promise<void> | undefined;
  /** Idle expiry of the session itself (milliseconds). */
  expiresAt: number;
}

export interface SessionStore {
  create(session: Omit<Session, 'exchanged' | 'expiresAt'>): string;
  find(id: string | undefined): Session | undefined;
  delete(id: string): void;
}

/**
 * Sessions in this process's memory, keyed by a random id that is all the cookie carries. Run
 * several gateway instances and this becomes a shared store (Redis, a database) with the same
 * three operations.
 */
export function memorySessions({ idleSeconds, now }: { idleSeconds: number; now: () => number }): SessionStore {
  const sessions = new Map<string, Session>();
  return {
    create(session) {
      const id = randomBytes(32).toString('base64url');
      sessions.set(id, { ...session, exchanged: new Map(), expiresAt: now() + idleSeconds * 1000 });
      return id;
    },
    find(id) {
      if (id === undefined) return undefined;
      const session = sessions.get(id);
      if (session === undefined) return undefined;
      if (session.expiresAt <= now()) {
        sessions.delete(id);
        return undefined;
      }
      session.expiresAt = now() + idleSeconds * 1000;
      return session;
    },
    delete(id) {
      sessions.delete(id);
    },
  };
}
