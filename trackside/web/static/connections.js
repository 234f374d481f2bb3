// The /connections page: sign in, connect iRacing (the OAuth redirect dance), sync, list.
"use strict";
(function () {
  const KEY = "trackside.token";
  const $ = (id) => document.getElementById(id);
  const token = () => localStorage.getItem(KEY);

  function notice(text, ok) {
    const box = $("notice");
    box.textContent = text;
    box.className = "note " + (ok ? "ok" : "bad");
    box.hidden = !text;
  }

  async function api(method, path) {
    const response = await fetch(path, {
      method,
      headers: { Authorization: "Bearer " + token() },
      credentials: "same-origin",
    });
    if (response.status === 401) {
      localStorage.removeItem(KEY);
      show();
      throw new Error("signed out: please sign in again");
    }
    const body = response.status === 204 ? {} : await response.json();
    if (!response.ok) throw new Error(body.detail || "HTTP " + response.status);
    return body;
  }

  function cell(row, text, cls) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "—" : String(text);
    if (cls) td.className = cls;
    row.appendChild(td);
  }

  async function loadSessions() {
    const page = await api("GET", "/api/iracing/sessions?limit=100&offset=0");
    $("total").textContent = page.total;
    const body = $("sessions");
    body.textContent = "";
    for (const s of page.sessions) {
      const tr = document.createElement("tr");
      const me = s.participant || {};
      cell(tr, s.startTime ? s.startTime.replace("T", " ").replace(":00Z", "Z") : null, "l");
      cell(tr, s.sessionType, "l");
      cell(tr, s.leagueName || s.sessionName, "l");
      cell(tr, s.trackName, "l");
      cell(tr, s.carName, "l");
      cell(tr, me.finishPosition);
      cell(tr, me.startingPosition);
      cell(tr, me.lapsCompleted);
      cell(tr, me.bestLapTime === null || me.bestLapTime === undefined
        ? null : me.bestLapTime.toFixed(3));
      cell(tr, me.incidents);
      tr.dataset.subsession = s.subSessionId;
      body.appendChild(tr);
    }
    $("sessions-card").hidden = false;
  }

  async function loadStatus() {
    let status;
    try {
      status = await api("GET", "/api/iracing/status");
    } catch (error) {
      $("state").textContent = error.message;
      return;
    }
    const linked = status.connected || status.needsReconnect;
    if (status.connected) {
      $("state").textContent = "Connected as " + (status.displayName || "?") +
        " (customer " + status.custId + ")" +
        (status.lastSyncedAt ? " · last synced " + status.lastSyncedAt.replace(/\.\d+/, "") : " · never synced");
    } else if (status.needsReconnect) {
      $("state").textContent = "The iRacing connection needs reconnecting: " +
        (status.lastError || "the token stopped working");
    } else {
      $("state").textContent = "Not connected.";
    }
    $("connect").hidden = status.connected;
    $("connect").textContent = status.needsReconnect ? "Reconnect iRacing" : "Connect iRacing";
    $("sync").hidden = !status.connected;
    $("disconnect").hidden = !linked;
    await loadSessions();
  }

  function show() {
    const signedIn = Boolean(token());
    $("login").hidden = signedIn;
    $("iracing").hidden = !signedIn;
    $("sessions-card").hidden = true;
    if (signedIn) loadStatus().catch((e) => notice(e.message, false));
  }

  $("login").addEventListener("submit", async (event) => {
    event.preventDefault();
    const response = await fetch("/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: $("username").value, password: $("password").value }),
    });
    const body = await response.json();
    if (!response.ok) return notice(body.detail || "could not sign in", false);
    localStorage.setItem(KEY, body.access);
    notice("", true);
    show();
  });

  $("connect").addEventListener("click", async () => {
    try {
      const started = await api("GET", "/auth/iracing/start");
      window.location.href = started.authUrl;
    } catch (error) {
      notice(error.message, false);
    }
  });

  $("sync").addEventListener("click", async () => {
    $("sync").disabled = true;
    $("syncresult").textContent = "Syncing…";
    try {
      const result = await api("POST", "/api/iracing/sync");
      $("syncresult").textContent = result.message;
      for (const detail of result.errorDetails) $("syncresult").textContent += " · " + detail;
      await loadStatus();
    } catch (error) {
      $("syncresult").textContent = error.message;
    } finally {
      $("sync").disabled = false;
    }
  });

  $("disconnect").addEventListener("click", async () => {
    try {
      await api("DELETE", "/api/iracing/connection");
      notice("iRacing disconnected.", true);
      await loadStatus();
    } catch (error) {
      notice(error.message, false);
    }
  });

  $("signout").addEventListener("click", () => {
    localStorage.removeItem(KEY);
    show();
  });

  const query = new URLSearchParams(window.location.search);
  if (query.get("success") === "iracing_connected") notice("iRacing connected.", true);
  else if (query.get("error") === "access_denied") notice("iRacing access was denied.", false);
  else if (query.get("error")) notice("iRacing said: " + query.get("error"), false);
  show();
})();
