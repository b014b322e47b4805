"""The person's own selfies over the API (signed-in people only: selfies are never sent
by an integration on someone's behalf)."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.errors import ValidationFailed
from apps.organizations.selectors import employee_for_user
from apps.photos.models import Photo, PhotoStatus
from apps.photos.selectors import photo_list
from apps.photos.services import photo_upload
from apps.web.api import PAGE_PARAMETERS, CompanyApiView, paged


class PhotoOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=PhotoStatus.choices)
    usable = serializers.SerializerMethodField()
    report = serializers.DictField()
    created_at = serializers.DateTimeField()

    def get_usable(self, photo: Photo) -> bool:
        return photo.status == PhotoStatus.USABLE


class MyPhotosApi(CompanyApiView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        responses=paged(PhotoOutput), operation_id="my_photos_list", parameters=PAGE_PARAMETERS
    )
    def get(self, request: Request, org: str) -> Response:
        me = employee_for_user(organization=self.organization, user=self.actor)
        return self.page(
            request, photo_list(organization=self.organization, employee=me), PhotoOutput
        )

    @extend_schema(
        request={
            "multipart/form-data": inline_serializer(
                "PhotoUpload", {"photo": serializers.FileField()}
            )
        },
        responses={201: PhotoOutput, 200: PhotoOutput},
    )
    def post(self, request: Request, org: str) -> Response:
        upload = request.FILES.get("photo")
        if upload is None:
            raise ValidationFailed("Send the photo as the multipart field 'photo'.")
        if upload.size is None or upload.size > settings.HEADSHOTS["MAX_UPLOAD_BYTES"]:
            raise ValidationFailed("This file is too large; upload a smaller photo.")
        me = employee_for_user(organization=self.organization, user=self.actor)
        photo, created = photo_upload(
            organization=self.organization, employee=me, actor=self.actor, data=upload
        )
        return Response(PhotoOutput(photo).data, status=201 if created else 200)
