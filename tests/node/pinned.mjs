// An app on the LAN that pins the edge's certificate (tests/test_discovery.py):
//
//   node pinned.mjs '{"base": "https://127.0.0.1:PORT", "pin": "AB:CD:..."}'
//
// It fetches the edge's certificate and refuses to go on unless its SHA-256 is the
// pinned one (what discovery and the cloud advertise); then it trusts that certificate
// and nothing else for every connection (HTTPS for the API and channel auth, WSS for
// pusher-js), logs in, reads /pusher/broadcast-settings, connects pusher-js over WSS,
// subscribes to the user's private channel and receives a notification made through
// the API. Prints one JSON line; exits 1 with {"error": ...} on any failure.
import https from 'node:https';
import tls from 'node:tls';
import { API, connected, pusher, within } from './lib.mjs';

const params = JSON.parse(process.argv[2] || '{}');
const base = new URL(params.base);

function peerCertificate() {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: base.hostname, port: Number(base.port), rejectUnauthorized: false,
    }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve(cert);
    });
    socket.on('error', reject);
  });
}

function toPem(raw) {
  const lines = raw.toString('base64').match(/.{1,64}/g).join('\n');
  return `-----BEGIN CERTIFICATE-----\n${lines}\n-----END CERTIFICATE-----\n`;
}

// Every TLS connection of this process trusts the pinned certificate only.
function trustOnly(pem) {
  const original = tls.connect;
  tls.connect = function connect(...args) {
    const at = args.findIndex((a) => a && typeof a === 'object');
    if (at >= 0) args[at] = { ...args[at], ca: [pem], rejectUnauthorized: true };
    else args.push({ ca: [pem], rejectUnauthorized: true });
    return original.apply(this, args);
  };
}

function request(method, path, { token, body } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const headers = { Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (data) headers['Content-Type'] = 'application/json';
    const req = https.request(new URL(API + path, base), { method, headers }, (resp) => {
      let text = '';
      resp.on('data', (chunk) => { text += chunk; });
      resp.on('end', () => {
        if (resp.statusCode >= 400) reject(new Error(`${method} ${path}: ${resp.statusCode}`));
        else resolve(JSON.parse(text));
      });
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

async function main() {
  const cert = await peerCertificate();
  if (cert.fingerprint256 !== params.pin) {
    throw new Error(`certificate ${cert.fingerprint256} does not match the pin ${params.pin}`);
  }
  trustOnly(toPem(cert.raw));
  const login = await request('POST', '/auth/login', {
    body: { email: 'waiter@demo.test', password: 'demo12345' },
  });
  const token = login.data.access_token;
  const user = login.data.user;
  const settings = (await request('GET', '/pusher/broadcast-settings', { token })).data;
  const client = pusher(settings, token);
  const socketId = await within(10000, 'connection', (done) => connected(client).then(done));
  const channel = client.subscribe(`private-App.Models.User.${user.id}`);
  await within(10000, 'subscription', (done) => channel.bind('pusher:subscription_succeeded', done));
  const got = within(10000, 'the notification', (done) =>
    channel.bind('Illuminate\\Notifications\\Events\\BroadcastNotificationCreated', done));
  await request('POST', '/pos/notifications/test', {
    token, body: { title: 'Pinned', body: 'over WSS', data: {} },
  });
  const notification = await got;
  const live = client.connection.connection && client.connection.connection.transport;
  const transport = live && live.socket ? live.socket.url : null;
  client.disconnect();
  return {
    fingerprint: cert.fingerprint256, socket_id: socketId, transport,
    force_tls: settings.force_tls, settings_fingerprint: settings.tls_fingerprint,
    ws_host: settings.ws_host, title: notification.title,
  };
}

main().then((result) => {
  console.log(JSON.stringify(result));
  process.exit(0);
}, (error) => {
  console.log(JSON.stringify({ error: String(error && error.message ? error.message : error) }));
  process.exit(1);
});
