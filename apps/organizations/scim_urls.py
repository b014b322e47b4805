from __future__ import annotations

from django.urls import path

from apps.organizations import scim

urlpatterns = [
    path("Users", scim.ScimUsers.as_view(), name="scim-users"),
    path("Users/<str:pk>", scim.ScimUser.as_view(), name="scim-user"),
    path("ServiceProviderConfig", scim.ScimServiceProviderConfig.as_view(), name="scim-config"),
]
