from django.urls import path

from apps.generation import apis

urlpatterns = [
    path("organizations/<slug:org>/jobs/<int:pk>/", apis.JobDetailApi.as_view(), name="job-detail"),
]
