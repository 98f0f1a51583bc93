// What an app does before it listens: log in, read /pusher/broadcast-settings, then
// build pusher-js / Laravel Echo from those settings. Used by scenarios.mjs.
import Echo from 'laravel-echo';
import PusherModule from 'pusher-js';

export const Pusher = PusherModule.default ?? PusherModule;
export const API = '/api/application-integration';

export async function api(base, method, path, { token, body } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const resp = await fetch(base + API + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  if (resp.status >= 400) throw new Error(`${method} ${path}: ${resp.status} ${text}`);
  return json;
}

export async function login(base, email, password = 'demo12345') {
  const answer = await api(base, 'POST', '/auth/login', { body: { email, password } });
  return { token: answer.data.access_token, user: answer.data.user };
}

export async function broadcastSettings(base, token) {
  return (await api(base, 'GET', '/pusher/broadcast-settings', { token })).data;
}

// The pusher-js options an app builds from the settings: where to connect, how to authorise.
export function pusherOptions(settings, token, extra = {}) {
  return {
    cluster: settings.pusher_cluster,
    wsHost: settings.ws_host,
    wsPort: settings.ws_port,
    wssPort: settings.wss_port,
    forceTLS: settings.force_tls,
    enabledTransports: settings.enabled_transports,
    channelAuthorization: {
      endpoint: settings.auth_endpoint,
      transport: 'ajax',
      headers: { Authorization: `Bearer ${token}` },
      ...(extra.channelAuthorization || {}),
    },
    ...extra.options,
  };
}

export function pusher(settings, token, extra = {}) {
  return new Pusher(settings.pusher_key, pusherOptions(settings, token, extra));
}

// Laravel Echo configured the way a Laravel app configures it.
export function echo(settings, token) {
  return new Echo({
    broadcaster: 'pusher',
    Pusher,
    key: settings.pusher_key,
    cluster: settings.pusher_cluster,
    wsHost: settings.ws_host,
    wsPort: settings.ws_port,
    forceTLS: settings.force_tls,
    enabledTransports: settings.enabled_transports,
    authEndpoint: settings.auth_endpoint,
    bearerToken: token,
  });
}

export function connected(client) {
  return new Promise((resolve, reject) => {
    if (client.connection.state === 'connected') return resolve(client.connection.socket_id);
    client.connection.bind('connected', () => resolve(client.connection.socket_id));
    client.connection.bind('failed', () => reject(new Error('connection failed')));
  });
}

// Resolves with the first value passed to on(callback) within ms, else rejects.
export function within(ms, what, on) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    on((value) => { clearTimeout(timer); resolve(value); });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
