"""Matching screens and approval: run, explained proposals, accept, reject, swap, by hand, re-run, approve,
messages to everyone concerned, and the documents opened and read."""

from __future__ import annotations

import random
from io import BytesIO

from docx import Document
from openpyxl import load_workbook

from bot.callbacks import MatchCb
from dialogs.schema import Registry
from storage.models import Participant, ProposalStatus, Role
from storage.repos import Repositories
from tests.client import TgUser
from tests.conftest import UserFactory
from tests.factories import COORDINATOR_ID, School, school
from tests.outbox_helpers import drained
from tests.synthetic import synthetic_answers

STALE = "This proposal has changed since the screen was shown. Open the list again."
NO_ACCESS = "You don't have access to this programme."


async def enrol(
    repos: Repositories, registry: Registry, sch: School, user_id: int, role: Role, name: str,
    answers: dict[str, object] | None = None, *, minor: bool = False, seed: int = 0,
) -> Participant:
    """A participant who submitted the questionnaire (and, for mentors, was marked ready)."""
    programme = sch.programme
    person = await repos.participants.enrol(programme.id, user_id, role, "pupil_pupil", name, minor, "v1")
    if minor:
        person = await repos.participants.parent_decision(person.id, user_id + 500_000, True, "v1")
    questionnaire = registry.for_participant(role, "pupil_pupil")
    if answers is None:
        answers = synthetic_answers(questionnaire, random.Random(seed), number_cap=2)
    response = await repos.responses.start(person.id, questionnaire.id, questionnaire.version)
    for question_id, value in answers.items():
        await repos.responses.save_answer(response.id, question_id, value)
    assert await repos.responses.submit(response.id)
    if role is Role.MENTOR:
        await repos.readiness.set_flag(person.id, "interview", True, COORDINATOR_ID)
        await repos.readiness.set_flag(person.id, "ready", True, COORDINATOR_ID)
    return person


def base_answers(registry: Registry, role: Role, **chosen: object) -> dict[str, object]:
    """Synthetic answers with some match questions fixed."""
    answers = synthetic_answers(registry.for_participant(role, "pupil_pupil"), random.Random(7), number_cap=1)
    answers.update(chosen)
    return answers


async def open_matching(maria: TgUser) -> None:
    await maria.send("/programmes")
    await maria.click("Вместе по лестнице успеха")
    await maria.click("Matching and pairs")


