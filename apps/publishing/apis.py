"""Publications over the API."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.generation.selectors import headshot_get
from apps.organizations.models import MANAGER_ROLES
from apps.publishing.models import PublicationStatus, PublicationTarget
from apps.publishing.selectors import publication_list
from apps.publishing.services import REQUESTABLE_TARGETS, publication_request
from apps.web.api import MAX_ID, PAGE_PARAMETERS, CompanyApiView, paged


class PublicationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    employee = serializers.IntegerField(source="employee_id")
    headshot = serializers.IntegerField(source="headshot_id")
    target = serializers.ChoiceField(choices=PublicationTarget.choices)
    status = serializers.ChoiceField(choices=PublicationStatus.choices)
    external_id = serializers.CharField()
    last_error = serializers.CharField()
    attempts = serializers.IntegerField()
    published_at = serializers.DateTimeField(allow_null=True)


class PublicationListApi(CompanyApiView):
    scopes = {"GET": "publications:write", "POST": "publications:write"}
    roles = MANAGER_ROLES

    class PublicationCreateInput(serializers.Serializer):
        headshot = serializers.IntegerField(min_value=1, max_value=MAX_ID)
        target = serializers.ChoiceField(choices=[str(t) for t in REQUESTABLE_TARGETS])

    @extend_schema(
        responses=paged(PublicationOutput),
        operation_id="publication_list",
        parameters=PAGE_PARAMETERS,
    )
    def get(self, request: Request, org: str) -> Response:
        return self.page(
            request, publication_list(organization=self.organization), PublicationOutput
        )

    @extend_schema(request=PublicationCreateInput, responses={201: PublicationOutput})
    def post(self, request: Request, org: str) -> Response:
        data = self.PublicationCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        publication = publication_request(
            organization=self.organization,
            actor=self.actor,
            headshot=headshot_get(
                organization=self.organization, pk=data.validated_data["headshot"]
            ),
            target=data.validated_data["target"],
        )
        return Response(PublicationOutput(publication).data, status=201)
