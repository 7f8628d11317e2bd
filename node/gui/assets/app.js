// The node's dashboard. Everything it shows and does goes through the
// node's control API on this origin: a browser session (cookie) whose CSRF
// token is sent with every request that changes something.
"use strict";

const $ = (id) => document.getElementById(id);
const api = { csrf: "", signedIn: false };
const page = {
  view: "dashboard",
  status: null,
  settings: null,
  info: null,
  logs: [],
  logSource: null,
  settingsDirty: false,
  retryAt: 0,
};
const levelValue = { DEBUG: -4, INFO: 0, WARN: 4, ERROR: 8 };
const maxLogLines = 1000;

async function call(method, path, body) {
  const opts = { method, headers: {}, credentials: "same-origin" };
  if (method !== "GET") opts.headers["X-CSRF-Token"] = api.csrf;
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const resp = await fetch(path, opts);
  const text = await resp.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { error: text }; }
  }
  if (!resp.ok) {
    const err = new Error((data && data.error) || resp.statusText);
    err.status = resp.status;
    err.key = data && data.key;
    throw err;
  }
  return data;
}

// ---- session ----

async function startSession() {
  try {
    const s = await call("GET", "/api/v1/session");
    api.csrf = s.csrfToken;
    api.signedIn = true;
  } catch (e) {
    api.signedIn = false;
  }
  render();
  if (api.signedIn) {
    loadInfo();
    openLogs();
  }
}

$("signin-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("signin-error").textContent = "";
  try {
    const s = await call("POST", "/api/v1/session", { key: $("signin-key").value.trim() });
    api.csrf = s.csrfToken;
    api.signedIn = true;
    $("signin-key").value = "";
    await poll();
    loadInfo();
    openLogs();
  } catch (e) {
    $("signin-error").textContent = e.status === 401 ? "That key was refused." : e.message;
  }
});

// ---- status ----

async function poll() {
  if (!api.signedIn) return;
  try {
    page.status = await call("GET", "/api/v1/status");
    page.offline = false;
  } catch (e) {
    if (e.status === 401) {
      api.signedIn = false;
    } else {
      page.offline = true;
    }
  }
  render();
}

async function loadInfo() {
  try { page.info = await call("GET", "/api/v1/ui/info"); } catch { page.info = null; }
  renderLogsHead();
}

function badgeOf(st) {
  if (page.offline) return ["Offline", "bad", "The node does not answer: it may have been stopped."];
  if (!st) return ["Starting", "muted", ""];
  const paused = st.state === "paused" || (st.policy && st.policy.cores === 0 && st.state === "running");
  switch (st.state) {
    case "verifying": return ["Verifying", "muted", "Checking the saved node identity"];
    case "registering": return ["Registering", "muted", "Announcing this node to the sentinel"];
    case "claiming": return ["Waiting for claim", "warn", "Enter the claim code to link this node"];
    case "unavailable": return ["Unavailable", "bad", st.error || ""];
    case "finishing": return ["Finishing", "warn", "Finishing its chunks, then it stops"];
    case "finished":
      if (st.unlinked) return ["Unlinked", "muted", "Finished its chunks and forgot its identity: start the app again to link this computer to an account"];
      if (st.error) return ["Finished", "warn", st.error];
      return ["Finished", "muted", "Finished its chunks and took no new ones"];
  }
  if (paused) return ["Paused" + (st.reasonText ? " · " + reasonLabel(st.reason) : ""), "warn", st.reasonText || ""];
  if (st.connection !== "connected") return ["Connecting", "muted", "Connecting to the realtime channel"];
  return ["Online", "ok", "Taking and simulating chunks"];
}

function reasonLabel(rule) {
  return {
    user: "by you", schedule: "schedule", busy: "busy computer", battery: "on battery",
    temperature: "too hot", "in-use": "computer in use",
  }[rule] || rule || "";
}

