"""The OnboardingVideo API shared by the bridge, the operator and the renderer.

Everything that two components must agree on lives here: the group/version/kinds, label and
annotation keys, stage names, the store layout, and the pydantic models of the resources' specs and
statuses (from which the CRDs in ``crds/`` are generated, so the two cannot drift). docs/architecture.md
lists each contract and its module.
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
SOURCE_KIND = "OnboardingSource"
SOURCE_PLURAL = "onboardingsources"
SOURCE_SHORT_NAMES = ["obs"]
PROFILE_KIND = "OnboardingProfile"
PROFILE_PLURAL = "onboardingprofiles"
PROFILE_SHORT_NAMES = ["obp"]

# Labels and annotations put on OnboardingVideos and on the objects made for them.
LABEL_VIDEO = f"{GROUP}/video"
LABEL_STAGE = f"{GROUP}/stage"
LABEL_EMPLOYEE_ID = f"{GROUP}/employee-id"
ANNOTATION_RETRY = f"{GROUP}/retry"
# A new value sends the welcome email again with a fresh link (at most one email per MIN_EMAIL_INTERVAL).
ANNOTATION_RESEND = f"{GROUP}/resend"
# On a failure mail's Job (instead of the stage label): what failed, a stage name or "delivery".
LABEL_ALERT = f"{GROUP}/alert"
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
    "ANNOTATION_RESEND",
    "ANNOTATION_RETRY",
    "ANNOTATION_WEBHOOK_ID",
    "API_VERSION",
    "CATEGORIES",
    "CRD_NAME",
    "FINALIZER",
    "GROUP",
    "KIND",
    "LABEL_ALERT",
    "LABEL_EMPLOYEE_ID",
    "LABEL_STAGE",
    "LABEL_VIDEO",
    "PLURAL",
    "PROFILE_KIND",
    "PROFILE_PLURAL",
    "PROFILE_SHORT_NAMES",
    "RECENT_WEBHOOK_IDS_KEPT",
    "SHORT_NAMES",
    "SINGULAR",
    "SOURCE_KIND",
    "SOURCE_PLURAL",
    "SOURCE_SHORT_NAMES",
    "STAGES",
    "VERSION",
    "Stage",
    "__version__",
]
