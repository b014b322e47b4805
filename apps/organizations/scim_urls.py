from __future__ import annotations

from django.urls import path, re_path

from apps.organizations import scim, scim_discovery, scim_groups, scim_search

urlpatterns = [
    path("Users", scim.ScimUsers.as_view(), name="scim-users"),
    path("Users/.search", scim_search.ScimUsersSearch.as_view(), name="scim-users-search"),
    path("Users/<str:pk>", scim.ScimUser.as_view(), name="scim-user"),
    path(".search", scim_search.ScimRootSearch.as_view(), name="scim-search"),
    path("Groups", scim_groups.ScimGroups.as_view(), name="scim-groups"),
    path("Groups/.search", scim_search.ScimGroupsSearch.as_view(), name="scim-groups-search"),
    path("Groups/<str:pk>", scim_groups.ScimGroup.as_view(), name="scim-group"),
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