function render() {
  const st = page.status;
  const [text, tone, title] = api.signedIn ? badgeOf(st) : ["Signed out", "muted", ""];
  const badge = $("badge");
  badge.textContent = text;
  badge.dataset.tone = tone;
  badge.title = title;
  if (st) {
    if (st.name) page.name = st.name; // the states before the claim, and Unavailable, carry none
    const name = page.name || st.hostname || "WoWLab node";
    $("node-name").textContent = name;
    const version = st.version && (/^\d/.test(st.version) ? "v" + st.version : st.version + " build");
    $("node-host").textContent = [st.hostname, st.platform, version].filter(Boolean).join(" · ");
    document.title = name + " · " + text;
  }
  const state = st && st.state;
  let main = "dashboard";
  if (!api.signedIn) main = "signin";
  else if (state === "claiming") main = "claim";
  else if (state === "unavailable") main = "unavailable";
  const tabbed = main === "dashboard";
  $("tabs").hidden = !tabbed;
  const show = tabbed ? page.view : main;
  for (const v of ["signin", "claim", "unavailable", "dashboard", "logs", "settings"]) {
    $("view-" + v).hidden = v !== show;
  }
  for (const t of document.querySelectorAll(".tab")) {
    if (t.dataset.view === page.view) t.setAttribute("aria-current", "page");
    else t.removeAttribute("aria-current");
  }
  if (!st) return;
  if (show === "claim") renderClaim(st);
  if (show === "unavailable") renderUnavailable(st);
  if (show === "dashboard") renderDashboard(st);
  if (show === "settings") renderFacts(st);
  $("foot").textContent = st.nodeId ? "Node " + st.nodeId : "";
}

// ---- claim ----

function renderClaim(st) {
  const code = (st.claimCode || "").replace(/[^A-Za-z0-9]/g, "").toUpperCase();
  $("claim-code").textContent = code.length === 6 ? code.slice(0, 3) + " " + code.slice(3) : (code || "······");
  const link = $("claim-link");
  if (st.claimUrl) {
    const u = new URL(st.claimUrl);
    u.searchParams.set("code", st.claimCode);
    link.href = u.toString();
    link.parentElement.hidden = false;
  } else {
    link.parentElement.hidden = true;
  }
}

$("copy-code").addEventListener("click", async () => {
  const code = page.status && page.status.claimCode;
  if (!code) return;
  try {
    await navigator.clipboard.writeText(code);
    flash($("copy-code"), "Copied");
  } catch {
    const r = document.createRange();
    r.selectNodeContents($("claim-code"));
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(r);
    flash($("copy-code"), "Press Ctrl+C");
  }
});

function flash(btn, text) {
  const old = btn.dataset.label || btn.textContent;
  btn.dataset.label = old;
  btn.textContent = text;
  setTimeout(() => { btn.textContent = old; }, 1500);
}

// ---- unavailable ----

function renderUnavailable(st) {
  $("unavailable-error").textContent = st.error || "No answer.";
  if (st.retryInSeconds > 0) page.retryAt = Date.now() + st.retryInSeconds * 1000;
  tickCountdown();
}

function tickCountdown() {
  const left = Math.max(0, Math.round((page.retryAt - Date.now()) / 1000));
  $("unavailable-countdown").textContent = left > 0 ? left + " s" : "a moment";
}

$("retry-now").addEventListener("click", async () => {
  try {
    await call("POST", "/api/v1/retry", {});
    flash($("retry-now"), "Retrying…");
  } catch (e) {
    flash($("retry-now"), e.message);
  }
});

// ---- dashboard ----

const nf = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const nf1 = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

