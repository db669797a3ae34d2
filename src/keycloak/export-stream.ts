import { Readable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import Assembler from 'stream-json/assembler.js';
import { parser, type Token } from 'stream-json/parser.js';
import { invalid } from '../errors/gatehouse-error.ts';
import { scannedDocument } from './body-document.ts';
import { DuplicateMemberError, keyPlace, MemberWatch } from '../json/members.ts';
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

/** A JSON text the import reads as often as it needs: a file (the CLI), a request body (the admin API). */
export interface JsonTextSource {
  /** The text from its start, a block at a time: each read of the document reads it again. */
  blocks(): AsyncIterable<string>;
  /** What names the document in a refusal (`acme-users-3.json: users.0`): a file's name, '' for a request body. */
  readonly label: string;
  /**
   * What a text that is not JSON is refused with, naming where it breaks: `error` is what the
   * parser threw, undefined when the text ended inside its JSON or held none — or, found valid
   * now, when it changed between two reads.
   */
  refuse(error: unknown): Promise<Error>;
}

/** How a token changes the nesting depth of the JSON read so far. */
const DEPTH: Partial<Record<Token['name'], number>> = { startObject: 1, startArray: 1, endObject: -1, endArray: -1 };

/** The JSON tokens of a text (stream-json's parser, keys and values packed); one that is not JSON, or is cut short, is refused by its source. */
async function* textTokens(source: JsonTextSource): AsyncGenerator<Token> {
  const text = Readable.from(source.blocks());
  const tokens = parser.asStream({ streamValues: false });
  text.once('error', (error) => tokens.destroy(error));
  let depth = 0;
  let count = 0;
  try {
    for await (const token of text.pipe(tokens) as AsyncIterable<Token>) {
      depth += DEPTH[token.name] ?? 0;
      count += 1;
      yield token;
    }
  } catch (error) {
    throw await source.refuse(error);
  } finally {
    // A read stopped early (a refused user, a duplicate member) closes the file.
    text.destroy();
  }
  // The parser stops at the end of the text without a word: a text cut short is found here.
  if (depth !== 0 || count === 0) throw await source.refuse(undefined);
}

/**
 * A document read from its text each time the import reads it (readTokens). A member given twice
 * in one object — two `users` arrays, a user's two `email`s — is refused naming it and where the
 * second one is (`users: is given twice: again at line 9, column 3`), by the CLI and the admin API
 * alike: JSON.parse keeps the last one, a streamed read could take both, and either would be a guess.
 */
export function textDocument(name: string, source: JsonTextSource): KeycloakExportDocument {
  return {
    name,
    async read(onUser) {
      try {
        return await readTokens(textTokens(source), onUser);
      } catch (error) {
        if (!(error instanceof DuplicateMemberError)) throw error;
        const place = await keyPlace(source.blocks(), error.keyIndex);
        if (place === undefined) throw await source.refuse(undefined);
        throw invalid(source.label === '' ? error.path : `${source.label}: ${error.path}`, 'duplicate_member', { line: place.line, column: place.column });
      }
    },
  };
}

/** A request body read but not parsed (src/admin/json-body.ts JsonBody): its text again for each read, and what answers a body that is not JSON. */
export interface UnparsedBody {
  blocks(): AsyncIterable<string>;
  notJson(): Promise<Error>;
  /** Its UTF-8 bytes, when held: then they are scanned once and each user JSON.parse'd (src/keycloak/body-document.ts). */
  readonly bytes?: Buffer;
}

/**
 * The admin API's request body. Its bytes are scanned once and each read parses one user at a
 * time with JSON.parse (src/keycloak/body-document.ts), with turns of the event loop between them;
 * a body that reading does not take (not JSON, a member given twice, …) is read as a stream, whose
 * refusal names where.
 */
export function bodyDocument(body: UnparsedBody): KeycloakExportDocument {
  const streamed = textDocument('', { label: '', blocks: () => body.blocks(), refuse: () => body.notJson() });
  return body.bytes === undefined ? streamed : scannedDocument(body.bytes, streamed);
}

/**
 * A document read from its JSON tokens (stream-json's parser; textDocument gives them): every
 * top-level member but `users` assembled as JSON.parse would, the elements of a top-level `users`
 * array assembled one at a time and handed to `onUser`. A document that is not a JSON object is
 * refused as not an export; a member given twice in one object, at any depth, throws
 * DuplicateMemberError (textDocument says where).
 */
export async function readTokens(tokens: AsyncIterable<Token>, onUser: (user: unknown, index: number) => void | Promise<void>): Promise<KeycloakDocumentMembers> {
  const members: Json = {};
  let users: number | undefined;
  let state: 'start' | 'key' | 'value' | 'users' | 'end' = 'start';
  let key = '';
  // The value being assembled (a member's, or a user's), and where it goes once complete.
  let value: Assembler | undefined;
  let inUsers = false;
  const watch = new MemberWatch();
  for await (const token of tokens) {
    watch.see(token);
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
      // As JSON.parse: an own property whatever its name (`__proto__` too); a name given twice never gets here (MemberWatch).
      Object.defineProperty(members, key, { value: complete, writable: true, enumerable: true, configurable: true });
      state = 'key';
    }
  }
  if (state !== 'end') throw new KeycloakExportError('not_keycloak_export');
  return { members, users };
}
