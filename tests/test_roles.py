"""Who may do what: every role × every action, each cell tried through real updates.

The matrix is `GRID` below (✓ allowed, · refused); docs/roles.md is generated from it and a test keeps the
two equal (`python tests/test_roles.py` rewrites docs/roles.md after a change to the table).

Each cell starts from the same world, a copy of one template database: a municipal department with two
schools under it; school «Лицей №21» has a programme with an approved pair (a mentor and a minor mentee
whose parent confirmed), a mentee accepted for pairing but not yet approved, a minor waiting for a parent's
confirmation, an observer, and two meetings (one held, one past and not yet logged). The person of the
cell's role then does the action the way the bot offers it: a command, or the button's callback data built
with the real CallbackData class and the ids of the real objects (for a refused role that is a forged
button). An allowed role gets the action's real result; a refused one is told so, and the database is
exactly as before (every table but the update log and the users' profile rows).
"""

from __future__ import annotations

import itertools
import shutil
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.storage.base import StorageKey
from aiogram.utils.i18n import I18n
from openpyxl import load_workbook

if __name__ == "__main__":  # `python tests/test_roles.py` from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import create_bot, create_dispatcher
from bot.callbacks import (
    AnnounceCb,
    BasesCb,
    CompletionCb,
    ConsentCb,
    CoordinatorInviteCb,
    DigestCb,
    MatchCb,
    MeetingCb,
    NoteCb,
    ObserverCb,
    OrgCb,
    ParentCb,
    ProgrammeCb,
    ReadinessCb,
    SurveyDeptCb,
    WithdrawCb,
)
from bot.clock import Clock
from bot.config import Settings
from dialogs.schema import Registry
from storage.db import Database, utcnow
from storage.models import InviteKind, ProposalStatus, Role
from storage.repos import Repositories
from storage.repos.pairs import NewProposal
from tests.client import FeedDriver, TgUser
from tests.conftest import ADMIN_ID, TOKEN
from tests.factories import COORDINATOR_ID, approved_pair, school
from tests.fakeapi import Call, FakeBotAPI

in_module_loop = pytest.mark.asyncio(loop_scope="module")  # the cells share the module's fake server

DOCS = Path(__file__).resolve().parents[1] / "docs" / "roles.md"

# Who may do what. Columns are the roles of `ROLES`, rows the actions of `ACTIONS`.
GRID = """
                      admin  department  coordinator  other_school  mentor  mentee  parent  observer  stranger
neworg                  ✓        ·           ·             ·          ·       ·       ·        ·         ·
invite_coordinator      ✓        ·           ·             ·          ·       ·       ·        ·         ·
newprogramme            ✓        ✓           ✓             ✓          ·       ·       ·        ·         ·
open_bases              ✓        ✓           ✓             ·          ·       ·       ·        ·         ·
coordinator_note        ✓        ✓           ✓             ·          ·       ·       ·        ·         ·
run_matching            ✓        ✓           ✓             ·          ·       ·       ·        ·         ·
approve_pairs           ✓        ✓           ✓             ·          ·       ·       ·        ·         ·
announce                ✓        ✓           ✓             ·          ·       ·       ·        ·         ·
results_spreadsheet     ✓        ✓           ✓             ·          ·       ·       ·        ·         ·
department_results      ✓        ✓           ·             ·          ·       ·       ·        ·         ·
meeting_settings        ✓        ✓           ✓             ·          ·       ·       ·        ·         ·
close_programme         ✓        ✓           ✓             ·          ·       ·       ·        ·         ·
digest_settings         ·        ✓           ✓             ✓          ·       ·       ·        ·         ·
schedule_meeting        ·        ·           ·             ·          ✓       ·       ·        ·         ·
log_meeting             ·        ·           ·             ·          ✓       ·       ·        ·         ·
rate_meeting            ·        ·           ·             ·          ·       ✓       ·        ·         ·
my_pairs                ·        ·           ·             ·          ✓       ·       ·        ·         ·
my_mentor               ·        ·           ·             ·          ·       ✓       ·        ·         ·
confirm_child_consent   ·        ·           ·             ·          ·       ·       ✓        ·         ·
observer_note           ·        ·           ·             ·          ·       ·       ·        ✓         ·
withdraw_consent        ·        ·           ·             ·          ·       ✓       ✓        ·         ·
my_data                 ✓        ✓           ✓             ✓          ✓       ✓       ✓        ✓         ✓
"""

