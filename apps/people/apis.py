"""The company's people with where each stands, over the API."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.organizations.apis import EmployeeOutput
from apps.organizations.models import MANAGER_ROLES
from apps.people.selectors import PERSON_STATES, people_filtered
from apps.people.standing import people_page_progress, people_restand_stale
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
        people_restand_stale(organization=self.organization)
        people = people_filtered(
            organization=self.organization,
            state=choice_param(request, "state", [s for s, _ in PERSON_STATES]) or "",
            department=request.query_params.get("department", ""),
            stuck=request.query_params.get("stuck") in {"true", "1"},
        )
        return self.page(
            request,
            people,
            ProgressOutput,
            load=lambda page: people_page_progress(organization=self.organization, people=page),
        )
