"""The private `eventsourcing` API the store relies on, pinned in one file.

The store overrides or calls a few private members of the library. Each
recorder family has one adapter module that holds all of them (ADAPTERS), and
nothing else in src/ touches a private eventsourcing name. This file checks:

1. that rule, by scanning src/ (a guard: a new private use outside an adapter,
   or one without a contract below, fails here);
2. that each private member still exists with the parameters we use;
3. where cheap, that it still behaves as the adapter relies on.

So a library upgrade that moves any of them fails this file, loudly, naming
the adapter to update.
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.metadata
import inspect
import pkgutil
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import eventsourcing
import psycopg
import pytest
from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.persistence import StoredEvent
from eventsourcing.popo import POPOApplicationRecorder
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore
from psycopg.sql import SQL, Identifier

from bootstrap import build_app
from domain.application import DisputeApp
from service.ports import IdempotencyClaim, IdempotencyStore
from service.settings import Settings
from store.application_seam import StoreApp
from support.builders import BUYER, Scenario
from support.stores import settings_for

VERSION = getattr(eventsourcing, "__version__", None) or importlib.metadata.version("eventsourcing")
SRC = Path(__file__).resolve().parents[2] / "src"
PRIVATE = re.compile(r"_[a-z]\w*")

# Adapter module (under src/) -> the eventsourcing modules whose private members it may touch.
ADAPTERS: dict[str, frozenset[str]] = {
    "store/application_seam.py": frozenset({"eventsourcing.application"}),
    "store/memory.py": frozenset({"eventsourcing.popo", "eventsourcing.persistence"}),
    "store/sqlite.py": frozenset({"eventsourcing.sqlite", "eventsourcing.persistence"}),
    "store/postgres.py": frozenset({"eventsourcing.postgres", "eventsourcing.persistence"}),
}

# Protected API the library documents for subclasses to use, which no recorder family owns.
DOCUMENTED: dict[str, str] = {
    "_create": "Aggregate._create(event_class, id=..., **kwargs): how an aggregate's own factory creates it",
}


@dataclass(frozen=True)
class Private:
    """A private member of a library class that an adapter relies on."""

    adapter: str  # under src/
    owner: type
    name: str
    params: tuple[str, ...] | None  # a method's parameters as we call/override it ("**": extra keywords); None: data

    def failure(self, what: str) -> str:
        return (
            f"eventsourcing {VERSION}: {self.owner.__qualname__}.{self.name} {what}. "
            f"Update the {self.adapter_family} adapter src/{self.adapter}, then this contract."
        )

    @property
    def adapter_family(self) -> str:
        return Path(self.adapter).stem.removesuffix("_seam")


CONTRACT = [
    Private("store/application_seam.py", Application, "_record", ("self", "processing_event")),
    Private("store/application_seam.py", Application, "_take_snapshots", ("self", "processing_event")),
    Private("store/application_seam.py", Application, "_notify", ("self", "recordings")),
    Private("store/memory.py", POPOApplicationRecorder, "_insert_events", ("self", "stored_events", "**")),
    Private("store/memory.py", POPOApplicationRecorder, "_database_lock", None),
    Private("store/memory.py", POPOApplicationRecorder, "_stored_events", None),
    Private("store/memory.py", POPOApplicationRecorder, "_stored_events_index", None),
    Private("store/sqlite.py", SQLiteApplicationRecorder, "_insert_events", ("self", "c", "stored_events", "**")),
    Private("store/postgres.py", PostgresApplicationRecorder, "_lock_table", ("self", "curs")),
    Private("store/postgres.py", PostgresApplicationRecorder, "_notify_channel", ("self", "curs")),
]


def contract(adapter: str, name: str) -> Private:
    return next(p for p in CONTRACT if p.adapter == adapter and p.name == name)


# --------------------------------------------------------------------------- the guard over src/


@functools.cache
def privates_of(cls: type) -> frozenset[str]:
    """Private names a library class defines itself: methods and class attributes,
    and instance attributes its methods assign (`self._x = ...`)."""
    names = {n for n in vars(cls) if PRIVATE.fullmatch(n)}
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError, SyntaxError):
        return frozenset(names)
    for node in ast.walk(tree):
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        for t in targets:
            is_self = isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"
            if is_self and PRIVATE.fullmatch(t.attr):
                names.add(t.attr)
    return frozenset(names)


@functools.cache
def library_privates() -> dict[str, frozenset[str]]:
    """Every private name on a class of eventsourcing's modules -> the modules defining it."""
    found: dict[str, set[str]] = {}
    for info in pkgutil.iter_modules(eventsourcing.__path__):
        if info.ispkg:
            continue
        try:
            module = importlib.import_module(f"eventsourcing.{info.name}")
        except ImportError:  # an optional dependency (e.g. `cryptography`) is not installed
            continue
        for obj in vars(module).values():
            if isinstance(obj, type) and obj.__module__ == module.__name__:
                for name in privates_of(obj):
                    found.setdefault(name, set()).add(module.__name__)
    return {name: frozenset(modules) for name, modules in found.items()}


