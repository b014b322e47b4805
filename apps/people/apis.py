"""The company's people with where each stands, over the API."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.organizations.apis import EmployeeOutput
from apps.organizations.models import MANAGER_ROLES
from apps.people.selectors import PERSON_STATES, people_standing, with_profiles
from apps.web.api import PAGE_PARAMETERS, CompanyApiView, choice_param, paged


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
        responses=paged(ProgressOutput),
        operation_id="employee_list",
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter("state", str, enum=[s for s, _ in PERSON_STATES]),
            OpenApiParameter("department", str),
            OpenApiParameter("stuck", bool),
        ],
    )
    def get(self, request: Request, org: str) -> Response:
        people = people_standing(organization=self.organization)
        params = request.query_params
        if state := choice_param(request, "state", [s for s, _ in PERSON_STATES]):
            people = [p for p in people if p.state == state]
        if params.get("department"):
            people = [p for p in people if p.department == params["department"]]
        if params.get("stuck") in {"true", "1"}:
            people = [p for p in people if p.stuck]
        return self.page(
            request,
            people,
            ProgressOutput,
            load=lambda page: with_profiles(page, organization=self.organization),
        )
