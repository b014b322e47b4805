"""The audit log over the API."""

from __future__ import annotations

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.audit.selectors import audit_event_list
from apps.core.errors import ValidationFailed
from apps.organizations.api import CompanyApiView
from apps.organizations.models import MANAGER_ROLES


class AuditEventOutput(serializers.Serializer):
    sequence = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_label")
    action = serializers.CharField()
    target_type = serializers.CharField()
    target_id = serializers.CharField()
    data = serializers.DictField()
    hash = serializers.CharField()
    previous_hash = serializers.CharField()


class AuditEventListApi(CompanyApiView):
    """The company's audit log, newest first, with each event's link in the hash chain."""

    scopes = {"GET": "audit:read"}
    roles = MANAGER_ROLES

    @extend_schema(
        responses=AuditEventOutput(many=True),
        parameters=[
            OpenApiParameter("action", str),
            OpenApiParameter("since", str, description="ISO 8601 date-time"),
            OpenApiParameter("until", str, description="ISO 8601 date-time"),
        ],
    )
    def get(self, request: Request, org: str) -> Response:
        params = request.query_params
        events = audit_event_list(
            organization=self.organization, action=params.get("action") or None
        )
        for name, lookup in (("since", "created_at__gte"), ("until", "created_at__lt")):
            if params.get(name):
                when = parse_datetime(params[name])
                if when is None:
                    raise ValidationFailed(
                        f"{name} must be an ISO 8601 date-time, e.g. 2026-11-01T00:00:00Z."
                    )
                events = events.filter(**{lookup: when})
        return self.page(request, events, AuditEventOutput)
