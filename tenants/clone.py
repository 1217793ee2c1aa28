"""Clone the template schema into a new tenant schema, fast and flat.

django-tenants ships a general-purpose PL/pgSQL clone (pg-clone-schema). Measured
here it took 218 ms per tenant for the first ten tenants and 614 ms at forty, slower
than running the migrations (287 ms), because its information_schema queries scan
every schema. This module reads the template from pg_catalog once, keeps the
statements that rebuild it, and replays them for each new schema:

    sequences -> tables (LIKE: columns, defaults, identity) -> data -> constraints
    (primary/unique/check/exclusion, then foreign keys) -> other indexes -> triggers

Object names are kept exactly (later migrations refer to constraints and indexes by
name). The statements are generated with the template alone on the search_path, so
constraint definitions name template tables unqualified and public objects qualified.
Index and trigger definitions always qualify their table ("ON _template.t"); that one
qualifier is removed. The statements are replayed with the new schema first on the
search_path, so unqualified names land there.

On Citus with schema-based sharding (docs/scaling.md) the new schema is distributed and
its tables live on a worker, while the template stays on the coordinator. Each statement
therefore names either the new schema's tables (Citus routes it to their worker) or
coordinator objects only (sequence functions with literal arguments), never both; the
template's rows reach the worker through Citus's INSERT ... SELECT.

Anything this does not know how to copy (views, functions, serial columns in the
template) is refused loudly rather than copied wrong.
"""

from django.db import connection

from core.postgresql.base import search_path_forget

_cache: dict[tuple, list[str]] = {}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _fingerprint(cursor, template: str) -> tuple:
    cursor.execute(f"SELECT count(*), max(id) FROM {_quote(template)}.django_migrations")  # noqa: S608
    return (template, *cursor.fetchone())


def _rows(cursor, sql: str, params=()) -> list[tuple]:
    cursor.execute(sql, params)
    return cursor.fetchall()


def _refuse_unsupported(cursor, template: str) -> None:
    others = _rows(
        cursor,
        """
        SELECT c.relname, c.relkind FROM pg_class c
        WHERE c.relnamespace = %s::regnamespace AND c.relkind NOT IN ('r', 'p', 'i', 'S')
        UNION ALL
        SELECT p.proname, 'f' FROM pg_proc p WHERE p.pronamespace = %s::regnamespace
        """,
        [template, template],
    )
    serials = _rows(
        cursor,
        """
        SELECT c.relname, a.attname FROM pg_attrdef d
        JOIN pg_class c ON c.oid = d.adrelid
        JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
        WHERE c.relnamespace = %s::regnamespace AND pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%%'
        """,
        [template],
    )
    if others or serials:
        raise RuntimeError(f"Template schema has objects the clone cannot copy: {others + serials}")


def _statements(cursor, template: str) -> list[str]:
    """The DDL (and data copies) that rebuild `template` in the first schema on the path."""
    _refuse_unsupported(cursor, template)
    source = _quote(template)
    statements = []

    # Stand-alone sequences (identity sequences come with their columns). New tenants
    # start them afresh: e.g. purchase request numbers begin at 1.
    for name, kind, start, step, low, high, cache, cycle in _rows(
        cursor,
        """
        SELECT c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax,
               s.seqcache, s.seqcycle
        FROM pg_class c JOIN pg_sequence s ON s.seqrelid = c.oid
        WHERE c.relnamespace = %s::regnamespace
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('i', 'a'))
        ORDER BY c.relname
        """,
        [template],
    ):
        statements.append(
            f"CREATE SEQUENCE {_quote(name)} AS {kind} INCREMENT {step} MINVALUE {low} MAXVALUE {high} "
            f"START {start} CACHE {cache} {'CYCLE' if cycle else 'NO CYCLE'}"
        )

    tables = [
        name
        for (name,) in _rows(
            cursor,
            "SELECT relname FROM pg_class WHERE relnamespace = %s::regnamespace AND relkind IN ('r', 'p') ORDER BY 1",
            [template],
        )
    ]
    for table in tables:
        statements.append(
            f"CREATE TABLE {_quote(table)} (LIKE {source}.{_quote(table)} INCLUDING DEFAULTS INCLUDING IDENTITY "
            f"INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS)"
        )

    # Rows the template holds (django_migrations, above all), copied when each clone is
    # made; identity sequences then continue after the copied ids.
    identity = dict(
        _rows(
            cursor,
            """
        SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        WHERE c.relnamespace = %s::regnamespace AND a.attidentity IN ('a', 'd') AND NOT a.attisdropped
        """,
            [template],
        )
    )
    for table in tables:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {source}.{_quote(table)})")  # noqa: S608
        if cursor.fetchone()[0]:
            statements.append(f"INSERT INTO {_quote(table)} SELECT * FROM {source}.{_quote(table)}")  # noqa: S608
            if table in identity:
                # The highest id is read from the template now (its rows change only with
                # its migrations, which change the cache key), so the statement names no
                # table: on Citus a statement naming the new (distributed) table is sent
                # whole to the worker holding it, where the sequence functions cannot
                # resolve names on the coordinator's search_path.
                column = identity[table]
                cursor.execute(f"SELECT max({_quote(column)}) FROM {source}.{_quote(table)}")  # noqa: S608
                statements.append(
                    f"SELECT setval(pg_get_serial_sequence({_quote(table)!r}, {column!r}), {int(cursor.fetchone()[0])})"
                )

    cursor.execute("SELECT quote_ident(%s)", [template])
    on_template = f" ON {cursor.fetchone()[0]}."
    # Printed with only the template on the search_path: its own names unqualified.
    cursor.execute("SELECT set_config('search_path', %s, true)", [source])
    try:
        for table, name, definition in _rows(
            cursor,
            """
            SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
            WHERE connamespace = %s::regnamespace AND contype IN ('p', 'u', 'c', 'x', 'f')
            ORDER BY contype = 'f', contype <> 'p', conrelid::regclass::text, conname
            """,
            [template],
        ):
            statements.append(f"ALTER TABLE {table} ADD CONSTRAINT {_quote(name)} {definition}")
        for (definition,) in _rows(
            cursor,
            """
            SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE c.relnamespace = %s::regnamespace AND NOT EXISTS (
                SELECT 1 FROM pg_constraint k
                WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))
            ORDER BY c.relname
            """,
            [template],
        ):
            statements.append(definition.replace(on_template, " ON ", 1))
        for (definition,) in _rows(
            cursor,
            """
            SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            WHERE c.relnamespace = %s::regnamespace AND NOT t.tgisinternal ORDER BY t.tgname
            """,
            [template],
        ):
            statements.append(definition.replace(on_template, " ON ", 1))
    finally:
        cursor.execute("SELECT set_config('search_path', %s, true)", ['"public"'])
        search_path_forget()  # the backend must set its own path again
    return statements


def clone_schema(template: str, schema_name: str) -> int:
    """Create `schema_name` as a copy of `template` in the caller's transaction.

    Returns the number of statements replayed.
    """
    with connection.cursor() as cursor:
        key = _fingerprint(cursor, template)
        if key not in _cache:
            _cache.clear()  # the template moved on: older statement lists are stale
            _cache[key] = _statements(cursor, template)
        cursor.execute(f"CREATE SCHEMA {_quote(schema_name)}")
        cursor.execute("SELECT set_config('search_path', %s, true)", [f'{_quote(schema_name)}, "public"'])
        try:
            for statement in _cache[key]:
                cursor.execute(statement)
        finally:
            cursor.execute("SELECT set_config('search_path', %s, true)", ['"public"'])
            search_path_forget()
        return len(_cache[key])