function renderDashboard(st) {
  const s = st.stats || {};
  const stopped = (s.maxWorkers ?? 0) === 0;
  $("stat-workers").textContent = stopped ? String(s.busyWorkers ?? 0) : (s.busyWorkers ?? 0) + " / " + s.maxWorkers;
  $("stat-workers-sub").textContent = stopped
    ? "no new chunks now · " + (s.totalCores ?? 0) + " cores in this computer"
    : (s.totalCores ?? 0) + " cores in this computer";
  $("stat-rate").textContent = nf.format(s.iterationsPerSecond || 0);
  $("stat-completed").textContent = nf.format(s.completedChunks || 0);
  $("stat-failed").textContent = (s.failedChunks || 0) + " failed · " + nf.format(s.iterations || 0) + " iterations";
  $("stat-cpu").textContent = nf.format(s.cpuPercent || 0) + " %";
  $("stat-cpu-sub").textContent = "100 % is one core";
  renderChunks(st.chunks || []);
  renderControls($("dash-controls"), st);
  const note = $("pause-note");
  const [, , why] = badgeOf(st);
  const paused = st.state === "paused" || (st.policy && st.policy.cores === 0);
  const finished = st.state === "finished";
  note.hidden = !paused && !finished;
  if (finished) note.textContent = why + ".";
  else note.textContent = paused ? (why ? why.charAt(0).toUpperCase() + why.slice(1) : "No rule allows simulating now") + ": chunks already running finish, no new ones start." : "";
}

function renderChunks(chunks) {
  const list = $("chunks");
  $("chunks-empty").hidden = chunks.length > 0;
  const seen = new Set();
  for (const c of chunks) {
    seen.add(c.id);
    let li = list.querySelector(`li[data-id="${CSS.escape(c.id)}"]`);
    if (!li) {
      li = document.createElement("li");
      li.className = "chunk";
      li.dataset.id = c.id;
      li.innerHTML = '<span class="id"></span><span class="pct"></span><div class="bar" role="progressbar" aria-valuemin="0" aria-valuemax="100"><span></span></div>';
      li.querySelector(".id").textContent = "Chunk " + c.id.slice(0, 8) + " · seeds from " + nf.format(c.seedOffset);
      list.appendChild(li);
    }
    const pct = Math.round((c.progress || 0) * 100);
    li.classList.toggle("queued", !c.running);
    li.querySelector(".pct").textContent = c.running ? pct + " % of " + nf.format(c.iterations) : "queued";
    li.querySelector(".bar > span").style.width = pct + "%";
    li.querySelector(".bar").setAttribute("aria-valuenow", String(pct));
  }
  for (const li of [...list.children]) {
    if (!seen.has(li.dataset.id)) li.remove();
  }
}

function renderControls(box, st) {
  const paused = st.reason === "user";
  const stopping = st.state === "finishing" || st.state === "finished";
  const want = [];
  if (paused) want.push(["Resume", "resume", "primary"]);
  else if (!stopping) want.push(["Pause", "pause", ""], ["Pause now", "pause-now", ""]);
  if (!stopping) want.push(["Finish and stop", "finish", "danger"]);
  if (!stopping && box.id === "settings-controls" && st.nodeId) want.push(["Unlink this computer", "unlink", "danger"]);
  const key = want.map((w) => w[1]).join(",");
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.replaceChildren(...want.map(([label, action, cls]) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.dataset.action = action;
    if (cls) b.className = cls;
    return b;
  }));
}

async function act(action, btn) {
  if (action === "finish" && !confirm("Finish the chunks this node holds, take no new ones, then stop?")) return;
  if (action === "unlink" && !confirm("Unlink this computer from its account? The node finishes the chunks it holds and delivers their results, then forgets its identity and stops. The next start shows a new claim code.")) return;
  const path = { pause: "/api/v1/pause", "pause-now": "/api/v1/pause", resume: "/api/v1/resume", finish: "/api/v1/finish", unlink: "/api/v1/unlink" }[action];
  const body = action === "pause-now" ? { now: true } : action === "pause" ? { now: false } : {};
  btn.disabled = true;
  try {
    page.status = await call("POST", path, body);
  } catch (e) {
    alert(e.message);
  }
  btn.disabled = false;
  await poll();
}

for (const box of [$("dash-controls"), $("settings-controls")]) {
  box.addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-action]");
    if (b) act(b.dataset.action, b);
  });
}

// ---- charts ----

async function loadHistory() {
  if (!api.signedIn || page.view !== "dashboard") return;
  try {
    const h = await call("GET", "/api/v1/ui/history");
    drawChart($("chart-rate"), $("chart-rate-max"), h.samples, (s) => s.iterationsPerSecond, "it/s", h.everySeconds);
    drawChart($("chart-cpu"), $("chart-cpu-max"), h.samples, (s) => s.cpuPercent, "%", h.everySeconds);
  } catch { /* the next round tries again */ }
}

