from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.audit.services import audit_record
from apps.core.errors import ApplicationError, NotFound
from apps.core.text import counted, plain_number, text_problem
from apps.generation.models import ACTIVE_JOB_STATES, GenerationJob, JobStatus, PrintState
from apps.generation.selectors import (
    approval_queue,
    headshot_get,
    headshot_list_for_job,
    job_get,
)
from apps.generation.services import (
    generation_job_create,
    headshot_approve,
    headshot_pick,
    headshot_reject,
)
from apps.organizations.models import APPROVER_ROLES
from apps.organizations.selectors import employee_for_user
from apps.presets.selectors import preset_get
from apps.web.pages import CompanyRequest, company_page, refused

# What a person may ask of their next round, in their words (pipeline.presets.ROUND_CHANGES).
ROUND_CHANGE_WORDS = {
    "lighter": "Lighter",
    "darker": "Darker",
    "closer": "Closer: more of my face",
    "further": "Further: more of my shoulders",
    "other_backdrop": "Another background colour",
    "other_selfie": "Made from another of my selfies",
}


@company_page()
@require_POST
def generate(request: CompanyRequest) -> HttpResponse:
    """Start a round for oneself (also "another round", with the reason given)."""
    org = request.organization
    try:
        me = employee_for_user(organization=org, user=request.user)
        preset = preset_get(organization=org, slug=request.POST.get("preset", ""))
        changes = request.POST.getlist("change")
        job = generation_job_create(
            organization=org, actor=request.user, employee=me, preset=preset, changes=changes
        )
    except ApplicationError as exc:
        return refused(request, exc, "photos")
    reason = request.POST.get("reason", "").strip()[:500]
    if text_problem(reason, limit=500, what="The note", multiline=True):
        reason = ""  # not text: the changes asked for still count
    if reason or changes:
        audit_record(
            organization=org,
            actor=request.user,
            action="job.another_round",
            target=job,
            data={"changes": sorted(set(changes)), "reason": reason[:500]},
        )
    return redirect("job", org.slug, job.pk)


def _own_job(request: CompanyRequest, pk: int) -> GenerationJob:
    org = request.organization
    job = job_get(organization=org, pk=pk)
    if job.employee.user_id != request.user.pk:
        raise NotFound("Not found.")
    return job


@company_page()
def job_page(request: CompanyRequest, pk: int) -> HttpResponse:
    org = request.organization
    job = _own_job(request, pk)
    headshots = list(headshot_list_for_job(organization=org, job=job))
    return render(
        request,
        "portal/job.html",
        {
            "job": job,
            "running": job.status in ACTIVE_JOB_STATES,
            "succeeded": job.status == JobStatus.SUCCEEDED,
            "accepted": [h for h in headshots if h.accepted],
            "rejected": [h for h in headshots if not h.accepted],
            "preset": job.preset_version.preset,
            "changes": ROUND_CHANGE_WORDS,
            "asked": [ROUND_CHANGE_WORDS[c] for c in job.adjustments.get("changes", [])],
            # the page refreshes itself while a print version is on its way
            "print_making": any(
                h.print_state in (PrintState.QUEUED, PrintState.MAKING) for h in headshots
            ),
        },
    )


@company_page()
def job_status(request: CompanyRequest, pk: int) -> JsonResponse:
    job = _own_job(request, pk)
    return JsonResponse(
        {
            "status": job.status,
            "progress": job.progress,
            "stage": job.stage,
            "finished": job.status not in ACTIVE_JOB_STATES,
            "error": job.error,
        }
    )


@company_page()
@require_POST
def pick(request: CompanyRequest, pk: int) -> HttpResponse:
    org = request.organization
    headshot = headshot_get(organization=org, pk=pk)
    try:
        headshot_pick(organization=org, actor=request.user, headshot=headshot)
    except ApplicationError as exc:
        return refused(request, exc, "job", headshot.job_id)
    messages.success(request, "Picked. HR will review it; you will see it here once approved.")
    return redirect("job", org.slug, headshot.job_id)


APPROVALS_PAGE = 50


@company_page(roles=APPROVER_ROLES)
def approvals(request: CompanyRequest) -> HttpResponse:
    org = request.organization
    if request.method == "POST":
        return _decide(request)
    page = Paginator(
        approval_queue(organization=org).select_related("source_photo", "job"), APPROVALS_PAGE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/approvals.html",
        {"queue": page.object_list, "page": page, "waiting": page.paginator.count},
    )


def _decide(request: CompanyRequest) -> HttpResponse:
    """Approve one, reject one with a reason, or approve every ticked one."""
    org = request.organization
    action = request.POST.get("action", "")
    if action == "approve_selected":
        ids = [int(v) for v in request.POST.getlist("selected") if plain_number(v)]
        if not ids:
            messages.error(request, "Tick the headshots to approve first.")
            return redirect("approval-queue", org.slug)
        done, problems = 0, []
        for headshot in approval_queue(organization=org).filter(pk__in=ids):
            try:
                headshot_approve(organization=org, actor=request.user, headshot=headshot)
                done += 1
            except ApplicationError as exc:
                problems.append(f"{headshot.employee.full_name}: {exc.message}")
        messages.success(request, f"Approved {counted(done, 'headshot')}.")
        for problem in problems:
            messages.error(request, problem)
        return redirect("approval-queue", org.slug)
    try:
        headshot = headshot_get(organization=org, pk=int(request.POST.get("headshot", "0")))
        if action == "approve":
            headshot_approve(organization=org, actor=request.user, headshot=headshot)
            messages.success(request, f"Approved the headshot of {headshot.employee.full_name}.")
        elif action == "reject":
            headshot_reject(
                organization=org,
                actor=request.user,
                headshot=headshot,
                reason=request.POST.get("reason", ""),
            )
            messages.success(request, f"Rejected; {headshot.employee.full_name} sees your reason.")
        else:
            messages.error(request, "Choose approve or reject.")
    except ValueError:
        raise NotFound("Not found.") from None
    except ApplicationError as exc:
        if isinstance(exc, NotFound):
            raise
        return refused(request, exc, "approval-queue")
    return redirect("approval-queue", org.slug)