ROLE_TITLES = {
    "admin": "administrator of the bot (`ADMIN_IDS`)",
    "department": "coordinator of the municipal department the school belongs to",
    "coordinator": "coordinator of the school",
    "other_school": "coordinator of another school of the same department",
    "mentor": "the pair's mentor",
    "mentee": "the pair's mentee (a minor)",
    "parent": "the mentee's parent, who confirmed the consent",
    "observer": "observer of the programme (class teacher, psychologist)",
    "stranger": "someone who never joined anything",
}


def parse_grid(grid: str) -> tuple[list[str], dict[str, frozenset[str]]]:
    """The roles (columns) and, per action, the roles allowed."""
    header, *rows = [line.split() for line in grid.strip().splitlines()]
    allowed = {}
    for action, *marks in rows:
        assert len(marks) == len(header), f"row {action} has {len(marks)} marks for {len(header)} roles"
        assert set(marks) <= {"✓", "·"}, f"row {action}: marks are ✓ or ·"
        allowed[action] = frozenset(role for role, mark in zip(header, marks, strict=True) if mark == "✓")
    return header, allowed


ROLES, ALLOWED = parse_grid(GRID)

# --- the world --------------------------------------------------------------------------------------------

DEPARTMENT_ID, OTHER_ID = 3000, 3002
MENTOR_ID, MENTEE_ID, WAITING_ID, WAITING2_ID, OBSERVER_ID = 4001, 4002, 4003, 4004, 4005
PARENT_ID = MENTEE_ID + 500_000  # as tests.factories.approved_pair makes the parent
STRANGER_ID = 9999
MENTEES = ("Пётр Сидоров", "Вера Иванова", "Глеб Попов")  # the names a refused person must not see
USER_IDS = {
    "admin": ADMIN_ID, "department": DEPARTMENT_ID, "coordinator": COORDINATOR_ID, "other_school": OTHER_ID,
    "mentor": MENTOR_ID, "mentee": MENTEE_ID, "parent": PARENT_ID, "observer": OBSERVER_ID,
    "stranger": STRANGER_ID,
}


@dataclass(frozen=True)
class World:
    """The ids of the world's objects, and the template database file it is kept in."""

    path: Path
    department: int
    org: int
    programme: int
    pair: int
    mentor: int
    mentee: int
    accepted_mentee: int  # paired by hand, not yet approved
    waiting_child: int  # a minor whose parent has not answered yet
    other_programme: int  # the other school's
    accepted_proposal: int
    parent_invite: int
    parent_token: str
    held_meeting: int
    due_meeting: int  # in the past, still scheduled: to be logged
    due_version: int


async def _no_messages(_meeting: object) -> list:
    return []


