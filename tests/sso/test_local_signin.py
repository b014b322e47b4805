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


def test_the_admin_sign_in_page_is_locked_by_the_same_failures(db, client):
    """/admin/login/ has its own form; the lock is in the one password check they share."""
    get_user_model().objects.create_superuser("root", "root@acme.example", "a-long-password")
    admin_login = reverse("admin:login")
    for _ in range(5):
        answer = client.post(admin_login, {"username": "root", "password": "wrong"})
        assert answer.status_code == 200 and not answer.wsgi_request.user.is_authenticated
    locked = client.post(admin_login, {"username": "root", "password": "a-long-password"})
    assert not locked.wsgi_request.user.is_authenticated
    # Failures on one page count on the other.
    assert "Too many failed attempts" in post(client, "root", "a-long-password").content.decode()


def test_failures_from_one_address_lock_it_for_every_account(db, client):
    model = get_user_model()
    for n in range(5):
        model.objects.create_superuser(f"root{n}", f"root{n}@acme.example", "a-long-password")
        client.post(reverse("admin:login"), {"username": f"root{n}", "password": "wrong"})
    model.objects.create_superuser("fresh", "fresh@acme.example", "a-long-password")
    assert not post(client, "fresh", "a-long-password").wsgi_request.user.is_authenticated


def test_password_reset_mails_are_few_and_never_for_company_accounts(db, client, mailoutbox):
    from apps.organizations.services import user_get_or_create

    sso_person = user_get_or_create(email="ana@acme.example", full_name="Ana")
    assert not sso_person.has_usable_password()
    get_user_model().objects.create_superuser("root", "root@acme.example", "a-long-password")
    url = reverse("password_reset")
    client.post(url, {"email": "ana@acme.example"})
    assert mailoutbox == []  # signs in through the company: no password to reset
    answers = [client.post(url, {"email": "root@acme.example"}).status_code for _ in range(6)]
    assert len(mailoutbox) == 3 and answers[:3] == [302, 302, 302]
    assert answers[3:] == [429, 429, 429]
