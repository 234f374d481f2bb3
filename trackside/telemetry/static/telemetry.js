// The telemetry page: log in, pick what to chart, follow it live; overlay a lap on the best.
"use strict";

const TOKEN_KEY = "trackside.token";
const COLORS = ["#1565c0", "#c62828", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#5d4037"];
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem(TOKEN_KEY);
let described = [];
let timer = null;
window.telemetryChart = null;
window.lapChart = null;

async function api(path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token}` } });
  if (response.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    token = null;
    showLogin();
    throw new Error("logged out");
  }
  const body = await response.json();
  if (!response.ok) throw new Error(body.detail || response.statusText);
  return body;
}

function showLogin() {
  $("login").hidden = false;
  $("explore").hidden = true;
  $("laps").hidden = true;
}

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const response = await fetch("/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: form.get("username"), password: form.get("password") }),
  });
  const body = await response.json();
  if (!response.ok) {
    $("login-error").textContent = body.detail || "login failed";
    return;
  }
  token = body.access_token;
  sessionStorage.setItem(TOKEN_KEY, token);
  start();
});

async function start() {
  $("login").hidden = true;
  $("explore").hidden = false;
  $("laps").hidden = false;
  const me = await api("/me");
  $("who").textContent = `${me.username} · level ${me.level}`;
  await describe();
}

async function describe() {
  described = await api(`/api/telemetry/measurements?bucket=${encodeURIComponent($("bucket").value)}`);
  const select = $("measurement");
  const chosen = select.value;
  select.replaceChildren(...described.map((m) => new Option(m.name, m.name)));
  if (chosen && described.some((m) => m.name === chosen)) select.value = chosen;
  pickers();
}

function current() {
  return described.find((m) => m.name === $("measurement").value);
}

function pickers() {
  const m = current();
  $("tags").replaceChildren();
  $("fields").replaceChildren();
  if (!m) {
    $("chart-status").textContent = "No telemetry in this bucket yet.";
    return;
  }
  for (const [key, values] of Object.entries(m.tags)) {
    const select = document.createElement("select");
    select.dataset.tag = key;
    select.append(new Option(`any ${key}`, ""), ...values.map((v) => new Option(v, v)));
    select.addEventListener("change", draw);
    const label = document.createElement("label");
    label.append(`${key} `, select);
    $("tags").append(label);
  }
  m.fields.forEach((field, i) => {
    const box = document.createElement("input");
    box.type = "checkbox";
    box.value = field;
    box.checked = i < 3;
    box.addEventListener("change", draw);
    const label = document.createElement("label");
    label.append(box, ` ${field}`);
    $("fields").append(label);
  });
  draw();
}

function chosenFields() {
  return [...$("fields").querySelectorAll("input:checked")].map((box) => box.value);
}

async function draw() {
  clearTimeout(timer);
  const m = current();
  const fields = chosenFields();
  if (!m || !token) return;
  const params = new URLSearchParams({
    bucket: $("bucket").value,
    measurement: m.name,
    start: `now-${$("range").value}`,
    stop: "now",
  });
  if (fields.length) params.set("fields", fields.join(","));
  for (const select of $("tags").querySelectorAll("select")) {
    if (select.value) params.set(select.dataset.tag, select.value);
  }
  try {
    const answer = await api(`/api/telemetry/query?${params}`);
    plot(answer, fields);
  } catch (error) {
    $("chart-status").textContent = String(error.message || error);
  }
  if ($("live").checked) timer = setTimeout(draw, 1000);
}

function columns(answer, fields) {
  const series = answer.series.filter((s) => !fields.length || fields.includes(s.field));
  const numeric = series.filter((s) => (answer.raw ? s.value : s.mean).some((v) => typeof v === "number" || typeof v === "boolean"));
  const tables = numeric.map((s) => [
    s.time.map((t) => t / 1000),
    (answer.raw ? s.value : s.mean).map((v) => (typeof v === "boolean" ? Number(v) : v)),
  ]);
  return { names: numeric.map((s) => s.field), data: tables.length ? uPlot.join(tables) : [[]] };
}

function chartOptions(names, el, xLabel, timeAxis) {
  return {
    width: Math.max(320, el.clientWidth || 900),
    height: 320,
    scales: { x: { time: timeAxis } },
    axes: [{ label: xLabel }, { size: 70 }],
    series: [{}, ...names.map((name, i) => ({ label: name, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: true }))],
  };
}

function plot(answer, fields) {
  const { names, data } = columns(answer, fields);
  const el = $("chart");
  const points = data[0].length;
  $("chart-status").textContent = `${points} ${answer.raw ? "points" : `buckets of ${answer.every}`}` +
    ` · updated ${new Date().toLocaleTimeString()}`;
  const same = window.telemetryChart && window.telemetryChart.series.length === names.length + 1 &&
    names.every((n, i) => window.telemetryChart.series[i + 1].label === n);
  if (same) {
    window.telemetryChart.setData(data);
    return;
  }
  if (window.telemetryChart) window.telemetryChart.destroy();
  window.telemetryChart = new uPlot(chartOptions(names, el, "time", true), data, el);
}

$("measurement").addEventListener("change", pickers);
$("bucket").addEventListener("change", describe);
$("range").addEventListener("change", draw);
$("live").addEventListener("change", draw);

$("lap-show").addEventListener("click", async () => {
  const event = $("lap-event").value, session = $("lap-session").value, car = $("lap-car").value;
  const field = $("lap-field").value;
  const params = new URLSearchParams({ lap: $("lap-number").value, fields: field, compare: "best" });
  try {
    const answer = await api(`/events/${event}/sessions/${session}/cars/${encodeURIComponent(car)}/telemetry?${params}`);
    const pick = (lap) => {
      const s = lap.series.find((x) => x.field === field);
      if (!s) return [[], []];
      return [s.time.map((t) => t / 1000), lap.raw ? s.value : s.mean];
    };
    const data = uPlot.join([pick(answer.lap), pick(answer.best)]);
    const names = [`lap ${answer.lap.number} (${(answer.lap.lapTimeMs / 1000).toFixed(3)} s)`,
      `best: lap ${answer.best.number} (${(answer.best.lapTimeMs / 1000).toFixed(3)} s)`];
    const el = $("lap-chart");
    if (window.lapChart) window.lapChart.destroy();
    const options = chartOptions(names, el, "seconds into the lap", false);
    options.series[2].dash = [6, 4];
    window.lapChart = new uPlot(options, data, el);
    $("lap-status").textContent = `${field}: ${data[0].length} points`;
  } catch (error) {
    $("lap-status").textContent = String(error.message || error);
  }
});

if (token) start().catch(showLogin); else showLogin();
