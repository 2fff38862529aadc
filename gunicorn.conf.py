"""Settings gunicorn reads by itself when started in this directory (scripts/run.sh, docs/deployment.md, bench/).

Each worker warms up before it takes its first request, then freezes what it has loaded out of the garbage
collector's sight (docs/performance.md, "Submitting a report" and "Webhook"):
- the app's `warm_up` (app.py) loads jieba's dictionary (services/analysis.py) — 3 s of CPU that otherwise fell
  on a worker's first report, inside its transaction, holding SQLite's write lock while every other writer
  waited (and some gave up: "database is locked");
- gc.freeze(): the ~300,000 objects of the imported libraries and the dictionary no longer get walked by every
  full collection, which were the tens-of-milliseconds stalls in the webhook's p99.
"""
import gc


def post_worker_init(worker):
    warm_up = getattr(worker.wsgi, "warm_up", None)
    if warm_up is not None:
        warm_up()
    gc.collect()
    gc.freeze()
