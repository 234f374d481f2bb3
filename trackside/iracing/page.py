"""The ``/connections`` page: connect or disconnect iRacing, its status, a sync button and the
synced sessions. Plain HTML; ``/static/connections.js`` does the rest with the user's token
(kept in the browser's local storage after signing in on the page)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>trackside — connections</title><link rel="stylesheet" href="/static/board.css">
<style>
  main { padding: 8px 14px; max-width: 1280px; }
  .card { background: var(--row); border-radius: 6px; padding: 12px 14px; margin: 10px 0; }
  button { background: var(--row2); color: var(--fg); border: 1px solid #444; padding: 6px 12px;
           border-radius: 4px; font-size: 14px; cursor: pointer; }
  button.primary { background: #1a73e8; border-color: #1a73e8; }
  input { background: var(--row2); color: var(--fg); border: 1px solid #444; padding: 5px 8px;
          border-radius: 4px; }
  .note { padding: 8px 12px; border-radius: 4px; margin: 8px 0; }
  .note.ok { background: #0f3d22; } .note.bad { background: #4a1512; }
  [hidden] { display: none !important; }
  td.l, th.l { text-align: left; }
</style></head>
<body>
<header><h1><a href="/">trackside</a> · Connections</h1>
<div class="sub">Link your iRacing account and bring your league and hosted sessions in.</div>
</header>
<main>
<div id="notice" class="note" hidden></div>
<form id="login" class="card" hidden>
  <div class="label">Sign in to trackside</div>
  <p><input id="username" name="username" placeholder="user name or e-mail" autocomplete="username">
  <input id="password" name="password" type="password" placeholder="password"
         autocomplete="current-password">
  <button class="primary" id="signin" type="submit">Sign in</button></p>
</form>
<section id="iracing" class="card" hidden>
  <div class="label">iRacing</div>
  <p id="state">…</p>
  <p>
    <button class="primary" id="connect" hidden>Connect iRacing</button>
    <button id="sync" hidden>Sync sessions</button>
    <button id="disconnect" hidden>Disconnect</button>
    <button id="signout">Sign out</button>
  </p>
  <p id="syncresult" class="small sub"></p>
</section>
<section id="sessions-card" class="card" hidden>
  <div class="label">Synced sessions (<span id="total">0</span>)</div>
  <div class="tablewrap"><table>
  <thead><tr><th class="l">Start</th><th class="l">Type</th><th class="l">League / session</th>
  <th class="l">Track</th><th class="l">Car</th><th>Pos</th><th>Start</th><th>Laps</th>
  <th>Best</th><th>Inc</th></tr></thead>
  <tbody id="sessions"></tbody></table></div>
</section>
</main>
<script src="/static/connections.js"></script>
</body></html>"""


@router.get("/connections", response_class=HTMLResponse)
async def connections_page() -> HTMLResponse:
    return HTMLResponse(PAGE)