function drawChart(svg, label, samples, value, unit, every) {
  const span = 600; // seconds shown
  const now = samples.length ? Date.parse(samples[samples.length - 1].time) : Date.now();
  const pts = samples.map((s) => [Date.parse(s.time), value(s) || 0]).filter(([t]) => now - t <= span * 1000);
  const top = niceMax(Math.max(1, ...pts.map((p) => p[1])));
  label.textContent = "max " + nf1.format(top) + " " + unit;
  const x = (t) => 300 - ((now - t) / 1000 / span) * 300;
  const y = (v) => 78 - (v / top) * 74;
  svg.replaceChildren();
  svg.parentElement.querySelector(".wait").hidden = pts.length >= 2;
  if (pts.length < 2) {
    label.textContent = "";
    return;
  }
  const line = pts.map(([t, v], i) => (i ? "L" : "M") + x(t).toFixed(1) + " " + y(v).toFixed(1)).join(" ");
  const ns = "http://www.w3.org/2000/svg";
  const area = document.createElementNS(ns, "path");
  area.setAttribute("d", line + ` L${x(pts[pts.length - 1][0]).toFixed(1)} 80 L${x(pts[0][0]).toFixed(1)} 80 Z`);
  area.setAttribute("class", "area");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", line);
  path.setAttribute("class", "line");
  svg.append(area, path);
}

