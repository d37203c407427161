/*! Trellis web widget, protocol v1. Plain JS, no dependencies. Docs: docs/widget.md */
(function () {
  'use strict';

  var STRINGS = {
    title: 'Reflection companion',
    launcher: 'Take a moment',
    close: 'Close',
    connecting: 'Connecting…',
    connected: 'Connected',
    reconnecting: 'Reconnecting…',
    offline: 'Offline: your answers will be sent when the connection is back.',
    superseded: 'This conversation continued in another window or tab.',
    continueHere: 'Continue here',
    pickFlow: 'Choose an exercise to begin:',
    minutes: '{n} min',
    startAnother: 'Start another exercise:',
    send: 'Send',
    typeAnswer: 'Your answer',
    orType: 'Or type an answer',
    numberLabel: 'A number from {min} to {max}',
    scaleLabel: 'Scale from {min} to {max}',
    typing: 'Trellis is typing',
    skipWait: 'Skip',
    you: 'You',
    bot: 'Trellis',
    forget: 'Forget this conversation',
    forgetConfirm: 'Delete this conversation from the server and from this browser?',
    forgetYes: 'Delete it',
    forgetNo: 'Keep it',
    forgotten: 'The conversation was deleted.',
    expired: 'Your earlier conversation has expired, so we are starting fresh.',
    safetyTitle: 'Support is available',
    call: 'Call {phone}',
    text: 'Text {sms}',
    website: 'Website',
    summaryTitle: 'Your summary',
    stopped: 'Stopped early. What you answered so far is kept.',
    tooLong: 'That answer is too long. Please shorten it and send it again.',
    failed: 'Something went wrong on our side. Trying again…',
    originRefused: 'This page may not connect to the Trellis server.',
    log: 'Conversation',
    cmd_help: 'Help',
    cmd_skip: 'Skip',
    cmd_stop: 'Stop',
    cmd_pause: 'Pause',
    cmd_resume: 'Resume',
    cmd_restart: 'Start again'
  };

  var BRAVING = ['boundaries', 'reliability', 'accountability', 'vault', 'integrity', 'non_judgment', 'generosity'];

  var CSS = [
    ':host{all:initial;display:block;--t-accent:var(--trellis-accent,#1d5c4d);--t-on-accent:var(--trellis-on-accent,#fff);',
    '--t-bg:var(--trellis-bg,#fff);--t-fg:var(--trellis-fg,#1f2933);--t-muted:var(--trellis-muted,#52606d);',
    '--t-bot-bg:var(--trellis-bot-bg,#eef3f1);--t-user-bg:var(--trellis-user-bg,#1d5c4d);--t-user-fg:var(--trellis-user-fg,#fff);',
    '--t-border:var(--trellis-border,#9aa5b1);--t-focus:var(--trellis-focus,#b45309);--t-radius:var(--trellis-radius,12px);',
    '--t-font:var(--trellis-font,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif);',
    '--t-safety-bg:var(--trellis-safety-bg,#fff7e6);--t-safety-border:var(--trellis-safety-border,#a15c00);',
    'font:16px/1.45 var(--t-font);color:var(--t-fg)}',
    '*{box-sizing:border-box}',
    '.panel{display:flex;flex-direction:column;background:var(--t-bg);color:var(--t-fg);border:1px solid var(--t-border);border-radius:var(--t-radius);overflow:hidden;height:var(--trellis-height,32rem);max-height:100%}',
    '.bubble .panel{position:fixed;right:1rem;bottom:5rem;width:min(24rem,calc(100vw - 1rem));height:min(36rem,calc(100vh - 6.5rem));z-index:2147483000;box-shadow:0 8px 30px rgba(0,0,0,.25)}',
    '.bubble .panel[hidden]{display:none}',
    '@media (max-width:30rem){.bubble .panel{right:.5rem;left:.5rem;width:auto;bottom:4.5rem}}',
    '.launcher{position:fixed;right:1rem;bottom:1rem;z-index:2147483000;border:0;border-radius:999px;padding:.8rem 1.1rem;background:var(--t-accent);color:var(--t-on-accent);font:600 1rem var(--t-font);cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}',
    'header{display:flex;align-items:center;gap:.5rem;padding:.6rem .8rem;border-bottom:1px solid var(--t-border);flex-wrap:wrap}',
    'h2{font-size:1.05rem;margin:0;flex:1 1 auto}',
    '.status{font-size:.85rem;color:var(--t-muted);flex-basis:100%}',
    '.status.bad{color:#8a1c1c;font-weight:600}',
    'button{font:inherit;color:inherit;cursor:pointer}',
    ':focus-visible{outline:3px solid var(--t-focus);outline-offset:2px}',
    '.ghost{background:none;border:1px solid var(--t-border);border-radius:6px;padding:.2rem .5rem;font-size:.85rem;color:var(--t-fg)}',
    '.log{position:relative;flex:1 1 auto;min-height:6rem;overflow-y:auto;padding:.8rem;display:flex;flex-direction:column;gap:.5rem}',
    '.row{display:flex;gap:.5rem;align-items:flex-end}',
    '.avatar{flex:none;width:1.8rem;height:1.8rem;border-radius:50%;background:var(--trellis-avatar,var(--t-accent));background-size:cover}',
    '.msg{max-width:85%;padding:.5rem .75rem;border-radius:var(--t-radius);white-space:pre-wrap;overflow-wrap:anywhere}',
    '.bot .msg{background:var(--t-bot-bg)}',
    '.user{justify-content:flex-end}.user .msg{background:var(--t-user-bg);color:var(--t-user-fg)}',
    '.note{font-size:.9rem;color:var(--t-muted);text-align:center}',
    '.typing{display:flex;align-items:center;gap:.5rem;color:var(--t-muted)}',
    '.dots span{display:inline-block;width:.45rem;height:.45rem;margin:0 .1rem;border-radius:50%;background:var(--t-muted);animation:t-b 1s infinite}',
    '.dots span:nth-child(2){animation-delay:.15s}.dots span:nth-child(3){animation-delay:.3s}',
    '@keyframes t-b{50%{opacity:.3}}@media (prefers-reduced-motion:reduce){.dots span{animation:none}}',
    '.safety{border:3px solid var(--t-safety-border);background:var(--t-safety-bg);border-radius:var(--t-radius);padding:.75rem;color:#2b1a00}',
    '.safety h3,.summary h3{margin:0 0 .4rem;font-size:1rem}',
    '.safety p{margin:0 0 .5rem;white-space:pre-wrap}',
    '.safety ul{list-style:none;margin:0 0 .5rem;padding:0}.safety li{margin:.4rem 0}',
    '.safety a{color:#6b3d00;font-weight:600;margin-right:.75rem;display:inline-block;padding:.15rem 0}',
    '.summary{border:1px solid var(--t-border);border-radius:var(--t-radius);padding:.75rem}',
    '.bars{display:grid;grid-template-columns:auto 1fr 2ch;gap:.3rem .5rem;align-items:center;font-size:.9rem}',
    '.bar{height:.8rem;background:var(--t-bot-bg);border-radius:4px;overflow:hidden}.bar i{display:block;height:100%;background:var(--t-accent)}',
    'dl{margin:0}dt{font-weight:600;font-size:.9rem}dd{margin:0 0 .4rem}',
    '.composer{border-top:1px solid var(--t-border);padding:.6rem .8rem;display:flex;flex-direction:column;gap:.5rem}',
    '.composer{flex:none;min-height:3.2rem;max-height:60%;overflow-y:auto}.composer:focus{outline:none}',
    '.choices{display:flex;flex-wrap:wrap;gap:.4rem}',
    '.choice{border:2px solid var(--t-accent);background:var(--t-bg);color:var(--t-accent);border-radius:999px;padding:.35rem .8rem;font-weight:600}',
    '.choice:hover{background:var(--t-bot-bg)}',
    '.scale{display:flex;flex-wrap:wrap;gap:.25rem}.scale .choice{min-width:2.4rem;border-radius:8px;padding:.35rem .3rem}',
    '.cmds{display:flex;flex-wrap:wrap;gap:.4rem}',
    'form{display:flex;gap:.4rem;align-items:flex-end}',
    'label.vh,.vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}',
    'textarea,input{flex:1 1 auto;min-width:0;font:inherit;color:var(--t-fg);background:var(--t-bg);border:1px solid var(--t-border);border-radius:8px;padding:.4rem .55rem}',
    'textarea{resize:vertical;min-height:2.6rem}',
    '.send{border:0;background:var(--t-accent);color:var(--t-on-accent);border-radius:8px;padding:.45rem .9rem;font-weight:600}',
    '.confirm[hidden]{display:none}.bars+dl{margin-top:.5rem}',
    '.confirm{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center;padding:.5rem .8rem;border-bottom:1px solid var(--t-border);font-size:.9rem}'
  ].join('\n');

  function el(tag, attrs, kids) {
    var node = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (attrs[k] == null) continue;
      if (k === 'text') node.textContent = attrs[k];
      else if (k === 'class') node.className = attrs[k];
      else if (k.slice(0, 2) === 'on') node.addEventListener(k.slice(2), attrs[k]);
      else node.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach(function (kid) { if (kid) node.append(kid); });
    return node;
  }
  function fmt(s, vars) { return String(s).replace(/\{(\w+)\}/g, function (m, k) { return vars && k in vars ? vars[k] : m; }); }
  function humanize(key) { var s = String(key).replace(/_/g, '-'); return s.charAt(0).toUpperCase() + s.slice(1); }
  function parseJson(text) { try { return JSON.parse(text); } catch (e) { return null; } }
  var counter = 0;

  function Widget(options) {
    var self = this;
    this.opts = options;
    this.S = Object.assign({}, STRINGS, window.TrellisWidgetStrings || {}, options.strings || {});
    this.uid = 'trellis-' + (++counter);
    this.storage = options.remember ? window.localStorage : window.sessionStorage;
    this.key = 'trellis:v1:' + options.server;
    var saved = this.load();
    this.session = saved.session || null;
    this.shownId = saved.shownId || 0; // highest id already rendered (pauses up to it are skipped on replay)
    this.answers = saved.answers || {}; // seq -> what the person said, to rebuild the log after a reload
    this.pending = saved.pending || null; // {seq, frame, said}: sent, not yet acknowledged
    this.lastSeen = 0; // highest output id received on this page
    this.lastSeq = 0;
    this.queue = [];
    this.open = null;
    this.flows = [];
    this.userShown = {};
    this.attempt = 0;
    this.state = 'idle';
    this.build();
    if (options.mode !== 'bubble' || saved.open) {
      if (options.mode === 'bubble') this.setOpen(true, false);
      else this.connect();
    }
    window.addEventListener('online', function () { if (self.state === 'reconnecting') self.connect(); });
  }

  Widget.prototype.load = function () {
    try { return JSON.parse(this.storage.getItem(this.key)) || {}; } catch (e) { return {}; }
  };
  Widget.prototype.save = function () {
    if (!this.session) { try { this.storage.removeItem(this.key); } catch (e) {} return; }
    var p = this.pending && { seq: this.pending.seq, frame: this.pending.frame };
    var data = { session: this.session, shownId: this.shownId, answers: this.answers, pending: p, open: this.isOpen || undefined };
    try { this.storage.setItem(this.key, JSON.stringify(data)); } catch (e) {}
  };

  Widget.prototype.build = function () {
    var S = this.S, self = this, o = this.opts;
    this.host = el('div', { 'class': 'trellis-widget', 'data-trellis': o.mode });
    if (o.target) o.target.append(this.host);
    else if (o.mode === 'bubble') document.body.append(this.host);
    else if (o.script && o.script.parentNode) o.script.parentNode.insertBefore(this.host, o.script.nextSibling);
    else document.body.append(this.host);
    var root = this.root = this.host.attachShadow({ mode: 'open' });
    root.append(el('style', { text: CSS }));
    var wrap = el('div', { 'class': o.mode === 'bubble' ? 'bubble' : 'inline' });
    var titleId = this.uid + '-title';
    this.statusEl = el('div', { 'class': 'status', role: 'status', 'aria-live': 'polite' });
    this.forgetBtn = el('button', { type: 'button', 'class': 'ghost', text: S.forget, onclick: function () { self.askForget(); } });
    var header = el('header', null, [el('h2', { id: titleId, text: o.title || S.title }), this.forgetBtn]);
    if (o.mode === 'bubble') header.append(el('button', { type: 'button', 'class': 'ghost', text: S.close, 'aria-label': S.close, onclick: function () { self.setOpen(false, true); } }));
    header.append(this.statusEl);
    this.confirmEl = el('div', { 'class': 'confirm', hidden: '' });
    this.log = el('div', { 'class': 'log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-label': S.log, tabindex: '0' });
    this.composer = el('div', { 'class': 'composer', tabindex: '-1' });
    this.panel = el('section', { 'class': 'panel', id: this.uid, role: 'region', 'aria-labelledby': titleId }, [header, this.confirmEl, this.log, this.composer]);
    this.panel.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && o.mode === 'bubble') { e.preventDefault(); self.setOpen(false, true); }
    });
    if (o.mode === 'bubble') {
      this.panel.hidden = true;
      this.launcher = el('button', { type: 'button', 'class': 'launcher', 'aria-expanded': 'false', 'aria-controls': this.uid, text: S.launcher,
        onclick: function () { self.setOpen(!self.isOpen, true); } });
      wrap.append(this.panel, this.launcher);
    } else wrap.append(this.panel);
    root.append(wrap);
  };

  Widget.prototype.setOpen = function (open, byUser) {
    if (this.opts.mode !== 'bubble') return;
    this.isOpen = open;
    this.panel.hidden = !open;
    this.launcher.setAttribute('aria-expanded', String(open));
    if (open && !this.ws) this.connect();
    if (open && byUser) { this.wantFocus = true; this.focusComposer(); }
    if (!open && byUser) this.launcher.focus();
    this.save();
  };

  // ---- connection ----------------------------------------------------------
  Widget.prototype.setStatus = function (state, text, bad) {
    this.state = state;
    this.statusEl.textContent = text || '';
    this.statusEl.className = 'status' + (bad ? ' bad' : '');
    this.host.setAttribute('data-state', state);
  };

  Widget.prototype.connect = function () {
    var self = this;
    clearTimeout(this.retryTimer);
    if (this.ws) { try { this.ws.onclose = null; this.ws.close(); } catch (e) {} }
    this.setStatus(this.attempt ? 'reconnecting' : 'connecting', this.attempt ? this.S.reconnecting : this.S.connecting);
    var ws;
    try { ws = new WebSocket(this.opts.server); } catch (e) { return this.retry(); }
    this.ws = ws;
    this.welcomed = false;
    ws.onopen = function () {
      var hello = { type: 'hello', client: 'web/1.0' };
      if (self.session) { hello.session = self.session; hello.last_seen = self.lastSeen; }
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = function (event) { var f = parseJson(event.data); if (f && typeof f.type === 'string') self.onFrame(f); };
    ws.onclose = function (event) {
      if (self.ws !== ws) return;
      self.ws = null;
      if (event.code === 4001) {
        self.setStatus('superseded', self.S.superseded, true);
        self.renderComposer();
        return;
      }
      if (self.forgetting) { self.forgetting = false; self.attempt = 0; return self.connect(); }
      if (event.code === 1008) {
        return self.setStatus('refused', self.S.originRefused, true);
      }
      self.retry();
    };
  };

  Widget.prototype.retry = function () {
    var self = this;
    this.attempt++;
    // Exponential backoff with full jitter: up to 0.5 s, 1 s, 2 s, ... capped at 15 s.
    var cap = Math.min(15000, 500 * Math.pow(2, this.attempt - 1));
    var delay = Math.max(250, Math.random() * cap);
    this.setStatus('reconnecting', this.S.reconnecting, true);
    this.retryTimer = setTimeout(function () { self.connect(); }, delay);
  };

  Widget.prototype.send = function (frame) {
    if (this.ws && this.ws.readyState === 1 && this.welcomed) { this.ws.send(JSON.stringify(frame)); return true; }
    return false;
  };

  Widget.prototype.onFrame = function (f) {
    var S = this.S;
    if (f.type === 'welcome') {
      this.welcomed = true;
      this.attempt = 0;
      this.session = f.session;
      this.flows = f.flows || [];
      this.lastSeq = f.last_seq || 0;
      this.setStatus('connected', S.connected);
      if (this.pending && this.pending.seq <= this.lastSeq) this.pending = null; // applied; its outputs are re-sent
      if (this.pending && this.pending.seq !== this.lastSeq + 1) this.pending = null;
      if (this.pending) this.send(this.pending.frame);
      // After a reload the whole conversation is re-sent: wait for it before offering anything.
      if (f.resumed && this.lastSeq > 0 && this.lastSeen === 0 && !this.queue.length) {
        var self = this;
        this.awaitReplay = true;
        setTimeout(function () { if (self.awaitReplay) { self.awaitReplay = false; self.renderComposer(); } }, 2000);
      }
      else if (!f.resumed) { this.answers = {}; if (this.opts.flow && !this.started) this.start(this.opts.flow, false); }
      else if (this.lastSeq === 0 && this.opts.flow && !this.started) this.start(this.opts.flow, false);
      this.save();
      this.pump();
      return;
    }
    if (f.type === 'error') return this.onError(f);
    if (!{ message: 1, prompt: 1, pause: 1, end: 1, safety: 1 }[f.type]) return; // unknown: ignore
    if (typeof f.id === 'number') {
      if (f.id <= this.lastSeen) return; // seen already (a re-send)
      this.lastSeen = f.id;
      if (f.seq > this.lastSeq) this.lastSeq = f.seq;
      if (this.pending && f.seq >= this.pending.seq) { this.pending = null; this.retries = 0; }
    }
    this.awaitReplay = false;
    this.queue.push(f);
    this.pump();
  };

  Widget.prototype.onError = function (f) {
    var self = this, p = this.pending;
    var mine = p && f.seq === p.seq;
    switch (f.code) {
      case 'session_not_found':
        this.session = null; this.answers = {}; this.pending = null; this.lastSeen = 0; this.shownId = 0;
        this.open = null; this.active = false; this.started = false; this.userShown = {};
        this.clearLog(); this.note(this.S.expired); this.save();
        if (this.ws) this.ws.send(JSON.stringify({ type: 'hello', client: 'web/1.0' }));
        return;
      case 'superseded': return;
      case 'rate_limited': case 'busy':
        if (mine) setTimeout(function () { if (self.pending === p) self.send(p.frame); }, 1200);
        return;
      case 'internal':
        if (!mine) return;
        if (this.sawUnstoredSafety === p.seq) { this.dropPending(false); return; } // the safety card is the answer
        this.retries = (this.retries || 0) + 1;
        this.note(this.S.failed);
        if (this.retries <= 3) setTimeout(function () { if (self.pending === p) self.send(p.frame); }, 1500 * this.retries);
        else this.dropPending(false);
        return;
      case 'too_long':
        if (mine) { this.dropPending(true); this.note(this.S.tooLong); }
        return;
      case 'seq_out_of_order': case 'hello_required':
        if (this.ws) this.ws.close(); // resynchronise through a fresh hello
        return;
      default: // bad_choice, bad_message, unknown_flow, no_active_flow...
        if (mine) this.dropPending(f.code === 'bad_choice' ? false : true);
        if (f.code === 'no_active_flow') { this.open = null; this.renderComposer(); }
    }
  };

  Widget.prototype.dropPending = function (restoreText) {
    var p = this.pending;
    if (!p) return;
    this.pending = null;
    if (p.bubble && p.bubble.parentNode) p.bubble.remove();
    delete this.answers[p.seq];
    this.save();
    this.renderComposer(restoreText && p.frame.text);
  };

  // ---- turns -----------------------------------------------------------------
  Widget.prototype.turn = function (frame, said) {
    if (this.pending || this.state === 'superseded') return;
    frame.seq = this.lastSeq + 1;
    var p = { seq: frame.seq, frame: frame };
    if (said != null) {
      this.answers[frame.seq] = said;
      p.bubble = this.bubble('user', said);
      this.userShown[frame.seq] = true;
    }
    this.pending = p;
    this.open = null;
    this.wantFocus = true;
    this.save();
    this.renderComposer();
    this.send(frame);
  };
  Widget.prototype.start = function (flow, byUser) {
    if (byUser !== false) this.wantFocus = true;
    if (this.opts.mode === 'bubble' && !this.isOpen) this.setOpen(true, byUser !== false);
    if (!this.welcomed) { this.opts.flow = flow; if (!this.ws) this.connect(); return; }
    this.started = true;
    this.turn({ type: 'start', flow: flow }, null);
  };
  Widget.prototype.answerText = function (text) { this.turn({ type: 'input', text: text }, text); };
  Widget.prototype.answerChoice = function (choice) { this.turn({ type: 'input', choice: choice.id }, choice.label); };
  Widget.prototype.command = function (name) { this.turn({ type: 'command', name: name }, this.S['cmd_' + name] || name); };

  // ---- forget ------------------------------------------------------------------
  Widget.prototype.askForget = function () {
    var self = this, S = this.S, c = this.confirmEl;
    c.textContent = '';
    var no = el('button', { type: 'button', 'class': 'ghost', text: S.forgetNo, onclick: function () { c.hidden = true; self.forgetBtn.focus(); } });
    c.append(el('span', { text: S.forgetConfirm }),
      el('button', { type: 'button', 'class': 'ghost', text: S.forgetYes, onclick: function () { c.hidden = true; self.forget(); } }), no);
    c.hidden = false;
    no.focus();
  };
  Widget.prototype.forget = function () {
    var ws = this.ws;
    if (ws && ws.readyState === 1 && this.welcomed) { this.forgetting = true; ws.send(JSON.stringify({ type: 'forget' })); }
    else if (ws) { ws.onclose = null; ws.close(); this.ws = null; this.forgetting = false; }
    this.session = null; this.answers = {}; this.pending = null; this.lastSeen = 0; this.lastSeq = 0; this.shownId = 0;
    this.queue = []; this.open = null; this.started = false; this.active = false; this.userShown = {};
    try { this.storage.removeItem(this.key); } catch (e) {}
    this.clearLog();
    this.note(this.S.forgotten);
    this.renderComposer();
    this.forgetBtn.focus();
    if (!this.forgetting) { this.attempt = 0; this.connect(); }
  };

  // ---- rendering -----------------------------------------------------------------
  Widget.prototype.clearLog = function () { this.log.textContent = ''; };
  Widget.prototype.scroll = function () { this.log.scrollTop = this.log.scrollHeight; };
  Widget.prototype.note = function (text) { var n = el('p', { 'class': 'note', text: text }); this.log.append(n); this.scroll(); return n; };
  Widget.prototype.bubble = function (who, text) {
    var S = this.S;
    var row = el('div', { 'class': 'row ' + who, 'data-kind': who === 'bot' ? 'message' : 'answer' });
    if (who === 'bot') row.append(el('span', { 'class': 'avatar', 'aria-hidden': 'true' }));
    row.append(el('span', { 'class': 'vh', text: (who === 'bot' ? S.bot : S.you) + ': ' }));
    row.append(el('div', { 'class': 'msg', text: text }));
    this.log.append(row);
    this.scroll();
    return row;
  };

  Widget.prototype.pump = function () {
    var self = this;
    if (this.pumping) return;
    this.pumping = true;
    (function next() {
      var f = self.queue.shift();
      if (!f) {
        // The rest of the turn's frames may still be on their way: settle a moment before offering controls.
        self.pumping = false;
        clearTimeout(self.settleTimer);
        self.settleTimer = setTimeout(function () { if (!self.pumping) self.renderComposer(); }, 60);
        return;
      }
      var done = self.renderFrame(f);
      if (done && done.then) done.then(next); else next();
    })();
  };

  Widget.prototype.renderFrame = function (f) {
    var S = this.S, self = this;
    if (typeof f.id === 'number' && f.seq && this.answers[f.seq] != null && !this.userShown[f.seq]) {
      this.userShown[f.seq] = true;
      this.bubble('user', this.answers[f.seq]);
    }
    var mark = function () { if (typeof f.id === 'number' && f.id > self.shownId) { self.shownId = f.id; self.save(); } };
    if (f.type !== 'end' && f.type !== 'pause') this.active = true;
    if (f.type === 'message') this.bubble('bot', String(f.text || '')).setAttribute('data-id', f.id != null ? f.id : '');
    else if (f.type === 'prompt') this.open = f;
    else if (f.type === 'safety') { if (f.id == null) this.sawUnstoredSafety = f.seq; this.safetyCard(f); this.open = f; }
    else if (f.type === 'end') { this.open = null; this.active = false; this.summary(f); }
    else if (f.type === 'pause') {
      var replay = typeof f.id === 'number' && f.id <= this.shownId;
      if (replay || !(f.ms > 0)) return mark();
      return this.typing(f.ms).then(mark);
    }
    mark();
  };

  Widget.prototype.typing = function (ms) {
    var S = this.S, self = this;
    ms = ms * this.opts.pauseScale;
    if (window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches) ms = Math.min(ms / 4, 1000);
    return new Promise(function (resolve) {
      var timer, box;
      var finish = function () { clearTimeout(timer); if (box.parentNode) box.remove(); resolve(); };
      var skip = el('button', { type: 'button', 'class': 'ghost', text: S.skipWait, onclick: function () { var focused = self.root.activeElement === skip; finish(); if (focused) self.wantFocus = true; } });
      box = el('div', { 'class': 'typing', 'data-kind': 'typing' }, [
        el('span', { 'class': 'dots', role: 'img', 'aria-label': S.typing }, [el('span'), el('span'), el('span')]), skip]);
      self.composer.textContent = '';
      self.composer.append(box);
      timer = setTimeout(finish, ms);
    });
  };

  Widget.prototype.safetyCard = function (f) {
    var S = this.S;
    var id = this.uid + '-s' + (f.id || 'x' + Date.now());
    var list = el('ul');
    (f.resources || []).forEach(function (r) {
      var li = el('li', null, [el('strong', { text: r.name || '' })]);
      if (r.hours) li.append(' (' + r.hours + ')');
      var links = el('div');
      if (r.phone) links.append(el('a', { href: 'tel:' + r.phone.replace(/[^\d+]/g, ''), text: fmt(S.call, { phone: r.phone }) }));
      if (r.sms) {
        var digits = (r.sms.match(/\+?\d[\d\s-]*\d|\d/) || [''])[0].replace(/[^\d+]/g, '');
        if (digits) links.append(el('a', { href: 'sms:' + digits, text: fmt(S.text, { sms: r.sms }) }));
      }
      if (r.url && /^https?:\/\//i.test(r.url)) links.append(el('a', { href: r.url, target: '_blank', rel: 'noopener noreferrer', text: S.website + ': ' + r.url.replace(/^https?:\/\//i, '').replace(/\/$/, '') }));
      li.append(links);
      list.append(li);
    });
    var card = el('section', { 'class': 'safety', 'data-kind': 'safety', 'data-id': f.id != null ? f.id : '', 'aria-labelledby': id }, [
      el('h3', { id: id, text: S.safetyTitle }), el('p', { text: String(f.text || '') }), list]);
    this.log.append(card);
    this.log.scrollTop = card.offsetTop - 8; // the card's top, resources first, rather than its end
  };

  Widget.prototype.summary = function (f) {
    var S = this.S, sum = f.summary || {};
    var id = this.uid + '-e' + (f.id || Date.now());
    var card = el('section', { 'class': 'summary', 'data-kind': 'summary', 'data-id': f.id != null ? f.id : '', 'aria-labelledby': id }, [el('h3', { id: id, text: S.summaryTitle })]);
    if (f.reason === 'stopped') card.append(el('p', { text: S.stopped }));
    var scores = BRAVING.filter(function (k) { return typeof sum[k] === 'number'; });
    if (scores.length) {
      var bars = el('div', { 'class': 'bars', role: 'img', 'aria-label': scores.map(function (k) { return humanize(k) + ' ' + sum[k]; }).join(', ') });
      scores.forEach(function (k) {
        var v = Math.max(0, Math.min(10, sum[k]));
        bars.append(el('span', { 'aria-hidden': 'true', text: humanize(k) }),
          el('span', { 'class': 'bar', 'aria-hidden': 'true' }, [el('i', { style: 'width:' + v * 10 + '%' })]),
          el('span', { 'aria-hidden': 'true', text: String(sum[k]) }));
      });
      card.append(bars);
    }
    var dl = el('dl');
    Object.keys(sum).forEach(function (k) {
      if (scores.indexOf(k) >= 0) return;
      var v = sum[k];
      if (v == null || typeof v === 'object') return;
      dl.append(el('dt', { text: humanize(k) }), el('dd', { text: String(v) }));
    });
    if (dl.firstChild) card.append(dl);
    if (f.reason === 'stopped' && !scores.length && !dl.firstChild) { /* nothing kept */ }
    this.log.append(card);
    this.scroll();
  };

  Widget.prototype.renderComposer = function (restoreText) {
    var self = this, S = this.S, c = this.composer, o = this.open;
    if (this.pumping || this.awaitReplay) return;
    var hadFocus = this.root.activeElement && c.contains(this.root.activeElement);
    c.textContent = '';
    var first = null;
    if (this.state === 'superseded') {
      first = el('button', { type: 'button', 'class': 'send', text: S.continueHere, onclick: function () { self.attempt = 0; self.wantFocus = true; self.connect(); } });
      c.append(first);
    } else if (this.pending) {
      // waiting for the turn's outputs: nothing to press
    } else if ((o && (o.type === 'prompt' || o.type === 'safety')) || (this.active && this.welcomed)) {
      o = o || { type: 'prompt', input: 'text', choices: [], commands: [] }; // a flow runs with no prompt open: typed words still reach it
      var kind = o.type === 'safety' ? 'choice' : o.input;
      var choices = o.choices || [];
      if (kind === 'scale' && choices.length) {
        var group = el('div', { 'class': 'scale', role: 'group', 'aria-label': fmt(S.scaleLabel, { min: o.min != null ? o.min : choices[0].id, max: o.max != null ? o.max : choices[choices.length - 1].id }) });
        var buttons = choices.map(function (ch, i) {
          return el('button', { type: 'button', 'class': 'choice', tabindex: i === 0 ? '0' : '-1', text: ch.label, onclick: function () { self.answerChoice(ch); } });
        });
        group.addEventListener('keydown', function (e) {
          var i = buttons.indexOf(self.root.activeElement), j = -1;
          if (i < 0) return;
          if (e.key === 'ArrowRight' || e.key === 'ArrowDown') j = Math.min(buttons.length - 1, i + 1);
          else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') j = Math.max(0, i - 1);
          else if (e.key === 'Home') j = 0;
          else if (e.key === 'End') j = buttons.length - 1;
          if (j < 0) return;
          e.preventDefault();
          buttons[i].tabIndex = -1; buttons[j].tabIndex = 0; buttons[j].focus();
        });
        buttons.forEach(function (b) { group.append(b); });
        c.append(group);
        first = buttons[0];
      } else if (choices.length) {
        var row = el('div', { 'class': 'choices', role: 'group', 'aria-label': o.type === 'safety' ? S.safetyTitle : null });
        choices.forEach(function (ch) {
          var b = el('button', { type: 'button', 'class': 'choice', 'data-choice': ch.id, text: ch.label, onclick: function () { self.answerChoice(ch); } });
          row.append(b);
          if (!first) first = b;
        });
        c.append(row);
      }
      var fid = this.uid + '-in';
      var isText = kind === 'text' || (!choices.length && kind !== 'number');
      var field = isText
        ? el('textarea', { id: fid, rows: '2', maxlength: '4000' })
        : el('input', { id: fid, type: 'text', autocomplete: 'off', inputmode: kind === 'number' || kind === 'scale' ? 'numeric' : null });
      var labelText = kind === 'number' ? fmt(S.numberLabel, { min: o.min, max: o.max }) : choices.length ? S.orType : S.typeAnswer;
      var form = el('form', { 'class': 'answer' }, [el('label', { 'for': fid, 'class': 'vh', text: labelText }), field,
        el('button', { type: 'submit', 'class': 'send', text: S.send })]);
      field.setAttribute('placeholder', labelText);
      if (restoreText) field.value = restoreText;
      form.addEventListener('submit', function (e) { e.preventDefault(); var v = field.value; if (!v.trim()) return field.focus(); self.answerText(v); });
      field.addEventListener('keydown', function (e) {
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event('submit', { cancelable: true })); }
      });
      c.append(form);
      if (!first || restoreText) first = field;
      if (o.type === 'prompt' && (o.commands || []).length) {
        var cmds = el('div', { 'class': 'cmds' });
        o.commands.forEach(function (name) {
          cmds.append(el('button', { type: 'button', 'class': 'ghost', 'data-command': name, text: S['cmd_' + name] || name, onclick: function () { self.command(name); } }));
        });
        c.append(cmds);
      }
    } else if (this.welcomed && this.flows.length && !(this.opts.flow && !this.started && this.lastSeq === 0)) {
      c.append(el('p', { 'class': 'note', text: this.lastSeq ? S.startAnother : S.pickFlow }));
      var list = el('div', { 'class': 'choices' });
      this.flows.forEach(function (flow) {
        var b = el('button', { type: 'button', 'class': 'choice', 'data-flow': flow.id, text: flow.title + ' · ' + fmt(S.minutes, { n: flow.minutes }), onclick: function () { self.start(flow.id, true); } });
        list.append(b);
        if (!first) first = b;
      });
      c.append(list);
    }
    if (this.pending || (!first && (this.wantFocus || hadFocus))) { if (this.wantFocus || hadFocus) c.focus({ preventScroll: true }); return; }
    if (first && (this.wantFocus || hadFocus || (this.root.activeElement === c))) { first.focus(); this.wantFocus = false; }
  };

  Widget.prototype.focusComposer = function () {
    var t = this.composer.querySelector('button,input,textarea');
    (t || this.composer).focus();
  };

  // ---- boot --------------------------------------------------------------------
  function wsUrlFrom(value, base) {
    var url = new URL(value || '/ws', base);
    if (url.protocol === 'http:') url.protocol = 'ws:';
    if (url.protocol === 'https:') url.protocol = 'wss:';
    if (url.pathname === '/' || url.pathname === '') url.pathname = '/ws';
    return url.href;
  }

  function mount(options) {
    options = Object.assign({}, window.TrellisWidgetOptions || {}, options);
    var script = options.script;
    var d = (script && script.dataset) || {};
    var base = script && script.src ? script.src : location.href;
    var strings = options.strings || (d.strings ? parseJson(d.strings) : null);
    var target = options.target || (d.target ? document.querySelector(d.target) : null);
    var mode = options.mode || d.mode || (target ? 'inline' : 'bubble');
    var scale = parseFloat(options.pauseScale != null ? options.pauseScale : d.pauseScale);
    var w = new Widget({
      script: script,
      server: wsUrlFrom(options.server || d.server, base),
      flow: options.flow || d.flow || null,
      mode: mode === 'inline' ? 'inline' : 'bubble',
      target: target,
      title: options.title || d.title,
      remember: options.remember != null ? !!options.remember : d.remember === 'true',
      strings: strings,
      pauseScale: isFinite(scale) && scale >= 0 ? scale : 1
    });
    var api = window.TrellisWidget = window.TrellisWidget || { instances: [] };
    api.instances.push(w);
    api.mount = mount;
    api.start = function (flow) { api.instances[0].start(flow, true); };
    api.open = function () { api.instances[0].setOpen(true, true); };
    return w;
  }

  var current = document.currentScript;
  window.TrellisWidget = window.TrellisWidget || { instances: [] };
  window.TrellisWidget.mount = mount;
  if (current && current.dataset.manual !== 'true') {
    var go = function () { mount({ script: current }); };
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', go); else go();
  }
})();
