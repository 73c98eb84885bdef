"""Engine behaviour shared by every backend: SQLite locking and write transactions.

SQLite needs help to lock like PostgreSQL does. The pysqlite driver opens its own deferred
transaction and silently ignores a requested `BEGIN IMMEDIATE`, so a count-then-insert overbooks.
The hooks below switch the driver's transaction handling off and issue `BEGIN` themselves:
`BEGIN IMMEDIATE` for a write transaction (see `write_transaction`) and for every transaction
of a request that may write (any method but GET, HEAD and OPTIONS: admin saves, registration,
logins), plain `BEGIN` otherwise, with WAL and a busy timeout. A deferred transaction that
read first and writes later fails at once with "database is locked" when another writer
committed in between (the busy timeout does not apply to that upgrade); one that begins
immediately waits its turn instead.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session

IMMEDIATE = "enrollment_immediate"
BUSY_TIMEOUT_MS = 30_000
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class PendingChanges(RuntimeError):
    """A programming error: a write transaction was asked for over unflushed changes, which
    would otherwise be committed outside the lock."""


def _may_write() -> bool:
    return has_request_context() and request.method not in READ_ONLY_METHODS


def configure_engine(engine: Engine) -> None:
    """Install the SQLite hooks on an engine (a no-op for other backends)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, connection_record):
        # Off: pysqlite's own transaction handling, which would ignore our BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        immediate = bool(conn.get_execution_options().get(IMMEDIATE)) or _may_write()
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
        conn.info[IMMEDIATE] = immediate

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _end(conn):
        conn.info.pop(IMMEDIATE, None)


def _real(session: Session | scoped_session) -> Session:
    return session() if isinstance(session, scoped_session) else session


def in_write_transaction(session: Session | scoped_session) -> bool:
    """True when the session's transaction can take the course lock (see `write_transaction`)."""
    conn = _real(session).connection()
    if conn.dialect.name == "sqlite":
        return bool(conn.info.get(IMMEDIATE))
    return True


WROTE = "enrollment_wrote"  # session.info: the open transaction has flushed changes
LOCKED = "enrollment_locked"  # session.info: {course id: course} locked in the transaction


@contextmanager
def write_transaction(session: Session | scoped_session) -> Iterator[Session]:
    """Run a block in a write transaction, committed at the end or rolled back on error.

    The edge of every enrollment change (a view, an admin action, a CLI command) uses this.
    A transaction already open that has only read and can take the course lock (on
    PostgreSQL any; on SQLite one begun immediately, as every transaction of a POST is) is
    carried on: what it loaded (the logged-in user and student) stays loaded, nothing is read
    twice. Any other open transaction is committed first, because a lock asked for in the
    middle of a deferred SQLite transaction is not a lock. Changes not yet flushed at that
    point are a mistake of the caller (they would be committed outside the lock):
    `PendingChanges` is raised and nothing is committed.
    """
    session = _real(session)
    if _unflushed(session):
        raise PendingChanges(
            "write_transaction() was started over unflushed changes; flush or commit them "
            "first, or make them inside the block")
    if session.in_transaction() and (session.info.get(WROTE) or not _can_lock(session)):
        session.commit()
    if not session.in_transaction():
        session.connection(execution_options={IMMEDIATE: True})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def _can_lock(session: Session) -> bool:
    conn = session.connection()
    return conn.dialect.name != "sqlite" or bool(conn.info.get(IMMEDIATE))


# Every session marks its transaction once it flushes, so that `write_transaction` carries on
# only transactions that have not written (their writes would otherwise be committed, or
# rolled back, with the enrollment change).
@event.listens_for(Session, "after_flush")
def _wrote(session, flush_context):
    session.info[WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _ended(session, transaction):
    if transaction.parent is None:
        session.info.pop(WROTE, None)
        session.info.pop(LOCKED, None)


def _unflushed(session: Session) -> bool:
    if session.new or session.deleted:
        return True
    # `dirty` also lists objects whose attributes were set to the values they had.
    return any(session.is_modified(obj) for obj in session.dirty)
