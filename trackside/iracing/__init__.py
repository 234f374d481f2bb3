"""iRacing: connect a member's account by OAuth, sync their league and hosted sessions from the
``/data`` API, and import a synced session into an event's log so it is scored like a race."""
