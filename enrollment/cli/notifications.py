"""`flask notifications deliver` (send what is due, once) and `flask worker` (the job
queue's consumer, which runs every periodic job each minute)."""
from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import clock
from ..services import outbox


@click.group("notifications")
def notifications() -> None:
    """The outbox of mail and webhook calls."""


@notifications.command("deliver")
@with_appcontext
def deliver() -> None:
    """Send the mail and webhook calls that are due, print what happened, and exit.

    Exits 0 even when deliveries failed: each is counted, printed and tried again later
    (after 1 minute, then doubling, 5 tries in all).
    """
    report = outbox.deliver_due(clock.now())
    click.echo(report.summary())
    if not current_app.config.get("MAIL_SERVER"):
        click.echo("MAIL_SERVER is not set: mail stays in the outbox (see the admin).")


@click.command("worker")
@click.option("--workers", "-w", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Threads running jobs in this process.")
@with_appcontext
def worker(workers: int) -> None:
    """Run the job queue's consumer: every periodic job (deliver notifications, settle
    expired offers, release reserved seats, …) each minute, until stopped (Ctrl-C, SIGTERM).

    The queue is Redis when REDIS_URL is set (any number of workers on any machines), else a
    SQLite file in the instance folder.
    """
    from ..jobs import JobQueue

    app = current_app._get_current_object()
    queue = JobQueue(app)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app.logger.setLevel(logging.INFO)
    where = "Redis" if app.config.get("REDIS_URL") else "a SQLite file in the instance folder"
    click.echo(f"worker: {workers} thread(s), queue in {where}; jobs: "
               + ", ".join(job.__name__ for job in queue.jobs))
    consumer = queue.consumer(workers)
    queue.run_soon()
    consumer.run()
