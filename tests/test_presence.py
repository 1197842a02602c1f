"""Agents' presence: offline until set, changed by the agent or a manager, audited."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from caredesk.core.errors import Forbidden, InvalidInput
from caredesk.people.models import Presence, PresenceChange, User
from caredesk.people.presence import presence_of, set_presence

ET = ZoneInfo("America/New_York")
TUESDAY_10 = datetime(2026, 12, 1, 10, 0, tzinfo=ET)


def test_an_agent_is_offline_until_they_say_otherwise(rep: User) -> None:
    assert presence_of(rep) == "offline"


def test_an_agent_sets_their_presence_and_it_is_audited(rep: User) -> None:
    with time_machine.travel(TUESDAY_10, tick=False):
        presence = set_presence(rep, "available", actor=rep)
    assert (presence.status, presence.since) == ("available", TUESDAY_10)
    assert presence_of(rep) == "available"
    change = PresenceChange.objects.get(agent=rep)
    assert (change.actor, change.before, change.after, change.at) == (
        rep,
        "offline",
        "available",
        TUESDAY_10,
    )


def test_setting_the_same_presence_again_changes_nothing(rep: User) -> None:
    set_presence(rep, "busy", actor=rep, at=TUESDAY_10)
    again = set_presence(rep, "busy", actor=rep, at=TUESDAY_10.replace(hour=11))
    assert again.since == TUESDAY_10
    assert PresenceChange.objects.filter(agent=rep).count() == 1


def test_a_manager_sets_another_agents_presence(rep: User, manager: User) -> None:
    set_presence(rep, "available", actor=rep, at=TUESDAY_10)
    set_presence(rep, "offline", actor=manager, at=TUESDAY_10.replace(hour=23))
    assert presence_of(rep) == "offline"
    last = PresenceChange.objects.filter(agent=rep).last()
    assert last is not None and (last.actor, last.before, last.after) == (
        manager,
        "available",
        "offline",
    )


def test_a_colleague_may_not_set_your_presence(rep: User, rep2: User) -> None:
    with pytest.raises(Forbidden):
        set_presence(rep, "away", actor=rep2)
    assert not Presence.objects.exists() and not PresenceChange.objects.exists()


@pytest.mark.parametrize("status", ["lunch", "", "AVAILABLE"])
def test_an_unknown_presence_is_refused(rep: User, status: str) -> None:
    with pytest.raises(InvalidInput, match="Unknown presence"):
        set_presence(rep, status, actor=rep)


def test_customers_have_no_presence(alice: User, manager: User) -> None:
    with pytest.raises(InvalidInput, match="not an active agent"):
        set_presence(alice, "available", actor=manager)