def library_modules_in_mro(cls: type, name: str) -> frozenset[str]:
    return frozenset(
        c.__module__ for c in cls.__mro__ if c.__module__.split(".")[0] == "eventsourcing" and name in privates_of(c)
    )


@dataclass(frozen=True)
class Touch:
    path: str  # under src/
    line: int
    name: str
    modules: frozenset[str]  # the eventsourcing modules whose private member this is

    def __str__(self) -> str:
        return f"src/{self.path}:{self.line} {self.name} ({', '.join(sorted(self.modules))})"


def resolve_class(module: str, qualname: list[str]) -> type | None:
    if "<locals>" in qualname:
        return None
    obj: Any = importlib.import_module(module)
    for part in qualname:
        obj = getattr(obj, part, None)
    return obj if isinstance(obj, type) else None


def scan(path: Path) -> Iterator[Touch]:
    """Overrides (`def _x` in a class body), calls and other uses (`obj._x`) of a
    private eventsourcing name. On `self`, `cls` or `super()` the name is resolved
    through the class's MRO, so a project class's own private helpers are not
    mistaken for the library's; on any other object, a name the library uses
    privately anywhere counts."""
    relative = path.relative_to(SRC).as_posix()
    module = relative.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))

    def check(line: int, name: str, owner: type | None, on_self: bool) -> Iterator[Touch]:
        if on_self and owner is not None:
            modules = library_modules_in_mro(owner, name)
        else:
            modules = library_privates().get(name, frozenset())
        if modules:
            yield Touch(relative, line, name, modules)

    def walk(node: ast.AST, qualname: list[str], owner: type | None) -> Iterator[Touch]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                inner = [*qualname, child.name]
                yield from walk(child, inner, resolve_class(module, inner))
                continue
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                if isinstance(node, ast.ClassDef) and PRIVATE.fullmatch(child.name):
                    yield from check(child.lineno, child.name, owner, on_self=True)
                yield from walk(child, [*qualname, child.name, "<locals>"], owner)
                continue
            if isinstance(child, ast.Attribute) and PRIVATE.fullmatch(child.attr):
                receiver = child.value
                on_self = (isinstance(receiver, ast.Name) and receiver.id in {"self", "cls"}) or (
                    isinstance(receiver, ast.Call)
                    and isinstance(receiver.func, ast.Name)
                    and receiver.func.id == "super"
                )
                yield from check(child.lineno, child.attr, owner, on_self)
            yield from walk(child, qualname, owner)

    yield from walk(tree, [], None)


@functools.cache
def touches() -> list[Touch]:
    return [t for path in sorted(SRC.rglob("*.py")) for t in scan(path)]


