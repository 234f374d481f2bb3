"use strict";
// trackside judge page: log in, pick the team, wait for the start, TAP as each runner comes in.
//
// Nothing tapped is lost: each tap is written to IndexedDB before anything else, and sent to
// POST /api/enviar_tiempos/ with its own id (id_registro), so sending it again is harmless.
// A tap waits UNDO_MS on the phone (it can be undone), then is sent in tap order; offline it
// stays "saved on the phone" and goes when the network returns. The service worker (sw.js)
// serves this page without network. The clock runs from the server's start time, corrected
// for the phone's clock offset measured over the judges' socket (ping/pong).

const RUNNERS = 15;
const UNDO_MS = 4000;
const SYNC_MS = 1000;
const $ = (id) => document.getElementById(id);

// --- IndexedDB: "kv" (session, team, clock) and "taps" (by id) ----------------------------------

let db = null;

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open("trackside-judge", 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore("kv");
      request.result.createObjectStore("taps", { keyPath: "id" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function tx(store, mode, work) {
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(store, mode);
    const request = work(transaction.objectStore(store));
    let result;
    if (request) request.onsuccess = () => { result = request.result; };
    transaction.oncomplete = () => resolve(result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}

const kvGet = (key) => tx("kv", "readonly", (s) => s.get(key));
const kvSet = (key, value) => tx("kv", "readwrite", (s) => s.put(value, key));
const kvDelete = (key) => tx("kv", "readwrite", (s) => s.delete(key));
const putTap = (tap) => tx("taps", "readwrite", (s) => s.put(tap));
const deleteTap = (id) => tx("taps", "readwrite", (s) => s.delete(id));
const allTaps = () => tx("taps", "readonly", (s) => s.getAll());

// --- state ------------------------------------------------------------------------------------

const state = {
  auth: null, // {access, refresh, juezId, username}
  team: null, // {id, nombre, dorsal, competencia}
  competition: null, // as /api/competencias/{id}/ answers
  startMs: null, // the server's start, Unix ms
  stopMs: null,
  offsetMs: 0, // server clock - phone clock
  bestRtt: Infinity,
  taps: [], // this team's taps, in tap order
  socket: null,
};

function serverNow() { return Date.now() + state.offsetMs; }

function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function claims(token) {
  const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
}

function clock(ms) {
  const sign = ms < 0 ? "-" : "";
  const t = Math.abs(ms);
  const h = Math.floor(t / 3600000);
  const m = Math.floor(t / 60000) % 60;
  const s = Math.floor(t / 1000) % 60;
  const tenth = Math.floor(t / 100) % 10;
  return `${sign}${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}.${tenth}`;
}

function show(section) {
  for (const id of ["login", "teams", "timing"]) $(id).hidden = id !== section;
}

// --- the server --------------------------------------------------------------------------------

async function refreshToken() {
  const response = await fetch("/api/token/refresh/", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh: state.auth.refresh }),
  });
  if (!response.ok) return false;
  const pair = await response.json();
  state.auth = { ...state.auth, access: pair.access, refresh: pair.refresh || state.auth.refresh };
  await kvSet("auth", state.auth);
  return true;
}

async function api(method, path, body) {
  const call = () => fetch(path, {
    method,
    headers: { "Authorization": `Bearer ${state.auth.access}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let response = await call();
  if (response.status === 401 && (await refreshToken())) response = await call();
  return response;
}

// --- log in and pick the team ------------------------------------------------------------------

async function login(event) {
  event.preventDefault();
  $("login-error").textContent = "";
  try {
    const response = await fetch("/api/token/", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: $("username").value, password: $("password").value }),
    });
    const body = await response.json();
    if (!response.ok) throw new Error(body.detail || "login refused");
    const juezId = claims(body.access).juez_id;
    if (!juezId) throw new Error("this account is not a judge");
    state.auth = { access: body.access, refresh: body.refresh, juezId, username: $("username").value };
    await kvSet("auth", state.auth);
    await pickTeam();
  } catch (error) {
    $("login-error").textContent = error.message || "no network";
  }
}

async function pickTeam() {
  show("teams");
  let teams = null;
  try {
    const response = await api("GET", "/api/equipos/");
    if (response.ok) {
      teams = await response.json();
      await kvSet("teams", teams);
    }
  } catch (_) { /* offline: the teams last seen */ }
  teams = teams || (await kvGet("teams")) || [];
  const list = $("team-list");
  list.replaceChildren();
  for (const team of teams) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.textContent = `${team.dorsal} · ${team.nombre}`;
    button.dataset.team = team.id;
    button.addEventListener("click", () => chooseTeam(team));
    item.append(button);
    list.append(item);
  }
  if (!teams.length) list.textContent = "No team is assigned to you yet.";
}

async function chooseTeam(team) {
  state.team = team;
  await kvSet("team", team);
  await startTiming();
}

// --- timing ------------------------------------------------------------------------------------

async function startTiming() {
  show("timing");
  $("team-name").textContent = `${state.team.dorsal} · ${state.team.nombre}`;
  const key = `competition:${state.team.competencia}`;
  const saved = (await kvGet(key)) || {};
  state.competition = saved.competition || null;
  state.startMs = saved.startMs ?? null;
  state.stopMs = saved.stopMs ?? null;
  state.offsetMs = saved.offsetMs ?? 0;
  state.taps = (await allTaps()).filter((t) => t.team === state.team.id).sort((a, b) => a.n - b.n);
  render();
  connect();
  loadCompetition();
}

async function keepClock() {
  await kvSet(`competition:${state.team.competencia}`, {
    competition: state.competition, startMs: state.startMs, stopMs: state.stopMs,
    offsetMs: state.offsetMs,
  });
}

function learn(competition) {
  if (!competition || !state.team || competition.id !== state.team.competencia) return;
  state.competition = { ...(state.competition || {}), ...competition };
  if (competition.fecha_inicio) state.startMs = Date.parse(competition.fecha_inicio);
  if (competition.fecha_fin) state.stopMs = Date.parse(competition.fecha_fin);
  if (competition.en_curso) state.stopMs = null;
  keepClock();
  render();
}

async function loadCompetition() {
  try {
    const response = await api("GET", `/api/competencias/${state.team.competencia}/`);
    if (response.ok) learn(await response.json());
  } catch (_) { /* offline */ }
}

function connect() {
  if (state.socket || !state.team) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${location.host}/ws/juez/${state.auth.juezId}/?token=${encodeURIComponent(state.auth.access)}`;
  let socket;
  try { socket = new WebSocket(url); } catch (_) { setTimeout(connect, 2000); return; }
  state.socket = socket;
  socket.onopen = () => {
    state.bestRtt = Infinity;
    for (let i = 0; i < 5; i++) {
      setTimeout(() => {
        if (socket.readyState === 1) socket.send(JSON.stringify({ tipo: "ping", t: Date.now() }));
      }, i * 150);
    }
    network();
  };
  socket.onmessage = (event) => onMessage(JSON.parse(event.data));
  socket.onclose = async (event) => {
    state.socket = null;
    network();
    if (event.code === 4401 && (await refreshToken().catch(() => false))) { connect(); return; }
    if (event.code === 4401 || event.code === 4403) return;
    setTimeout(connect, 2000);
  };
}

function onMessage(message) {
  const kind = message.type || message.tipo;
  const data = message.data || message;
  if (kind === "pong") {
    const now = Date.now();
    const rtt = now - data.t;
    if (rtt < state.bestRtt) {
      state.bestRtt = rtt;
      state.offsetMs = data.servidor - (data.t + rtt / 2);
      keepClock();
    }
  } else if (kind === "conexion_establecida" || kind === "competencia_iniciada" ||
             kind === "competencia_detenida") {
    learn(data.competencia);
  } else if (kind === "carrera.iniciada") {
    learn({ id: data.competencia_id, nombre: data.nombre, en_curso: true,
            fecha_inicio: data.hora_inicio });
  } else if (kind === "carrera.detenida") {
    learn({ id: data.competencia_id, en_curso: false, fecha_fin: data.hora_fin });
  }
}

async function tap() {
  if (state.startMs === null || state.stopMs !== null || counted() >= RUNNERS) return;
  const record = {
    id: newId(),
    team: state.team.id,
    n: (state.taps.length ? state.taps[state.taps.length - 1].n : 0) + 1,
    tiempo: Math.max(0, Math.round(serverNow() - state.startMs)),
    timestamp: new Date().toISOString(),
    at: Date.now(),
    state: "saved",
  };
  state.taps.push(record);
  await putTap(record);
  render();
  setTimeout(render, UNDO_MS + 50);
}

async function undo() {
  const last = state.taps[state.taps.length - 1];
  if (!last || last.state !== "saved" || Date.now() - last.at >= UNDO_MS) return;
  state.taps.pop();
  await deleteTap(last.id);
  render();
}

let syncing = false;

async function sync() {
  if (syncing || !state.team || !state.auth) return;
  const now = Date.now();
  const due = state.taps.filter((t) => (t.state === "saved" || t.state === "sent") && now - t.at >= UNDO_MS);
  if (!due.length) return;
  syncing = true;
  try {
    for (const t of due) { t.state = "sent"; await putTap(t); }
    render();
    const body = {
      equipo_id: state.team.id,
      registros: due.map((t) => ({ id_registro: t.id, tiempo: t.tiempo, timestamp: t.timestamp })),
    };
    const response = await api("POST", "/api/enviar_tiempos/", body);
    if (response.status === 201) {
      const answer = await response.json();
      const stored = new Set(answer.registros.map((r) => r.id_registro));
      const ignored = new Set(answer.ignorados.map((r) => r.id_registro));
      for (const t of due) {
        if (stored.has(t.id)) t.state = "confirmed";
        else if (ignored.has(t.id)) t.state = "ignored";
        await putTap(t);
      }
    }
  } catch (_) {
    for (const t of due) { t.state = "saved"; await putTap(t); } // not sent: no network
  } finally {
    syncing = false;
    render();
  }
}

// --- drawing -----------------------------------------------------------------------------------

const STATES = { saved: "saved on the phone", sent: "sent", confirmed: "confirmed", ignored: "not counted" };

function counted() { return state.taps.filter((t) => t.state !== "ignored").length; }

function network() {
  const online = navigator.onLine && state.socket && state.socket.readyState === 1;
  $("net").className = `net ${online ? "online" : "offline"}`;
  $("net").textContent = online ? "online" : "offline";
}

function render() {
  if (!state.team) return;
  const n = counted();
  $("count").textContent = `${n} of ${RUNNERS}`;
  $("done").hidden = n < RUNNERS;
  $("tap").disabled = state.startMs === null || state.stopMs !== null || n >= RUNNERS;
  const last = state.taps[state.taps.length - 1];
  $("undo").hidden = !(last && last.state === "saved" && Date.now() - last.at < UNDO_MS);
  const list = $("taps");
  list.replaceChildren();
  for (const t of state.taps) {
    const item = document.createElement("li");
    item.dataset.id = t.id;
    item.dataset.state = t.state;
    item.dataset.tiempo = t.tiempo;
    const label = document.createElement("span");
    label.className = `state ${t.state}`;
    label.textContent = STATES[t.state];
    item.append(clock(t.tiempo), label);
    list.append(item);
  }
  tick();
}

function tick() {
  if (!state.team) return;
  const phase = $("phase");
  if (state.startMs !== null) {
    const end = state.stopMs !== null ? state.stopMs : serverNow();
    $("clock").textContent = clock(end - state.startMs);
    $("clock").dataset.running = String(state.stopMs === null);
    phase.textContent = state.stopMs !== null ? "Stopped" : "Running";
  } else if (state.competition && state.competition.fecha_hora) {
    const left = Date.parse(state.competition.fecha_hora) - serverNow();
    $("clock").textContent = clock(Math.max(0, left));
    phase.textContent = left > 0 ? "Starts in" : "Waiting for the start";
  }
}

// --- start -------------------------------------------------------------------------------------

async function main() {
  db = await openDb();
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/judge/sw.js", { scope: "/judge/" }).catch(() => {});
  }
  $("login-form").addEventListener("submit", login);
  $("tap").addEventListener("click", tap);
  $("undo").addEventListener("click", undo);
  $("change-team").addEventListener("click", async () => {
    state.team = null;
    if (state.socket) state.socket.close();
    await kvDelete("team");
    pickTeam();
  });
  $("logout").addEventListener("click", async () => {
    await kvDelete("auth");
    location.reload();
  });
  window.addEventListener("online", () => { network(); connect(); sync(); });
  window.addEventListener("offline", network);
  setInterval(tick, 100);
  setInterval(sync, SYNC_MS);
  state.auth = await kvGet("auth");
  state.team = await kvGet("team");
  network();
  if (!state.auth) show("login");
  else if (!state.team) pickTeam();
  else startTiming();
  window.judgeReady = true;
}

main();
