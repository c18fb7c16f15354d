// Portico web chat: a small XMPP client over WebSocket (RFC 7395) for the browser.
//
// It opens the stream with <open/>, authenticates with SCRAM-SHA-256 or SCRAM-SHA-1 (RFC 5802,
// RFC 7677; the server's signature is checked) or, where the server offers it, PLAIN, binds a
// resource, fetches the roster, sends its presence, and then sends and shows one-to-one chat
// messages. Every WebSocket message is one XML element, parsed with DOMParser; what it writes
// is escaped. The password stays in this page: SCRAM sends only a proof of it.
'use strict';

(() => {
  const NS = {
    framing: 'urn:ietf:params:xml:ns:xmpp-framing',
    stream: 'http://etherx.jabber.org/streams',
    sasl: 'urn:ietf:params:xml:ns:xmpp-sasl',
    bind: 'urn:ietf:params:xml:ns:xmpp-bind',
    roster: 'jabber:iq:roster',
    ping: 'urn:xmpp:ping',
  };
  const $ = (id) => document.getElementById(id);
  const utf8 = new TextEncoder();

  const escapeXml = (s) =>
    String(s).replace(/[&<>"']/g, (c) =>
      ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]);
  const toBase64 = (bytes) => btoa(String.fromCharCode(...bytes));
  const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  const bare = (jid) => String(jid || '').split('/')[0];

  function websocketUrl() {
    const path = document.querySelector('meta[name="xmpp-websocket"]').content;
    return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + path;
  }

  // --- SCRAM (RFC 5802) over WebCrypto ---

  async function hmac(key, data, hash) {
    const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash }, false, ['sign']);
    return new Uint8Array(await crypto.subtle.sign('HMAC', k, utf8.encode(data)));
  }

  function scramAttributes(text) {
    const out = {};
    for (const part of text.split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
    }
    return out;
  }

  class Scram {
    constructor(mechanism, user, password) {
      this.hash = mechanism === 'SCRAM-SHA-256' ? 'SHA-256' : 'SHA-1';
      this.bits = this.hash === 'SHA-256' ? 256 : 160;
      this.password = password;
      this.nonce = toBase64(crypto.getRandomValues(new Uint8Array(18)));
      const name = user.replace(/=/g, '=3D').replace(/,/g, '=2C');
      this.clientFirstBare = `n=${name},r=${this.nonce}`;
    }
    first() {
      return 'n,,' + this.clientFirstBare;
    }
    async final(serverFirst) {
      const a = scramAttributes(serverFirst);
      if (!a.r || !a.r.startsWith(this.nonce) || !a.s || !(Number(a.i) > 0)) {
        throw new Error('the server sent a malformed SCRAM challenge');
      }
      const base = await crypto.subtle.importKey('raw', utf8.encode(this.password), 'PBKDF2',
                                                 false, ['deriveBits']);
      const salted = new Uint8Array(await crypto.subtle.deriveBits(
          { name: 'PBKDF2', salt: fromBase64(a.s), iterations: Number(a.i), hash: this.hash },
          base, this.bits));
      const clientKey = await hmac(salted, 'Client Key', this.hash);
      const storedKey = new Uint8Array(await crypto.subtle.digest(this.hash, clientKey));
      const withoutProof = `c=biws,r=${a.r}`;
      const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
      const signature = await hmac(storedKey, authMessage, this.hash);
      const proof = clientKey.map((b, i) => b ^ signature[i]);
      const serverKey = await hmac(salted, 'Server Key', this.hash);
      this.expected = toBase64(await hmac(serverKey, authMessage, this.hash));
      return `${withoutProof},p=${toBase64(proof)}`;
    }
    verify(serverFinal) {
      return scramAttributes(serverFinal).v === this.expected;
    }
  }

  // --- the page ---

  const ui = {
    status(text) {
      $('status').textContent = text;
    },
    line(cls, from, text) {
      const li = document.createElement('li');
      li.className = cls;
      const who = document.createElement('span');
      who.className = 'from';
      who.textContent = from;
      const body = document.createElement('span');
      body.className = 'body';
      body.textContent = text;
      li.append(who, body);
      $('log').append(li);
      li.scrollIntoView({ block: 'end' });
    },
    contact(jid, state) {
      let li = [...$('contacts').children].find((e) => e.dataset.jid === jid);
      if (!li) {
        li = document.createElement('li');
        li.dataset.jid = jid;
        li.textContent = jid;
        li.addEventListener('click', () => { $('to').value = jid; $('text').focus(); });
        $('contacts').append(li);
      }
      if (state) li.className = state;
    },
    signedIn(on) {
      $('login').hidden = on;
      $('chat').hidden = !on;
      $('login-button').disabled = false;
    },
  };

  // --- the client ---

  class Client {
    constructor(jid, password) {
      const at = jid.indexOf('@');
      this.user = jid.slice(0, at);
      this.domain = jid.slice(at + 1);
      this.password = password;
      this.authenticated = false;
      this.jid = '';
      this.nextId = 0;
    }

    connect() {
      ui.status('connecting…');
      this.ws = new WebSocket(websocketUrl(), 'xmpp');
      this.ws.onopen = () => this.open();
      this.ws.onmessage = (e) => this.receive(e.data);
      this.ws.onclose = () => {
        ui.status(this.failure || 'offline');
        ui.signedIn(false);
      };
    }

    open() {
      this.send(`<open xmlns='${NS.framing}' to='${escapeXml(this.domain)}' version='1.0'/>`);
    }

    send(xml) {
      if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(xml);
    }

    id() {
      this.nextId += 1;
      return `w${this.nextId}`;
    }

    receive(text) {
      const doc = new DOMParser().parseFromString(text, 'application/xml');
      const el = doc.documentElement;
      if (!el || el.getElementsByTagName('parsererror').length) return;
      this.handle(el).catch((e) => this.fail(e.message));
    }

    fail(reason) {
      this.failure = reason;
      ui.status(reason);
      this.send(`<close xmlns='${NS.framing}'/>`);
      if (this.ws) this.ws.close();
    }

    async handle(el) {
      const ns = el.namespaceURI;
      const name = el.localName;
      if (ns === NS.framing && name === 'close') return this.ws.close();
      if (ns === NS.framing) return undefined;
      if (ns === NS.stream && name === 'features') return this.features(el);
      if (ns === NS.stream && name === 'error') {
        const condition = el.firstElementChild ? el.firstElementChild.localName : 'unknown';
        this.failure = `stream error: ${condition}`;
        return undefined;
      }
      if (ns === NS.sasl) return this.sasl(el);
      if (name === 'iq') return this.iq(el);
      if (name === 'message') return this.message(el);
      if (name === 'presence') return this.presence(el);
      return undefined;
    }

    async features(el) {
      if (!this.authenticated) {
        const offered = [...el.getElementsByTagNameNS(NS.sasl, 'mechanism')]
                            .map((m) => m.textContent);
        const mechanism = ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']
                              .find((m) => offered.includes(m));
        if (!mechanism) return this.fail('the server offers no way to log in here');
        let first;
        if (mechanism === 'PLAIN') {
          first = `\0${this.user}\0${this.password}`;
        } else {
          this.scram = new Scram(mechanism, this.user, this.password);
          first = this.scram.first();
        }
        ui.status('logging in…');
        return this.send(`<auth xmlns='${NS.sasl}' mechanism='${mechanism}'>` +
                         `${toBase64(utf8.encode(first))}</auth>`);
      }
      if (el.getElementsByTagNameNS(NS.bind, 'bind').length) {
        const resource = `web-${toBase64(crypto.getRandomValues(new Uint8Array(6)))}`;
        this.send(`<iq xmlns='jabber:client' type='set' id='bind'><bind xmlns='${NS.bind}'>` +
                  `<resource>${escapeXml(resource)}</resource></bind></iq>`);
      }
      return undefined;
    }

    async sasl(el) {
      const data = el.textContent ? new TextDecoder().decode(fromBase64(el.textContent)) : '';
      if (el.localName === 'challenge' && this.scram) {
        const final = await this.scram.final(data);
        return this.send(`<response xmlns='${NS.sasl}'>${toBase64(utf8.encode(final))}</response>`);
      }
      if (el.localName === 'success') {
        if (this.scram && !this.scram.verify(data)) return this.fail('the server is not who it says');
        this.authenticated = true;
        this.password = '';
        return this.open();  // RFC 7395 3.5: a new stream after SASL
      }
      if (el.localName === 'failure') {
        const condition = el.firstElementChild ? el.firstElementChild.localName : 'failure';
        return this.fail(condition === 'not-authorized' ? 'wrong address or password'
                                                        : `login refused: ${condition}`);
      }
      return undefined;
    }

    iq(el) {
      const type = el.getAttribute('type');
      const id = el.getAttribute('id') || '';
      if (id === 'bind' && type === 'result') {
        this.jid = el.getElementsByTagNameNS(NS.bind, 'jid')[0].textContent;
        this.send(`<iq xmlns='jabber:client' type='get' id='roster'><query xmlns='${NS.roster}'/></iq>`);
        this.send(`<presence xmlns='jabber:client'/>`);
        ui.status(`online as ${bare(this.jid)}`);
        ui.signedIn(true);
        return;
      }
      if (id === 'roster' && type === 'result') {
        for (const item of el.getElementsByTagNameNS(NS.roster, 'item')) {
          ui.contact(item.getAttribute('jid'), 'unavailable');
        }
        return;
      }
      if (type === 'get' || type === 'set') {
        const from = el.getAttribute('from');
        const to = from ? ` to='${escapeXml(from)}'` : '';
        if (el.getElementsByTagNameNS(NS.ping, 'ping').length) {
          this.send(`<iq xmlns='jabber:client' type='result' id='${escapeXml(id)}'${to}/>`);
        } else {
          this.send(`<iq xmlns='jabber:client' type='error' id='${escapeXml(id)}'${to}>` +
                    `<error type='cancel'><service-unavailable ` +
                    `xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`);
        }
      }
    }

    message(el) {
      const from = bare(el.getAttribute('from'));
      if (el.getAttribute('type') === 'error') {
        ui.line('error', from, 'could not be delivered');
        return;
      }
      const body = [...el.children].find((c) => c.localName === 'body');
      if (body) ui.line('in', from, body.textContent);
    }

    presence(el) {
      const from = bare(el.getAttribute('from'));
      if (!from || from === bare(this.jid)) return;
      const type = el.getAttribute('type');
      if (!type) ui.contact(from, 'available');
      if (type === 'unavailable') ui.contact(from, 'unavailable');
    }

    chat(to, text) {
      this.send(`<message xmlns='jabber:client' type='chat' to='${escapeXml(to)}' ` +
                `id='${this.id()}'><body>${escapeXml(text)}</body></message>`);
      ui.line('out', 'me', text);
    }

    logout() {
      this.send(`<presence xmlns='jabber:client' type='unavailable'/>`);
      this.send(`<close xmlns='${NS.framing}'/>`);
    }
  }

  let client = null;

  document.addEventListener('DOMContentLoaded', () => {
    $('login').addEventListener('submit', (e) => {
      e.preventDefault();
      const jid = $('jid').value.trim();
      if (!jid.includes('@')) return ui.status('the address is name@domain');
      $('login-button').disabled = true;
      client = new Client(jid, $('password').value);
      $('password').value = '';
      client.connect();
      return undefined;
    });
    $('compose').addEventListener('submit', (e) => {
      e.preventDefault();
      const to = $('to').value.trim();
      const text = $('text').value;
      if (!client || !to || !text) return;
      client.chat(to, text);
      $('text').value = '';
    });
    $('logout').addEventListener('click', () => client && client.logout());
  });
})();