def test_no_private_eventsourcing_name_is_touched_outside_its_family_adapter() -> None:
    stray = [
        t for t in touches() if t.name not in DOCUMENTED and not (t.path in ADAPTERS and t.modules & ADAPTERS[t.path])
    ]
    assert not stray, (
        "private eventsourcing names used outside their family's adapter module "
        f"({', '.join(sorted(ADAPTERS))}); move each into the adapter and add it to CONTRACT here:\n"
        + "\n".join(map(str, stray))
    )


@pytest.mark.parametrize("adapter", sorted(ADAPTERS))
def test_every_private_name_an_adapter_touches_has_a_contract(adapter: str) -> None:
    used = {t.name for t in touches() if t.path == adapter and t.name not in DOCUMENTED}
    pinned = {p.name for p in CONTRACT if p.adapter == adapter}
    assert used == pinned, (
        f"src/{adapter} touches private eventsourcing names {sorted(used)}, "
        f"the contract pins {sorted(pinned)}: add a contract for each new one, drop the ones no longer used"
    )


def test_the_guard_sees_the_uses_it_is_meant_to_catch() -> None:
    """The guard itself: it finds the adapters' known uses, and not a project
    class's own private helper that happens to share a library name."""
    found = {(t.path, t.name) for t in touches()}
    for p in CONTRACT:
        assert (p.adapter, p.name) in found, f"the guard no longer sees {p.name} in src/{p.adapter}"
    # GroupCommitter keeps its own `self._closed`; the library's persistence classes have one too.
    assert "_closed" in library_privates(), "pick another shared name for this self-check"
    assert "_closed" not in {t.name for t in touches() if t.path == "store/group_commit.py"}


# --------------------------------------------------------------------------- signatures and data


def parameters(function: Any) -> tuple[str, ...]:
    return tuple(
        "**" if p.kind is p.VAR_KEYWORD else "*" if p.kind is p.VAR_POSITIONAL else p.name
        for p in inspect.signature(function).parameters.values()
    )


@pytest.mark.parametrize(
    "private", [p for p in CONTRACT if p.params is not None], ids=lambda p: f"{p.adapter}:{p.name}"
)
def test_each_private_method_exists_with_the_parameters_we_use(private: Private) -> None:
    method = getattr(private.owner, private.name, None)
    assert callable(method), private.failure("is gone")
    assert parameters(method) == private.params, private.failure(
        f"now takes {parameters(method)}, the adapter uses {private.params}"
    )


def test_the_popo_recorders_private_data_has_the_shape_we_read() -> None:
    recorder = POPOApplicationRecorder()
    for name in ("_database_lock", "_stored_events", "_stored_events_index"):
        assert hasattr(recorder, name), contract("store/memory.py", name).failure("is gone")
    lock = recorder._database_lock
    assert lock.acquire(blocking=False), contract("store/memory.py", "_database_lock").failure("cannot be acquired")
    try:
        assert lock.acquire(blocking=False), contract("store/memory.py", "_database_lock").failure(
            "is no longer reentrant (MemoryRecorder._insert_events holds it around the library's)"
        )
        lock.release()
    finally:
        lock.release()
    originator = uuid4()
    ids = recorder.insert_events([stored(originator, 1), stored(originator, 2)])
    index = recorder._stored_events_index[str(originator)]
    layout = contract("store/memory.py", "_stored_events_index")
    assert sorted(index) == [1, 2], layout.failure("is no longer {str(originator_id): {version: list index}}")
    events = recorder._stored_events
    assert [events[index[v]].originator_version for v in (1, 2)] == [1, 2], contract(
        "store/memory.py", "_stored_events"
    ).failure("is no longer the list the index points into")
    assert [index[v] + 1 for v in (1, 2)] == list(ids or []), layout.failure(
        "positions no longer map to notification ids as list index + 1"
    )


# --------------------------------------------------------------------------- behaviour


def stored(originator: UUID, version: int) -> StoredEvent:
    return StoredEvent(originator_id=originator, originator_version=version, topic="contract:Event", state=b"{}")


class Spy:
    """Records what the library passes to an overridden private method."""

    def __init__(self) -> None:
        self.kwargs: list[dict[str, Any]] = []


