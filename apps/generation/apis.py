"""Generation jobs and headshots over the API."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.errors import NotFound
from apps.core.media import sniffed_type
from apps.core.storage import private_read
from apps.generation.models import HeadshotStatus, JobStatus
from apps.generation.selectors import headshot_get, headshot_list_for_job, job_get, job_list
from apps.generation.services import (
    generation_job_cancel,
    generation_job_create,
    headshot_approve,
    headshot_pick,
    headshot_reject,
)
from apps.organizations.models import APPROVER_ROLES, MANAGER_ROLES
from apps.organizations.selectors import employee_get
from apps.presets.selectors import preset_get
from apps.web.api import MAX_ID, PAGE_PARAMETERS, CompanyApiView, choice_param, id_param, paged


class JobOutput(serializers.Serializer):
    id = serializers.IntegerField()
    employee = serializers.IntegerField(source="employee_id")
    status = serializers.ChoiceField(choices=JobStatus.choices)
    progress = serializers.IntegerField()
    stage = serializers.CharField()
    backend = serializers.CharField()
    error = serializers.CharField()
    preset_version = serializers.IntegerField(source="preset_version.number")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class HeadshotOutput(serializers.Serializer):
    id = serializers.IntegerField()
    job = serializers.IntegerField(source="job_id")
    employee = serializers.IntegerField(source="employee_id")
    status = serializers.ChoiceField(choices=HeadshotStatus.choices)
    rank = serializers.IntegerField(allow_null=True)
    accepted = serializers.BooleanField()
    reason = serializers.CharField()
    scores = serializers.DictField()
    total_score = serializers.FloatField()
    backend = serializers.CharField()
    seed = serializers.IntegerField()
    rejection_reason = serializers.CharField()
    created_at = serializers.DateTimeField()


def _own_or_manager(view: CompanyApiView, employee_user_id: int | None) -> None:
    """A person sees their own jobs and headshots; HR sees everyone's; others get 404."""
    if employee_user_id != view.request.user.pk and view.membership.role not in MANAGER_ROLES:
        raise NotFound("Not found.")


class JobListApi(CompanyApiView):
    """The company's generation jobs (HR), or start one for a person."""

    scopes = {"GET": "jobs:read", "POST": "jobs:write"}

    class JobCreateInput(serializers.Serializer):
        employee = serializers.IntegerField(min_value=1, max_value=MAX_ID)
        preset = serializers.SlugField(max_length=80)

    @extend_schema(
        responses=paged(JobOutput),
        operation_id="job_list",
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter("status", str, enum=[s for s, _ in JobStatus.choices]),
            OpenApiParameter("employee", int),
        ],
    )
    def get(self, request: Request, org: str) -> Response:
        jobs = job_list(organization=self.organization).select_related("preset_version")
        if self.membership.role not in MANAGER_ROLES:
            jobs = jobs.filter(employee__user=self.actor)
        if status := choice_param(request, "status", list(JobStatus.values)):
            jobs = jobs.filter(status=status)
        if employee := id_param(request, "employee"):
            jobs = jobs.filter(employee_id=employee)
        return self.page(request, jobs, JobOutput)

    @extend_schema(request=JobCreateInput, responses={201: JobOutput})
    def post(self, request: Request, org: str) -> Response:
        data = self.JobCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        employee = employee_get(organization=self.organization, pk=data.validated_data["employee"])
        _own_or_manager(self, employee.user_id)
        job = generation_job_create(
            organization=self.organization,
            actor=self.actor,
            employee=employee,
            preset=preset_get(organization=self.organization, slug=data.validated_data["preset"]),
        )
        return Response(JobOutput(job).data, status=201)


class JobDetailApi(CompanyApiView):
    """Status and progress of one generation job, for its person and for HR."""

    scopes = {"GET": "jobs:read"}

    @extend_schema(responses=JobOutput)
    def get(self, request: Request, org: str, pk: int) -> Response:
        job = job_get(organization=self.organization, pk=pk)
        _own_or_manager(self, job.employee.user_id)
        return Response(JobOutput(job).data)


class JobCancelApi(CompanyApiView):
    scopes = {"POST": "jobs:write"}

    @extend_schema(request=None, responses=JobOutput)
    def post(self, request: Request, org: str, pk: int) -> Response:
        job = job_get(organization=self.organization, pk=pk)
        _own_or_manager(self, job.employee.user_id)
        job = generation_job_cancel(organization=self.organization, actor=self.actor, job=job)
        return Response(JobOutput(job).data)


