"""The company's people over the API."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.organizations.models import MANAGER_ROLES, EmployeeStatus
from apps.organizations.selectors import employee_get
from apps.web.api import CompanyApiView


class EmployeeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()
    email = serializers.EmailField()
    title = serializers.CharField()
    department = serializers.CharField()
    phone = serializers.CharField()
    status = serializers.ChoiceField(choices=EmployeeStatus.choices)


class EmployeeDetailApi(CompanyApiView):
    scopes = {"GET": "people:read"}
    roles = MANAGER_ROLES

    @extend_schema(responses=EmployeeOutput)
    def get(self, request: Request, org: str, pk: int) -> Response:
        return Response(EmployeeOutput(employee_get(organization=self.organization, pk=pk)).data)
