from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key, key)


def _words(key: str) -> str:
    """A stored name for people to read: "bind_dn" -> "Bind dn" is no better, so the
    known names have their own words; others lose their underscores and dots."""
    text = key.replace("_", " ").replace(".", " ")
    return text[:1].upper() + text[1:]


# What the candidate scores mean, and how to show each value.
SCORES: dict[str, tuple[str, str]] = {
    "identity": ("Looks like them (face model, 0 to 1)", "number"),
    "identity_check": ("Looks like them (second face model, 0 to 1)", "number"),
    "sharpness": ("Sharpness (0 to 1)", "number"),
    "exposure": ("Exposure (0 to 1)", "number"),
    "framing": ("Framing (0 to 1)", "number"),
    "skin_delta_e": ("Skin tone change (ΔE; under 10 keeps it)", "number"),
    "glasses_kept": ("Glasses as in the selfies", "yes"),
    "hair_color_kept": ("Hair colour as in the selfies", "yes"),
}


@register.filter
def score_rows(scores: dict[str, Any] | None) -> list[tuple[str, str]]:
    """A candidate's scores as (what it measures, its value) in plain words."""
    rows = []
    for key, value in (scores or {}).items():
        label, kind = SCORES.get(key, (_words(key), "number"))
        if kind == "yes":
            shown = "Yes" if value else "No"
        elif isinstance(value, int | float):
            shown = f"{value:.2f}"
        else:
            shown = str(value)
        rows.append((label, shown))
    return rows


ACTIONS = {
    "api_token.created": "API token made",
    "api_token.revoked": "API token revoked",
    "biometrics.deleted": "Selfies and face data deleted",
    "brand.updated": "Card design changed",
    "cards.batch": "Business cards printed for a department",
    "consent.given": "Consent given",
    "consent.withdrawn": "Consent withdrawn",
    "consent_text.published": "Consent text published",
    "directory.settings_saved": "Directory settings saved",
    "directory.synced": "Directory synchronised",
    "employee.deprovisioned": "Person deprovisioned",
    "employee.joined": "Person joined",
    "employee.left": "Person left",
    "employee.provisioned": "Person provisioned",
    "employee.reactivated": "Person reactivated",
    "employee.updated": "Person's details changed",
    "headshot.approved": "Headshot approved",
    "headshot.picked": "Headshot picked",
    "headshot.rejected": "Headshot sent back",
    "headshots.exported": "Headshots downloaded",
    "invitation.accepted": "Invitation accepted",
    "invitation.created": "Invitation sent",
    "invitation.revoked": "Invitation revoked",
    "invite_link.created": "Invite link made",
    "invite_link.joined": "Joined by invite link",
    "invite_link.revoked": "Invite link revoked",
    "job.another_round": "Another round asked for",
    "job.cancelled": "Headshot round stopped",
    "job.failed": "Headshot round failed",
    "job.requested": "Headshot round started",
    "job.requeued": "Headshot round queued again",
    "job.succeeded": "Headshot round finished",
    "membership.granted": "Role given",
    "membership.role_changed": "Role changed",
    "personal_data.deleted": "Person's data deleted",
    "photo.deleted": "A selfie deleted",
    "personal_data.exported": "Person's data downloaded",
    "preset.created": "Style created",
    "preset.edited": "Style edited",
    "preset.versioned": "Style saved as a new version",
    "publication.published": "Published",
    "publication.requested": "Publication asked for",
    "publications.requested": "Publication asked for, several people",
    "retention.changed": "Retention schedule changed",
    "retention.leaver_purged": "A leaver's data deleted on schedule",
    "roster.imported": "Roster imported",
    "sso.signed_in": "Signed in with single sign-on",
}


@register.filter
def action_words(action: str) -> str:
    return ACTIONS.get(action, _words(action))


# What a directory sync did or would do for one person.
SYNC_ACTIONS = {
    "write": "photo sent",
    "unchanged": "already up to date",
    "remove": "photo removed",
    "not_found": "not found in the directory",
    "failed": "failed",
}
SYNC_PLANS = {
    "write": "send the photo",
    "unchanged": "nothing: up to date",
    "remove": "remove the photo",
    "not_found": "not found",
    "failed": "fail",
}


@register.filter
def sync_words(action: str, planned: bool = False) -> str:
    return (SYNC_PLANS if planned else SYNC_ACTIONS).get(action, _words(action))


# What an audit event was about: the stored model name, in words.
TARGETS = {
    "organizations.organization": "Company",
    "organizations.employeeprofile": "Person",
    "organizations.invitation": "Invitation",
    "organizations.invitelink": "Invite link",
    "organizations.membership": "Role",
    "organizations.apitoken": "API token",
    "organizations.identityprovider": "Single sign-on",
    "photos.photo": "Selfie",
    "photos.consentrecord": "Consent",
    "photos.consenttext": "Consent text",
    "presets.brandpreset": "Style",
    "presets.brandpresetversion": "Style version",
    "generation.generationjob": "Round",
    "generation.headshot": "Headshot",
    "publishing.publication": "Publication",
    "publishing.directoryconnection": "Directory",
    "publishing.clouddirectory": "Cloud directory",
    "webhooks.webhookendpoint": "Webhook",
}
# Details' keys that are not words as they are stored.
DETAIL_KEYS = {"slug": "style", "text_version": "consent text version"}


@register.filter
def target_words(event: Any) -> str:
    kind = TARGETS.get(str(event.target_type), _words(str(event.target_type).rsplit(".", 1)[-1]))
    return f"{kind} {event.target_id}" if event.target_id else kind


@register.filter
def detail_words(data: Any) -> str:
    """An audit event's details as "Key: value; …" rather than a Python mapping."""
    if not isinstance(data, dict):
        return "" if data in (None, "") else str(data)
    parts = []
    for key, value in data.items():
        if isinstance(value, dict):
            shown = ", ".join(f"{_words(k).lower()} {v}" for k, v in value.items())
        elif isinstance(value, list | tuple):
            shown = ", ".join(str(v) for v in value) or "none"
        elif isinstance(value, bool):
            shown = "yes" if value else "no"
        else:
            shown = str(value)
        parts.append(f"{_words(DETAIL_KEYS.get(str(key), str(key)))}: {shown}")
    return "; ".join(parts)


# Why a candidate was held back, for the person it shows: the selection's reason (kept
# for HR and the audit) by its opening words.
HELD_BACK = (
    ("identity similarity", "It may not look enough like you."),
    ("the second face model", "It may not look enough like you."),
    ("no face found", "We could not find your face in it."),
    ("skin tone changed", "Your skin tone came out different from your selfies."),
    ("glasses", "Your glasses came out different from your selfies."),
    ("too soft", "It came out soft rather than sharp."),
    ("near-duplicate", "Almost the same as one offered above."),
)


@register.filter
def held_back_words(reason: str) -> str:
    for opening, words in HELD_BACK:
        if reason.startswith(opening):
            return words
    text = reason.strip().rstrip(".")
    return (text[:1].upper() + text[1:] + ".") if text else "It did not pass our checks."
