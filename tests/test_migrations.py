"""Migrations: a fresh file and every older version reach the newest schema, up, down and up again."""

from __future__ import annotations

from pathlib import Path

from storage.db import Database, load_migrations


async def _schema(db: Database) -> list[tuple[str, str]]:
    rows = await db.fetchall(
        "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY name"
    )
    return [(r["name"], r["sql"]) for r in rows]


async def test_fresh_file_reaches_newest(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "fresh.sqlite3")
    try:
        assert await db.schema_version() == len(load_migrations())
        pragmas = [
            (await db.fetchone("PRAGMA journal_mode"))[0],
            (await db.fetchone("PRAGMA foreign_keys"))[0],
            (await db.fetchone("PRAGMA busy_timeout"))[0],
        ]
        assert pragmas == ["wal", 1, 5000]
    finally:
        await db.close()


async def test_stairway_every_version_up_down_up(tmp_path: Path) -> None:
    reference = await Database.open(tmp_path / "reference.sqlite3")
    newest = await _schema(reference)
    await reference.close()
    db = await Database.open(tmp_path / "stairs.sqlite3", migrate=False)
    try:
        for migration in load_migrations():
            assert await db.migrate(migration.version) == migration.version
            before = await _schema(db)
            assert await db.migrate(migration.version - 1) == migration.version - 1
            assert await db.migrate(migration.version) == migration.version
            assert await _schema(db) == before
        assert await _schema(db) == newest
    finally:
        await db.close()


async def test_each_older_version_upgrades_to_newest(tmp_path: Path) -> None:
    count = len(load_migrations())
    reference = await Database.open(tmp_path / "reference.sqlite3")
    newest = await _schema(reference)
    await reference.close()
    for version in range(count + 1):
        path = tmp_path / f"v{version}.sqlite3"
        old = await Database.open(path, migrate=False)
        await old.migrate(version)
        await old.close()
        db = await Database.open(path)
        try:
            assert await db.schema_version() == count
            assert await _schema(db) == newest
        finally:
            await db.close()


async def test_data_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "data.sqlite3"
    db = await Database.open(path)
    await db.execute("INSERT INTO users (id, created_at) VALUES (7, '2026-01-01T00:00:00+00:00')")
    await db.close()
    db = await Database.open(path)
    try:
        row = await db.fetchone("SELECT id FROM users")
        assert row["id"] == 7
    finally:
        await db.close()


async def test_failed_transaction_rolls_back(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "tx.sqlite3")
    try:
        try:
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO users (id, created_at) VALUES (1, 'x')")
                raise RuntimeError("boom")
        except RuntimeError:
            pass
        assert await db.fetchone("SELECT id FROM users") is None
    finally:
        await db.close()


async def test_surveys_migration_keeps_every_answer(tmp_path: Path) -> None:
    """0010 rebuilds responses and answers: a questionnaire answered before is there after, up and down."""
    db = await Database.open(tmp_path / "answers.sqlite3", migrate=False)
    try:
        await db.migrate(9)
        await db.execute("INSERT INTO organisations (id, name, timezone, created_by, created_at) "
                         "VALUES (1, 'Школа', 'Europe/Moscow', 1, 'x')")
        await db.execute("INSERT INTO programmes (id, organisation_id, title, forms, start_date, "
                         "end_date, created_by, created_at) "
                         "VALUES (1, 1, 'P', '[]', '2026-09-01', '2027-05-31', 1, 'x')")
        await db.execute("INSERT INTO participants (id, programme_id, user_id, role, form, full_name, "
                         "status, created_at) "
                         "VALUES (1, 1, 5, 'mentee', 'pupil_pupil', 'Анна', 'active', 'x')")
        await db.execute("INSERT INTO responses (id, participant_id, questionnaire_id, "
                         "questionnaire_version, status, started_at, updated_at) "
                         "VALUES (7, 1, 'mentee_pupil', 1, 'submitted', 'x', 'x')")
        await db.execute("INSERT INTO answers VALUES (7, 'grade', '\"g5\"', 'x')")
        for target in (10, 9, 10):
            await db.migrate(target)
            rows = await db.fetchall("SELECT r.id, a.question_id FROM responses r JOIN answers a "
                                     "ON a.response_id = r.id")
            assert [tuple(r) for r in rows] == [(7, "grade")]
        schema = (await db.fetchone("SELECT sql FROM sqlite_master WHERE name = 'answers'"))[0]
        assert "REFERENCES responses(id)" in schema.replace('"', "")
        await db.execute("DELETE FROM participants")  # the cascade still reaches the answers
        assert (await db.fetchone("SELECT COUNT(*) FROM answers"))[0] == 0
    finally:
        await db.close()