async def test_run_decide_approve_documents(
    make_user: UserFactory, repos: Repositories, registry: Registry
) -> None:
    sch = await school(repos)
    mentor_q = registry.for_participant(Role.MENTOR, "pupil_pupil")
    topics = next(q for q in mentor_q.questions if q.match == "topics")
    first, second = topics.options[0].id, topics.options[1].id
    olga = await enrol(repos, registry, sch, 20_001, Role.MENTOR, "Ольга Смирнова",
                       base_answers(registry, Role.MENTOR, topics=[first], capacity=1))
    ivan = await enrol(repos, registry, sch, 20_002, Role.MENTOR, "Иван Петров",
                       base_answers(registry, Role.MENTOR, topics=[second], capacity=2))
    petr = await enrol(repos, registry, sch, 10_001, Role.MENTEE, "Пётр Сидоров",
                       base_answers(registry, Role.MENTEE, topics=[first]), minor=True)
    vera = await enrol(repos, registry, sch, 10_002, Role.MENTEE, "Вера Иванова",
                       base_answers(registry, Role.MENTEE, topics=[second]))
    anna = await enrol(repos, registry, sch, 10_003, Role.MENTEE, "Анна Кузнецова",
                       base_answers(registry, Role.MENTEE, topics=[second]))
    await repos.preferences.set_choices(petr.id, [olga.id])
    await repos.preferences.set_choices(olga.id, [petr.id])
    for user_id in (20_001, 10_001, 10_002, 10_003, 510_001):
        await repos.users.seen(user_id, "en")

    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await open_matching(maria)
    assert "Ready mentors with a questionnaire: 2 (places for mentees: 3)" in maria.last_text
    assert "Mentees with a questionnaire: 3" in maria.last_text
    await maria.click("Run matching")
    assert maria.last_text.startswith("Matching done: 3 new proposals, 0 without a pair.")

    await maria.click("Proposed (3)")
    assert maria.buttons()[:3] == [
        "Иван Петров → Анна Кузнецова", "Иван Петров → Вера Иванова", "Ольга Смирнова → Пётр Сидоров",
    ]
    await maria.click("Ольга Смирнова → Пётр Сидоров")
    card = maria.last_text
    assert card.startswith("Mentor: Ольга Смирнова\nMentee: Пётр Сидоров\nForm of mentoring: Pupil – pupil")
    mentee_topics = registry.for_participant(Role.MENTEE, "pupil_pupil").question("topics")
    topic_text = mentee_topics.option(first).text["en"]
    assert f"\nWhy: both chose each other; common requests: {topic_text}; common " in card
    await maria.click("Accept")
    assert "Status: accepted" in maria.last_text
    accepted_id = (await repos.pairs.proposals(sch.programme.id, ProposalStatus.ACCEPTED))[0].id

    # Reject Ivan → Vera; a re-run does not propose it again and keeps the accepted pair.
    await maria.click("Back to the list")
    await maria.click("Иван Петров → Вера Иванова")
    await maria.click("Reject")
    assert "Status: rejected" in maria.last_text
    await maria.click("Back to the list")
    await maria.click("Back to matching")
    await maria.click("Run matching again for the rest")
    assert maria.last_text.startswith("Matching done: 1 new proposals, 1 without a pair.")
    proposals = await repos.pairs.proposals(sch.programme.id)
    live = {(p.mentor_id, p.mentee_id, p.status) for p in proposals}
    assert (olga.id, petr.id, ProposalStatus.ACCEPTED) in live
    assert (ivan.id, vera.id, ProposalStatus.PROPOSED) not in live
    assert (ivan.id, anna.id, ProposalStatus.PROPOSED) in live

    # Vera is listed with the reason; she is paired by hand with Ivan (who has a free place).
    await maria.click("Without a pair (1)")
    assert "• Вера Иванова: the suitable mentors have no free places" in maria.last_text
    await maria.click("Вера Иванова")
    assert maria.buttons()[0].startswith("Иван Петров — free places: 2")
    await maria.click("Иван Петров")
    assert "Status: accepted (paired by hand)" in maria.last_text

    # Swap: Anna gets Olga, Pyotr gets Ivan (both become accepted by hand); then swap back.
    await maria.click("Back to the list")
    await maria.click("Back to matching")
    await maria.click("Proposed (1)")
    await maria.click("Иван Петров → Анна Кузнецова")
    await maria.click("Swap mentors with another pair")
    await maria.click("Ольга Смирнова → Пётр Сидоров")
    assert maria.last_text.startswith("Mentor: Ольга Смирнова\nMentee: Анна Кузнецова")
    pairs = {(p.mentor_id, p.mentee_id) for p in await repos.pairs.proposals(sch.programme.id)}
    assert {(olga.id, anna.id), (ivan.id, petr.id), (ivan.id, vera.id)} <= pairs
    # The old proposal's button is stale now.
    await maria.click_data(MatchCb(action="a", programme=sch.programme.id, item=accepted_id).pack(),
                           maria.last_message.message_id)
    assert maria.alerts[-1] == STALE

    await maria.click("Back to matching")
    await maria.click("Approve accepted pairs (3)")
    assert maria.last_text.startswith("Approve 3 accepted pairs (2 mentors)?")
    await maria.click("Yes, approve")
    assert maria.texts[-3].startswith("Approved: 2 pairs and groups, 3 mentees. Messages queued: 6.")
    active = await repos.pairs.active(sch.programme.id)
    assert {(p.mentor_id, p.mentee_ids) for p in active} == {
        (olga.id, (anna.id,)), (ivan.id, tuple(sorted((petr.id, vera.id)))),
    }
    assert all([await repos.pairs.goals(p.id) == [] and await repos.pairs.has_plan(p.id) for p in active])

    await drained(repos)
    assert (await repos.outbox.counts("pair", sch.programme.id))["sent"] == 6
    anna_chat = make_user(10_003, "Anna", "en")
    assert anna_chat.texts == [
        "Your mentor in «Вместе по лестнице успеха» is Ольга Смирнова.\n\nWhat comes next: your mentor will "
        "invite you to the first meeting here in the bot. /mymentor shows who your mentor is."
    ]
    parent = make_user(510_001, "Parent", "en")
    assert parent.texts == [
        "Пётр Сидоров now has a mentor in «Вместе по лестнице успеха»: Иван Петров. The bot will tell "
        "Пётр Сидоров about the meetings."
    ]
    ivan_chat = make_user(20_002, "Иван", "ru")
    assert len(ivan_chat.texts) == 1 and "Вера Иванова" in ivan_chat.texts[0]
    assert "Пётр Сидоров" in ivan_chat.texts[0]
    await anna_chat.send("/mymentor")
    assert anna_chat.last_text.startswith("«Вместе по лестнице успеха»: your mentor is Ольга Смирнова.")

    # A second tap on «Yes, approve» changes nothing and sends nothing.
    await maria.click_data(MatchCb(action="apy", programme=sch.programme.id).pack(),
                           maria.last_message.message_id)
    assert maria.alerts[-1] == "There are no accepted pairs to approve."
    assert len(await repos.pairs.active(sch.programme.id)) == 2

    # The documents: the order draft and the lists, opened and read.
    xlsx, docx_file = maria.documents[-2:]
    assert docx_file.filename.endswith(".docx") and xlsx.filename.endswith(".xlsx")
    order = Document(BytesIO(docx_file))
    text = "\n".join(p.text for p in order.paragraphs)
    assert "Лицей №21" in text and "On approving mentoring pairs/groups" in text
    table = [[cell.text for cell in row.cells] for row in order.tables[0].rows]
    assert table[0] == ["No.", "Mentor", "Mentees", "Form of mentoring", "Period"]
    assert sorted(row[1:4] for row in table[1:]) == [
        ["Иван Петров", "Вера Иванова\nПётр Сидоров", "Pupil – pupil"],
        ["Ольга Смирнова", "Анна Кузнецова", "Pupil – pupil"],
    ]
    book = load_workbook(BytesIO(xlsx))
    people = list(book["Participants"].iter_rows(values_only=True))
    assert people[0] == ("Name", "Role", "Form of mentoring", "Minor", "State", "Pair")
    by_name = {row[0]: row for row in people[1:]}
    assert by_name["Пётр Сидоров"][3] == "yes" and by_name["Пётр Сидоров"][5] == "Иван Петров"
    assert by_name["Иван Петров"][5] == "Вера Иванова\nПётр Сидоров"
    pairs_sheet = list(book["Pairs and groups"].iter_rows(values_only=True))
    assert len(pairs_sheet) == 3 and {row[3] for row in pairs_sheet[1:]} == {1, 2}


