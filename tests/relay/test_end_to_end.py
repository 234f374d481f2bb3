"""Track to screen with real processes: a timing feed on TCP, ``trackside relay``, and
``trackside serve``. The server is killed (SIGKILL) mid-race and started again on the same data
dir, the relay is killed once too, and the event's standings still equal a direct
``trackside replay`` of the same lines. A P3 decoder's passings score laps and pit state.
"""

from __future__ import annotations

import json
from contextlib import AsyncExitStack
from pathlib import Path

import httpx

from tests.conftest import capture
from tests.relay.helpers import capture_lines, p3_frames, wire
from tests.relay.stack import LiveFeed, Relay, Server, cli, environment, seed, until
from tests.relay.test_command import count
from trackside.feeds.p3 import encode_passing, read_hex_capture
from trackside.feeds.p3_records import P3Passing

RACE_DAY = [
    "road-america-2025-04-26-entries.log",
    "road-america-2025-04-26-grid.log",
    "road-america-2025-04-26-race-start.log",
]
AMB_DECODER = 0x00041813
PIT_DECODER = 0x00051111  # a second decoder on the pit-lane entry (its frames are made here)


async def log_length(server: Server, event: int, headers: dict[str, str]) -> int:
    async with httpx.AsyncClient(base_url=server.url) as http:
        diag = await http.get(f"/events/{event}/diagnostics", headers=headers)
        return diag.json()["logLength"] if diag.status_code == 200 else -1


async def test_kills_and_outages_leave_the_standings_of_a_replay(tmp_path: Path) -> None:
    env = environment(tmp_path / "data")
    lines = [line for name in RACE_DAY for line in capture_lines(name)]
    # Three parts: the entries, grid and start; two minutes of racing; the rest.
    first, second = 1_200, 2_400
    parts = [lines[:first], lines[first:second], lines[second:]]
    async with AsyncExitStack() as stack:
        server = Server(env, tmp_path / "server.txt")
        feed = LiveFeed()
        feed_port = await feed.start()
        stack.push_async_callback(feed.stop)
        await server.start()
        stack.push_async_callback(server.stop)
        client_id, secret, event, admin = await seed(server)
        queue = tmp_path / "relay" / "queue.sqlite"
        args = [
            "--server", server.url, "--event", str(event), "--client-id", client_id,
            "--rmonitor", f"tcp://127.0.0.1:{feed_port}", "--queue", str(queue),
            "--retry-max", "0.3",
        ]  # fmt: skip
        relay = Relay(env, secret, args, tmp_path / "relay.txt")
        await relay.start()
        stack.push_async_callback(relay.stop)
        await until(lambda: relay.running() and feed.connections == 1, "relay connects", 30)
        await feed.play(wire(parts[0]))

        async def stored(n: int) -> bool:
            return relay.running() and await log_length(server, event, admin) == n

        await until(lambda: stored(first), "part 1 stored on the server", 60)

        await server.kill()  # mid-race: the relay queues what the feed sends meanwhile
        await feed.play(wire(parts[1]))
        await until(
            lambda: relay.running() and count(queue, "rmonitor") == second, "part 2 queued", 30
        )
        # The feed pauses; the relay is killed with part 2 queued and not sent, and started
        # again (it connects to the feed anew: RMonitor sends nothing twice).
        await relay.kill()
        await relay.start()
        await until(lambda: relay.running() and feed.connections == 2, "relay reconnects", 30)
        await server.start()  # same data dir, same port
        await until(lambda: stored(second), "part 2 sent after the outage", 60)
        await feed.play(wire(parts[2]))
        await until(lambda: stored(len(lines)), "the whole race stored", 60)

        async with httpx.AsyncClient(base_url=server.url) as http:
            live = (await http.get(f"/events/{event}/live")).json()  # public: no token
            ack = await http.get(
                f"/relay/events/{event}/records/ack", params={"source": "rmonitor"}, headers=admin
            )
        assert ack.json()["acked_seq"] == len(lines)

    # The captures themselves, replayed directly as one feed.
    output = tmp_path / "replay.json"
    files = [str(capture(name)) for name in RACE_DAY]
    await cli(env, "replay", *files, "--output", str(output), "--quiet")
    replayed = json.loads(output.read_text())
    expected = [{k: v for k, v in s.items() if k != "records"} for s in replayed["sessions"]]
    stamps = [s.pop("classification") for s in live["sessions"]]  # the server's alone
    assert stamps == [{"status": "provisional", "revision": 0}] * len(expected)
    assert live["sessions"] == expected
    (session,) = live["sessions"]
    assert [c["number"] for c in session["cars"]][:3] == ["2", "70", "11"]
    assert session["cars"][1]["gap_ms"] == 787 and len(session["cars"]) == 52


