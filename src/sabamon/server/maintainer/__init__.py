"""Maintenance in a process of its own: compaction (sealing the head into chunks,
downsampling) and expiry, beside the server's workers.

Sealing costs CPU in Python (reading a window's head rows, encoding chunks), and in a
worker it takes that worker's event loop from the requests: on PostgreSQL, under a backlog
replayed in minute order, a worker's ingest fell by half for as long as each compaction ran
(bench/sustained.py). In its own process it uses the other cores instead, and PostgreSQL's
row locks keep it apart from the workers' writes as they do between workers (`store/seal.py`).

`sabamon server` starts it when `--maintenance process` (the default with `--db` and no
`--redis`; `server/settings.py`): `supervisor.beside` runs `python -m
sabamon.server.maintainer PID` (PID the server's) for as long as the server runs, restarts
it when it dies, and ends it with the server; the process itself (`__main__`) runs
`app.run_maintenance` until TERM, or until the server that started it is gone.
"""