async def build_world(repos: Repositories, path: Path) -> World:
    """The world every cell starts from, written straight through the repositories."""
    department = await repos.organisations.create("Управление образования", "Europe/Moscow", ADMIN_ID)
    await repos.organisations.add_coordinator(department.id, DEPARTMENT_ID, "Елена Викторовна", "test")
    sch = await school(repos)
    other = await school(repos, name="Гимназия №5", coordinator_id=OTHER_ID)
    for org in (sch.org, other.org):
        await repos.organisations.set_parent(org.id, department.id)
    programme = sch.programme.id
    pair = await approved_pair(repos, sch, MENTOR_ID, (MENTEE_ID,), minor_mentees=True)
    accepted = await repos.participants.enrol(programme, WAITING_ID, Role.MENTEE, "pupil_pupil",
                                              "Вера Иванова", False, "test")
    await repos.pairs.pair_by_hand(programme, NewProposal(pair.mentor_id, accepted.id, 1.0, []),
                                   COORDINATOR_ID)
    proposal, = await repos.pairs.proposals(programme, ProposalStatus.ACCEPTED)
    child = await repos.participants.enrol(programme, WAITING2_ID, Role.MENTEE, "pupil_pupil", "Глеб Попов",
                                           True, "test")
    invite = await repos.invites.create(InviteKind.PARENT, sch.org.id, WAITING2_ID, timedelta(days=14),
                                        programme_id=programme, participant_id=child.id)
    await repos.observers.add(programme, OBSERVER_ID, "Нина Петровна", "psychologist", "test")
    now = utcnow()
    held = await repos.meetings.schedule(programme, pair.id, "organisational", now - timedelta(days=10), 45,
                                         "каб. 12", False, MENTOR_ID, _no_messages)
    await repos.meetings.log(held.id, held.version, held=True, minutes=45, compose=_no_messages)
    due = await repos.meetings.schedule(programme, pair.id, "trial", now - timedelta(days=1), 45, "каб. 12",
                                        False, MENTOR_ID, _no_messages)
    return World(
        path=path, department=department.id, org=sch.org.id, programme=programme, pair=pair.id,
        mentor=pair.mentor_id, mentee=pair.mentee_ids[0], accepted_mentee=accepted.id,
        waiting_child=child.id, other_programme=other.programme.id, accepted_proposal=proposal.id,
        parent_invite=invite.id, parent_token=invite.token,
        held_meeting=held.id, due_meeting=due.id, due_version=due.version,
    )


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def server() -> AsyncIterator[FakeBotAPI]:
    """One fake Bot API for the whole table (a fresh database per cell keeps the cells apart)."""
    async with FakeBotAPI() as fake:
        yield fake


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def module_bot(server: FakeBotAPI) -> AsyncIterator[Bot]:
    """The real bot, talking to the fake server."""
    bot = create_bot(_settings(server, Path("unused.sqlite3")))
    yield bot
    await bot.session.close()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """The template database, built once."""
    path = tmp_path_factory.mktemp("roles") / "world.sqlite3"
    db = await Database.open(path)
    try:
        return await build_world(Repositories(db), path)
    finally:
        await db.close()


def _settings(fake: FakeBotAPI, path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=TOKEN, bot_api_base_url=fake.base_url, database_path=path, admin_ids=frozenset({ADMIN_ID}),
    )


@dataclass
class Cell:
    """One cell's world: its own copy of the database, a dispatcher on it, and the person acting."""

    world: World
    dp: Dispatcher
    repos: Repositories
    user: TgUser


_cell_numbers = itertools.count(1)


@pytest_asyncio.fixture(loop_scope="module")
async def fresh(
    world: World, server: FakeBotAPI, module_bot: Bot, i18n: I18n, registry: Registry
) -> AsyncIterator[Callable[[str], Cell]]:
    """A copy of the world with a dispatcher built as in production; `fresh(role)` gives the cell."""
    path = world.path.with_name(f"cell-{next(_cell_numbers)}.sqlite3")
    shutil.copyfile(world.path, path)
    db = await Database.open(path)
    dp = create_dispatcher(_settings(server, path), db, i18n, registry, clock=Clock())
    driver = FeedDriver(dp, module_bot, server)

    def make(role: str) -> Cell:
        user = TgUser(driver, USER_IDS[role], role.capitalize(), language_code="en")
        return Cell(world, dp, dp["repos"], user)

    yield make
    await db.close()
    for leftover in path.parent.glob(path.name + "*"):
        leftover.unlink()


# --- what a person is told, and the database ---------------------------------------------------------------

def told(calls: list[Call]) -> str:
    """Everything the bot said in reaction: messages, edits, alerts, captions."""
    return "\n".join(str(c.params[key]) for c in calls for key in ("text", "caption")
                     if isinstance(c.params.get(key), str))


def documents(calls: list[Call]) -> list[tuple[str, bytes]]:
    """(file name, bytes) of the documents sent in reaction."""
    return [(f.filename, bytes(f)) for c in calls if c.method == "sendDocument" and c.ok
            for f in c.files.values()]


UNTRACKED = {"processed_updates", "users", "sqlite_sequence"}  # every update and profile, whoever sends it


