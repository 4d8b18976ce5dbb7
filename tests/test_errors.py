"""An unexpected failure: logged with context, a calm message in the person's language, data kept."""

from __future__ import annotations

import logging

import pytest

from storage.repos import Repositories
from tests.conftest import ADMIN_ID, UserFactory
from tests.factories import school
from tests.fakeapi import FakeBotAPI


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


async def test_a_quick_second_tap_that_changes_nothing_is_quiet(
    make_user: UserFactory, repos: Repositories, fake: FakeBotAPI, caplog: pytest.LogCaptureFixture,
) -> None:
    """A person taps "More »" twice before the first tap's page arrives: the second asks for the page the
    message already shows (Telegram: "message is not modified"). Nothing to apologise for, nothing to log as
    an error; the tap is answered."""
    for number in range(1, 26):
        await repos.organisations.create(f"Школа №{number:02d}", "Europe/Moscow", created_by=ADMIN_ID)
    admin = make_user(ADMIN_ID, "Olga", "en")
    await admin.send("/orgs")
    listing = admin.last_message
    (more,) = [b["callback_data"] for row in listing.keyboard for b in row if b["text"] == "More »"]
    with caplog.at_level(logging.INFO):
        await admin.click_data(more, listing.message_id)
        shown = admin.buttons()
        await admin.click_data(more, listing.message_id)
    assert admin.buttons() == shown == [f"Школа №{n}" for n in range(21, 26)] + ["« Back"]
    assert admin.alerts == []
    assert not any("went wrong" in text for text in admin.texts)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    answered = [tap.params["callback_query_id"] for tap in fake.calls_of("answerCallbackQuery")
                if tap.status == 200]
    assert len(answered) == len(set(answered)) == 2  # each tap answered once
