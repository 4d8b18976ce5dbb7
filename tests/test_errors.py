"""An unexpected failure: logged with context, a calm message in the person's language, data kept."""

from __future__ import annotations

import logging

import pytest

from storage.repos import Repositories
from tests.conftest import UserFactory
from tests.factories import school


async def test_failure_is_logged_and_explained(
    make_user: UserFactory, repos: Repositories, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    s = await school(repos)
    anna = make_user(1601, "Anna", "en")
    await anna.send(f"/start {s.mentor_token}")
    await anna.click("I agree (I am 18 or older)")
    await anna.send("Anna Petrova")
    saved = await repos.participants.find(s.programme.id, 1601)

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(repos.responses, "save_answer", broken)
    with caplog.at_level(logging.ERROR):
        await anna.click(anna.buttons()[0])
    assert "something went wrong on our side" in anna.alerts[-1]
    assert "Traceback" not in " ".join(anna.texts)
    record = next(r for r in caplog.records if "error while handling update" in r.getMessage())
    assert "from user 1601" in record.getMessage() and record.exc_info is not None
    assert await repos.participants.find(s.programme.id, 1601) == saved

    ivan = make_user(1602, "Иван", "ru")
    monkeypatch.setattr(repos.users, "set_locale", broken)
    await ivan.send("/language")
    await ivan.click("English")
    assert "Что-то пошло не так" in ivan.alerts[-1] or "что-то пошло не так" in ivan.alerts[-1]
