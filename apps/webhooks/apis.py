"""Webhook endpoints and their delivery log over the API."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.errors import found
from apps.organizations.models import MANAGER_ROLES
from apps.web.api import PAGE_PARAMETERS, CompanyApiView, paged
from apps.webhooks.models import EVENTS, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from apps.webhooks.services import webhook_endpoint_create


class EndpointOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENTS))
    active = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class DeliveryOutput(serializers.Serializer):
    event_id = serializers.UUIDField()
    event = serializers.CharField()
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    attempts = serializers.IntegerField()
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)


class EndpointListApi(CompanyApiView):
    scopes = {"GET": "webhooks:manage", "POST": "webhooks:manage"}
    roles = MANAGER_ROLES

    class EndpointCreateInput(serializers.Serializer):
        url = serializers.URLField(max_length=500)
        events = serializers.ListField(child=serializers.ChoiceField(choices=EVENTS), min_length=1)

    class EndpointCreatedOutput(EndpointOutput):
        secret = serializers.CharField(help_text="Shown this once: keep it to check signatures.")

    @extend_schema(
        responses=paged(EndpointOutput), operation_id="endpoint_list", parameters=PAGE_PARAMETERS
    )
    def get(self, request: Request, org: str) -> Response:
        endpoints = WebhookEndpoint.objects.filter(organization=self.organization).order_by("pk")
        return self.page(request, endpoints, EndpointOutput)

    @extend_schema(request=EndpointCreateInput, responses={201: EndpointCreatedOutput})
    def post(self, request: Request, org: str) -> Response:
        data = self.EndpointCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, secret = webhook_endpoint_create(
            organization=self.organization, actor=self.actor, **data.validated_data
        )
        return Response({**EndpointOutput(endpoint).data, "secret": secret}, status=201)


class DeliveryListApi(CompanyApiView):
    """An endpoint's delivery log, newest first."""

    scopes = {"GET": "webhooks:manage"}
    roles = MANAGER_ROLES

    @extend_schema(
        responses=paged(DeliveryOutput), operation_id="delivery_list", parameters=PAGE_PARAMETERS
    )
    def get(self, request: Request, org: str, pk: int) -> Response:
        endpoint = found(WebhookEndpoint.objects.filter(organization=self.organization, pk=pk))
        deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).order_by(
            "-created_at", "-pk"
        )
        return self.page(request, deliveries, DeliveryOutput)
