#!/usr/bin/env node
// Drives Gatehouse's hosted sign-in page with plain HTTP requests, like a browser without
// JavaScript: follows redirects with a cookie jar, fills the sign-in form (and the consent form
// if one is shown) and prints the URL the browser would land on at the application (the
// redirect URI with `code` and `state`). Used by the check programs of every language, so each
// library builds the authorization request and reads the callback itself.
//
//   node signin.mjs AUTHORIZATION_URL REDIRECT_URI   (GH_USERNAME / GH_PASSWORD from the env)
const [authorizationUrl, redirectUri] = process.argv.slice(2);
const username = process.env.GH_USERNAME;
const password = process.env.GH_PASSWORD;
if (!authorizationUrl || !redirectUri || !username || !password) {
  console.error('usage: GH_USERNAME=.. GH_PASSWORD=.. node signin.mjs AUTHORIZATION_URL REDIRECT_URI');
  process.exit(2);
}

const jar = new Map();
function remember(response) {
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const index = pair.indexOf('=');
    jar.set(pair.slice(0, index).trim(), pair.slice(index + 1));
  }
}
const cookieHeader = () => [...jar].map(([name, value]) => `${name}=${value}`).join('; ');

async function request(url, init = {}) {
  const response = await fetch(url, {
    ...init,
    redirect: 'manual',
    headers: { ...(init.headers ?? {}), cookie: cookieHeader(), accept: 'text/html' },
  });
  remember(response);
  return response;
}

/** Follows redirects until a page (returned) or the application's redirect URI (printed, exit). */
async function follow(response, url) {
  for (let hops = 0; hops < 20; hops += 1) {
    if (response.status < 300 || response.status >= 400) return { response, url };
    const next = new URL(response.headers.get('location'), url).href;
    if (next.startsWith(redirectUri)) {
      console.log(next);
      process.exit(0);
    }
    url = next;
    response = await request(url);
  }
  throw new Error('too many redirects');
}

function forms(html, base) {
  return [...html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)].map((match) => ({
    action: new URL(match[1].replaceAll('&amp;', '&'), base).href,
    fields: Object.fromEntries(
      [...match[2].matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)].map((field) => [field[1], field[2]]),
    ),
  }));
}

async function submit(form, extra, base) {
  const body = new URLSearchParams({ ...form.fields, ...extra });
  const response = await request(form.action, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  return follow(response, base);
}

let page = await follow(await request(authorizationUrl), authorizationUrl);
for (let step = 0; step < 4; step += 1) {
  const html = await page.response.text();
  const found = forms(html, page.url);
  const login = found.find((form) => form.action.endsWith('/login'));
  const confirm = found.find((form) => form.action.endsWith('/confirm'));
  if (login) page = await submit(login, { login: username, password }, page.url);
  else if (confirm) page = await submit(confirm, {}, page.url);
  else throw new Error(`unexpected page ${page.response.status} at ${page.url}: ${html.slice(0, 300)}`);
}
throw new Error('sign-in did not reach the application');