function niceMax(v) {
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

// ---- logs ----

function openLogs() {
  if (page.logSource) return;
  const src = new EventSource("/api/v1/logs/stream?backlog=500");
  src.addEventListener("log", (ev) => {
    const e = JSON.parse(ev.data);
    page.logs.push(e);
    if (page.logs.length > maxLogLines) page.logs.splice(0, page.logs.length - maxLogLines);
    appendLog(e);
  });
  src.onerror = () => {
    if (!api.signedIn) { src.close(); page.logSource = null; }
  };
  page.logSource = src;
}

function logMatches(e) {
  const min = Number($("log-level").value);
  if ((levelValue[e.level] ?? 0) < min) return false;
  const q = $("log-search").value.trim().toLowerCase();
  if (!q) return true;
  const text = (e.message + " " + (e.attrs || []).map((a) => a.key + "=" + a.value).join(" ")).toLowerCase();
  return text.includes(q);
}

function logItem(e) {
  const li = document.createElement("li");
  const t = document.createElement("time");
  const d = new Date(e.time);
  t.dateTime = e.time;
  t.textContent = d.toLocaleTimeString([], { hour12: false });
  const lvl = document.createElement("span");
  lvl.className = "lvl lvl-" + e.level;
  lvl.textContent = e.level;
  const msg = document.createElement("span");
  msg.className = "msg";
  msg.textContent = e.message;
  if (e.attrs && e.attrs.length) {
    const a = document.createElement("span");
    a.className = "attrs";
    a.textContent = " " + e.attrs.map((x) => x.key + "=" + x.value).join(" ");
    msg.append(a);
  }
  li.append(t, lvl, msg);
  return li;
}

function appendLog(e) {
  if (!logMatches(e)) return;
  const log = $("log");
  const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
  log.append(logItem(e));
  while (log.children.length > maxLogLines) log.firstChild.remove();
  if (stick) log.scrollTop = log.scrollHeight;
}

function refilterLogs() {
  const log = $("log");
  log.replaceChildren(...page.logs.filter(logMatches).map(logItem));
  log.scrollTop = log.scrollHeight;
}

$("log-level").addEventListener("change", refilterLogs);
$("log-search").addEventListener("input", refilterLogs);

function renderLogsHead() {
  const info = page.info;
  $("open-logs").hidden = !(info && info.canOpenFolder);
  $("log-folder").textContent = info && info.logDir ? "Log files: " + info.logDir : "";
}

$("open-logs").addEventListener("click", async () => {
  try {
    await call("POST", "/api/v1/ui/open-logs", {});
  } catch (e) {
    alert(e.message);
  }
});

// ---- settings ----

function renderFacts(st) {
  const info = page.info || {};
  const rows = [
    ["Name", st.name || "not claimed yet"],
    ["Node id", st.nodeId || "not registered yet"],
    ["Version", st.version],
    ["Computer", st.hostname + " · " + st.platform],
    ["Priority", info.priority || "normal"],
    ["Config folder", info.configDir || ""],
  ].filter((r) => r[1]);
  const dl = $("facts");
  const key = JSON.stringify(rows);
  if (dl.dataset.key !== key) {
    dl.dataset.key = key;
    dl.replaceChildren(...rows.flatMap(([k, v]) => {
      const dt = document.createElement("dt");
      dt.textContent = k;
      const dd = document.createElement("dd");
      dd.textContent = v;
      return [dt, dd];
    }));
  }
  renderControls($("settings-controls"), st);
  renderUpdate(st);
}

function renderUpdate(st) {
  const u = st.update;
  const text = $("update-text");
  $("update-check").hidden = !u;
  $("update-auto-row").hidden = !u;
  if (!u) {
    text.textContent = "This node does not update itself.";
    return;
  }
  const auto = $("update-auto");
  // A box being switched keeps what was clicked until its request ends.
  if (!auto.matches(":focus")) auto.checked = u.automatic;
  auto.disabled = !u.switchable;
  $("update-auto-usage").textContent = u.switchable
    ? "Signed releases are installed between chunks · saved to config.ini as auto_update"
    : "Cannot be switched here: " + u.off;
  const parts = ["Version " + u.version + "."];
  if (u.available) {
    parts.push(u.available.version + " is available" + (u.automatic ? " and is installed between chunks." : "."));
  } else if (u.checked) {
    parts.push("Up to date, checked " + new Date(u.checked).toLocaleString() + ".");
  } else {
    parts.push("Not checked yet.");
  }
  parts.push(u.automatic ? "Automatic updates are on." : "Automatic updates are off: " + (u.off || "by setting") + ".");
  if (u.error) parts.push("The last check failed: " + u.error);
  text.textContent = parts.join(" ");
}

$("update-auto").addEventListener("change", async () => {
  const auto = $("update-auto");
  auto.disabled = true;
  $("update-error").textContent = "";
  try {
    await call("PUT", "/api/v1/update/automatic", { automatic: auto.checked });
  } catch (e) {
    $("update-error").textContent = e.message;
  }
  auto.blur();
  await poll();
});

$("update-check").addEventListener("click", async () => {
  const b = $("update-check");
  b.disabled = true;
  try {
    await call("POST", "/api/v1/update/check", {});
    await poll();
  } catch (e) {
    $("update-text").textContent = e.message;
  }
  b.disabled = false;
});

async function loadSettings() {
  if (!api.signedIn) return;
  try {
    page.settings = await call("GET", "/api/v1/settings");
    renderSettings();
  } catch (e) {
    $("settings-error").textContent = e.message;
  }
}

const labels = {
  cores: "Cores", idle_minutes: "In use after input within (minutes)", cores_in_use: "Cores while in use",
  busy_percent: "Busy above other programs' CPU (%)", busy_cores: "Cores while busy", schedule: "Schedule",
  pause_on_battery: "Pause on battery", max_temperature: "Pause above CPU temperature (°C)",
};
const ruleOfKey = {
  cores: "cores", idle_minutes: "in-use", cores_in_use: "in-use", busy_percent: "busy", busy_cores: "busy",
  schedule: "schedule", pause_on_battery: "battery", max_temperature: "temperature",
};

function renderSettings() {
  const s = page.settings;
  const form = $("settings-form");
  if (page.settingsDirty && form.children.length) {
    updateEffects();
    return;
  }
  const rows = s.keys.map((k) => {
    const row = document.createElement("div");
    row.className = "setting";
    row.dataset.key = k.name;
    const name = document.createElement("label");
    name.className = "name";
    name.htmlFor = "set-" + k.name;
    name.textContent = labels[k.name] || k.name;
    const usage = document.createElement("div");
    usage.className = "usage";
    usage.textContent = k.usage.charAt(0).toUpperCase() + k.usage.slice(1) + " · config " + k.name + ", flag --" + k.flag + ", env " + k.env;
    const effect = document.createElement("div");
    effect.className = "effect";
    const input = document.createElement("div");
    input.className = "input";
    const v = s.settings[k.json];
    let el;
    if (k.name === "pause_on_battery") {
      el = document.createElement("input");
      el.type = "checkbox";
      el.checked = !!v;
    } else if (k.name === "schedule") {
      el = document.createElement("input");
      el.type = "text";
      el.value = v || "";
      el.placeholder = "always";
    } else {
      el = document.createElement("input");
      el.type = "number";
      el.min = "0";
      el.value = String(v ?? 0);
    }
    el.id = "set-" + k.name;
    el.name = k.json;
    el.addEventListener("input", () => { page.settingsDirty = true; });
    input.append(el);
    if (s.overridden.includes(k.name)) {
      const o = document.createElement("div");
      o.className = "over";
      o.textContent = "set for this run by a flag or environment variable";
      input.append(o);
    }
    row.append(name, input, usage, effect);
    return row;
  });
  const actions = document.createElement("div");
  actions.className = "actions";
  const save = document.createElement("button");
  save.type = "submit";
  save.className = "primary";
  save.textContent = "Save";
  const reset = document.createElement("button");
  reset.type = "button";
  reset.textContent = "Undo changes";
  reset.addEventListener("click", () => { page.settingsDirty = false; renderSettings(); });
  actions.append(save, reset);
  form.replaceChildren(...rows, actions);
  updateEffects();
}

function updateEffects() {
  const s = page.settings;
  for (const row of $("settings-form").querySelectorAll(".setting")) {
    const rule = ruleOfKey[row.dataset.key];
    const ef = (s.rules || []).find((r) => r.rule === rule);
    const el = row.querySelector(".effect");
    if (!ef || row.dataset.key === "cores_in_use" || row.dataset.key === "busy_cores") {
      el.textContent = "";
      continue;
    }
    el.textContent = ef.available === false ? "Not available on this computer" : "Now: " + ef.detail;
    el.classList.toggle("active", !!ef.active && rule !== "cores");
  }
}

$("settings-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("settings-error").textContent = "";
  $("settings-ok").textContent = "";
  const s = page.settings;
  const patch = {};
  for (const k of s.keys) {
    const el = $("set-" + k.name);
    if (!el) continue;
    const now = k.name === "pause_on_battery" ? el.checked : k.name === "schedule" ? el.value.trim() : Number(el.value);
    const was = s.settings[k.json];
    if (k.name === "schedule" ? now !== (was || "") : now !== was) patch[k.json] = k.name === "schedule" ? now : now;
  }
  if (!Object.keys(patch).length) {
    $("settings-ok").textContent = "Nothing changed.";
    return;
  }
  try {
    page.settings = await call("PATCH", "/api/v1/settings", patch);
    page.settingsDirty = false;
    renderSettings();
    $("settings-ok").textContent = "Saved and applied.";
  } catch (e) {
    $("settings-error").textContent = e.message;
    if (e.key) {
      const el = document.querySelector(`.setting[data-key="${CSS.escape(e.key)}"] input`);
      if (el) el.focus();
    }
  }
});

// ---- tabs and timers ----

for (const t of document.querySelectorAll(".tab")) {
  t.addEventListener("click", () => {
    page.view = t.dataset.view;
    render();
    if (page.view === "settings") loadSettings();
    if (page.view === "dashboard") loadHistory();
    if (page.view === "logs") {
      const log = $("log");
      log.scrollTop = log.scrollHeight;
    }
  });
}

setInterval(poll, 1000);
setInterval(tickCountdown, 1000);
setInterval(loadHistory, 5000);
setInterval(() => { if (page.view === "settings") loadSettings(); }, 5000);
startSession().then(() => { poll(); loadHistory(); });
