/**
 * `encodeURIComponent(text)` for a part of a store key (a counter's, a lock's). A lone UTF-16
 * surrogate, which that throws URIError on, is taken as U+FFFD, as MongoDB and Redis store it
 * (UTF-8): JSON may escape one ("\ud800") and JSON.parse keeps it — a client assertion's
 * subject, an admin API body — where a 500 answered a client's or caller's text.
 */
export function keyComponent(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return encodeURIComponent(text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));
  }
}
