"""aiogram's models, built on first use (bot/aiogram_models.py), all build, whatever is used first.

Each check runs in a fresh interpreter: the point is what happens after `import bot` and before anything
else has built a model. A model that can't resolve a forward reference raises pydantic's
`PydanticUserError` on its first validation; invalid data raises `ValidationError` after the model was built,
which is what the probe below expects for an empty payload.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import weakref
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.methods import SendMessage
from aiogram.methods.base import Response

from tests.fakeapi import FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys
import bot
from pydantic import BaseModel, ValidationError
import aiogram.methods as methods
import aiogram.types as types
from aiogram.methods.base import Response, TelegramMethod

deferred = not types.Message.__pydantic_complete__ and not types.Update.__pydantic_complete__

def first_validation(model):
    try:
        model.model_validate({})
    except ValidationError:
        pass
    return model.__pydantic_complete__

def models(module):
    found = (getattr(module, name) for name in module.__all__)
    return [m for m in found if isinstance(m, type) and issubclass(m, BaseModel)]

all_methods = [m for m in models(methods) if issubclass(m, TelegramMethod) and m is not TelegramMethod]
all_types = models(types)
order = sys.argv[1]
groups = [all_methods, all_types] if order == "methods-first" else [all_types[::-1], all_methods[::-1]]
failed = [m.__name__ for group in groups for m in group if not first_validation(m)]
responses = 0
for method in all_methods:
    Response[method.__returning__].model_validate({"ok": True})
    responses += 1
print(json.dumps({"deferred": deferred, "failed": failed, "methods": len(all_methods),
                  "types": len(all_types), "responses": responses}))
"""


@pytest.mark.parametrize("order", ["methods-first", "types-first"])
def test_every_aiogram_model_builds_on_first_use(order: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, order], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["deferred"], "importing the bot built aiogram's models: build_on_first_use did not apply"
    assert result["failed"] == []
    assert result["methods"] > 150 and result["types"] > 250
    assert result["responses"] == result["methods"]


def test_a_message_round_trip_builds_what_it_needs() -> None:
    """An update in and a reply's response out, on models built on their first use."""
    probe = """
import json
import bot
from aiogram import Bot
from aiogram.methods import SendMessage
from aiogram.types import Update
update = Update.model_validate({"update_id": 1, "callback_query": {
    "id": "7", "from": {"id": 5, "is_bot": False, "first_name": "Ann"}, "chat_instance": "c", "data": "q:1",
    "message": {"message_id": 3, "date": 1, "chat": {"id": 5, "type": "private"}, "text": "Question?",
                "reply_markup": {"inline_keyboard": [[{"text": "Yes", "callback_data": "q:1"}]]}}}})
bot_ = Bot("1:x")
sent = {"message_id": 4, "date": 2, "chat": {"id": 5, "type": "private"}, "text": "Saved"}
response = bot_.session.check_response(
    bot_, SendMessage(chat_id=5, text="Saved"), 200, json.dumps({"ok": True, "result": sent})
)
print(json.dumps({
    "data": update.callback_query.data,
    "button": update.callback_query.message.reply_markup.inline_keyboard[0][0].text,
    "reply": response.result.text, "reply_type": type(response.result).__name__,
}))
"""
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "data": "q:1",
        "button": "Yes",
        "reply": "Saved",
        "reply_type": "Message",
    }


async def test_response_models_are_built_once_per_process(bot: Bot, fake: FakeBotAPI) -> None:
    """The response model of a method the bot called survives garbage collection (pydantic keeps it only
    weakly; without `KeepResponseModels` it would be built again after every collection)."""
    await bot.send_message(5, "Hello")
    model = weakref.ref(Response[SendMessage.__returning__])  # type: ignore[attr-defined]
    gc.collect()
    assert model() is not None
    await bot.send_message(5, "Again")
    assert Response[SendMessage.__returning__] is model()  # type: ignore[attr-defined]
    assert [c.params["text"] for c in fake.calls_of("sendMessage")] == ["Hello", "Again"]
