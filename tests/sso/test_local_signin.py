"""The local password is for the bootstrap administrator only, with a limit on failures."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.apps.factories import company


def post(client, username, password):
    return client.post(
        reverse("login"),
        {"action": "password", "username": username, "password": password},
        follow=True,
    )


def test_only_the_administrator_signs_in_with_a_password(db, client, settings):
    settings.HEADSHOTS_LOCAL_SIGNIN = "admins"
    c = company("Acme", "acme.example")
    refused = post(client, c.hr.username, "x")  # the right password, but HR signs in with SSO
    assert not refused.wsgi_request.user.is_authenticated
    assert "company account" in refused.content.decode()
    get_user_model().objects.create_superuser("root", "root@acme.example", "a-long-password")
    assert post(client, "root", "a-long-password").wsgi_request.user.is_authenticated


def test_failed_attempts_lock_the_account_for_a_while(db, client, settings):
    settings.HEADSHOTS_LOCAL_SIGNIN = "admins"
    get_user_model().objects.create_superuser("root", "root@acme.example", "a-long-password")
    for _ in range(5):
        assert not post(client, "root", "wrong").wsgi_request.user.is_authenticated
    locked = post(client, "root", "a-long-password")
    assert not locked.wsgi_request.user.is_authenticated
    assert "Too many failed attempts" in locked.content.decode()


def test_an_address_without_single_sign_on_is_told_so(db, client):
    answer = client.post(reverse("login"), {"email": "someone@nowhere.example"}, follow=True)
    assert "No single sign-on is set up" in answer.content.decode()


def test_next_never_leaves_the_site(db, client, settings):
    settings.HEADSHOTS_LOCAL_SIGNIN = "admins"
    get_user_model().objects.create_superuser("root", "root@acme.example", "a-long-password")
    answer = client.post(
        reverse("login"),
        {
            "action": "password",
            "username": "root",
            "password": "a-long-password",
            "next": "https://evil.example/",
        },
    )
    assert answer.status_code == 302 and answer.url == "/"