async def test_a_p3_decoder_relayed_scores_laps_and_pit_state(tmp_path: Path) -> None:
    env = environment(tmp_path / "data")
    server = Server(env, tmp_path / "server.txt")
    frames = p3_frames()
    passings = [r for r in read_hex_capture(b"".join(frames).hex()) if isinstance(r, P3Passing)]
    last_of_kart_7 = max(p.rtc_time_us for p in passings if p.transponder == 5691251)
    pit = P3Passing(1, last_of_kart_7 + 20_000_000, transponder=5691251, decoder_id=PIT_DECODER)
    async with AsyncExitStack() as stack:
        decoder = LiveFeed()
        port = await decoder.start()
        stack.push_async_callback(decoder.stop)
        await server.start()
        stack.push_async_callback(server.stop)
        client_id, secret, event, admin = await seed(server)
        async with httpx.AsyncClient(base_url=server.url, headers=admin) as http:
            loops = {
                "loops": [
                    {"name": "Finish", "kind": "start_finish", "decoderId": hex(AMB_DECODER)},
                    {"name": "Pit In", "kind": "pit_in", "decoderId": PIT_DECODER},
                ]
            }
            assert (await http.put(f"/events/{event}/loops", json=loops)).status_code == 200
            for number, transponder in (("7", "5691251"), ("2", "3292480")):
                entry = {
                    "number": number,
                    "driverName": f"Kart {number}",
                    "transponder": transponder,
                }
                assert (await http.post(f"/events/{event}/entries", json=entry)).status_code == 201
        args = [
            "--server", server.url, "--event", str(event), "--client-id", client_id,
            "--p3", f"tcp://127.0.0.1:{port}", "--queue", str(tmp_path / "queue.sqlite"),
        ]  # fmt: skip
        relay = Relay(env, secret, args, tmp_path / "relay.txt")
        await relay.start()
        stack.push_async_callback(relay.stop)
        await until(lambda: relay.running() and decoder.connections == 1, "relay connects", 30)
        await decoder.play(b"".join([*frames, encode_passing(pit)]))

        async def stored() -> bool:
            return relay.running() and await log_length(server, event, admin) == len(frames) + 1

        await until(stored, "every frame stored", 60)
        async with httpx.AsyncClient(base_url=server.url) as http:
            live = (await http.get(f"/events/{event}/live")).json()
            diag = (await http.get(f"/events/{event}/diagnostics", headers=admin)).json()

    (session,) = live["sessions"]
    assert session["name"] == "Passings"
    cars = {car["number"]: car for car in session["cars"]}
    assert [(c["number"], c["laps"]) for c in session["cars"]] == [
        ("Tx3438895", 29),
        ("7", 26),
        ("2", 25),
    ]
    assert (cars["7"]["in_pit"], cars["7"]["entered_pit"], cars["7"]["pit_stops"]) == (
        True,
        True,
        1,
    )
    assert cars["7"]["last_loop"] == "Pit In" and cars["2"]["last_loop"] == "Finish"
    assert cars["7"]["last_name"] == "Kart 7" and cars["7"]["best_lap_ms"] == 43_111
    assert diag["p3Frames"] == {"status": 1304, "passing": 85}
    assert diag["loops"]["duplicates"] == 1 and diag["badRecords"] == 0
