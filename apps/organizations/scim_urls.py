from __future__ import annotations

from django.urls import path, re_path

from apps.organizations import scim, scim_discovery

urlpatterns = [
    path("Users", scim.ScimUsers.as_view(), name="scim-users"),
    path("Users/<str:pk>", scim.ScimUser.as_view(), name="scim-user"),
    path(
        "ServiceProviderConfig",
        scim_discovery.ScimServiceProviderConfig.as_view(),
        name="scim-config",
    ),
    path("ResourceTypes", scim_discovery.ScimResourceTypes.as_view(), name="scim-types"),
    path("ResourceTypes/<str:name>", scim_discovery.ScimResourceTypes.as_view()),
    path("Schemas", scim_discovery.ScimSchemas.as_view(), name="scim-schemas"),
    path("Schemas/<str:urn>", scim_discovery.ScimSchemas.as_view()),
    # anything else under the SCIM base answers as SCIM does, in JSON
    re_path(r"^.*$", scim_discovery.ScimNotFound.as_view()),
]