class JobHeadshotsApi(CompanyApiView):
    """A job's candidates: accepted ones best first, then those held back with the reason."""

    scopes = {"GET": "jobs:read"}

    @extend_schema(
        responses=paged(HeadshotOutput),
        operation_id="job_headshots_list",
        parameters=PAGE_PARAMETERS,
    )
    def get(self, request: Request, org: str, pk: int) -> Response:
        job = job_get(organization=self.organization, pk=pk)
        _own_or_manager(self, job.employee.user_id)
        return self.page(
            request, headshot_list_for_job(organization=self.organization, job=job), HeadshotOutput
        )


class HeadshotListApi(CompanyApiView):
    """Headshots by status: ``status=picked`` is the approval queue."""

    scopes = {"GET": "jobs:read"}
    roles = APPROVER_ROLES

    @extend_schema(
        responses=paged(HeadshotOutput),
        operation_id="headshot_list",
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter("status", str, enum=[s for s, _ in HeadshotStatus.choices]),
            OpenApiParameter("employee", int),
        ],
    )
    def get(self, request: Request, org: str) -> Response:
        from apps.generation.models import Headshot

        headshots = (
            Headshot.objects.filter(organization=self.organization)
            .exclude(status=HeadshotStatus.WITHDRAWN)
            .order_by("-created_at")
        )
        if status := choice_param(request, "status", list(HeadshotStatus.values)):
            headshots = headshots.filter(status=status)
        if employee := id_param(request, "employee"):
            headshots = headshots.filter(employee_id=employee)
        return self.page(request, headshots, HeadshotOutput)


class HeadshotDetailApi(CompanyApiView):
    scopes = {"GET": "jobs:read"}

    @extend_schema(responses=HeadshotOutput)
    def get(self, request: Request, org: str, pk: int) -> Response:
        headshot = headshot_get(organization=self.organization, pk=pk)
        if (
            headshot.employee.user_id != request.user.pk
            and self.membership.role not in APPROVER_ROLES
        ):
            raise NotFound("Not found.")
        return Response(HeadshotOutput(headshot).data)


class HeadshotImageApi(CompanyApiView):
    """The headshot's image file (PNG or JPEG), for the person and the approvers."""

    scopes = {"GET": "jobs:read"}

    @extend_schema(responses={(200, "image/png"): bytes, (200, "image/jpeg"): bytes})
    def get(self, request: Request, org: str, pk: int) -> HttpResponse:
        headshot = headshot_get(organization=self.organization, pk=pk)
        if (
            headshot.employee.user_id != request.user.pk
            and self.membership.role not in APPROVER_ROLES
        ):
            raise NotFound("Not found.")
        data = private_read(headshot.image.name)
        response = HttpResponse(data, content_type=sniffed_type(data))
        response["Cache-Control"] = "private, no-store"
        return response


class HeadshotPickApi(CompanyApiView):
    """The person picks their favourite (signed-in people only: never a token)."""

    @extend_schema(request=None, responses=HeadshotOutput)
    def post(self, request: Request, org: str, pk: int) -> Response:
        headshot = headshot_get(organization=self.organization, pk=pk)
        if headshot.employee.user_id != request.user.pk:
            raise NotFound("Not found.")
        headshot = headshot_pick(
            organization=self.organization, actor=self.actor, headshot=headshot
        )
        return Response(HeadshotOutput(headshot).data)


class HeadshotApproveApi(CompanyApiView):
    scopes = {"POST": "headshots:approve"}
    roles = APPROVER_ROLES

    @extend_schema(request=None, responses=HeadshotOutput)
    def post(self, request: Request, org: str, pk: int) -> Response:
        headshot = headshot_get(organization=self.organization, pk=pk)
        headshot = headshot_approve(
            organization=self.organization, actor=self.actor, headshot=headshot
        )
        return Response(HeadshotOutput(headshot).data)


class HeadshotRejectApi(CompanyApiView):
    scopes = {"POST": "headshots:approve"}
    roles = APPROVER_ROLES

    @extend_schema(
        request=inline_serializer("RejectInput", {"reason": serializers.CharField(max_length=500)}),
        responses=HeadshotOutput,
    )
    def post(self, request: Request, org: str, pk: int) -> Response:
        reason = request.data.get("reason", "") if hasattr(request.data, "get") else ""
        headshot = headshot_get(organization=self.organization, pk=pk)
        headshot = headshot_reject(
            organization=self.organization,
            actor=self.actor,
            headshot=headshot,
            reason=str(reason),
        )
        return Response(HeadshotOutput(headshot).data)