async def test_other_school_refused_and_forged_ids(
    make_user: UserFactory, repos: Repositories, registry: Registry
) -> None:
    sch = await school(repos)
    other = await school(repos, name="Школа №5", coordinator_id=3000)
    mentor = await enrol(repos, registry, sch, 20_001, Role.MENTOR, "Ольга Смирнова", seed=1)
    mentee = await enrol(repos, registry, sch, 10_001, Role.MENTEE, "Пётр Сидоров", seed=2)
    stranger = make_user(3000, "Oleg", "en")
    pid = sch.programme.id
    for action in ("v", "run", "l", "ap", "apy", "docs", "mh"):
        await stranger.click_data(MatchCb(action=action, programme=pid).pack(), 1)
        assert stranger.alerts[-1] == NO_ACCESS
    await stranger.click_data(MatchCb(action="mx", programme=pid, item=mentee.id, other=mentor.id).pack(), 1)
    assert stranger.alerts[-1] == NO_ACCESS
    assert await repos.pairs.proposals(pid) == []

    # The other school's coordinator uses their own programme with this school's people: refused.
    oid = other.programme.id
    await stranger.click_data(MatchCb(action="mx", programme=oid, item=mentee.id, other=mentor.id).pack(), 1)
    assert stranger.alerts[-1].startswith("This pair cannot be made now")
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await maria.click_data(MatchCb(action="run", programme=pid).pack(), 1)
    proposal = (await repos.pairs.proposals(pid))[0]
    await stranger.click_data(MatchCb(action="a", programme=oid, item=proposal.id).pack(), 1)
    assert stranger.alerts[-1] == STALE
    assert (await repos.pairs.proposal(proposal.id)).status is ProposalStatus.PROPOSED
    assert stranger.documents == []