class SpyingPOPORecorder(POPOApplicationRecorder):
    def __init__(self, spy: Spy) -> None:
        super().__init__()
        self.spy = spy

    def _insert_events(self, stored_events: Any, **kwargs: Any) -> Any:
        self.spy.kwargs.append(kwargs)
        return super()._insert_events(stored_events, **kwargs)


def test_popo_insert_events_passes_our_keywords_to_insert_events_and_returns_its_notification_ids() -> None:
    spy = Spy()
    recorder = SpyingPOPORecorder(spy)
    originator = uuid4()
    ids = recorder.insert_events([stored(originator, 1), stored(originator, 2)], idempotency="claim")
    private = contract("store/memory.py", "_insert_events")
    assert spy.kwargs == [{"idempotency": "claim"}], private.failure("no longer receives the save's keywords")
    notifications = recorder.select_notifications(start=1, limit=10)
    assert list(ids or []) == [n.id for n in notifications], private.failure("no longer returns notification ids")


class ClaimTaken(Exception):
    pass


class SpyingSQLiteRecorder(SQLiteApplicationRecorder):
    spy: Spy
    fail_after_insert = False

    def _insert_events(self, c: Any, stored_events: Any, **kwargs: Any) -> Any:
        self.spy.kwargs.append(kwargs)
        ids = super()._insert_events(c, stored_events, **kwargs)
        c.execute("CREATE TABLE IF NOT EXISTS contract_probe (n INTEGER)")
        c.execute("INSERT INTO contract_probe VALUES (1)")
        if self.fail_after_insert:
            raise ClaimTaken("a claim was taken")
        return ids


def test_sqlite_insert_events_runs_insert_events_on_the_write_transactions_cursor(tmp_path: Path) -> None:
    recorder = SpyingSQLiteRecorder(SQLiteDatastore(str(tmp_path / "contract.sqlite")))
    recorder.spy = Spy()
    recorder.create_table()
    private = contract("store/sqlite.py", "_insert_events")
    originator = uuid4()
    ids = recorder.insert_events([stored(originator, 1), stored(originator, 2)], idempotency="claim")
    assert recorder.spy.kwargs == [{"idempotency": "claim"}], private.failure("no longer receives the save's keywords")
    notifications = recorder.select_notifications(start=1, limit=10)
    assert list(ids or []) == [n.id for n in notifications], private.failure("no longer returns notification ids")

    recorder.fail_after_insert = True
    with pytest.raises(ClaimTaken):
        recorder.insert_events([stored(originator, 3)])
    assert [e.originator_version for e in recorder.select_events(originator)] == [1, 2], private.failure(
        "no longer runs inside the events' transaction: a refused claim left its event behind"
    )
    with recorder.datastore.transaction(commit=False) as c:
        c.execute("SELECT count(*) FROM contract_probe")
        assert c.fetchone()[0] == 1, private.failure("writes on its cursor no longer roll back with the events")


def test_the_store_app_keeps_the_domain_apps_name_so_its_tables_and_settings_stay_the_same() -> None:
    assert StoreApp.name == DisputeApp.name == "disputes", (
        "StoreApp must be named like DisputeApp: the name picks the Postgres tables and the env-variable prefix"
    )


@pytest.fixture
def memory_app() -> Iterator[StoreApp]:
    app = build_app(Settings(database_url="memory://", env="test", snapshot_interval=2))
    assert isinstance(app, StoreApp)
    yield app
    app.close()


def test_application_save_records_then_takes_snapshots_then_notifies(
    memory_app: StoreApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, Any]] = []
    for name in ("_record", "_take_snapshots", "_notify"):
        original = getattr(memory_app, name)

        def spy(arg: Any, name: str = name, original: Any = original) -> Any:
            calls.append((name, arg))
            return original(arg)

        monkeypatch.setattr(memory_app, name, spy)
    Scenario(memory_app).open()
    names = [n for n, _ in calls]
    assert names == ["_record", "_take_snapshots", "_notify"], contract("store/application_seam.py", "_notify").failure(
        f"Application.save now calls {names}; StoreApp's overrides and record/after_commit split save there"
    )
    (_, processing), (_, taken_from), (_, recordings) = calls
    assert isinstance(processing, ProcessingEvent) and taken_from is processing
    assert [r.notification.id for r in recordings] == [1]


