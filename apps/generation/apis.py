from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import ApplicationError
from apps.generation.models import JobStatus
from apps.generation.selectors import job_get
from apps.organizations.models import MANAGER_ROLES, Organization
from apps.organizations.selectors import membership_get


class JobDetailApi(APIView):
    """Status and progress of one generation job, for its person and for HR."""

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        status = serializers.ChoiceField(choices=JobStatus.choices)
        progress = serializers.IntegerField()
        stage = serializers.CharField()
        backend = serializers.CharField()
        error = serializers.CharField()
        preset_version = serializers.IntegerField(source="preset_version.number")
        created_at = serializers.DateTimeField()
        finished_at = serializers.DateTimeField(allow_null=True)

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request, org: str, pk: int) -> Response:
        organization = get_object_or_404(Organization, slug=org)
        try:
            membership = membership_get(organization=organization, user=request.user)
            job = job_get(organization=organization, pk=pk)
        except ApplicationError as exc:
            return Response({"detail": exc.message}, status=exc.status_code)
        if job.employee.user_id != request.user.pk and membership.role not in MANAGER_ROLES:
            return Response({"detail": "Not found."}, status=404)
        return Response(self.OutputSerializer(job).data)
