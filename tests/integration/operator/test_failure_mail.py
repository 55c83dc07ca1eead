"""A terminal failure mails the administrator once: the operator's alert Job runs the real ``preboarding alert``
against the ground's SMTP server; a restarted operator sends no second mail."""

from __future__ import annotations

import json
import time
from typing import Any

from preboarding import api
from preboarding.testenv.ground import GroundInfo
from tests.integration.welcome_mail import mails_to

from .harness import example_video, wait_for
from .test_pipeline import _create, _jobs


def _alert_jobs(kube_api: Any, namespace: str) -> list[Any]:
    return [j for j in _jobs(kube_api, namespace) if api.LABEL_ALERT in (j.metadata.labels or {})]


def test_a_stage_failing_for_good_mails_the_admin_once_with_the_retry_command(  # type: ignore[no-untyped-def]
        kube_api, namespace, operator_factory, kubelet_factory, ground: GroundInfo):
    admin = f"it-{namespace}@example.com"
    env = {"PREBOARDING_FAILURE_ALERTS": "true",
           "PREBOARDING_RENDERER_EXTRA_ENV": json.dumps({"PREBOARDING_ADMIN_EMAIL": admin})}
    first = operator_factory(**env)

    def slides_refused(stage: str, pod: dict[str, Any]) -> int | None:
        if stage == "alert":
            return None  # the real `preboarding alert`, mailing through the ground's SMTP server
        return 3 if stage == "slides" else 0

    kubelet = kubelet_factory(slides_refused)
    _create(kube_api, example_video(namespace))
    failed = wait_for(kube_api, namespace, "welcome-priya", lambda s: s.get("phase") == "Failed")["status"]
    deadline = time.monotonic() + 60
    while not mails_to(ground.mail_dir, admin):
        assert time.monotonic() < deadline, f"no failure mail; stand-in errors: {kubelet.errors}"
        time.sleep(0.3)

    [mail] = mails_to(ground.mail_dir, admin)
    assert mail["Subject"] == "Preboarding: the slides stage failed for Priya Raman"
    text = mail.get_payload(0).get_payload(decode=True).decode()
    assert "Why: permanent failure" in text and "priya.raman@example.com" in text
    assert f'kubectl annotate ov welcome-priya -n {namespace} preboarding.dev/retry="$(date +%s)"' in text
    [job] = _alert_jobs(kube_api, namespace)
    assert job.metadata.labels[api.LABEL_ALERT] == "slides"
    assert len(wait_for(kube_api, namespace, "welcome-priya",
                        lambda s: len(s.get("alerted") or []) == 1)["status"]["alerted"]) == 1
    assert failed["stage"] == "slides"

    # A restarted operator sees the same failure: it remembers the mail (status.alerted), sends no second one.
    first.kill()
    operator_factory(**env)
    time.sleep(5)
    assert len(_alert_jobs(kube_api, namespace)) == 1
    assert len(mails_to(ground.mail_dir, admin)) == 1
    assert [stage for stage, _, _ in kubelet.ran].count("alert") == 1
