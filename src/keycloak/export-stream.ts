import { setImmediate } from 'node:timers/promises';
import Assembler from 'stream-json/assembler.js';
import type { Token } from 'stream-json/parser.js';
import { isObject, KeycloakExportError, list, type Json } from './export-json.ts';

/**
 * One JSON document of a Keycloak export — a realm file (`kc.sh export --file`, or the realm file
 * of `--dir`, with or without its users) or a users file (`{ "realm", "users" }`) — read as often
 * as the import needs it, never held whole: what `read` keeps is the document without its users,
 * and each user goes to `onUser` as it is read, in order (one user at a time in memory).
 */
export interface KeycloakExportDocument {
  /** Its name in messages (`acme-users-3.json: users.0.email`); '' for the realm document. */
  readonly name: string;
  read(onUser: (user: unknown, index: number) => void | Promise<void>): Promise<KeycloakDocumentMembers>;
}

/** A document read: its members but `users`, and how many users it holds (undefined: it has no `users` array). */
export interface KeycloakDocumentMembers {
  readonly members: Json;
  readonly users: number | undefined;
}

/** Users of a parsed document handed over between two turns of the event loop. */
const YIELD_EVERY = 1000;

/** A document already parsed (the admin API's request body): its users handed over one by one all the same. */
export function parsedDocument(document: unknown, name = ''): KeycloakExportDocument {
  return {
    name,
    async read(onUser) {
      if (!isObject(document)) throw new KeycloakExportError('not_keycloak_export');
      const { users, ...members } = document;
      if (!Array.isArray(users)) return { members: users === undefined ? members : document, users: undefined };
      for (const [index, user] of list(users).entries()) {
        await onUser(user, index);
        // Awaiting a callback that does no I/O never leaves the microtask queue: without a turn of the
        // event loop now and then, a body of a million users held every other request for seconds.
        if (index % YIELD_EVERY === YIELD_EVERY - 1) await setImmediate();
      }
      return { members, users: users.length };
    },
  };
}

/**
 * A document read from its JSON tokens (stream-json's parser: src/cli/commands/transfer.ts reads a
 * file with it): every top-level member but `users` assembled as JSON.parse would, the elements of
 * a top-level `users` array assembled one at a time and handed to `onUser`. A document that is not
 * a JSON object is refused as not an export.
 */
export async function readTokens(tokens: AsyncIterable<Token>, onUser: (user: unknown, index: number) => void | Promise<void>): Promise<KeycloakDocumentMembers> {
  const members: Json = {};
  let users: number | undefined;
  let state: 'start' | 'key' | 'value' | 'users' | 'end' = 'start';
  let key = '';
  // The value being assembled (a member's, or a user's), and where it goes once complete.
  let value: Assembler | undefined;
  let inUsers = false;
  for await (const token of tokens) {
    if (value === undefined) {
      if (state === 'start') {
        if (token.name !== 'startObject') throw new KeycloakExportError('not_keycloak_export');
        state = 'key';
        continue;
      }
      if (state === 'key') {
        if (token.name === 'endObject') state = 'end';
        else if (token.name === 'keyValue') [key, state] = [token.value, 'value'];
        continue;
      }
      if (state === 'value' && key === 'users' && token.name === 'startArray') {
        [state, users] = ['users', 0];
        continue;
      }
      if (state === 'users' && token.name === 'endArray') {
        state = 'key';
        continue;
      }
      if (state === 'end') continue;
      inUsers = state === 'users';
      value = new Assembler();
    }
    value.consume(token);
    if (!value.done) continue;
    const complete: unknown = value.current;
    value = undefined;
    if (inUsers) {
      await onUser(complete, users!);
      users! += 1;
    } else {
      // As JSON.parse: an own property whatever its name (`__proto__` too); the last of a repeated name wins.
      Object.defineProperty(members, key, { value: complete, writable: true, enumerable: true, configurable: true });
      if (key === 'users') users = undefined;
      state = 'key';
    }
  }
  if (state !== 'end') throw new KeycloakExportError('not_keycloak_export');
  return { members, users };
}