async def snapshot(repos: Repositories) -> dict[str, list[str]]:
    """Every row of every table (but the update log and the users' profiles)."""
    tables = [r[0] for r in await repos.db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {
        table: sorted(repr(tuple(row)) for row in await repos.db.fetchall(f'SELECT * FROM "{table}"'))
        for table in tables if table not in UNTRACKED
    }


async def count(repos: Repositories, sql: str, *params: object) -> int:
    row = await repos.db.fetchone(sql, params)
    return int(row[0]) if row else 0


# --- the actions --------------------------------------------------------------------------------------------

Act = Callable[[Cell], Awaitable[list[Call]]]
Check = Callable[[Cell, list[Call]], Awaitable[None]]


@dataclass(frozen=True)
class Action:
    """One thing a person may try: how (for the docs), doing it, its result, and the refusal."""

    title: str
    how: str
    act: Act
    result: Check
    refusal: str
    prepare: Callable[[Cell], Awaitable[None]] | None = None  # set-up of this row's world, before the try


async def press(cell: Cell, data: CallbackData) -> list[Call]:
    """Send a button's callback data (a real button's, or a forged one) from the cell's person, under the
    newest bot message with buttons in their chat."""
    messages = cell.user.messages
    message = next((m for m in reversed(messages) if m.keyboard), messages[-1])
    return await cell.user.click_data(data.pack(), message.message_id)


def mentee_base(cell: Cell) -> BasesCb:
    return BasesCb(action="l", programme=cell.world.programme, role=Role.MENTEE)


async def _neworg(cell: Cell, calls: list[Call]) -> None:
    assert "New organisation." in told(calls)


async def _invite_coordinator(cell: Cell, calls: list[Call]) -> None:
    assert "Invitation for a coordinator of «Лицей №21»" in told(calls)
    assert await count(cell.repos, "SELECT COUNT(*) FROM invites WHERE kind = 'coordinator'") == 1


async def _newprogramme(cell: Cell, calls: list[Call]) -> None:
    assert told(calls).startswith("New programme")


async def _open_bases(cell: Cell, calls: list[Call]) -> None:
    screen = [c for c in calls if c.method in ("sendMessage", "editMessageText")][-1]
    buttons = [b["text"] for row in screen.params["reply_markup"]["inline_keyboard"] for b in row]
    assert any("Пётр Сидоров" in b for b in buttons), buttons


async def _approve(cell: Cell, calls: list[Call]) -> None:
    assert "Approved: 1 pairs and groups, 1 mentees." in told(calls)
    assert await cell.repos.pairs.of_participant(cell.world.accepted_mentee) is not None
    assert f"order-pairs-{cell.world.programme}.docx" in [name for name, _data in documents(calls)]


async def _announce(cell: Cell) -> list[Call]:
    """Pick the segment, write the text, send the preview (a refused person's text goes nowhere)."""
    calls = await press(cell, AnnounceCb(action="seg", programme=cell.world.programme, segment="mentors"))
    calls += await cell.user.send("Встреча всех наставников в пятницу в 15:00.")
    if any(b.startswith("Send to") for b in cell.user.buttons()):
        calls += await cell.user.click("Send to")
    return calls


async def _announced(cell: Cell, calls: list[Call]) -> None:
    assert "Queued for 1 person." in told(calls)
    assert await count(cell.repos, "SELECT COUNT(*) FROM outbox WHERE user_id = ? AND text LIKE ?",
                       MENTOR_ID, "%в пятницу в 15:00%") == 1


async def _results(cell: Cell, calls: list[Call]) -> None:
    (name, content), = documents(calls)
    assert name == f"results-{cell.world.programme}.xlsx"
    assert load_workbook(BytesIO(content)).sheetnames


async def _department_results(cell: Cell, calls: list[Call]) -> None:
    (name, content), = documents(calls)
    assert name == f"results-all-{cell.world.department}.xlsx"
    assert "Лицей №21" in " ".join(load_workbook(BytesIO(content)).sheetnames)


async def _meeting_settings(cell: Cell, calls: list[Call]) -> None:
    assert "Saved." in told(calls)
    assert (await cell.repos.meetings.settings(cell.world.programme)).cadence_days == 7


async def _closed(cell: Cell, calls: list[Call]) -> None:
    assert "The programme is closed." in told(calls)
    assert await cell.repos.completion.closed_at(cell.world.programme) is not None


async def _digest(cell: Cell, calls: list[Call]) -> None:
    assert "Saved." in told(calls)
    assert (await cell.repos.digests.setting(cell.user.id)).frequency == "off"


async def _nothing_scheduled(cell: Cell) -> None:
    """The pair's meeting due to be logged is cancelled, so that the next one can be scheduled."""
    await cell.repos.db.execute("UPDATE meetings SET status = 'cancelled' WHERE id = ?",
                                (cell.world.due_meeting,))


async def _scheduling(cell: Cell, calls: list[Call]) -> None:
    assert "with Пётр Сидоров" in told(calls)
    state = await cell.dp.storage.get_state(_key(cell))
    assert state is not None and state.startswith("Scheduling"), state


def _key(cell: Cell) -> StorageKey:
    return StorageKey(bot_id=int(TOKEN.split(":")[0]), chat_id=cell.user.id, user_id=cell.user.id)


async def _logging(cell: Cell, calls: list[Call]) -> None:
    assert "Log of the" in told(calls)
    assert await cell.dp.storage.get_state(_key(cell)) == "MeetingLogging:minutes"


async def _rated(cell: Cell, calls: list[Call]) -> None:
    assert "your rating is saved" in told(calls)
    assert [rating for _p, rating, _c in await cell.repos.meetings.feedback(cell.world.held_meeting)] == [5]


async def _my_pairs(cell: Cell, calls: list[Call]) -> None:
    assert "Пётр Сидоров" in told(calls)


async def _my_mentor(cell: Cell, calls: list[Call]) -> None:
    assert "Ольга Смирнова" in told(calls)


async def _confirm_child(cell: Cell) -> list[Call]:
    if cell.user.id == PARENT_ID:  # the parent opens the link the child forwarded, and confirms
        calls = await cell.user.send(f"/start {cell.world.parent_token}")
        return calls + await cell.user.click("I confirm as parent / legal representative")
    # anyone else knows at most the invite's number
    return await press(cell, ParentCb(action="agree", invite=str(cell.world.parent_invite)))


async def _child_confirmed(cell: Cell, calls: list[Call]) -> None:
    assert "Your confirmation is saved." in told(calls)
    assert await cell.repos.participants.guardians(cell.world.waiting_child) == [PARENT_ID]


async def _observer_note(cell: Cell) -> list[Call]:
    button = ObserverCb(action="a", programme=cell.world.programme, participant=cell.world.mentee)
    calls = await press(cell, button)
    return calls + await cell.user.send("Просит помощи с олимпиадной математикой.")


async def _coordinator_note(cell: Cell) -> list[Call]:
    world = cell.world
    note = NoteCb(action="a", programme=world.programme, role=Role.MENTEE, participant=world.mentee)
    calls = await press(cell, note)
    return calls + await cell.user.send("Просит помощи с олимпиадной математикой.")


async def _matched(cell: Cell, calls: list[Call]) -> None:
    assert "Matching done: 0 new proposals" in told(calls)


async def _noted(cell: Cell, calls: list[Call]) -> None:
    assert await count(cell.repos, "SELECT COUNT(*) FROM notes WHERE participant_id = ? AND text LIKE ?",
                       cell.world.mentee, "%олимпиадной%") == 1


async def _withdraw(cell: Cell) -> list[Call]:
    calls = await cell.user.send("/mydata")
    return calls + await press(cell, WithdrawCb(action="yes", participant=cell.world.mentee))


async def _withdrawn(cell: Cell, calls: list[Call]) -> None:
    assert "Consent withdrawn." in told(calls)
    assert await cell.repos.participants.find(cell.world.programme, MENTEE_ID) is None


async def _my_data(cell: Cell, calls: list[Call]) -> None:
    assert f"What is stored about you:\nTelegram id: {cell.user.id}" in told(calls)
    assert documents(calls)


NO_PROGRAMME = "You don't have access to this programme."
COORDINATORS_ONLY = "This is for coordinators of mentoring programmes."
ADMINS_ONLY = "This is for administrators of the bot only."

ACTIONS: dict[str, Action] = {
    "neworg": Action(
        "add an organisation", "`/neworg`",
        lambda c: c.user.send("/neworg"), _neworg, ADMINS_ONLY),
    "invite_coordinator": Action(
        "invite a school's coordinator", "`/orgs` → the school → Invite a coordinator",
        lambda c: press(c, OrgCb(action="link", org=c.world.org)), _invite_coordinator, ADMINS_ONLY),
    "newprogramme": Action(
        "create a programme", "`/newprogramme`",
        lambda c: c.user.send("/newprogramme"), _newprogramme, COORDINATORS_ONLY),
    "open_bases": Action(
        "open the school programme's mentee base", "programme card → Mentee base",
        lambda c: press(c, mentee_base(c)), _open_bases, NO_PROGRAMME),
    "coordinator_note": Action(
        "add a coordinator's note on a mentee's card", "Mentee base → the mentee → Notes → Add a note",
        _coordinator_note, _noted, NO_PROGRAMME),
    "run_matching": Action(
        "run matching for the programme", "programme card → Matching and pairs → Run matching",
        lambda c: press(c, MatchCb(action="run", programme=c.world.programme)), _matched, NO_PROGRAMME),
    "approve_pairs": Action(
        "approve the accepted pairs (and get the order draft and lists)", "Matching and pairs → Approve",
        lambda c: press(c, MatchCb(action="apy", programme=c.world.programme)), _approve, NO_PROGRAMME),
    "announce": Action(
        "send an announcement to the programme's mentors", "programme card → Announcement → All mentors",
        _announce, _announced, NO_PROGRAMME),
    "results_spreadsheet": Action(
        "download the programme's survey results", "`/results` → the programme → Spreadsheet",
        lambda c: press(c, ProgrammeCb(action="results_xlsx", programme=c.world.programme)), _results,
        NO_PROGRAMME),
    "department_results": Action(
        "download the survey results of all the department's schools", "`/results` → All schools of …",
        lambda c: press(c, SurveyDeptCb(action="xlsx", org=c.world.department)), _department_results,
        "You don't have access to this organisation."),
    "meeting_settings": Action(
        "change the programme's meeting settings", "programme card → Meetings → Settings",
        lambda c: press(c, MeetingCb(action="set_val", value=f"{c.world.programme}/cad/7")),
        _meeting_settings,
        NO_PROGRAMME),
    "close_programme": Action(
        "close the programme", "programme card → Complete the programme → Close",
        lambda c: press(c, CompletionCb(action="close", programme=c.world.programme)), _closed, NO_PROGRAMME),
    "digest_settings": Action(
        "change when my digest comes", "`/digest`",
        lambda c: press(c, DigestCb(action="freq", value="off")), _digest, COORDINATORS_ONLY),
    "schedule_meeting": Action(
        "schedule the pair's next meeting", "`/mypairs` → Schedule",
        lambda c: press(c, MeetingCb(action="schedule", pair=c.world.pair)), _scheduling,
        "Only the pair's mentor can schedule, move or cancel its meetings.", prepare=_nothing_scheduled),
    "log_meeting": Action(
        "log the pair's past meeting", "the prompt after the meeting → Held",
        lambda c: press(c, MeetingCb(action="log_held", meeting=c.world.due_meeting,
                                     version=c.world.due_version)),
        _logging, "Only the mentor of this pair logs its meetings."),
    "rate_meeting": Action(
        "rate the pair's held meeting", "the message after the meeting → 1…5",
        lambda c: press(c, MeetingCb(action="fb", meeting=c.world.held_meeting, value="5")), _rated,
        "Only the mentees of this pair rate its meetings."),
    "my_pairs": Action(
        "see my mentees and our programme", "`/mypairs`",
        lambda c: c.user.send("/mypairs"), _my_pairs, "You have no approved mentoring pairs yet."),
    "my_mentor": Action(
        "see my mentor", "`/mymentor`",
        lambda c: c.user.send("/mymentor"), _my_mentor, "You have no mentor yet."),
    "confirm_child_consent": Action(
        "confirm a minor's consent as parent", "the link the child forwarded → I confirm",
        _confirm_child, _child_confirmed, "This link is not valid."),
    "observer_note": Action(
        "add an observer's note on a mentee", "`/mentees` → the mentee → Add a note",
        _observer_note, _noted, NO_PROGRAMME),
    "withdraw_consent": Action(
        "withdraw the mentee's consent (deletes the data)", "`/mydata` → Withdraw consent → Yes",
        _withdraw, _withdrawn,
        "This button is out of date. Send /mydata again."),
    "my_data": Action(
        "see what is stored about me", "`/mydata`",
        lambda c: c.user.send("/mydata"), _my_data, ""),
}


CELLS = [(role, action) for action in ALLOWED for role in ROLES]


@in_module_loop
@pytest.mark.parametrize(("role", "action"), CELLS, ids=[f"{a}-{r}" for r, a in CELLS])
async def test_who_may_do_what(fresh: Callable[[str], Cell], role: str, action: str) -> None:
    """One cell of GRID: the allowed person gets the result; a refused one is told why, is shown none of the
    mentees' names, and every table is as it was."""
    cell = fresh(role)
    what = ACTIONS[action]
    if what.prepare is not None:
        await what.prepare(cell)
    await cell.user.send("/start")  # the main menu: the message a forged button is pressed under
    before = await snapshot(cell.repos)
    calls = await what.act(cell)
    if role in ALLOWED[action]:
        await what.result(cell, calls)
        return
    assert what.refusal in told(calls), f"{role} was told:\n{told(calls)}"
    assert not [name for name in MENTEES if name in told(calls)], f"{role} was shown a mentee's name"
    after = await snapshot(cell.repos)
    changed = [t for t in before if before[t] != after[t]]
    assert not changed, f"{role} changed {changed}"


# --- the other school's coordinator naming their own programme with this school's people -----------------

MIXED = {
    # what the button names: (its data, what the coordinator is told)
    "a mentee's card": (lambda w: BasesCb(action="c", programme=w.other_programme, role=Role.MENTEE,
                                          participant=w.mentee), NO_PROGRAMME),
    "a note on a mentee": (lambda w: NoteCb(action="a", programme=w.other_programme, role=Role.MENTEE,
                                            participant=w.mentee), NO_PROGRAMME),
    "a mentor's readiness": (lambda w: ReadinessCb(action="r", programme=w.other_programme,
                                                   participant=w.mentor), NO_PROGRAMME),
    "a proposal": (lambda w: MatchCb(action="r", programme=w.other_programme, item=w.accepted_proposal),
                   "This proposal has changed since the screen was shown."),
    "a mentor's award": (lambda w: CompletionCb(action="award_m", programme=w.other_programme, item=w.mentor),
                         "This mentor or pair is not in the programme any more."),
    "a pair's meetings": (lambda w: MeetingCb(action="adm_pair", pair=w.pair, value=str(w.other_programme)),
                          NO_PROGRAMME),
}


@in_module_loop
@pytest.mark.parametrize("target", list(MIXED))
async def test_own_programme_with_another_schools_people(fresh: Callable[[str], Cell], target: str) -> None:
    """Naming their own programme does not let a coordinator reach another school's people and pairs."""
    cell = fresh("other_school")
    data, refusal = MIXED[target]
    await cell.user.send("/start")
    before = await snapshot(cell.repos)
    calls = await press(cell, data(cell.world))
    assert refusal in told(calls)
    assert "Пётр Сидоров" not in told(calls) and "Ольга Смирнова" not in told(calls)
    assert await snapshot(cell.repos) == before


# --- invite buttons: only for someone who opened the link --------------------------------------------------

async def _coordinator_invite(cell: Cell) -> tuple[str, int]:
    invite = await cell.repos.invites.create(InviteKind.COORDINATOR, cell.world.org, ADMIN_ID,
                                             timedelta(days=7))
    return invite.token, invite.id


async def _programme_invite(cell: Cell, kind: InviteKind) -> tuple[str, int]:
    invite = await cell.repos.invites.create(kind, cell.world.org, COORDINATOR_ID, timedelta(days=60),
                                             programme_id=cell.world.programme)
    return invite.token, invite.id


async def _is_coordinator(cell: Cell) -> bool:
    return bool(await cell.repos.organisations.of_coordinator(STRANGER_ID))


async def _is_mentee(cell: Cell) -> bool:
    return await cell.repos.participants.find(cell.world.programme, STRANGER_ID) is not None


async def _is_observer(cell: Cell) -> bool:
    return await cell.repos.observers.find(cell.world.programme, STRANGER_ID) is not None


async def _join_as_mentee(cell: Cell, data: str) -> list[Call]:
    calls = await cell.user.click_data(data, cell.user.messages[-1].message_id)
    return calls + await cell.user.send("Иван Петров")


async def _press_once(cell: Cell, data: str) -> list[Call]:
    return await cell.user.click_data(data, cell.user.messages[-1].message_id)


INVITES = {
    # kind: (make the invite, its button's data from what the person knows, the buttons pressed, the result)
    "coordinator": (_coordinator_invite, lambda key: CoordinatorInviteCb(action="accept", invite=key),
                    _press_once, _is_coordinator),
    "mentee": (lambda c: _programme_invite(c, InviteKind.MENTEE),
               lambda key: ConsentCb(action="agree", invite=key), _join_as_mentee, _is_mentee),
    "observer": (lambda c: _programme_invite(c, InviteKind.OBSERVER),
                 lambda key: ObserverCb(action="ps", invite=key, value="psychologist"), _press_once,
                 _is_observer),
}


@in_module_loop
@pytest.mark.parametrize("opened", [True, False], ids=["with the link", "with the id only"])
@pytest.mark.parametrize("kind", list(INVITES))
async def test_invite_buttons_work_only_for_whoever_opened_the_link(
    fresh: Callable[[str], Cell], kind: str, opened: bool
) -> None:
    """An invite's buttons carry its token, so knowing (or guessing) an invite's number is not enough to
    become a coordinator, join a programme or observe its mentees; the link's holder still can."""
    cell = fresh("stranger")
    make, button, follow, done = INVITES[kind]
    token, invite_id = await make(cell)
    await cell.user.send("/start")
    if opened:
        await cell.user.send(f"/start {token}")
        await follow(cell, button(token).pack())
        assert await done(cell)
        return
    before = await snapshot(cell.repos)
    calls = await follow(cell, button(str(invite_id)).pack())
    assert "This link is not valid." in told(calls)
    assert not await done(cell)
    assert await snapshot(cell.repos) == before


# --- the table as documentation -----------------------------------------------------------------------------

NOTES = (
    "Every button is checked again on the server, whatever callback data arrives: a refused person gets an "
    "alert or a message saying why, and nothing is changed.",
    "**other_school** runs its own school's programmes (so it may create a programme) but is refused on "
    "every button of this school's programme, also when it names its own programme with this school's "
    "people, pairs or proposals.",
    "**department** runs the programmes of every school under it, and sees the survey results of all of "
    "them together.",
    "Invite buttons (coordinator, mentor/mentee consent, parent, observer) carry the link's secret token, "
    "not the invite's number: only whoever opened the link can act on it.",
    "The digest is a coordinator's own: an administrator who coordinates no organisation has none.",
)


def render_docs() -> str:
    """docs/roles.md, from the table above."""
    lines = [
        "# Who may do what",
        "",
        "Generated from `GRID` in `tests/test_roles.py`: its test tries every cell through real updates",
        "(the refused ones with forged buttons) and checks that the allowed person gets the result and a",
        "refused one is told so while nothing changes. After changing the table, run",
        "`python tests/test_roles.py` to rewrite this file (a test fails while the two differ).",
        "",
        "The roles, all about the same school's programme:",
        "",
        *[f"- **{role}**: {ROLE_TITLES[role]}" for role in ROLES],
        "",
        "| action | how | " + " | ".join(ROLES) + " |",
        "| --- | --- | " + " | ".join("---" for _ in ROLES) + " |",
    ]
    for action, roles in ALLOWED.items():
        marks = " | ".join("✓" if role in roles else "·" for role in ROLES)
        lines.append(f"| {ACTIONS[action].title} | {ACTIONS[action].how} | {marks} |")
    lines += ["", "Notes:", "", *[f"- {note}" for note in NOTES]]
    return "\n".join(lines) + "\n"


def test_every_action_has_a_row_and_every_role_a_title() -> None:
    assert set(ALLOWED) == set(ACTIONS)
    assert set(ROLES) == set(ROLE_TITLES) == set(USER_IDS)


def test_docs_show_the_same_table() -> None:
    assert DOCS.read_text(encoding="utf-8") == render_docs(), "run `python tests/test_roles.py`"


if __name__ == "__main__":
    DOCS.parent.mkdir(exist_ok=True)
    DOCS.write_text(render_docs(), encoding="utf-8")
    print(f"wrote {DOCS}")
