"""The REST API, every path under /api/v1/organizations/<company>/."""

from __future__ import annotations

from django.urls import path

from apps.audit import apis as audit
from apps.core import converters
from apps.generation import apis as generation
from apps.organizations import apis as organizations
from apps.people import apis as people
from apps.photos import apis as photos
from apps.publishing import apis as publishing
from apps.webhooks import apis as webhooks

converters.register()

urlpatterns = [
    path("employees/", people.EmployeeListApi.as_view(), name="api-employees"),
    path("employees/<id:pk>/", organizations.EmployeeDetailApi.as_view(), name="api-employee"),
    path("me/photos/", photos.MyPhotosApi.as_view(), name="api-my-photos"),
    path("jobs/", generation.JobListApi.as_view(), name="api-jobs"),
    path("jobs/<id:pk>/", generation.JobDetailApi.as_view(), name="job-detail"),
    path("jobs/<id:pk>/cancel/", generation.JobCancelApi.as_view(), name="api-job-cancel"),
    path("jobs/<id:pk>/headshots/", generation.JobHeadshotsApi.as_view(), name="api-job-headshots"),
    path("headshots/", generation.HeadshotListApi.as_view(), name="api-headshots"),
    path("headshots/<id:pk>/", generation.HeadshotDetailApi.as_view(), name="api-headshot"),
    path(
        "headshots/<id:pk>/image/",
        generation.HeadshotImageApi.as_view(),
        name="api-headshot-image",
    ),
    path("headshots/<id:pk>/pick/", generation.HeadshotPickApi.as_view(), name="api-headshot-pick"),
    path(
        "headshots/<id:pk>/approve/",
        generation.HeadshotApproveApi.as_view(),
        name="api-headshot-approve",
    ),
    path(
        "headshots/<id:pk>/reject/",
        generation.HeadshotRejectApi.as_view(),
        name="api-headshot-reject",
    ),
    path("publications/", publishing.PublicationListApi.as_view(), name="api-publications"),
    path("audit-events/", audit.AuditEventListApi.as_view(), name="api-audit-events"),
    path("webhooks/", webhooks.EndpointListApi.as_view(), name="api-webhooks"),
    path(
        "webhooks/<id:pk>/deliveries/",
        webhooks.DeliveryListApi.as_view(),
        name="api-webhook-deliveries",
    ),
]
