"""Photo sync against a real OpenLDAP server started by the test (slapd on 127.0.0.1)."""

from __future__ import annotations

import contextlib

import ldap
import numpy as np
import pytest
from ldap.dn import str2dn

from apps.publishing.ldap_sync import (
    AD_THUMBNAIL_MAX_BYTES,
    DirectoryClient,
    DirectoryError,
    DirectorySettings,
    Wanted,
    sha256,
    sync,
)
from pipeline.imaging import fit_jpeg
from tests.ldap.server import Directory, running_directory

pytestmark = pytest.mark.skipif(
    Directory.SCHEMADIR is None, reason="OpenLDAP's slapd is not installed (make test installs it)"
)

PEOPLE = {
    "pat": ("O'Brien, Jr. (Sales)*", "pat@acme.example"),
    "taro": ("山田 太郎", "taro@acme.example"),
    "amira": ("أميرة حداد", "amira@acme.example"),
    "lee": ("Lee Chen", "lee@acme.example"),
}


@pytest.fixture(scope="module")
def server():
    with running_directory() as directory:
        directory.dns = {
            key: directory.add_person(name, mail) for key, (name, mail) in PEOPLE.items()
        }
        yield directory


def settings_for(server, **options) -> DirectorySettings:
    values = {
        "uri": server.ldap_uri,
        "start_tls": False,  # loopback only: the client refuses a clear bind elsewhere
        "bind_dn": server.root_dn,
        "bind_password": server.root_pw,
        "base_dn": f"ou=people,{server.suffix}",
        **options,
    }
    return DirectorySettings(**values)


@pytest.fixture(scope="module")
def photos(astronaut_rgb):
    small, _, _ = fit_jpeg(astronaut_rgb, max_bytes=60_000, max_side=400)
    other, _, _ = fit_jpeg(astronaut_rgb[::-1].copy(), max_bytes=60_000, max_side=400)
    return small, other


def clear(server, attribute="jpegPhoto"):
    conn = server.connect()
    for dn in server.dns.values():
        with contextlib.suppress(ldap.NO_SUCH_ATTRIBUTE):
            conn.modify_s(dn, [(ldap.MOD_DELETE, attribute, None)])
    conn.unbind_s()


def test_dry_run_lists_changes_then_a_run_writes_them_and_a_second_run_writes_nothing(
    server, photos
):
    clear(server)
    photo, _ = photos
    wanted = [Wanted(key=k, match_value=mail, photo=photo) for k, (_, mail) in PEOPLE.items()]
    wanted.append(Wanted(key="ghost", match_value="ghost@acme.example", photo=photo))
    client = DirectoryClient(settings_for(server))
    plan = {o.key: o for o in sync(client, wanted, dry_run=True)}
    assert {k: o.action for k, o in plan.items()} == {
        "pat": "write",
        "taro": "write",
        "amira": "write",
        "lee": "write",
        "ghost": "not_found",
    }
    assert all(server.read(dn, "jpegPhoto") is None for dn in server.dns.values())  # dry: nothing
    seen = []
    done = {
        o.key: o
        for o in sync(client, wanted, dry_run=False, progress=lambda i, n: seen.append((i, n)))
    }
    assert seen[-1] == (5, 5)
    for key, dn in server.dns.items():
        assert done[key].done and str2dn(done[key].dn) == str2dn(dn)  # escaping may differ
        assert server.read(dn, "jpegPhoto") == photo  # byte-identical
        assert done[key].photo_sha256 == sha256(photo)
    again = sync(client, wanted, dry_run=False)
    assert [o.action for o in again if o.key != "ghost"] == ["unchanged"] * 4
    assert not any(o.done for o in again)


def test_only_changed_photos_are_written_and_leavers_lose_theirs(server, photos):
    photo, newer = photos
    clear(server)
    client = DirectoryClient(settings_for(server))
    sync(
        client,
        [Wanted(key=k, match_value=m, photo=photo) for k, (_, m) in PEOPLE.items()],
        dry_run=False,
    )
    wanted = [
        Wanted(key="pat", match_value="PAT@acme.example", photo=newer),  # case differs
        Wanted(key="taro", match_value="taro@acme.example", photo=photo),
        Wanted(key="lee", match_value="lee@acme.example", photo=None),  # left the company
    ]
    outcomes = {o.key: o.action for o in sync(client, wanted, dry_run=False)}
    assert outcomes == {"pat": "write", "taro": "unchanged", "lee": "remove"}
    assert server.read(server.dns["pat"], "jpegPhoto") == newer
    assert server.read(server.dns["lee"], "jpegPhoto") is None


