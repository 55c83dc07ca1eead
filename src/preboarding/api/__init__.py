"""The OnboardingVideo API shared by the bridge, the operator and the renderer.

Everything that two components must agree on lives here: the group/version/kind, label and
annotation keys, stage names, and the pydantic models of the resource's spec and status (from which
the CRD in ``crds/`` is generated, so the two cannot drift).
"""

from importlib import metadata

GROUP = "preboarding.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "OnboardingVideo"
PLURAL = "onboardingvideos"
SINGULAR = "onboardingvideo"
SHORT_NAMES = ["ov"]
CATEGORIES = ["preboarding"]
CRD_NAME = f"{PLURAL}.{GROUP}"

# Labels and annotations put on OnboardingVideos and on the objects made for them.
LABEL_VIDEO = f"{GROUP}/video"
LABEL_STAGE = f"{GROUP}/stage"
LABEL_EMPLOYEE_ID = f"{GROUP}/employee-id"
ANNOTATION_RETRY = f"{GROUP}/retry"
ANNOTATION_WEBHOOK_ID = f"{GROUP}/webhook-id"
# The last few delivery ids applied (newest first): an older delivery redelivered late is still a duplicate.
ANNOTATION_RECENT_WEBHOOK_IDS = f"{GROUP}/recent-webhook-ids"
RECENT_WEBHOOK_IDS_KEPT = 20
ANNOTATION_PAYLOAD_HASH = f"{GROUP}/payload-sha256"
FINALIZER = f"{GROUP}/cleanup"

try:
    __version__ = metadata.version("preboarding")
except metadata.PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

from preboarding.api.stages import STAGES, Stage  # noqa: E402

__all__ = [
    "ANNOTATION_PAYLOAD_HASH",
    "ANNOTATION_RECENT_WEBHOOK_IDS",
    "ANNOTATION_RETRY",
    "ANNOTATION_WEBHOOK_ID",
    "API_VERSION",
    "CATEGORIES",
    "CRD_NAME",
    "FINALIZER",
    "GROUP",
    "KIND",
    "LABEL_EMPLOYEE_ID",
    "LABEL_STAGE",
    "LABEL_VIDEO",
    "PLURAL",
    "RECENT_WEBHOOK_IDS_KEPT",
    "SHORT_NAMES",
    "SINGULAR",
    "STAGES",
    "VERSION",
    "Stage",
    "__version__",
]
