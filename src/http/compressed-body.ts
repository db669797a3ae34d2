import type { IncomingHttpHeaders } from 'node:http';
import { GatehouseError } from '../errors/gatehouse-error.ts';
import { problemText } from '../errors/problems.ts';
import { shown } from '../errors/shown-text.ts';

/**
 * A request body sent compressed (`Content-Encoding: gzip`, `deflate`, `br`...), refused with 415
 * (RFC 9110 §15.5.16) before anything reads it: no endpoint of Gatehouse inflates one — the
 * library reads a form's bytes as they come — so such a body was answered as if empty or
 * garbled ("missing required parameter 'grant_type'", "not UTF-8"), which sends its sender
 * looking in the wrong place. Not inflating is also what keeps a few kilobytes from becoming
 * gigabytes. A body-less request that names an encoding anyway is left alone, as is `identity`.
 */
export function compressedBodyError(headers: IncomingHttpHeaders): GatehouseError | undefined {
  const coding = headers['content-encoding'];
  if (coding === undefined) return undefined;
  const trimmed = coding.trim().toLowerCase();
  if (trimmed === '' || trimmed === 'identity') return undefined;
  if (headers['transfer-encoding'] === undefined && (headers['content-length'] === undefined || headers['content-length'] === '0')) return undefined;
  const params = { coding: shown(coding, 40) };
  return new GatehouseError(problemText('compressed_body', params), {
    status: 415,
    code: 'invalid_request',
    expose: true,
    problem: { code: 'compressed_body', params },
    // Its body is still on the connection, unread.
    headers: { Connection: 'close' },
  });
}