def test_record_saves_with_the_saved_keywords_and_leaves_snapshots_and_notifying_to_after_commit(
    memory_app: StoreApp,
) -> None:
    woken: list[int] = []
    memory_app.listeners.append(lambda: woken.append(1))
    s = Scenario(memory_app).open()
    woken.clear()
    dispute = memory_app.dispute(s.id)
    dispute.post_message(s.clock.ctx(BUYER), "a snapshot is due at version 2", None)
    processing: ProcessingEvent[UUID] = ProcessingEvent()
    claim = IdempotencyClaim("contract", "key-1", "fingerprint", {"status": 201})
    processing.collect_events(dispute, idempotency=claim)
    record = contract("store/application_seam.py", "_record")

    recordings = memory_app.record(processing)
    assert [(r.domain_event.originator_id, r.notification.id) for r in recordings] == [(s.id, 2)], record.failure(
        "no longer returns recordings with .domain_event and .notification.id"
    )
    recorder = memory_app.recorder
    assert isinstance(recorder, IdempotencyStore)
    kept = recorder.select_idempotency("contract", "key-1")
    assert kept is not None and kept.position == 2, record.failure("no longer passes saved_kwargs to the recorder")
    assert memory_app.snapshots is not None
    assert list(memory_app.snapshots.get(s.id)) == [], record.failure("now takes snapshots itself")
    assert woken == [], record.failure("now notifies itself")

    memory_app.after_commit(processing, recordings)
    assert [snap.originator_version for snap in memory_app.snapshots.get(s.id)] == [2], contract(
        "store/application_seam.py", "_take_snapshots"
    ).failure("no longer takes the snapshots due for a processing event's aggregates")
    assert woken == [1]


@pytest.mark.postgres
def test_postgres_lock_table_and_notify_channel_act_on_the_cursor_they_are_given(
    tmp_path: Path, request: pytest.FixtureRequest, postgres_url: str
) -> None:
    app = build_app(settings_for("postgres", tmp_path, request))
    try:
        recorder = app.recorder
        assert isinstance(recorder, PostgresApplicationRecorder)
        lock = contract("store/postgres.py", "_lock_table")
        notify = contract("store/postgres.py", "_notify_channel")
        # A channel of this test's own: every schema's recorder notifies on the same
        # "disputes_events", so other tests' commits would be heard there too.
        recorder.channel_name = f"contract_{uuid4().hex}"
        with psycopg.connect(postgres_url, autocommit=True) as listener:
            listener.execute(SQL("LISTEN {}").format(Identifier(recorder.channel_name)))
            with recorder.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
                recorder._lock_table(curs)
                recorder._notify_channel(curs)
                curs.execute(
                    "SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() AND relation = %s::regclass",
                    (f'"{recorder.datastore.schema}"."{recorder.events_table_name}"',),
                )
                modes = {row["mode"] for row in curs.fetchall()}
                assert "ExclusiveLock" in modes, lock.failure(
                    f"no longer takes an EXCLUSIVE lock on the events table through the given cursor ({modes})"
                )
            channels = [n.channel for n in listener.notifies(timeout=5, stop_after=1)]
        assert channels == [recorder.channel_name], notify.failure(
            "no longer sends a NOTIFY on the recorder's channel through the given cursor"
        )
        originator = uuid4()
        ids = recorder.insert_events([stored(originator, 1), stored(originator, 2)])
        assert list(ids or []) == [n.id for n in recorder.select_notifications(start=1, limit=10)], lock.failure(
            "is used by PostgresRecorder.insert_events, which no longer returns notification ids"
        )
    finally:
        app.close()
