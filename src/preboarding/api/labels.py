"""The labels Preboarding puts on what it creates: the ``app.kubernetes.io/*`` set plus its own keys.

One helper per label set, used by the operator (stage Jobs, the renderer's ServiceAccount, its watch
selector) and the bridge (OnboardingVideos); the chart's ``_helpers.tpl`` writes the same keys for
what Helm installs.
"""

from __future__ import annotations

import re

from preboarding.api import LABEL_ALERT, LABEL_EMPLOYEE_ID, LABEL_STAGE, LABEL_VIDEO
from preboarding.api.stages import Stage

PART_OF = "preboarding"
MANAGED_BY = "app.kubernetes.io/managed-by"
OPERATOR = "preboarding-operator"
BRIDGE = "preboarding-bridge"

_NOT_IN_VALUE = re.compile(r"[^A-Za-z0-9._-]")


def label_value(text: str) -> str:
    """``text`` as a label value: at most 63 characters of ``[A-Za-z0-9._-]``, alphanumeric at both ends.

    Other characters become ``_``; the result may be empty (then leave the label out).
    """
    return _NOT_IN_VALUE.sub("_", text)[:63].strip("._-")


def standard_labels(component: str, managed_by: str) -> dict[str, str]:
    """The ``app.kubernetes.io/*`` set for one of our objects."""
    return {
        "app.kubernetes.io/name": PART_OF,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
        MANAGED_BY: managed_by,
    }


def stage_job_labels(video: str, stage: Stage) -> dict[str, str]:
    """Labels on a stage Job and its pods: the standard set plus the video and the stage."""
    return {**standard_labels("renderer", OPERATOR), LABEL_VIDEO: label_value(video), LABEL_STAGE: stage.value}


def alert_job_labels(video: str, about: str) -> dict[str, str]:
    """Labels on a failure mail's Job: the standard set, the video, and what failed (no stage label, so the
    operator's stage indexes and Job slots never count it)."""
    return {**standard_labels("renderer", OPERATOR), LABEL_VIDEO: label_value(video), LABEL_ALERT: about}


def video_labels(employee_id: str) -> dict[str, str]:
    """Labels on an OnboardingVideo the bridge creates: who made it and whose it is."""
    labels = {MANAGED_BY: BRIDGE}
    value = label_value(employee_id)
    if value:
        labels[LABEL_EMPLOYEE_ID] = value
    return labels
