import { createReadStream } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import verifier from 'stream-json/utils/verifier.js';

/** Where a JSON text stops being JSON: 1-based line and column (in characters), and what is wrong there. */
export interface JsonBreak {
  readonly line: number;
  readonly column: number;
  /** The text ends there, inside its JSON (a file or body cut short), rather than holding something else there. */
  readonly cutShort: boolean;
  /** stream-json's verifier's words for it (`expected ','`), when not cut short. */
  readonly reason: string;
}

interface VerifierError extends Error {
  readonly line: number;
  readonly pos: number;
  readonly offset: number;
}

const isVerifierError = (error: unknown): error is VerifierError => error instanceof Error && typeof (error as Partial<VerifierError>).offset === 'number';

/**
 * Finds where `chunks` (a JSON text, read again: only asked once it failed to parse) breaks, with
 * stream-json's verifier, which reads it as a stream and counts lines and columns; undefined if it
 * is valid JSON after all (it changed since). A break at its very end is the text cut short.
 */
export async function jsonBreak(chunks: AsyncIterable<string> | Iterable<string>): Promise<JsonBreak | undefined> {
  let length = 0;
  let bom = 0;
  async function* counted() {
    for await (const chunk of chunks) {
      // The verifier drops a leading byte-order mark, and counts without it.
      if (length === 0 && chunk.startsWith('\uFEFF')) bom = 1;
      length += chunk.length;
      yield chunk;
    }
  }
  try {
    await pipeline(Readable.from(counted()), verifier.asStream(), new Writable({ objectMode: true, write: (_chunk, _encoding, done) => done() }));
    return undefined;
  } catch (error) {
    if (!isVerifierError(error)) throw error;
    const reason = error.message.replace(/^ERROR at \d+ \(\d+, \d+\): /, '').replace(/^Verifier (cannot parse input: |has )/, '');
    return { line: error.line, column: error.pos, cutShort: error.offset >= length - bom, reason };
  }
}

/** Where the JSON of a file breaks (jsonBreak), read as a stream. */
export const fileJsonBreak = (path: string): Promise<JsonBreak | undefined> => jsonBreak(createReadStream(path, { encoding: 'utf8' }));
