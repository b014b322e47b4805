"""The portal's pages, every one under /o/<company>/ (each app keeps its own views)."""

from __future__ import annotations

from django.urls import path

from apps.audit import views as audit
from apps.core import converters
from apps.generation import views as generation
from apps.organizations import account_views, token_views
from apps.organizations import views as organizations
from apps.people import views as people
from apps.photos import views as photos
from apps.presets import views as presets
from apps.publishing import cloud_views, publish_views
from apps.publishing import views as publishing

converters.register()

urlpatterns = [
    path("", organizations.company_home, name="company-home"),
    # the employee
    path("me/", photos.employee_home, name="employee-home"),
    path("me/consent/", photos.consent_page, name="consent"),
    path("me/consent/withdraw/", photos.consent_withdraw_view, name="consent-withdraw"),
    path("me/photos/", photos.photos_page, name="photos"),
    path("me/photos/upload/", photos.photo_upload_view, name="photo-upload"),
    path("me/photos/<id:pk>/", photos.photo_status_view, name="photo-status"),
    path("me/photos/<id:pk>/delete/", photos.photo_delete_view, name="photo-delete"),
    path("me/generate/", generation.generate, name="generate"),
    path("me/jobs/<id:pk>/", generation.job_page, name="job"),
    path("me/jobs/<id:pk>/status/", generation.job_status, name="job-status"),
    path("me/headshots/<id:pk>/pick/", generation.pick, name="pick"),
    path("me/export/", publishing.my_export, name="my-export"),
    path("me/card.pdf", publish_views.my_card, name="my-card"),
    path("me/data/", photos.my_data, name="my-data"),
    path("me/mail/", account_views.mail_settings, name="mail-settings"),
    # approvers and HR
    path("approvals/", generation.approvals, name="approval-queue"),
    path("hr/", people.hr_dashboard, name="hr-dashboard"),
    path("hr/people/<id:pk>/", people.person_page, name="person"),
    path("hr/invitations/", organizations.invitations_page, name="invitations"),
    path("hr/roster/", organizations.roster_page, name="roster"),
    path("hr/consent/", photos.consent_text_page, name="consent-text"),
    path("hr/retention/", photos.retention_page, name="retention"),
    path("hr/tokens/", token_views.tokens_page, name="api-tokens"),
    path("hr/audit/", audit.audit_page, name="audit"),
    path("hr/audit/export.jsonl", audit.audit_export, name="audit-export"),
    path("hr/fairness/", photos.fairness_page, name="fairness"),
    path("hr/presets/", presets.preset_index, name="presets"),
    path("hr/presets/<slug:slug>/", presets.preset_edit, name="preset-edit"),
    path("hr/presets/<slug:slug>/preview.jpg", presets.preset_preview, name="preset-preview"),
    path("hr/directory/", publishing.directory_settings_page, name="directory-settings"),
    path("hr/directory/test/", publishing.directory_test, name="directory-test"),
    path("hr/directory/dry-run/", publishing.directory_dry_run, name="directory-dry-run"),
    path("hr/directory/sync/", cloud_views.directory_sync_now, name="directory-sync-now"),
    path("hr/directory/<slug:target>/", cloud_views.cloud_directory_page, name="cloud-directory"),
    path(
        "hr/directory/<slug:target>/test/",
        cloud_views.cloud_directory_test,
        name="cloud-directory-test",
    ),
    path(
        "hr/directory/<slug:target>/dry-run/",
        cloud_views.cloud_directory_dry_run,
        name="cloud-directory-dry-run",
    ),
    path("hr/publishing/", publish_views.publishing_page, name="publishing"),
    path("hr/publishing/files/<id:pk>/", publish_views.publication_file, name="publication-file"),
    path("hr/cards/", publishing.card_settings, name="card-settings"),
    path("hr/cards/preview.png", publishing.card_preview, name="card-preview"),
    path("hr/cards/batch/", publishing.card_batch, name="card-batch"),
]
