// Realtime scenarios run by tests/test_realtime.py against a real edge, with the real
// clients: pusher-js 8, laravel-echo 2 and the official `pusher` server SDK.
//
//   node scenarios.mjs <scenario> '<json params: base, branch_id, ...>'
//
// Each scenario prints one JSON line with what it saw and exits 0, or prints
// {"error": ...} and exits 1.
import PusherServer from 'pusher';
import {
  api, broadcastSettings, connected, echo, login, pusher, sleep, within,
} from './lib.mjs';

const [, , name, raw] = process.argv;
const params = JSON.parse(raw || '{}');
const base = params.base;

// A scaled cloud (tests/test_realtime_scale.py) passes base_b, a second process of it:
// some clients connect there, and their events must still meet the others'.
async function settingsFor(email, at = base) {
  const { token, user } = await login(at, email);
  return { token, user, settings: await broadcastSettings(at, token) };
}

function orderBody(itemId) {
  return { order_type: 'pickup', items: [{ id: itemId, quantity: 1 }], actions: ['kot'] };
}

const scenarios = {
  // Echo's .notification() on the user's own channel gets a notification made by the API.
  async notification() {
    const { token, user, settings } = await settingsFor('waiter@demo.test');
    const client = echo(settings, token);
    const channel = client.private(`App.Models.User.${user.id}`);
    await within(5000, 'subscription', (done) => channel.subscribed(done));
    const got = within(5000, 'the notification', (done) => channel.notification(done));
    await api(base, 'POST', '/pos/notifications/test', {
      token, body: { title: 'Table 4 wants the bill', body: 'Now, please', data: { table: 4 } },
    });
    const notification = await got;
    client.disconnect();
    return { user_id: user.id, notification };
  },

  // Someone else's notifications: the auth endpoint refuses, Echo's .error() hears it.
  async forbidden() {
    const { token, settings } = await settingsFor('waiter@demo.test');
    const client = echo(settings, token);
    const error = await within(5000, 'subscription error', (done) =>
      client.private(`App.Models.User.${params.other_user_id}`).error(done));
    const own = client.private(`App.Models.User.${params.own_user_id}`);
    await within(5000, 'own channel', (done) => own.subscribed(done));
    client.disconnect();
    return { error };
  },

  // Two waiters on the floor's presence channel: here / joining / whisper / leaving.
  async presence() {
    const a = await settingsFor('waiter@demo.test');
    const b = await settingsFor('manager@demo.test', params.base_b || base);
    const room = `floor.branch.${params.branch_id}`;
    const echoA = echo(a.settings, a.token);
    const channelA = echoA.join(room);
    const here = await within(5000, 'here (A)', (done) => channelA.here(done));
    const joined = within(5000, 'joining', (done) => channelA.joining(done));
    const whisper = within(5000, 'whisper', (done) => channelA.listenForWhisper('typing', done));
    const echoB = echo(b.settings, b.token);
    const channelB = echoB.join(room);
    const hereB = await within(5000, 'here (B)', (done) => channelB.here(done));
    const joining = await joined;
    const members = await api(base, 'GET', `/pusher/presence/presence-${room}/members`,
      { token: a.token });
    channelB.whisper('typing', { table: 7 });
    const whispered = await whisper;
    const left = within(5000, 'leaving', (done) => channelA.leaving(done));
    echoB.leave(room);
    const leaving = await left;
    echoA.disconnect();
    echoB.disconnect();
    return { here, here_b: hereB, joining, leaving, whispered, members };
  },

  // Idle for several activity timeouts: pusher:ping / pusher:pong keep it open.
  async ping() {
    const { token, user, settings } = await settingsFor('waiter@demo.test');
    const client = pusher(settings, token);
    const socketId = await connected(client);
    const states = [];
    let pongs = 0;
    let serverPings = 0;
    client.connection.bind('state_change', (s) => states.push(s.current));
    client.connection.bind('message', (m) => {
      if (m.event === 'pusher:pong') pongs += 1;
      if (m.event === 'pusher:ping') serverPings += 1;
    });
    const channel = client.subscribe(`private-App.Models.User.${user.id}`);
    await within(5000, 'subscription', (done) => channel.bind('pusher:subscription_succeeded', done));
    await sleep(params.idle_ms);
    const got = within(5000, 'an event after the idle time', (done) =>
      channel.bind('Illuminate\\Notifications\\Events\\BroadcastNotificationCreated', done));
    await api(base, 'POST', '/pos/notifications/test', { token, body: { title: 'still here', body: 'yes' } });
    const event = await got;
    const result = {
      socket_id: socketId, same_socket: client.connection.socket_id === socketId,
      state: client.connection.state, states: [...states], pongs, server_pings: serverPings,
      activity_timeout: settings.activity_timeout, event_title: event.title,
    };
    client.disconnect();
    return result;
  },

  // Cut off while two orders are created: on reconnecting with last_seq it gets both.
  async replay() {
    const { token, settings } = await settingsFor('waiter@demo.test');
    let lastSeq = null;
    const client = pusher(settings, token, {
      channelAuthorization: { paramsProvider: () => (lastSeq === null ? {} : { last_seq: lastSeq }) },
    });
    client.bind_global((event, data) => {
      if (data && typeof data.seq === 'number') lastSeq = data.seq;
    });
    const channel = client.subscribe(`private-orders.branch.${params.branch_id}`);
    const received = [];
    const resyncs = [];
    channel.bind('order.created', (data) => received.push(data.order_id));
    channel.bind('branchline:resync', (data) => resyncs.push(data));
    await within(5000, 'subscription', (done) => channel.bind('pusher:subscription_succeeded', done));
    const first = await api(base, 'POST', '/pos/orders', { token, body: orderBody(params.item_id) });
    while (!received.includes(first.order.id)) await sleep(20);

    const gone = within(5000, 'disconnect', (done) => client.connection.bind('disconnected', done));
    client.disconnect();
    await gone;
    const missed = [];
    for (let i = 0; i < 2; i += 1) {
      missed.push((await api(base, 'POST', '/pos/orders', { token, body: orderBody(params.item_id) })).order.id);
    }
    const resubscribed = within(5000, 'resubscription', (done) =>
      channel.bind('pusher:subscription_succeeded', done));
    client.connect();
    await resubscribed;
    const deadline = Date.now() + 5000;
    while (received.length < 3 && resyncs.length === 0 && Date.now() < deadline) await sleep(20);
    await sleep(200);     // nothing more should come
    client.disconnect();
    return { first: first.order.id, missed, received, resyncs, last_seq: lastSeq };
  },

  // The official server SDK publishes through POST /apps/{id}/events; socket_id leaves
  // the author out.
  async sdk() {
    const { token, settings } = await settingsFor('waiter@demo.test');
    const server = new PusherServer({
      appId: settings.pusher_app_id, key: settings.pusher_key, secret: params.secret,
      host: settings.pusher_host, port: String(settings.pusher_port),
      useTLS: settings.force_tls,
    });
    const clients = [pusher(settings, token), pusher(settings, token)];
    const seen = [[], []];
    for (const [i, client] of clients.entries()) {
      const channel = client.subscribe('announcements');
      channel.bind('menu-changed', (data) => seen[i].push(data));
      await within(5000, 'subscription', (done) => channel.bind('pusher:subscription_succeeded', done));
    }
    const authorId = clients[0].connection.socket_id;
    const first = await server.trigger('announcements', 'menu-changed', { n: 1 });
    const second = await server.trigger(['announcements', 'other'], 'menu-changed', { n: 2 },
      { socket_id: authorId });
    await sleep(500);
    let refused = null;
    try {
      await new PusherServer({
        appId: settings.pusher_app_id, key: settings.pusher_key, secret: 'wrong',
        host: settings.pusher_host, port: String(settings.pusher_port), useTLS: false,
      }).trigger('announcements', 'menu-changed', { n: 3 });
    } catch (e) {
      refused = e.status;
    }
    await sleep(200);
    clients.forEach((c) => c.disconnect());
    return { statuses: [first.status, second.status], author: seen[0], other: seen[1], refused };
  },

  // A wrong app key is refused with 4001, and pusher-js does not try again.
  async wrong_key() {
    const { token, settings } = await settingsFor('waiter@demo.test');
    const client = pusher({ ...settings, pusher_key: 'not-our-key' }, token);
    const errors = [];
    const states = [];
    client.connection.bind('error', (e) => errors.push(e));
    client.connection.bind('state_change', (s) => states.push(s.current));
    await sleep(2500);
    const codes = errors.map((e) => (e.error || e).data?.code).filter(Boolean);
    const result = { states: [...states], codes, state: client.connection.state };
    client.disconnect();
    return result;
  },

  // A kitchen screen (the chef) on the branch channel sees the waiter's new order.
  async kitchen() {
    const chef = await settingsFor('chef@demo.test', params.base_b || base);
    const waiter = await login(base, 'waiter@demo.test');
    const client = echo(chef.settings, chef.token);
    const channel = client.private(`orders.branch.${params.branch_id}`);
    await within(5000, 'subscription', (done) => channel.subscribed(done));
    const got = within(5000, 'order.created', (done) => channel.listen('.order.created', done));
    const created = await api(base, 'POST', '/pos/orders', {
      token: waiter.token, body: orderBody(params.item_id),
    });
    const event = await got;
    client.disconnect();
    return { created: created.order.id, event };
  },
};

try {
  const result = await scenarios[name]();
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
} catch (e) {
  process.stdout.write(JSON.stringify({ error: String(e && e.stack || e) }) + '\n');
  process.exit(1);
}
