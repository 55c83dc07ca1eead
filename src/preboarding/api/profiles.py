"""How an OnboardingProfile applies to a new hire (pure): which team entry, and what it fills in.

The rule, as ``kubectl explain obp.spec.teams`` says: every field of an entry's ``match`` must equal the
value the HR system sent, ignoring case and surrounding space; the first entry that fits wins; an entry
without ``match`` is the fallback (it fits everyone, so put it last).
"""

from __future__ import annotations

from dataclasses import dataclass

from preboarding.api.sources import OnboardingProfileSpec, TeamEntry, TeamMatch


@dataclass(frozen=True)
class HireFacts:
    """What the HR system said about the new hire that team entries can match on."""

    department: str | None = None
    team: str | None = None
    location: str | None = None
    role: str | None = None


def _same(wanted: str | None, got: str | None) -> bool:
    return wanted is None or (got is not None and wanted.strip().casefold() == got.strip().casefold())


def matches(match: TeamMatch | None, facts: HireFacts) -> bool:
    """Whether an entry's ``match`` fits (no match, or an empty one, fits everyone)."""
    if match is None:
        return True
    return (_same(match.department, facts.department) and _same(match.team, facts.team)
            and _same(match.location, facts.location) and _same(match.role, facts.role))


def team_entry(profile: OnboardingProfileSpec, facts: HireFacts) -> TeamEntry | None:
    """The first team entry that fits the new hire, or None when none does (not even a fallback)."""
    return next((entry for entry in profile.teams if matches(entry.match, facts)), None)
