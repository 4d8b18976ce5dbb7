"""A department above schools: its coordinators run every school's programmes; schools stay apart."""

from __future__ import annotations

from bot.callbacks import OrgCb, ProgrammeCb
from storage.repos import Repositories
from tests.conftest import ADMIN_ID, UserFactory
from tests.factories import school

NO_ACCESS = "You don't have access to this programme."


async def test_department_sees_every_school_and_schools_stay_apart(
    make_user: UserFactory, repos: Repositories
) -> None:
    lyceum = await school(repos, name="Лицей №21", coordinator_id=2101)
    gymnasium = await school(repos, name="Гимназия №5", coordinator_id=2102, timezone="Asia/Vladivostok")
    department = await repos.organisations.create("Комитет образования г. Курска", "Europe/Moscow", ADMIN_ID)
    await repos.organisations.add_coordinator(department.id, 2100, "Сергей Белкин", "test")

    admin = make_user(ADMIN_ID, "Olga", "en")
    for org in (lyceum.org, gymnasium.org):
        await admin.send("/orgs")
        await admin.click(org.name)
        await admin.click("Department…")
        assert "Which education department" in admin.last_text
        assert org.name not in admin.buttons()  # never under itself
        await admin.click("Комитет образования")
        assert "Part of: Комитет образования г. Курска" in admin.last_text
    await admin.send("/orgs")
    await admin.click("Комитет образования")
    assert "Organisations under it: Гимназия №5, Лицей №21" in admin.last_text

    # A loop is refused even when the button is forged.
    await admin.click_data(OrgCb(action="setp", org=department.id, value=str(lyceum.org.id)).pack(), 1)
    assert "cannot be placed there" in admin.alerts[-1]
    assert (await repos.organisations.get(department.id)).parent_id is None

    head = make_user(2100, "Sergey", "en")
    await head.send("/programmes")

    await head.click_data(ProgrammeCb(action="open", programme=gymnasium.programme.id).pack(), 1)
    assert any("Organisation: Гимназия №5" in t for t in head.texts) and NO_ACCESS not in head.alerts
    await head.click_data(ProgrammeCb(action="open", programme=lyceum.programme.id).pack(), 1)
    assert any("Organisation: Лицей №21" in t for t in head.texts) and NO_ACCESS not in head.alerts

    lyceum_coordinator = make_user(2101, "Maria", "en")
    for action in ("open", "links"):
        forged = ProgrammeCb(action=action, programme=gymnasium.programme.id).pack()
        await lyceum_coordinator.click_data(forged, 1)
    assert lyceum_coordinator.alerts == [NO_ACCESS, NO_ACCESS]
    assert not any("t.me" in t for t in lyceum_coordinator.texts)

    stranger = make_user(2199, "Mallory", "en")
    await stranger.click_data(OrgCb(action="setp", org=lyceum.org.id, value="0").pack(), 1)
    assert (await repos.organisations.get(lyceum.org.id)).parent_id == department.id
