"""Tracking's routes: dj-rest-auth accounts, location reports and socket, the trackers'
protocols, an event's tracking (participants, settings, checkpoints, splits) and its map."""
