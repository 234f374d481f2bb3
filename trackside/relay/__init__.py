"""The relay: runs at the track, reads the timing feeds, queues every record on disk, uploads.

sources/follower → queue (SQLite) → uploader (per source) → server; app wires them, command
is `trackside relay`.
"""
