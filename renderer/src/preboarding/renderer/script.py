"""The two-host dialogue: its model, its rules, and the offline template writer.

Pure: no I/O. The OpenAI writer (``llm.py``) produces the same ``Script`` and is held to the same
``script_problems`` rules, so employee data can only ever fill lines, never change their structure.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from preboarding.api.models import OnboardingVideoSpec
from preboarding.renderer.dates import spoken_date

Speaker = Literal["Alex", "Jordan"]
Section = Literal["welcome", "team", "week", "stack", "farewell"]
SECTIONS: tuple[Section, ...] = ("welcome", "team", "week", "stack", "farewell")
HOSTS: tuple[Speaker, Speaker] = ("Alex", "Jordan")
WORDS_PER_SECOND = 2.6  # measured speaking rate of the offline voices, used to aim at the target length
LINE_PAUSE_SECONDS = 0.35
SECTION_PAUSE_SECONDS = 0.8


class Line(BaseModel):
    """One thing one host says, in the section (and so under the slide) it belongs to."""

    model_config = ConfigDict(extra="forbid")

    speaker: Speaker
    section: Section
    text: str = Field(min_length=1, max_length=600)


class Script(BaseModel):
    """The whole dialogue, in speaking order."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    lines: list[Line] = Field(min_length=4, max_length=120)

    def words(self) -> int:
        return sum(len(line.text.split()) for line in self.lines)

    def estimated_seconds(self) -> float:
        return estimate_seconds(self.lines)


def estimate_seconds(lines: list[Line]) -> float:
    """Rough spoken length, to aim at the target; the audio stage measures the real one."""
    words = sum(len(line.text.split()) for line in lines)
    changes = sum(1 for a, b in itertools.pairwise(lines) if a.section != b.section)
    return words / WORDS_PER_SECOND + LINE_PAUSE_SECONDS * max(len(lines) - 1, 0) + SECTION_PAUSE_SECONDS * changes


def script_sections(spec: OnboardingVideoSpec) -> list[Section]:
    """The sections this employee's video has: team, week and stack only when there is data for them."""
    e = spec.employee
    present = {
        "welcome": True,
        "team": bool(e.team or e.manager or e.buddy),
        "week": bool(e.schedule),
        "stack": bool(e.tech_stack),
        "farewell": True,
    }
    return [s for s in SECTIONS if present[s]]


def script_problems(script: Script, sections: list[Section]) -> list[str]:
    """Why a script does not fit the video (empty when it does): the slides and timing depend on this."""
    problems = []
    seen = [line.section for line in script.lines]
    for section in sections:
        if section not in seen:
            problems.append(f"section {section!r} has no lines")
    for i, line in enumerate(script.lines):
        if line.section not in sections:
            problems.append(f"lines[{i}]: section {line.section!r} is not one of {sections}")
    order = [sections.index(s) for s in seen if s in sections]
    if order != sorted(order):
        problems.append(f"sections must come in this order: {', '.join(sections)}")
    speakers = {line.speaker for line in script.lines}
    if speakers != set(HOSTS):
        problems.append("both hosts, Alex and Jordan, must speak")
    return problems


def spoken_list(items: list[str]) -> str:
    """``a, b and c``."""
    items = [i.strip().rstrip(".") for i in items if i.strip()]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def first_name(name: str) -> str:
    return name.split()[0] if name.split() else name


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


# Phrase variants per tone; the writer picks deterministically from the employee, so reruns agree
# while two new hires rarely hear the same words.
_OPENERS = {
    "warm": [
        "Hi {first}! I'm Alex, and this is Jordan. We are so happy you're joining {company}.",
        "Hello {first}, welcome! I'm Alex, here with Jordan, and we have been looking forward to this.",
        "Hey {first}! Alex here, with my co-host Jordan. Welcome to {company}!",
    ],
    "professional": [
        "Hello {first}. I'm Alex, and with me is Jordan. On behalf of {company}, welcome.",
        "Welcome to {company}, {first}. I'm Alex, joined by Jordan, and we'll walk you through your start.",
    ],
    "playful": [
        "Drumroll please... {first}, welcome to {company}! I'm Alex, and this is Jordan.",
        "Well, well, well, if it isn't {first}! I'm Alex, Jordan is here too, and {company} just got better.",
    ],
}
_ROLE_LINES = [
    "Hi {first}! You're joining us as {role_a}{team_part}, and honestly, we've needed you.",
    "That's right. {first} starts as {role_a}{team_part}. Big welcome from all of us, {first}.",
    "Hi {first}, I'm Jordan. You're coming in as {role_a}{team_part}, and people are excited.",
]
_CLOSERS = {
    "warm": [
        "We can't wait to meet you, {first}. See you on {date}!",
        "Take care until then, {first}. See you on {date}!",
    ],
    "professional": [
        "We look forward to working with you, {first}. See you on {date}.",
        "Welcome aboard, {first}. We'll see you on {date}.",
    ],
    "playful": [
        "Get some rest, {first}, because on {date} the fun begins. See you then!",
        "That's a wrap! See you on {date}, {first}, and bring your best coffee mug.",
    ],
}


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