def test_filter_injection_in_a_match_value_finds_nobody(server, photos):
    client = DirectoryClient(settings_for(server))
    wanted = [
        Wanted(key="evil", match_value="*", photo=photos[0]),
        Wanted(key="evil2", match_value="x)(mail=*", photo=photos[0]),
        Wanted(key="evil3", match_value="*)(|(objectClass=*", photo=photos[0]),
    ]
    assert [o.action for o in sync(client, wanted, dry_run=True)] == ["not_found"] * 3


def test_ad_thumbnail_photo_fits_under_the_limit_and_an_oversized_one_is_refused(
    server, astronaut_rgb
):
    clear(server, "thumbnailPhoto")
    big = np.asarray(
        __import__("cv2").resize(
            astronaut_rgb, (2048, 2048), interpolation=__import__("cv2").INTER_CUBIC
        )
    )
    noisy = np.clip(
        big.astype(int) + np.random.default_rng(0).integers(-40, 40, big.shape), 0, 255
    ).astype(np.uint8)
    fitted, side, quality = fit_jpeg(noisy, max_bytes=AD_THUMBNAIL_MAX_BYTES, max_side=648)
    assert len(fitted) <= AD_THUMBNAIL_MAX_BYTES and side <= 648
    oversized, _, _ = fit_jpeg(noisy, max_bytes=400_000, max_side=1024, qualities=(95,))
    assert len(oversized) > AD_THUMBNAIL_MAX_BYTES
    client = DirectoryClient(settings_for(server, photo_attribute="thumbnailPhoto"))
    wanted = [
        Wanted(key="pat", match_value="pat@acme.example", photo=fitted),
        Wanted(key="taro", match_value="taro@acme.example", photo=oversized),
        Wanted(key="amira", match_value="amira@acme.example", photo=fitted),
    ]
    outcomes = {o.key: o for o in sync(client, wanted, dry_run=False)}
    assert outcomes["pat"].done and outcomes["amira"].done  # the refusal did not stop the rest
    assert outcomes["taro"].action == "failed" and "constraint" in outcomes["taro"].error
    assert server.read(server.dns["pat"], "thumbnailPhoto") == fitted


def test_the_server_stopping_mid_sync_is_reported_and_a_later_run_completes(server, photos):
    photo, newer = photos
    clear(server)
    client = DirectoryClient(settings_for(server, window=1))  # one request in flight
    wanted = [Wanted(key=k, match_value=m, photo=newer) for k, (_, m) in PEOPLE.items()]

    def stop_after_first(done: int, total: int) -> None:
        if done == 1:
            server.terminate()  # the data stays: resume() starts the same directory
            server.wait()

    try:
        outcomes = sync(client, wanted, dry_run=False, progress=stop_after_first)
    finally:
        server.resume()
    assert outcomes[0].done
    assert [o.action for o in outcomes[1:]] == ["failed"] * 3
    assert all("stopped answering" in o.error for o in outcomes[1:])
    rerun = sync(client, wanted, dry_run=False)
    assert [o.action for o in rerun] == ["unchanged", "write", "write", "write"]
    assert all(server.read(dn, "jpegPhoto") == newer for dn in server.dns.values())


def test_many_people_in_flight_at_once_each_get_their_own_answer(server, photos):
    photo, _ = photos
    clear(server)
    conn = server.connect()
    dns = [server.add_person(f"Extra {i}", f"extra{i}@acme.example") for i in range(120)]
    conn.unbind_s()
    client = DirectoryClient(settings_for(server, window=16, batch=25))
    marked = [photo[:-2] + bytes([i % 256, 0xD9]) for i in range(120)]  # distinct bytes each
    wanted = [
        Wanted(key=str(i), match_value=f"extra{i}@acme.example", photo=marked[i])
        for i in range(120)
    ]
    outcomes = sync(client, wanted, dry_run=False)
    assert all(o.done for o in outcomes)
    assert all(server.read(dn, "jpegPhoto") == marked[i] for i, dn in enumerate(dns))


def test_bad_settings_and_credentials_are_named(server):
    with pytest.raises(DirectoryError, match="needs StartTLS"):
        DirectoryClient(settings_for(server, uri="ldap://directory.acme.example", start_tls=False))
    with pytest.raises(DirectoryError, match="attribute that identifies a person"):
        DirectoryClient(settings_for(server, match_attribute="cn)(x"))
    wrong = DirectorySettings(
        uri=server.ldap_uri,
        start_tls=False,
        bind_dn=server.root_dn,
        bind_password="wrong",
        base_dn=server.suffix,
    )
    with pytest.raises(DirectoryError, match="refused the bind"):
        DirectoryClient(wrong).test()
    assert "base DN found" in DirectoryClient(settings_for(server)).test()
    assert "wrong" not in repr(wrong)
