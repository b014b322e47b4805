"""The company's people over the API."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.organizations.api import CompanyApiView, choice_param
from apps.organizations.models import MANAGER_ROLES, EmployeeStatus
from apps.organizations.selectors import PERSON_STATES, employee_get, people_progress


class EmployeeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()
    email = serializers.EmailField()
    title = serializers.CharField()
    department = serializers.CharField()
    phone = serializers.CharField()
    status = serializers.ChoiceField(choices=EmployeeStatus.choices)


class ProgressOutput(serializers.Serializer):
    employee = EmployeeOutput()
    state = serializers.ChoiceField(choices=PERSON_STATES)
    since = serializers.DateTimeField()
    stuck = serializers.BooleanField()
    detail = serializers.CharField()


class EmployeeListApi(CompanyApiView):
    """The company's current people with where each stands (the HR dashboard's data)."""

    scopes = {"GET": "people:read"}
    roles = MANAGER_ROLES

    @extend_schema(
        responses=ProgressOutput(many=True),
        parameters=[
            OpenApiParameter("state", str, enum=[s for s, _ in PERSON_STATES]),
            OpenApiParameter("department", str),
            OpenApiParameter("stuck", bool),
        ],
    )
    def get(self, request: Request, org: str) -> Response:
        people = people_progress(organization=self.organization)
        params = request.query_params
        if state := choice_param(request, "state", [s for s, _ in PERSON_STATES]):
            people = [p for p in people if p.state == state]
        if params.get("department"):
            people = [p for p in people if p.employee.department == params["department"]]
        if params.get("stuck") in {"true", "1"}:
            people = [p for p in people if p.stuck]
        return self.page(request, people, ProgressOutput)


class EmployeeDetailApi(CompanyApiView):
    scopes = {"GET": "people:read"}
    roles = MANAGER_ROLES

    @extend_schema(responses=EmployeeOutput)
    def get(self, request: Request, org: str, pk: int) -> Response:
        return Response(EmployeeOutput(employee_get(organization=self.organization, pk=pk)).data)
