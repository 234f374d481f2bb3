"""The server's commands (serve, db, users, clients), registered on the ``trackside`` app.

Each module imports the server stack lazily, so ``trackside replay`` stays quick to start.
"""
