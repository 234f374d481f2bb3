"""``trackside demo``: a live race on the embedded default, to watch in a browser."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def demo(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0: any free port).", min=0, max=65535)] = 8000,
    speed: Annotated[
        float, typer.Option(help="Times real time: 1 = as it happens.", min=0.01, max=1000)
    ] = 4.0,
    minutes: Annotated[
        float, typer.Option(help="Length of the simulated race.", min=1, max=24 * 60)
    ] = 20.0,
    seed: Annotated[int, typer.Option(help="Simulator seed: the same seed, the same race.")] = 7,
    replay: Annotated[
        list[Path] | None,
        typer.Option(
            "--replay", exists=True, dir_okay=False, help="Drive it from these captures instead."
        ),
    ] = None,
    judges: Annotated[
        bool,
        typer.Option(
            "--judges", help="A manual 5K timed by simulated judges' phones instead of a race."
        ),
    ] = False,
    exit_when_done: Annotated[
        bool, typer.Option(help="Stop the server when the feed ends (default: keep serving).")
    ] = False,
    tracking: Annotated[
        bool,
        typer.Option(
            "--tracking", help="A GPS-tracked field on a live map instead of a race feed."
        ),
    ] = False,
    participants: Annotated[
        int, typer.Option(help="With --tracking: how many participants move.", min=1, max=2000)
    ] = 20,
) -> None:
    """Start the server, make a demo event, and drive a live race into it through the relay
    API. Open the printed URL to watch. Ctrl-C stops it."""
    import asyncio

    from rich.console import Console

    console = Console()

    async def main() -> None:
        import time

        import httpx
        import uvicorn

        from trackside.api.app import create_app
        from trackside.api.sockets import websocket_options
        from trackside.commands import demo_race as demo_service
        from trackside.commands import demo_telemetry
        from trackside.commands.runtime import tune_gc
        from trackside.config import Settings

        settings = Settings()
        # The demo's URL is an allowed Host, and its address names the node.
        settings = settings.model_copy(update={"host": host, "port": port})
        if judges:
            feed, title = [], "trackside judges demo"
        elif replay:
            feed = demo_service.capture_feed(replay)
            title = f"Replay of {replay[-1].stem}"
        else:
            feed = demo_service.simulated_feed(seed, minutes)
            title = "trackside demo race"
        app = create_app(settings)
        tune_gc()
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=host,
                port=port,
                log_level="warning",
                **websocket_options(),  # as `trackside serve`
            )
        )
        serving = asyncio.create_task(server.serve())
        while not server.started:
            if serving.done():
                serving.result()  # the server could not start (e.g. the port is taken)
                raise typer.Exit(1)
            await asyncio.sleep(0.05)
        bound = server.servers[0].sockets[0].getsockname()[1]
        base = f"http://{host}:{bound}"
        if tracking:
            await _tracking(app.state.platform, host, bound)
            if exit_when_done:
                server.should_exit = True
            await serving
            return
        event = await demo_service.create_demo_event(
            app.state.platform, f"{title} {time.strftime('%Y-%m-%d %H:%M')}"
        )
        console.print(f"[bold green]Live timing:[/] {base}/events/{event.event_id}")
        console.print(f"Events: {base}/   API docs: {base}/docs   (Ctrl-C to stop)")
        console.print(f"Telemetry: {base}/telemetry (20 Hz per car, through /api/v2/write)")
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            if judges:
                from trackside.commands import demo_judges

                await demo_judges.run(
                    app.state.platform, http, event.event_id, base, seed, minutes, speed,
                    console.print,
                )  # fmt: skip
            relay = demo_service.RelayClient(http, event, settings.realm)
            feeder = demo_telemetry.TelemetryFeeder(
                http, await demo_telemetry.logger_token(app.state.platform), event.event_id, feed
            )
            sending = asyncio.create_task(feeder.run(speed))

            def progress(done: int, total: int) -> None:
                if done == total or done % 200 == 0:
                    console.print(f"fed {done}/{total} batches ({relay.seq} records)")

            if feed:
                await demo_service.drive(relay, feed, speed, time.monotonic, on_batch=progress)
            await sending
            if feed:
                console.print(f"telemetry: {feeder.points} points sent")
        console.print(f"[bold]Feed finished.[/] Results stay at {base}/events/{event.event_id}")
        if exit_when_done:
            server.should_exit = True
        await serving

    async def _tracking(platform, host: str, bound: int) -> None:  # type: ignore[no-untyped-def]
        import time

        from trackside.commands import demo_tracking
        from trackside.sim.tracking import SimulatedField

        sim = SimulatedField.make(participants, seed=seed)
        name = f"trackside demo trail run {time.strftime('%Y-%m-%d %H:%M')}"
        iss = f"http://{host}:{bound}/realms/{platform.settings.realm}"
        demo = await demo_tracking.create_tracking_event(platform, name, sim, iss)
        base = f"http://{host}:{bound}"
        console.print(f"[bold green]Live map:[/] {base}/events/{demo.event_id}/map")
        console.print(f"Splits: {base}/events/{demo.event_id}/tracking/splits   (Ctrl-C to stop)")

        def progress(t: float, saved: int) -> None:
            if int(t) % 60 < speed:
                console.print(f"{t / 60:.1f} min simulated, {saved} fixes saved")

        saved = await demo_tracking.drive(
            f"ws://{host}:{bound}", demo, sim, speed, minutes, on_tick=progress
        )
        console.print(f"[bold]Field finished:[/] {saved} fixes saved.")

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        console.print("stopped")
