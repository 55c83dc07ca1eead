"""The new hire's watch page: which video a verified token names, and what the page shows of it.

``VideoFinder`` maps a token's uid to the OnboardingVideo (a uid never changes, so a cache of names is
safe; a miss lists the namespace once). Only tokens a key of ours signed ever reach it, so a guessed
token costs no apiserver call. ``watch_page`` is pure: the resource and its script -> the template's
values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from preboarding.api.models import OnboardingVideoSpec
from preboarding.bridge.repository import VideoRepository
from preboarding.renderer.dates import spoken_date

SPEAKERS = {"alex": "Alex", "jordan": "Jordan"}
MAX_LIST_PAGES = 100


@dataclass
class VideoFinder:
    """OnboardingVideos by uid, through the repository's get and (on a miss) its paged list."""

    repository: VideoRepository
    page_size: int = 500

    def __post_init__(self) -> None:
        self._names: dict[str, str] = {}

    async def find(self, uid: str) -> dict[str, Any] | None:
        name = self._names.get(uid)
        if name is not None:
            video = await self.repository.get(name)
            if video is not None and video["metadata"].get("uid") == uid:
                return video
            self._names.pop(uid, None)  # deleted (a new video of that name has another uid)
        return await self._scan(uid)

    async def _scan(self, uid: str) -> dict[str, Any] | None:
        token: str | None = None
        for _ in range(MAX_LIST_PAGES):
            page = await self.repository.list_page(self.page_size, token)
            found = None
            for video in page.items:
                metadata = video.get("metadata") or {}
                if metadata.get("uid") and metadata.get("name"):
                    self._names[metadata["uid"]] = metadata["name"]
                    if metadata["uid"] == uid:
                        found = video
            if found is not None:
                return found
            token = page.continue_token
            if not token:
                break
        return None


@dataclass(frozen=True)
class TranscriptLine:
    speaker: str
    text: str


@dataclass(frozen=True)
class WatchPage:
    """What the watch template shows; every string is autoescaped by the template."""

    lang: str
    company: str
    brand_color: str
    on_brand: str
    first_name: str
    role: str
    start_date: str
    location: str | None
    manager: str | None
    buddy: str | None
    title: str
    transcript: list[TranscriptLine]
    video_url: str
    poster_url: str
    captions_url: str
    download_url: str


def watch_page(spec: OnboardingVideoSpec, script: dict[str, Any] | None, base: str) -> WatchPage:
    """The page for ``spec``; ``base`` is the token's own path (``/watch/<token>``)."""
    employee, company = spec.employee, spec.company
    first = employee.name.split()[0] if employee.name.split() else employee.name
    lines = []
    for line in (script or {}).get("lines") or []:
        if isinstance(line, dict) and isinstance(line.get("text"), str):
            speaker = str(line.get("speaker") or "")
            lines.append(TranscriptLine(SPEAKERS.get(speaker, speaker.title()), line["text"]))
    title = (script or {}).get("title")
    return WatchPage(
        lang=employee.language, company=company.name, brand_color=company.brand_color,
        on_brand=_text_on(company.brand_color), first_name=first, role=employee.role,
        start_date=spoken_date(employee.start_date), location=employee.location, manager=employee.manager,
        buddy=employee.buddy, title=title if isinstance(title, str) else f"Welcome to {company.name}",
        transcript=lines, video_url=f"{base}/video.mp4", poster_url=f"{base}/poster.jpg",
        captions_url=f"{base}/captions.vtt", download_url=f"{base}/video.mp4",
    )


def _text_on(color: str) -> str:
    """Black or white, whichever reads better on ``color`` (#RRGGBB), by WCAG relative luminance."""
    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(color[i:i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#000000" if (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) else "#ffffff"


def expired_message(expires_at: dt.datetime | None) -> str:
    if expires_at is None:
        return "This link is no longer available."
    return f"This link ended on {spoken_date(expires_at.date())}."
