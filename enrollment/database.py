"""Engine behaviour shared by every backend: SQLite locking and write transactions.

SQLite needs help to lock like PostgreSQL does. The pysqlite driver opens its own deferred
transaction and silently ignores a requested `BEGIN IMMEDIATE`, so a count-then-insert overbooks.
The hooks below switch the driver's transaction handling off and issue `BEGIN` themselves:
`BEGIN IMMEDIATE` for a write transaction (see `write_transaction`) and for every transaction
of a request that may write (any method but GET, HEAD and OPTIONS: admin saves, registration,
logins; not the views marked `locks_itself`, which write only in `write_transaction`), plain
`BEGIN` otherwise, with WAL and a busy timeout. A deferred transaction that
read first and writes later fails at once with "database is locked" when another writer
committed in between (the busy timeout does not apply to that upgrade); one that begins
immediately waits its turn instead.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import current_app, has_request_context, request
from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, scoped_session

IMMEDIATE = "enrollment_immediate"
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class PendingChanges(RuntimeError):
    """A programming error: a write transaction was asked for over unflushed changes, which
    would otherwise be committed outside the lock."""


LOCKS_ITSELF = "enrollment_locks_itself"


def locks_itself(view):
    """Mark a view whose every write runs in `write_transaction`: on SQLite its request
    transaction then begins deferred, and the database's write lock is taken only for the
    locked part (lock, rules, insert, commit), not for the whole request."""
    setattr(view, LOCKS_ITSELF, True)
    return view


def _may_write() -> bool:
    if not has_request_context() or request.method in READ_ONLY_METHODS:
        return False
    view = current_app.view_functions.get(request.endpoint)
    return not getattr(view, LOCKS_ITSELF, False)


IDLE_PING_SECONDS = 10.0


def configure_engine(engine: Engine, *, write_wait: float = 10.0) -> None:
    """Install the connection hooks: the idle-connection check (server databases), the SQLite
    locking hooks, and the bound on waiting for a lock.

    A writer waits at most `write_wait` seconds for the database's write lock (SQLite) or a
    course's row lock (PostgreSQL); then its request fails with the busy page (503 with
    Retry-After, see `errors.busy`) instead of queueing past what answers in time.
    """
    if engine.dialect.name != "sqlite":
        _ping_idle_connections(engine)
        _bound_lock_waits(engine, write_wait)
        # Many rows inserted at once (imports, batches) go as multi-row INSERTs of a page each,
        # not one statement per row: the report summaries' statement triggers then run once
        # per page. (SQLAlchemy's "insertmanyvalues", as its psycopg2 dialect does by default.)
        engine.dialect.use_insertmanyvalues_wo_returning = True
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, connection_record):
        # Off: pysqlite's own transaction handling, which would ignore our BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(write_wait * 1000)}")
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


def _bound_lock_waits(engine: Engine, seconds: float) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, connection_record):
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET lock_timeout = {int(seconds * 1000)}")
        cursor.close()
        dbapi_connection.commit()


def is_busy(exc: BaseException) -> bool:
    """True for a lock not obtained within the bound (SQLite "database is locked",
    PostgreSQL `lock_not_available`): the database is up, but too busy right now."""
    orig = getattr(exc, "orig", exc)
    return (getattr(orig, "sqlstate", None) in ("55P03", "40P01")  # no lock, deadlock
            or "database is locked" in str(orig))


def _ping_idle_connections(engine: Engine) -> None:
    """Check a pooled connection only when it sat idle for `IDLE_PING_SECONDS`.

    On registration day connections go straight back into use and pay nothing; one that
    waited (overnight, across a database restart) is pinged at checkout, and a dead one is
    replaced by the pool (`DisconnectionError`) before the request ever sees it. A connection
    that dies while in use fails its request with the 503 page, and the pool discards every
    connection that predates the failure.
    """

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, record, proxy):
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(str(exc)) from exc
        if not alive:
            raise DisconnectionError("the connection did not answer")


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
LOCKED_STUDENTS = "enrollment_locked_students"  # session.info: student ids locked likewise
PRIMARY_ONLY = "enrollment_primary_only"  # session.info: no read may go to a replica


@contextmanager
def write_transaction(session: Session | scoped_session) -> Iterator[Session]:
    """Run a block in a write transaction, committed at the end or rolled back on error.

    The edge of every enrollment change (a view, an admin action, a CLI command) uses this.
    A transaction already open that has only read and can take the course lock (on
    PostgreSQL any; on SQLite one begun immediately, as every transaction of a POST is) is
    carried on: what it loaded (the logged-in user and student) stays loaded, nothing is read
    twice. A deferred SQLite transaction that only read is ended first, keeping what it
    loaded, because a lock asked for in the middle of it is not a lock; one that wrote is
    committed. Changes not yet flushed at that point are a mistake of the caller (they would
    be committed outside the lock): `PendingChanges` is raised and nothing is committed.
    """
    session = _real(session)
    if _unflushed(session):
        raise PendingChanges(
            "write_transaction() was started over unflushed changes; flush or commit them "
            "first, or make them inside the block")
    if session.in_transaction() and session.info.get(WROTE):
        session.commit()
    elif session.in_transaction() and not in_write_transaction(session):
        _end_reading(session)
    if not session.in_transaction():
        session.connection(execution_options={IMMEDIATE: True})
    session.info[PRIMARY_ONLY] = True  # what the rules decide on is never a replica's copy
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop(PRIMARY_ONLY, None)


def _end_reading(session: Session) -> None:
    """Commit a transaction that only read, keeping what it loaded (the user and student of
    the request): what the rules decide on is read again under the lock."""
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


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
        session.info.pop(LOCKED_STUDENTS, None)


def _unflushed(session: Session) -> bool:
    if session.new or session.deleted:
        return True
    # `dirty` also lists objects whose attributes were set to the values they had.
    return any(session.is_modified(obj) for obj in session.dirty)


# Values per IN list: a statement may carry at most 32,766 parameters on SQLite and 65,535 on
# PostgreSQL, and an import file of 100,000 rows must still work.
IN_BATCH = 10_000


def in_batches(values) -> Iterator[list]:
    """The values (deduplicated, in a stable order) in lists of at most `IN_BATCH`."""
    values = list(dict.fromkeys(values))
    for start in range(0, len(values), IN_BATCH):
        yield values[start:start + IN_BATCH]


def scalars_in(session: Session | scoped_session, statement_for, values) -> list:
    """`session.scalars(statement_for(batch))` over `in_batches(values)`, all results."""
    return [row for batch in in_batches(values) for row in session.scalars(statement_for(batch))]


def rows_in(session: Session | scoped_session, statement_for, values) -> list:
    """`session.execute(statement_for(batch))` over `in_batches(values)`, all rows."""
    return [row for batch in in_batches(values) for row in session.execute(statement_for(batch))]


class LazyLoadInList(RuntimeError):
    """A programming error: a list page or an export loaded a relationship row by row."""


_NO_LAZY_LOADS: ContextVar[bool] = ContextVar("enrollment_no_lazy_loads", default=False)


@contextmanager
def no_lazy_loads() -> Iterator[None]:
    """Within the block, a lazy load from an object that the block's own queries loaded (one
    query per row of a list) raises `LazyLoadInList`: lists and exports load what their rows
    show with the page (eager or select-in loads). Objects the session held before (the
    logged-in user, say) are left alone."""
    token = _NO_LAZY_LOADS.set(True)
    try:
        yield
    finally:
        _NO_LAZY_LOADS.reset(token)


LISTED = "enrollment_listed"  # InstanceState.info: loaded inside `no_lazy_loads`


def mark_listed(target, context) -> None:
    """The `load` event of every model (see `extensions`): remember rows loaded for a list."""
    if _NO_LAZY_LOADS.get():
        inspect(target).info[LISTED] = True


@event.listens_for(Session, "do_orm_execute")
def _refuse_lazy_loads(state) -> None:
    if not _NO_LAZY_LOADS.get() or not state.is_select:
        return
    parent = state.lazy_loaded_from
    if parent is not None and parent.info.get(LISTED):
        raise LazyLoadInList(
            f"lazy load of {parent.class_.__name__} in a list: "
            "load it with the page (joinedload or selectinload)")
