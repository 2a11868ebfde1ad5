"""Statements written once, for the paths where people wait (a ballot and its record entry).

The ORM builds every query from scratch: on a small machine compiling one ``filter(...).first()`` costs more than
the database takes to answer it, and a ballot made eighteen of them. The hot paths instead run a few fixed SQL
statements, the same on SQLite and PostgreSQL, and turn the rows into model instances with the database's own
converters (SQLite hands back times as text), exactly as the ORM would.
"""

from __future__ import annotations

import functools

from django.db import connection


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def table(model) -> str:
    return quote(model._meta.db_table)


def when(value):
    """A datetime as the database takes it in a parameter (SQLite: naive UTC text; PostgreSQL: as it is)."""
    return connection.ops.adapt_datetimefield_value(value)


def for_update() -> str:
    """`` FOR UPDATE`` where the database has row locks; SQLite's write transaction (IMMEDIATE) is the lock there."""
    return " FOR UPDATE" if connection.features.has_select_for_update else ""


class Rows:
    """The concrete columns of ``model`` (every one, or those ``names``), to select (``columns(alias)``) and to turn
    into instances (``make``)."""

    def __init__(self, model, names=None):
        self.model = model
        self.fields = list(model._meta.concrete_fields) if names is None else [model._meta.get_field(n) for n in names]
        self.names = [f.attname for f in self.fields]
        self._converters: dict[str, list] = {}

    def columns(self, alias: str | None = None) -> str:
        prefix = f"{quote(alias)}." if alias else ""
        return ", ".join(prefix + quote(f.column) for f in self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def _converters_for(self):
        vendor = connection.vendor
        found = self._converters.get(vendor)
        if found is None:
            found = []
            for f in self.fields:
                column = f.get_col(self.model._meta.db_table)
                converters = connection.ops.get_db_converters(column) + f.get_db_converters(connection)
                found.append((column, converters))
            self._converters[vendor] = found
        return found

    def make(self, values):
        """The instance ``values`` (one row of ``columns()``, in order) describe, as the ORM would have made it."""
        values = list(values)
        for i, (column, converters) in enumerate(self._converters_for()):
            for converter in converters:
                values[i] = converter(values[i], column, connection)
        return self.model.from_db(connection.alias, self.names, values)


def one(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def many(sql: str, params=()) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def run(sql: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@functools.cache
def _insert_sql(model, names: tuple[str, ...], returning: bool) -> tuple[str, list]:
    fields = {f.attname: f for f in model._meta.concrete_fields}
    columns = ", ".join(quote(fields[name].column) for name in names)
    marks = ", ".join(["%s"] * len(names))
    statement = f"INSERT INTO {table(model)} ({columns}) VALUES ({marks})"
    if returning:
        statement += f" RETURNING {quote(model._meta.pk.column)}"
    return statement, [fields[name] for name in names]


def insert(model, values: dict) -> int:
    """INSERT one row of ``model`` (``values`` by attname) and return its primary key."""
    returning = connection.features.can_return_columns_from_insert
    statement, fields = _insert_sql(model, tuple(values), returning)
    params = [field.get_db_prep_save(value, connection) for field, value in zip(fields, values.values())]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        if returning:
            return cursor.fetchone()[0]
        return connection.ops.last_insert_id(cursor, model._meta.db_table, model._meta.pk.column)
