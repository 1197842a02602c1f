"""The page's overall indicator, derived as Statuspage derives it: a pure function."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

# Component statuses and incident impacts on one scale: 0 none, 1 minor, 2 major, 3 critical.
COMPONENT_LEVEL = {
    "operational": 0,
    "under_maintenance": 0,
    "degraded_performance": 1,
    "partial_outage": 2,
    "major_outage": 3,
}
IMPACT_LEVEL = {"none": 0, "maintenance": 0, "minor": 1, "major": 2, "critical": 3}
INDICATORS = ("none", "minor", "major", "critical")
# Statuspage's own wording: the components' blend, or an incident's impact when it is worse.
COMPONENT_WORDS = {
    1: "Partially Degraded Service",
    2: "Partial System Outage",
    3: "Major System Outage",
}
INCIDENT_WORDS = {
    1: "Minor Service Outage",
    2: "Major Service Outage",
    3: "Critical Service Outage",
}
# Statuspage reads a component's status as an incident impact the same way.
IMPACT_OF_STATUS = {0: "none", 1: "minor", 2: "major", 3: "critical"}


class Overall(NamedTuple):
    indicator: str  # none | minor | major | critical | maintenance
    description: str


def overall(
    component_statuses: Iterable[str],
    incident_impacts: Iterable[str] = (),
    *,
    maintenance_active: bool = False,
) -> Overall:
    statuses = list(component_statuses)
    by_components = max((COMPONENT_LEVEL.get(s, 0) for s in statuses), default=0)
    by_incidents = max((IMPACT_LEVEL.get(i, 0) for i in incident_impacts), default=0)
    if by_incidents > by_components:
        return Overall(INDICATORS[by_incidents], INCIDENT_WORDS[by_incidents])
    if by_components:
        return Overall(INDICATORS[by_components], COMPONENT_WORDS[by_components])
    if maintenance_active or "under_maintenance" in statuses:
        return Overall("maintenance", "Service Under Maintenance")
    return Overall("none", "All Systems Operational")


def impact_of(component_statuses: Iterable[str]) -> str:
    """An incident's impact when none is given: the worst status it sets."""
    level = max((COMPONENT_LEVEL.get(s, 0) for s in component_statuses), default=0)
    return IMPACT_OF_STATUS[level]


def worst(component_statuses: Iterable[str]) -> str:
    """The status a group of components shows: its worst one."""
    order = [
        "operational",
        "under_maintenance",
        "degraded_performance",
        "partial_outage",
        "major_outage",
    ]
    return max(component_statuses, key=order.index, default="operational")
