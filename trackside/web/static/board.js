// trackside live timing board. Plain script, no dependencies, no build step.
// Protocol (JSON text frames): the server sends {"type":"snapshot","epoch":e,"version":n,
// "data":{...}} on connect, then {"type":"patch","epoch":e,"version":n+1,"ops":[...]}, ...
// A gap in version numbers, or a patch of another epoch (the server's processor of the event
// started again), means our state is not the one the patch applies to: we ask for a fresh
// snapshot with {"type":"resync"}. The server also sends one on its own when the epoch ends.
"use strict";

const eventId = document.body.dataset.eventId;
const state = { epoch: null, version: null, data: null, session: null, klass: "", lastLaps: null };
// state.session: the index the viewer picked, or null to follow the timing system's current one.
const el = (id) => document.getElementById(id);

function fmtMs(ms) {
  if (ms === null || ms === undefined) return "";
  const neg = ms < 0; ms = Math.abs(ms);
  const h = Math.floor(ms / 3600000), m = Math.floor(ms / 60000) % 60;
  const s = Math.floor(ms / 1000) % 60, f = String(ms % 1000).padStart(3, "0");
  let out;
  if (h) out = `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}.${f}`;
  else if (m) out = `${m}:${String(s).padStart(2, "0")}.${f}`;
  else out = `${s}.${f}`;
  return (neg ? "-" : "") + out;
}

function fmtClock(ms) {
  if (ms === null || ms === undefined) return "--:--:--";
  const neg = ms < 0; ms = Math.abs(ms);
  const t = Math.floor(ms / 1000);
  const h = Math.floor(t / 3600), m = Math.floor(t / 60) % 60, s = t % 60;
  return (neg ? "-" : "") + [h, m, s].map((v) => String(v).padStart(2, "0")).join(":");
}

function interval(ms, laps) {
  if (laps) return laps === 1 ? "1 lap" : `${laps} laps`;
  return fmtMs(ms);
}

function currentIndex() {
  const sessions = (state.data && state.data.sessions) || [];
  if (!sessions.length) return null;
  if (state.session !== null && state.session < sessions.length) return state.session;
  const current = state.data.current;
  return current === null || current === undefined ? sessions.length - 1 : current;
}

function currentSession() {
  const index = currentIndex();
  return index === null ? null : state.data.sessions[index];
}

function renderSessions() {
  const sessions = (state.data && state.data.sessions) || [];
  const select = el("session");
  const want = sessions.map((s) => `${s.run}|${s.name}`).join("\n");
  if (select.dataset.sig !== want) {
    select.dataset.sig = want;
    select.innerHTML = "";
    sessions.forEach((s, i) => {
      const o = document.createElement("option");
      o.value = String(i); o.textContent = `${s.name || "Run " + s.run} (${s.type})`;
      select.appendChild(o);
    });
  }
  const index = currentIndex();
  if (index !== null) select.value = String(index);
}

