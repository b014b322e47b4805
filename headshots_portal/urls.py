from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.core.media import media_view
from apps.core.views import favicon, health, metrics, workers_health
from apps.organizations import account_views, signin
from apps.organizations.views import index, join_landing

urlpatterns = [
    path("", index, name="index"),
    # browsers ask for it whatever the page says
    path("favicon.ico", favicon),
    path("accounts/login/", signin.sign_in, name="login"),
    path("accounts/password_reset/", signin.password_reset, name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("sso/<slug:org>/start/", signin.sso_start, name="sso-start"),
    path("sso/<slug:org>/callback/", signin.sso_callback, name="sso-callback"),
    path("sso/<slug:org>/saml/acs/", signin.saml_acs, name="saml-acs"),
    path("sso/<slug:org>/saml/metadata/", signin.saml_metadata, name="saml-metadata"),
    path("accounts/link/<str:token>/", account_views.signin_link, name="signin-link"),
    path("invite/<str:token>/", account_views.invitation_landing, name="invitation"),
    path("join/<str:token>/", join_landing, name="join"),
    path("o/<slug:org>/", include("headshots_portal.page_urls")),
    path("media/<str:token>", media_view, name="media"),
    path("scim/v2/<slug:org>/", include("apps.organizations.scim_urls")),
    path("admin/", admin.site.urls),
    path("healthz", health, name="health"),
    path("healthz/workers", workers_health, name="health-workers"),
    path("metrics", metrics, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # the page's start-up script is a file of its own: no inline script under the CSP
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/organizations/<slug:org>/", include("headshots_portal.api_urls")),
]
