"""The job queue: Huey, running the periodic jobs (`services.periodic.JOBS`) every minute.

Why Huey: it is a small, maintained task queue whose storage can be an embedded SQLite file
(`SqliteHuey`), so `make run` on a fresh machine needs no Redis, and Redis in production
(`RedisHuey`, from `REDIS_URL`), where several workers on several machines share one queue;
periodic (cron-like) tasks are built in, and its consumer runs them without a second
scheduler process. Celery and RQ need a broker (Redis or RabbitMQ) even for development, and
RQ schedules periodic work only with an extra package.

Correctness never depends on the queue: every job is safe to run twice at once (deliveries
are leased in the database, events fanned out once under row locks, each course settled
under its lock), so each consumer schedules the periodic jobs itself and no task lock is
needed; with nothing running at all, `flask tick` from cron does the same work.

Each job is one Huey task that runs inside an app context of the consumer's app (created
once per consumer process, by `flask worker`), at the app's clock (`FIXED_NOW`).
"""
from __future__ import annotations

import os

from flask import Flask
from huey import Huey, RedisHuey, SqliteHuey, crontab

from . import clock

QUEUE_NAME = "enrollment"
SQLITE_FILE = "jobs.sqlite3"  # in the instance folder


def make_huey(app: Flask) -> Huey:
    """The queue of this app: Redis when `REDIS_URL` is set, else a SQLite file."""
    url = app.config.get("REDIS_URL")
    if url:
        return RedisHuey(QUEUE_NAME, url=url, results=False)
    return SqliteHuey(QUEUE_NAME, filename=os.path.join(app.instance_path, SQLITE_FILE),
                      results=False)


def _job_task(huey: Huey, app: Flask, job, *, periodic: bool):
    def run():
        with app.app_context():
            report = job(clock.now())
            app.logger.info("%s: %s", report.name, report.summary)
            return report.summary

    run.__name__ = run.__qualname__ = job.__name__
    if periodic:
        return huey.periodic_task(crontab(), name=f"periodic.{job.__name__}")(run)
    return huey.task(name=f"now.{job.__name__}")(run)


class JobQueue:
    """The queue with a task per periodic job: `periodic` (run by the consumer every minute)
    and `once` (enqueued by `run_soon`, e.g. when a worker starts)."""

    def __init__(self, app: Flask, jobs=None):
        from .services import periodic

        self.app = app
        self.huey = make_huey(app)
        self.jobs = tuple(jobs if jobs is not None else periodic.JOBS)
        self.periodic = [_job_task(self.huey, app, job, periodic=True) for job in self.jobs]
        self.once = [_job_task(self.huey, app, job, periodic=False) for job in self.jobs]

    def run_soon(self) -> None:
        """Enqueue every job once now (a worker catches up at start, not a minute later)."""
        for task in self.once:
            task()

    def consumer(self, workers: int):
        return self.huey.create_consumer(workers=workers, worker_type="thread",
                                         periodic=True, check_worker_health=True)
