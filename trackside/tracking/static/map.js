// trackside live map: a snapshot, then position updates, over /ws/events/{id}/positions.
"use strict";
(function () {
  const body = document.body;
  const eventId = body.dataset.eventId;
  const COLORS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4",
                  "#f032e6", "#9a6324", "#800000", "#008080", "#000075", "#808000"];
  const map = L.map("map", { preferCanvas: false, zoomControl: true });
  if (body.dataset.tiles) {
    L.tileLayer(body.dataset.tiles, { attribution: body.dataset.attribution, maxZoom: 19 }).addTo(map);
  }
  map.setView([0, 0], 2);
  const courseLayer = L.layerGroup().addTo(map);
  const field = new Map(); // userId -> {name, color, marker, trail, last, row}
  let staleAfterS = 120;
  let followed = null;
  let fitted = false;
  const rows = document.getElementById("rows");
  const status = document.getElementById("status");

  function color(index) { return COLORS[index % COLORS.length]; }

  function drawCourse(snapshot) {
    courseLayer.clearLayers();
    const bounds = [];
    if (snapshot.course.length > 1) {
      L.polyline(snapshot.course, { color: "#555", weight: 2, dashArray: "6 6" })
        .addTo(courseLayer);
    }
    for (const cp of snapshot.checkpoints) {
      let shape;
      if (cp.kind === "line") {
        shape = L.polyline(cp.points, { color: "#d93025", weight: 5 });
        bounds.push(...cp.points);
      } else {
        shape = L.circle(cp.center, { radius: cp.radiusM, color: "#d93025", weight: 3,
                                      fillOpacity: 0.1 });
        bounds.push(cp.center);
      }
      shape.bindTooltip(cp.name, { permanent: true, direction: "top", className: "tid" });
      shape.addTo(courseLayer);
      shape.getElement && shape.getElement() && shape.getElement().classList.add("checkpoint");
    }
    return bounds;
  }

  function ensure(userId, name) {
    let p = field.get(userId);
    if (p) return p;
    const c = color(field.size);
    const trail = L.polyline([], { color: c, weight: 3, opacity: 0.7 }).addTo(map);
    const marker = L.circleMarker([0, 0], { radius: 8, color: "#111", weight: 2, fillColor: c,
                                            fillOpacity: 1 });
    const row = document.createElement("tr");
    row.dataset.userId = userId;
    row.innerHTML = `<td><span class="swatch" style="background:${c}"></span><span class="name"></span></td>` +
      "<td class=\"seen\">—</td><td class=\"speed\">—</td><td class=\"batt\">—</td>";
    row.querySelector(".name").textContent = name;
    row.addEventListener("click", () => follow(userId));
    rows.appendChild(row);
    p = { name, color: c, marker, trail, last: null, row, placed: false };
    field.set(userId, p);
    return p;
  }

  function place(p, card) {
    if (p.last && Date.parse(card.time) < Date.parse(p.last.time)) return; // late and old
    p.last = card;
    const at = [card.lat, card.lon];
    p.marker.setLatLng(at);
    if (!p.placed) {
      p.marker.addTo(map);
      p.marker.bindTooltip(card.tid, { permanent: true, direction: "right", className: "tid" });
      p.marker.getElement().classList.add("participant");
      p.placed = true;
    }
    p.trail.addLatLng(at);
    p.row.querySelector(".speed").textContent =
      card.speed == null ? "—" : (card.speed * 3.6).toFixed(1);
    p.row.querySelector(".batt").textContent =
      card.battery == null ? "—" : `${Math.round(card.battery)}%`;
    if (followed === p) map.panTo(at);
  }

  function follow(userId) {
    const p = field.get(userId);
    if (followed) followed.row.classList.remove("followed");
    followed = followed === p ? null : p;
    if (followed) {
      followed.row.classList.add("followed");
      if (followed.last) map.setView([followed.last.lat, followed.last.lon], Math.max(map.getZoom(), 15));
    }
  }

  function ago(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return `${s} s ago`;
    if (s < 3600) return `${Math.floor(s / 60)} min ago`;
    return `${Math.floor(s / 3600)} h ago`;
  }

  function refresh() {
    const now = Date.now();
    for (const p of field.values()) {
      if (!p.last) continue;
      const age = now - Date.parse(p.last.time);
      const stale = age > staleAfterS * 1000;
      p.row.querySelector(".seen").textContent = ago(age);
      p.row.classList.toggle("stale", stale);
      p.marker.setStyle({ fillColor: stale ? "#9aa0a6" : p.color, dashArray: stale ? "3 3" : null });
      const el = p.marker.getElement();
      if (el) el.classList.toggle("stale", stale);
    }
  }

  function onSnapshot(snapshot) {
    staleAfterS = snapshot.staleAfterS;
    const bounds = drawCourse(snapshot);
    for (const participant of snapshot.participants) {
      const p = ensure(participant.userId, participant.name);
      p.trail.setLatLngs(participant.trail);
      if (participant.last) {
        p.last = null;
        place(p, participant.last);
        p.trail.setLatLngs(participant.trail);
        bounds.push([participant.last.lat, participant.last.lon]);
      }
      bounds.push(...participant.trail);
    }
    if (!fitted && bounds.length) {
      map.fitBounds(L.latLngBounds(bounds).pad(0.15));
      fitted = true;
    }
    refresh();
    body.dataset.ready = "true";
  }

  function onPositions(message) {
    for (const card of message.positions) place(ensure(card.userId, card.name), card);
    refresh();
    body.dataset.updates = String(Number(body.dataset.updates || 0) + 1);
  }

  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const token = new URLSearchParams(location.search).get("access_token");
    const q = token ? `?access_token=${encodeURIComponent(token)}` : "";
    const socket = new WebSocket(`${proto}//${location.host}/ws/events/${eventId}/positions${q}`);
    socket.onopen = () => { status.textContent = "live"; status.className = "live"; };
    socket.onmessage = (e) => {
      const message = JSON.parse(e.data);
      if (message.type === "snapshot") onSnapshot(message);
      else if (message.type === "positions") onPositions(message);
    };
    socket.onclose = (e) => {
      status.className = "down";
      if (e.code === 4401 || e.code === 4403) {
        status.textContent = "this map is private: log in as an organizer or participant";
        return;
      }
      if (e.code === 4404) { status.textContent = "no such event"; return; }
      status.textContent = "reconnecting…";
      setTimeout(connect, 2000);
    };
  }

  map.on("resize", () => {
    // A phone turned round, or the window resized: keep the followed participant in view.
    if (followed && followed.last) map.panTo([followed.last.lat, followed.last.lon]);
  });
  setInterval(refresh, 5000);
  connect();
})();
