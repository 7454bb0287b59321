"""
A task change's hot statements, compiled by the ORM once per database.

Django builds and compiles a QuerySet every time one is evaluated. For the
two locking reads of every change (the board with the editor's role, then
the task with its list) that was 1.7 ms of CPU against 0.3 ms to run them,
and a move's renumbering UPDATEs cost ~0.6 ms each to build against ~0.1 ms
to run (AMD EPYC, BENCHMARKS.md) — all on the one sync thread that
serialises every change of a process.

A `CompiledQuery` (a `values_list()` QuerySet) or `CompiledUpdate` (a
QuerySet and its `update()` values) is written as ordinary ORM code. The
first time a database runs it, the ORM compiles it with marker values in
place of its parameters; afterwards only the parameters change, and rows
come back through the compiler's own converters. The SQL is the ORM's, for
whichever backend (SQLite drops the FOR UPDATE, PostgreSQL keeps it).

Parameters go to the driver as they are: unlike a QuerySet, a compiled
statement does not turn an out-of-range integer into "no rows", so callers
bound what a client sends (services.base.task_for_change).
"""

import threading

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models.sql import UpdateQuery
from django.db.transaction import TransactionManagementError


def _marker(kind, index):
    """A value that stands in for parameter `index` while compiling.

    Valid for any column of its kind: Django 5 simplifies a lookup whose
    value is out of a field's range (a negative position, say) away, and
    then the parameter would be missing from the SQL.
    """
    if kind is int:
        return 1_987_654_000 + index
    if kind is str:
        return f"liveboard-parameter-{index}"
    raise TypeError(f"unsupported parameter kind: {kind!r}")


class _Compiled:
    """The shared part: compile once per database alias, bind parameters by position."""

    def __init__(self, build, *kinds):
        self.build = build
        self.kinds = kinds
        self._compiled = {}  # database alias -> (compiler, sql, params template, parameter slots)
        self._lock = threading.Lock()

    def _compiler(self, markers, using):
        raise NotImplementedError

    def _bind(self, params, using):
        if len(params) != len(self.kinds):
            raise TypeError(f"expected {len(self.kinds)} parameters, got {len(params)}")
        compiled = self._compiled.get(using)
        if compiled is None:
            compiled = self._compile(using)
        compiler, sql, template, slots = compiled
        values = list(template)
        for slot, value in zip(slots, params):
            values[slot] = value
        return compiler, sql, values

    def _compile(self, using):
        with self._lock:
            compiled = self._compiled.get(using)
            if compiled is not None:
                return compiled
            markers = [_marker(kind, i) for i, kind in enumerate(self.kinds)]
            compiler = self._compiler(markers, using)
            sql, template = compiler.as_sql()
            slots = []
            for marker in markers:
                found = [i for i, value in enumerate(template) if value == marker]
                if len(found) != 1:
                    raise ImproperlyConfigured(f"parameter {marker!r} appears {len(found)} times in {sql!r}")
                slots.append(found[0])
            compiled = self._compiled[using] = (compiler, sql, tuple(template), slots)
            return compiled


class CompiledQuery(_Compiled):
    """`build(*markers)` returns a values_list() QuerySet; `rows(*params)` runs it.

    `CompiledQuery(build, int, str)`: the kinds of the parameters, in order.
    """

    def _compiler(self, markers, using):
        return self.build(*markers).query.get_compiler(using=using)

    def rows(self, *params, using=DEFAULT_DB_ALIAS):
        """All rows, as tuples converted like the QuerySet's own."""
        connection = connections[using]
        compiler, sql, values = self._bind(params, using)
        if compiler.query.select_for_update and connection.features.has_select_for_update and connection.get_autocommit():
            # What the ORM checks on every evaluation of a locking QuerySet.
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
            cursor.execute(sql, values)
            fetched = cursor.fetchall()
        # The compiler is only read here (its select list, its converters),
        # so one compiled in another thread serves every thread.
        return list(compiler.results_iter(results=[fetched], tuple_expected=True))


class CompiledUpdate(_Compiled):
    """`build(*markers)` returns (QuerySet, {field: value}) as for QuerySet.update;
    `run(*params)` runs it and returns the number of rows changed."""

    def _compiler(self, markers, using):
        queryset, changes = self.build(*markers)
        query = queryset.query.chain(UpdateQuery)
        query.add_update_values(changes)
        if query.related_updates:
            raise ImproperlyConfigured("CompiledUpdate: updates of parent models are not supported")
        return query.get_compiler(using=using)

    def run(self, *params, using=DEFAULT_DB_ALIAS):
        _, sql, values = self._bind(params, using)
        with transaction.mark_for_rollback_on_error(using), connections[using].cursor() as cursor:
            cursor.execute(sql, values)
            return cursor.rowcount
