"""Erlang C: how many agents an interval needs so that a share of calls is answered in time.

Pure functions of arrivals and handle times (M/M/N queue, callers wait rather than leave).
Erlang B is computed by its recurrence, which stays stable for hundreds of agents where
the textbook factorials overflow.
"""

from __future__ import annotations

import math


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability with `agents` servers and `traffic` Erlangs offered."""
    if agents < 0 or traffic < 0:
        raise ValueError("agents and traffic must not be negative")
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = traffic * blocking / (n + traffic * blocking)
    return blocking


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a caller waits at all; 1.0 when the agents cannot keep up."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    blocking = erlang_b(agents, traffic)
    return agents * blocking / (agents - traffic * (1 - blocking))


def service_level(
    agents: int, traffic: float, handle_seconds: float, target_seconds: float
) -> float:
    """Share of calls answered within `target_seconds`."""
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    waiting = erlang_c(agents, traffic)
    return 1.0 - waiting * math.exp(-(agents - traffic) * target_seconds / handle_seconds)


def agents_needed(
    *,
    calls: float,
    interval_seconds: float,
    handle_seconds: float,
    target_seconds: float = 30.0,
    goal: float = 0.8,
    most: int = 2000,
) -> int:
    """The fewest agents that answer `goal` of `calls` (arriving over `interval_seconds`,
    each handled in `handle_seconds` on average) within `target_seconds`."""
    if calls <= 0 or handle_seconds <= 0:
        return 0
    traffic = calls * handle_seconds / interval_seconds
    agents = max(1, math.floor(traffic) + 1)
    while agents < most:
        if service_level(agents, traffic, handle_seconds, target_seconds) >= goal:
            return agents
        agents += 1
    return most
