"""The audit log over the API."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.audit.selectors import audit_event_list, audit_period
from apps.organizations.models import MANAGER_ROLES
from apps.web.api import PAGE_PARAMETERS, CompanyApiView, paged


class AuditEventOutput(serializers.Serializer):
    sequence = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_label")
    action = serializers.CharField()
    target_type = serializers.CharField()
    target_id = serializers.CharField()
    # DRF's serializer metaclass takes declared fields off the class: this one does not
    # replace Serializer.data, whatever the stubs think.
    data = serializers.DictField()  # type: ignore[assignment]
    hash = serializers.CharField()
    previous_hash = serializers.CharField()


class AuditEventListApi(CompanyApiView):
    """The company's audit log, newest first, with each event's link in the hash chain."""

    scopes = {"GET": "audit:read"}
    roles = MANAGER_ROLES

    @extend_schema(
        responses=paged(AuditEventOutput),
        operation_id="audit_event_list",
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter("action", str),
            OpenApiParameter("actor", str, description="part of the actor's name or address"),
            OpenApiParameter(
                "since", str, description="ISO 8601 date-time, or a date (from its start)"
            ),
            OpenApiParameter(
                "until", str, description="ISO 8601 date-time (excluded), or a date (included)"
            ),
        ],
    )
    def get(self, request: Request, org: str) -> Response:
        params = request.query_params
        since, until = audit_period(params.get("since"), params.get("until"))
        events = audit_event_list(
            organization=self.organization,
            action=params.get("action") or None,
            actor=params.get("actor") or None,
            since=since,
            until=until,
        )
        return self.page(request, events, AuditEventOutput)
