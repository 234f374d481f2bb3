"""Live delivery: snapshot and numbered patches (snapshot, patch), the SignalR hub's compact
payload (compact) and JSON hub protocol (signalr), and the fan-out broker (broker)."""
