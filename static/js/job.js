/* LoveLoveShot — live job page.
 * Applies websocket frames from /ws/jobs/<id>/ to the server-rendered page. When the socket is down it
 * reconnects with backoff and polls the JSON status endpoint every 2 s until the socket is back or the
 * job has finished. All visible sentences come from data-t-* attributes rendered by the template. */
(function () {
  "use strict";

  var root = document.getElementById("job");
  if (!root) return;

  var T = root.dataset;
  var STAGES = ["detect", "swap", "finish"];
  var POLL_MS = 2000;
  // "Queued" / "#1 in line" stays on screen at least this long, even when a free worker starts the
  // job at once (otherwise the couple never sees that their photos were in line).
  var MIN_QUEUED_MS = 1500;
  var TYPICAL = parseInt(T.typicalSeconds, 10) || 20;
  var MAX_BACKOFF_MS = 30000;

  var initial = {};
  try {
    initial = JSON.parse(document.getElementById("job-state").textContent) || {};
  } catch (e) { /* keep the server-rendered page as is */ }

  var state = {
    status: initial.status || T.status || "queued",
    stage: initial.stage || "",
    pct: initial.pct || 0,
    position: initial.position == null ? null : initial.position,
    attempts: initial.attempts || 0,
    results: initial.results || [],
    code: initial.code || null,
    reason: initial.reason || null,
    can_retry: !!initial.can_retry,
    retrying: !!initial.retrying,
    photos: initial.photos || [],
    notes: initial.notes || []
  };
  var queuedUntil = state.status === "queued" ? Date.now() + MIN_QUEUED_MS : 0;

  function $(sel) { return root.querySelector(sel); }
  function fmt(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (m, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : m;
    });
  }
  function isTerminal() { return state.status === "done" || state.status === "failed" || state.status === "cancelled"; }
  function clampPct(v) {
    var n = Math.round(Number(v));
    return isNaN(n) ? 0 : Math.max(0, Math.min(100, n));
  }

  /* ---------------- frames ---------------- */
  // Progress never goes back within one attempt (a late poll answer, a stale frame): the bar and the
  // stepper only move forward until the job is put back in line for another attempt.
  function forward(stage, pct, sameAttempt) {
    if (sameAttempt && state.status === "running") {
      var now = STAGES.indexOf(state.stage);
      var next = STAGES.indexOf(stage);
      if (next > -1 && now > next) stage = state.stage;
      pct = Math.max(state.pct, pct);
    }
    if (stage !== undefined && stage !== null) state.stage = stage;
    state.pct = pct;
  }

  function leavesQueue(frame) {
    if (state.status !== "queued") return false;
    if (frame.type === "progress" || frame.type === "done" || frame.type === "failed") return true;
    return (frame.type === "status" || frame.type === "state") && frame.status && frame.status !== "queued" &&
      frame.status !== "cancelled";
  }

  var held = [];
  var holdTimer = null;

  function receive(frame) {
    if (!frame || typeof frame !== "object") return;
    if (holdTimer) { held.push(frame); return; }
    var wait = queuedUntil - Date.now();
    if (wait > 0 && leavesQueue(frame)) {
      held.push(frame);
      holdTimer = window.setTimeout(drain, wait);
      return;
    }
    apply(frame);
  }

  // Frames held while "queued" was on screen are shown one by one afterwards, so a job that ran
  // while it was held still shows its stages moving instead of jumping straight to the end.
  var DRAIN_MS = 150;
  function drain() {
    holdTimer = null;
    var frame = held.shift();
    if (frame) apply(frame);
    if (held.length) holdTimer = window.setTimeout(drain, DRAIN_MS);
  }

  function setPhoto(p) {
    if (!p || !p.photo) return;
    var found = false;
    state.photos = state.photos.map(function (old) {
      if (old.photo !== p.photo) return old;
      found = true;
      return Object.assign({}, old, p);
    });
    if (!found) state.photos.push(p);
  }

  function apply(frame) {
    if (!frame || typeof frame !== "object") return;
    var before = state.status;
    switch (frame.type) {
      case "state":
        var sameAttempt = !("attempts" in frame) || frame.attempts === state.attempts;
        ["status", "position", "results", "code", "reason", "retrying"].forEach(function (k) {
          if (k in frame) state[k] = frame[k];
        });
        if ("photos" in frame && frame.photos && frame.photos.length) state.photos = frame.photos;
        if ("notes" in frame && frame.notes) state.notes = frame.notes;
        if ("pct" in frame || "stage" in frame) {
          forward("stage" in frame ? frame.stage : state.stage, "pct" in frame ? clampPct(frame.pct) : state.pct,
            sameAttempt);
        }
        if ("attempts" in frame) state.attempts = frame.attempts;
        if ("can_retry" in frame) state.can_retry = !!frame.can_retry;
        break;
      case "photo":
        setPhoto(frame);
        break;
      case "queue":
        state.position = frame.position == null ? null : frame.position;
        if (!isTerminal()) state.status = "queued";
        break;
      case "status":
        if (frame.status) state.status = frame.status;
        if ("position" in frame) state.position = frame.position == null ? null : frame.position;
        if (frame.attempt != null) state.attempts = frame.attempt;
        if (state.status === "running") state.position = null;
        if (state.status === "queued" || state.status === "running") {
          state.code = null;
          state.reason = null;
        }
        state.retrying = frame.status === "queued" && (!!frame.retrying || state.attempts > 0);
        if (frame.status === "queued") {
          // Back in line for another attempt: the stepper starts over.
          state.stage = "";
          state.pct = 0;
        }
        break;
      case "progress":
        if (state.status === "queued") state.status = "running";
        forward(frame.stage || state.stage, "pct" in frame ? clampPct(frame.pct) : state.pct, true);
        state.position = null;
        break;
      case "done":
        state.status = "done";
        state.results = frame.results || [];
        if (frame.notes) state.notes = frame.notes;
        state.pct = 100;
        state.stage = "finish";
        state.position = null;
        break;
      case "cancelled":
        state.status = "cancelled";
        state.position = null;
        break;
      case "failed":
        state.status = "failed";
        state.code = frame.code || null;
        state.reason = frame.reason || T.tReason;
        state.can_retry = !!frame.can_retry;
        state.position = null;
        break;
      default:
        return;
    }
    if (state.status === "queued" && before !== "queued") queuedUntil = Date.now() + MIN_QUEUED_MS;
    render();
    if (isTerminal()) stopPolling();
  }

  /* ---------------- rendering ---------------- */
  var renderedResults = null;

  function render() {
    var status = state.status;
    root.dataset.status = status;

    var badge = $("[data-testid=job-status]");
    badge.className = "badge badge-" + status;
    badge.dataset.status = status;
    badge.querySelector("[data-status-label]").textContent = T["t" + status.charAt(0).toUpperCase() + status.slice(1)] || status;
    badge.querySelector("[data-status-code]").textContent = status;

    Array.prototype.forEach.call(root.querySelectorAll("[data-title-for]"), function (el) {
      el.hidden = el.dataset.titleFor.split(" ").indexOf(status) === -1;
    });

    // photo checks (status "checking")
    var checks = $("[data-photo-checks]");
    if (checks) {
      checks.hidden = status !== "checking";
      renderPhotos();
    }

    // queue
    var queue = $("[data-testid=queue-position]");
    queue.hidden = status !== "queued";
    queue.dataset.position = state.position == null ? "" : state.position;
    queue.querySelector("[data-queue-text]").textContent =
      state.position ? fmt(T.tQueue, { position: state.position }) : T.tQueued;

    // stepper + progress
    $("[data-progress-block]").hidden = isTerminal() || status === "checking";
    var current = STAGES.indexOf(state.stage);
    Array.prototype.forEach.call(root.querySelectorAll("[data-step]"), function (li) {
      var i = STAGES.indexOf(li.dataset.step);
      li.classList.toggle("is-done", current > -1 && i < current);
      li.classList.toggle("is-current", i === current && status === "running");
      if (i === current && status === "running") li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
    });
    var stageEl = $("[data-testid=job-stage]");
    stageEl.dataset.stage = state.stage || "";
    stageEl.querySelector("[data-stage-code]").textContent = state.stage || "";
    var stageText;
    if (current > -1 && status !== "queued") stageText = T["tStage" + state.stage.charAt(0).toUpperCase() + state.stage.slice(1)];
    else if (status === "queued") stageText = state.retrying ? T.tStageRetrying : T.tStageWaiting;
    else stageText = T.tStageReady;
    stageEl.querySelector("[data-stage-text]").textContent = stageText;

    var pct = status === "done" ? 100 : clampPct(state.pct);
    var bar = $("[data-testid=job-progress]");
    bar.setAttribute("aria-valuenow", String(pct));
    bar.dataset.pct = String(pct);
    bar.querySelector(".progress-fill").style.width = pct + "%";
    $("[data-pct-text]").textContent = String(pct);

    renderEta(status, pct);

    var attempt = $("[data-attempt]");
    attempt.hidden = !(state.attempts >= 2) || isTerminal();
    attempt.textContent = fmt(T.tAttempt, { attempt: state.attempts });

    // failure
    var err = $("[data-testid=job-error]");
    err.hidden = status !== "failed";
    if (status === "failed") {
      $("[data-reason]").textContent = state.reason || T.tReason;
      $("[data-retry]").hidden = !state.can_retry;
    }

    // cancelled: the uploads are gone; a cancel button while the job can still be stopped
    $("[data-testid=job-cancelled]").hidden = status !== "cancelled";
    // Two different actions, never shown together: "stop" while the job is going, "delete" once it
    // has ended (done, failed or cancelled).
    var active = status === "checking" || status === "queued" || status === "running";
    var cancel = $("[data-cancel]");
    if (cancel) cancel.hidden = !active;
    var del = document.querySelector("[data-delete-job]");
    if (del) del.hidden = active;

    // results
    $("[data-results-wrap]").hidden = status !== "done";
    if (status === "done") {
      renderResults(state.results || []);
      renderNotes(state.notes || []);
    }
  }

  var focusedRejection = {};

  function renderPhotos() {
    state.photos.forEach(function (p) {
      var li = root.querySelector('[data-photo="' + p.photo + '"]');
      if (!li) return;
      var verdict = p.verdict || "pending";
      li.dataset.verdict = verdict;
      li.className = "photo-check verdict-" + verdict;
      li.querySelector("[data-verdict-text]").textContent =
        T["tVerdict" + verdict.charAt(0).toUpperCase() + verdict.slice(1)] || verdict;
      if (p.name) li.querySelector(".photo-check-name").textContent = p.name;
      var reason = li.querySelector("[data-reason-text]");
      reason.hidden = verdict !== "rejected";
      reason.textContent = verdict === "rejected" ? (p.reason || "") : "";
      var note = li.querySelector("[data-note-text]");
      if (note) {
        var notes = verdict === "ok" && p.notes ? p.notes : [];
        note.hidden = !notes.length;
        note.textContent = notes.join(" ");
      }
      var form = li.querySelector("[data-replace]");
      if (form) form.hidden = verdict !== "rejected";
      // Move focus to a photo the first time it is rejected, so a screen reader hears why.
      if (verdict === "rejected" && !focusedRejection[p.photo]) {
        focusedRejection[p.photo] = true;
        if (!document.activeElement || document.activeElement === document.body) li.focus({ preventScroll: true });
        li.scrollIntoView({ behavior: "smooth", block: "center" });
      } else if (verdict !== "rejected") {
        focusedRejection[p.photo] = false;
      }
    });
  }

  function renderNotes(notes) {
    var ul = $("[data-result-notes]");
    if (!ul) return;
    ul.textContent = "";
    notes.forEach(function (n) {
      var li = document.createElement("li");
      var badge = document.createElement("span");
      badge.className = "person-badge person-badge-" + (n.person === "b" ? "b" : "a");
      badge.setAttribute("aria-hidden", "true");
      badge.textContent = n.person === "b" ? "B" : "A";
      li.appendChild(badge);
      li.appendChild(document.createTextNode(" " + n.text));
      ul.appendChild(li);
    });
    ul.hidden = !notes.length;
  }

  function renderEta(status, pct) {
    var el = $("[data-eta]");
    if (!el) return;
    var seconds = null;
    if (status === "queued") seconds = TYPICAL * Math.max(1, state.position || 1);
    else if (status === "running") seconds = Math.max(1, Math.round(TYPICAL * (100 - pct) / 100));
    el.hidden = seconds == null;
    if (seconds == null) return;
    el.textContent = seconds > 90
      ? fmt(T.tEtaMinutes, { n: Math.round(seconds / 60) })
      : fmt(T.tEtaSeconds, { n: Math.max(5, Math.ceil(seconds / 5) * 5) });
    el.dataset.seconds = String(seconds);
  }

  function renderResults(results) {
    var key = results.map(function (r) { return r.id; }).join(",");
    if (key === renderedResults) return;
    renderedResults = key;
    var grid = $("[data-testid=results]");
    grid.innerHTML = "";
    results.forEach(function (r, index) {
      var li = document.createElement("li");
      li.className = "photo-tile is-new";
      li.style.animationDelay = (index * 80) + "ms";

      var link = document.createElement("a");
      link.href = r.page;
      link.className = "photo-link";
      link.title = T.tOpen;
      var img = document.createElement("img");
      img.src = r.thumb;
      if (r.url) {
        // the full image where the tile is wider than the 480 px thumbnail (desktop, phone at 2x)
        img.srcset = r.thumb + " 480w, " + r.url + " " + (r.width || 1600) + "w";
        img.sizes = results.length === 1 ? "(min-width: 760px) 700px, 100vw"
          : "(min-width: 760px) 350px, (min-width: 700px) 50vw, 100vw";
      }
      img.alt = fmt(T.tResultAlt, { n: index + 1 });
      if (r.width && r.height) {
        img.width = r.width;
        img.height = r.height;
      }
      link.appendChild(img);

      var dl = document.createElement("a");
      dl.href = r.download;
      dl.className = "photo-download";
      dl.setAttribute("download", "");
      dl.textContent = T.tDownload;

      li.appendChild(link);
      li.appendChild(dl);
      grid.appendChild(li);
    });
  }

  /* ---------------- connection ---------------- */
  var socket = null;
  var socketOpen = false;
  var retries = 0;
  var reconnectTimer = null;
  var pollTimer = null;
  var stopped = false; // 4401/4404: the socket will never accept us; do not hammer it
  // The server accepts and then says "reconnecting" (and closes with 1013) while Redis is away: such a
  // socket is not healthy, so the backoff keeps growing. Only a state frame on a socket that has not
  // said "reconnecting" (and does not close with 1013) resets it.
  var degraded = false;
  var TRY_AGAIN_LATER = 1013;

  function setLive(on) {
    var el = $("[data-live]");
    if (isTerminal()) { el.textContent = ""; el.className = "live-note small"; return; }
    el.textContent = on ? T.tLive : T.tOffline;
    el.className = "live-note small " + (on ? "is-live" : "is-offline");
  }

  function poll() {
    if (!window.fetch) return;
    fetch(T.statusUrl, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 404 || response.redirected) { stopPolling(); return null; }
        if (!response.ok) return null;
        return response.json();
      })
      .then(function (data) { if (data) receive(Object.assign({ type: "state" }, data)); })
      .catch(function () { /* offline: try again on the next tick */ });
  }

  function startPolling() {
    if (pollTimer || isTerminal()) return;
    poll();
    pollTimer = window.setInterval(function () {
      if (socketOpen || isTerminal()) { stopPolling(); return; }
      poll();
    }, POLL_MS);
  }

  function stopPolling() {
    if (pollTimer) window.clearInterval(pollTimer);
    pollTimer = null;
  }

  function scheduleReconnect() {
    if (stopped || reconnectTimer || isTerminal()) return;
    var delay = Math.min(MAX_BACKOFF_MS, 1000 * Math.pow(2, retries)) + Math.floor(Math.random() * 400);
    retries += 1;
    reconnectTimer = window.setTimeout(function () {
      reconnectTimer = null;
      connect();
    }, delay);
  }

  function onDown() {
    socketOpen = false;
    socket = null;
    degraded = false;
    if (stopped) { stopPolling(); setLive(false); return; }
    setLive(false);
    startPolling();
    scheduleReconnect();
  }

  function connect() {
    if (!("WebSocket" in window)) { startPolling(); return; }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var ws;
    try {
      ws = new WebSocket(scheme + window.location.host + T.wsPath);
    } catch (e) {
      onDown();
      return;
    }
    socket = ws;
    var healthy = false; // this socket delivered a state frame and never said "reconnecting"
    ws.onopen = function () {
      socketOpen = true;
      degraded = false;
      // The poll stops itself on its next tick while the socket is open (see startPolling).
      setLive(true);
    };
    ws.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (socket !== ws) return;
      if (frame && frame.type === "reconnecting") {
        // The live channel is down on the server: poll status.json and keep the backoff growing.
        degraded = true;
        healthy = false;
        socketOpen = false;
        setLive(false);
        startPolling();
        return;
      }
      if (frame && frame.type === "state" && !degraded) healthy = true;
      receive(frame);
      if (isTerminal()) setLive(true);
    };
    ws.onclose = function (event) {
      if (socket !== ws) return;
      if (event.code === 4401 || event.code === 4404) stopped = true;
      // A socket that was really live and then dropped (server restart, network) comes back fast;
      // one that only ever said "try again later" keeps the growing backoff.
      if (healthy && event.code !== TRY_AGAIN_LATER) retries = 0;
      onDown();
    };
    ws.onerror = function () { /* onclose follows and handles it */ };
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible") return;
    if (socket && socketOpen) {
      try { socket.send(JSON.stringify({ type: "refresh" })); } catch (e) { /* ignore */ }
    } else if (!isTerminal()) {
      poll();
      if (!stopped && !reconnectTimer && !socket) { retries = 0; connect(); }
    }
  });

  window.addEventListener("online", function () {
    if (!socketOpen && !socket && !stopped && !isTerminal()) {
      if (reconnectTimer) { window.clearTimeout(reconnectTimer); reconnectTimer = null; }
      retries = 0;
      connect();
    }
  });

  /* Replacing a rejected photo: sent with fetch() so this page (and its live socket) stays; the new
   * photo shows "Checking…" at once and its verdict arrives like the others. Without JS the form
   * posts and the page comes back. */
  Array.prototype.forEach.call(root.querySelectorAll("form[data-replace]"), function (form) {
    if (!window.fetch || !window.FormData) return;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var li = form.closest("[data-photo]");
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      fetch(form.action, {
        method: "POST", body: new FormData(form), credentials: "same-origin", headers: { Accept: "application/json" }
      }).then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      }).then(function (res) {
        button.disabled = false;
        if (res.ok) {
          form.reset();
          setPhoto({ photo: li.dataset.photo, verdict: "pending", reason: null });
          render();
          return;
        }
        var message = (res.body && res.body.errors && res.body.errors[0] && res.body.errors[0].message) || T.tReason;
        var reason = li.querySelector("[data-reason-text]");
        reason.hidden = false;
        reason.textContent = message;
        li.focus({ preventScroll: true });
      }).catch(function () {
        button.disabled = false;
        form.submit();
      });
    });
  });

  render();
  connect();
})();