function renderClasses(session) {
  const select = el("klass");
  const names = [...new Set(session.cars.map((c) => c.class).filter(Boolean))].sort();
  const sig = names.join("|");
  if (select.dataset.sig !== sig) {
    select.dataset.sig = sig;
    select.innerHTML = '<option value="">All classes</option>';
    for (const n of names) {
      const o = document.createElement("option"); o.value = n; o.textContent = n;
      select.appendChild(o);
    }
  }
  if (state.klass && !names.includes(state.klass)) state.klass = "";
  select.value = state.klass;
}

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function render() {
  renderSessions();
  const session = currentSession();
  const body = el("rows");
  if (!session) { body.innerHTML = ""; el("name").textContent = "Waiting for the timing feed"; return; }
  el("name").textContent = session.name || `Run ${session.run}`;
  el("track").textContent = [session.track, session.type].filter(Boolean).join(" · ");
  const flag = session.flag || "none";
  el("flagbar").className = flag;
  el("flag").textContent = flag;
  el("racetime").textContent = fmtClock(session.race_time_ms);
  let togo = "";
  if (session.laps_to_go !== null && session.laps_to_go !== undefined) togo = `${session.laps_to_go} laps`;
  else if (session.time_to_go_ms) togo = fmtClock(session.time_to_go_ms);
  el("togo").textContent = togo || "—";
  // The official classification's status: provisional (live) until an official declares it.
  const cls = session.classification;
  el("official").textContent = !cls ? "—"
    : cls.status === "official" ? `Official — revision ${cls.revision}` : "Provisional";
  el("official").className = `clock ${cls ? cls.status : ""}`;
  renderClasses(session);
  const inClass = Boolean(state.klass);
  const cars = session.cars.filter((c) => !inClass || c.class === state.klass);
  const frag = document.createDocumentFragment();
  for (const c of cars) {
    const tr = document.createElement("tr");
    tr.dataset.car = c.registration;
    if (c.stale) tr.classList.add("stale");
    tr.appendChild(cell(inClass ? c.class_position : c.position));
    tr.appendChild(cell(c.number, "l"));
    tr.appendChild(cell(c.class, "l opt"));
    tr.appendChild(cell(inClass ? c.position : c.class_position, "opt"));
    const name = cell(c.name, "l name");
    if (c.in_pit) name.insertAdjacentHTML("beforeend", '<span class="tag pit">PIT</span>');
    if (c.stale) name.insertAdjacentHTML("beforeend", '<span class="tag stale">STALE</span>');
    if (session.name === "Checkpoints" && c.sectors && c.sectors.length) {
      // A session timed by GPS checkpoints: the splits, each the time from the start.
      const splits = document.createElement("span");
      splits.className = "splits";
      splits.textContent = c.sectors.map((s) => `${s.to} ${fmtMs(s.time_ms)}`).join(" · ");
      name.appendChild(splits);
    }
    tr.appendChild(name);
    tr.appendChild(cell(c.laps));
    tr.appendChild(cell(fmtMs(c.last_lap_ms),
      c.last_lap_overall_best ? "ob" : c.last_lap_personal_best ? "pb" : ""));
    const bestMark = c.overall_best || (inClass && c.class_best) ? "ob opt" : "opt";
    tr.appendChild(cell(fmtMs(c.best_lap_ms), bestMark));
    const gap = inClass ? interval(c.class_gap_ms, c.class_gap_laps) : interval(c.gap_ms, c.gap_laps);
    const diff = inClass ? interval(c.class_difference_ms, c.class_difference_laps)
                         : interval(c.difference_ms, c.difference_laps);
    tr.appendChild(cell(gap));
    tr.appendChild(cell(diff, "opt"));
    const gained = inClass ? c.class_positions_gained : c.positions_gained;
    tr.appendChild(cell(gained === null || gained === undefined ? "" : (gained > 0 ? `▲${gained}` : gained < 0 ? `▼${-gained}` : "–"),
      gained > 0 ? "up opt" : gained < 0 ? "down opt" : "opt"));
    frag.appendChild(tr);
  }
  body.replaceChildren(frag);
  el("updated").textContent = `v${state.version}`;
  const lead = session.cars.length ? session.cars[0].laps : 0;
  const index = currentIndex();
  const key = `${index}:${lead}`;
  if (key !== state.lastLaps) {
    state.lastLaps = key;
    const base = `/events/${eventId}/live/sessions/${index}/charts`;
    el("chart-positions").src = `${base}/positions.svg?v=${state.version}`;
    el("chart-laps").src = `${base}/laps.svg?v=${state.version}`;
  }
}

const decoder = new TextDecoder();
let socket = null;
let retry = 500;

function connect() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const token = new URLSearchParams(location.search).get("access_token");
  const q = token ? `?access_token=${encodeURIComponent(token)}` : "";
  socket = new WebSocket(`${proto}//${location.host}/ws/events/${eventId}${q}`);
  socket.binaryType = "arraybuffer";  // text frames now; binary ones still read
  socket.onopen = () => { el("status").className = "live"; el("status").textContent = "live"; retry = 500; };
  socket.onmessage = (ev) => {
    const text = typeof ev.data === "string" ? ev.data : decoder.decode(ev.data);
    const msg = JSON.parse(text);
    if (msg.type === "snapshot") {
      state.epoch = msg.epoch; state.version = msg.version; state.data = msg.data; render();
    } else if (msg.type === "patch") {
      if (msg.epoch === state.epoch && msg.version <= state.version) return;  // already have it
      if (state.version === null || msg.epoch !== state.epoch || msg.version !== state.version + 1) {
        socket.send(JSON.stringify({ type: "resync" }));
        return;
      }
      state.data = applyPatch(state.data, msg.ops);
      state.version = msg.version;
      render();
    }
  };
  socket.onclose = (ev) => {
    el("status").className = "down";
    el("status").textContent = ev.code === 4401 ? "sign-in needed" : "reconnecting…";
    if (ev.code === 4401 || ev.code === 4404) return;
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 10000);
  };
}

el("session").addEventListener("change", (e) => {
  state.session = Number(e.target.value); state.lastLaps = null; render();
});
el("klass").addEventListener("change", (e) => { state.klass = e.target.value; render(); });
connect();