class TemplateWriter:
    """The offline script writer: natural sentences from the employee data, no model, no key."""

    provider = "template"

    def write(self, spec: OnboardingVideoSpec) -> Script:
        e, c, tone = spec.employee, spec.company, spec.script.tone
        rng = random.Random(hashlib.sha256(f"{e.id}/{e.name}/{tone}".encode()).digest())
        first = first_name(e.name)
        date = spoken_date(e.start_date)
        sections = script_sections(spec)
        fill = {
            "first": first,
            "company": c.name,
            "role_a": f"{_article(e.role)} {e.role}",
            "team_part": f" on the {e.team} team" if e.team else "",
            "date": date,
        }
        lines: list[Line] = []

        def say(speaker: Speaker, section: Section, text: str) -> None:
            # Employee data is only ever substituted into our own sentences, never interpreted.
            lines.append(Line(speaker=speaker, section=section, text=text))

        say("Alex", "welcome", rng.choice(_OPENERS[tone]).format(**fill))
        say("Jordan", "welcome", rng.choice(_ROLE_LINES).format(**fill))
        where = f" at the {e.location}" if e.location and not e.location.lower().startswith("remote") else ""
        if e.location and e.location.lower().startswith("remote"):
            where = ", working remotely"
        say("Alex", "welcome", f"Your first day is {date}{where}.")

        if "team" in sections:
            if e.manager:
                say("Jordan", "team", f"Let's talk about your people. Your manager is {e.manager}, "
                                      "who will meet you on day one and help you set your first goals.")
            if e.buddy:
                say("Alex", "team", f"And your onboarding buddy is {e.buddy}. Any question, big or small, "
                                    f"{first_name(e.buddy)} is the person to ask.")
            if e.team and not (e.manager or e.buddy):
                say("Jordan", "team", f"The {e.team} team has your desk, your tickets and your first "
                                      "coffee ready.")
        head, lines = lines, []

        if "stack" in sections:
            stack = e.tech_stack
            count = 1  # as many tools as a sentence can carry; the slide shows all of them
            while count < min(len(stack), 8) and len(spoken_list(stack[: count + 1])) <= 350:
                count += 1
            shown = spoken_list(stack[:count])
            more = f", plus {len(stack) - count} more on the slide" if len(stack) > count else ""
            say("Alex", "stack", f"Now, the tools. Day to day you'll work with {shown}{more}.")
            if spec.script.target_seconds >= 60:
                say("Jordan", "stack", rng.choice([
                    "Don't worry if some of those are new to you. Everyone learns on the job here.",
                    "Nobody expects you to know all of them on day one. We'll set you up step by step.",
                    "If one of those is new to you, that's fine. Your buddy has a reading list ready.",
                ]))

        say("Alex", "farewell", rng.choice(_CLOSERS[tone]).format(**fill))
        say("Jordan", "farewell", f"Welcome to {c.name}, {first}!")
        # The week is the longest part, so it is where the target length is met (within 20%).
        week: list[Line] = []
        if "week" in sections:
            budget = spec.script.target_seconds * 1.2 - estimate_seconds(head + lines) - 2 * SECTION_PAUSE_SECONDS
            week = self._week_lines(spec, rng, budget=budget)
        return Script(title=f"Welcome to {c.name}, {first}!", lines=head + week + lines)

    @staticmethod
    def _week_lines(spec: OnboardingVideoSpec, rng: random.Random, budget: float) -> list[Line]:
        """Walk through the week, day by day; drop detail from the end of each day when over budget."""
        days = spec.employee.schedule
        most = max(len(d.items) for d in days)
        leads = ["On {day}", "{day} brings", "Then on {day}, it's", "{day}"]
        lines: list[Line] = []
        for keep in range(most, 0, -1):
            intro = "Here's what your first week looks like." if keep == most else rng.choice([
                "Here are the highlights of your first week. The slide has the full plan.",
                "Your first week, in short. The full plan is on the slide.",
            ])
            lines = [Line(speaker="Jordan", section="week", text=intro)]
            for i, day in enumerate(days):
                speaker: Speaker = "Alex" if i % 2 == 0 else "Jordan"
                items = [item.strip().rstrip(".") for item in day.items[:keep]]
                text = f"{leads[i % len(leads)].format(day=day.day)}: {spoken_list(items)}."
                lines.append(Line(speaker=speaker, section="week", text=text[:600]))
            too_long = any(len(line.text) >= 600 for line in lines)
            if estimate_seconds(lines) <= budget and not too_long:
                return lines
        # Even one item a day is too long: the first day only, and the slide for the rest.
        first = days[0]
        return [Line(speaker="Jordan", section="week",
                     text=f"Your week starts on {first.day} with {first.items[0].strip().rstrip('.')}."[:600]),
                Line(speaker="Alex", section="week", text="The rest of the week is on the slide.")]
