"""Business cards as printers and phones read them: pages, fonts, bleed, names in every
script, and the QR code decoded back to the vCard."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from apps.publishing.cards import CJK_FONT, CardPerson, render_card_pdf, render_cards_pdf, vcard
from tests.conftest import to_jpeg

pytestmark = pytest.mark.skipif(
    shutil.which("pdfinfo") is None or shutil.which("zbarimg") is None,
    reason="poppler-utils and zbar-tools are not installed (make test installs them)",
)

PEOPLE = [
    CardPerson(
        "O'Brien, Jr. (Sales)", "Account Executive", "Sales", "pat@acme.example", "+1 555 0100"
    ),
    CardPerson("山田 太郎", "エンジニア", "研究開発", "taro@acme.example", "+81 3 1234 5678"),
    CardPerson("أميرة حداد", "مديرة المبيعات", "المبيعات", "amira@acme.example", "+971 4 123 4567"),
]


def run(*command: str) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def batch(astronaut_rgb, tmp_path_factory):
    photo = to_jpeg(astronaut_rgb)
    path = tmp_path_factory.mktemp("cards") / "sales.pdf"
    path.write_bytes(
        render_cards_pdf(people=[(p, photo) for p in PEOPLE], company="Acme", size="eu")
    )
    return path


def test_a_batch_has_front_and_back_per_person_at_the_card_size(batch):
    info = run("pdfinfo", str(batch))
    assert "Pages:           6" in info
    assert "240.945 x 155.906 pts" in info  # 85 x 55 mm


def test_latin_cjk_and_arabic_names_are_drawn_with_embedded_fonts(batch):
    fonts = run("pdffonts", str(batch)).splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts)  # every font embedded
    if CJK_FONT.is_file():
        assert any("CardCJK" in line for line in fonts)  # the CJK fallback was used
    text = " ".join(run("pdftotext", str(batch), "-").split())  # a long name may wrap
    assert "O'Brien, Jr. (Sales)" in text and "山田 太郎" in text
    # the Arabic name's letters are there (extraction order may follow the visual order)
    assert set("أميرةحداد") <= set(text)


def test_the_qr_code_decodes_to_the_vcard(batch, tmp_path):
    run("pdftoppm", "-r", "300", "-png", "-f", "4", "-l", "4", str(batch), str(tmp_path / "back"))
    image = next(tmp_path.glob("back*.png"))
    decoded = run("zbarimg", "--quiet", "--raw", "-Sbinary", str(image))
    assert decoded.split() == vcard(PEOPLE[1], "Acme").split()  # line endings aside
    assert "FN:山田 太郎" in decoded


def test_print_marks_add_a_bleed_around_the_trim_box(astronaut_rgb, tmp_path):
    path = tmp_path / "print.pdf"
    path.write_bytes(
        render_card_pdf(
            person=PEOPLE[0], company="Acme", photo_jpeg=to_jpeg(astronaut_rgb), print_marks=True
        )
    )
    boxes = run("pdfinfo", "-box", str(path))
    media = [
        float(v)
        for v in next(line for line in boxes.splitlines() if line.startswith("MediaBox")).split()[
            1:
        ]
    ]
    trim = [
        float(v)
        for v in next(line for line in boxes.splitlines() if line.startswith("TrimBox")).split()[1:]
    ]
    bleed_pt = 3 / 25.4 * 72
    assert abs((media[2] - media[0]) - (trim[2] - trim[0]) - 2 * bleed_pt) < 0.5
    assert abs((trim[2] - trim[0]) - 252) < 0.5  # the card itself stays 3.5 in wide


def test_hr_prints_a_departments_cards_in_one_batch(approved, tmp_path):
    from apps.core.errors import NotFound, PermissionDenied
    from apps.publishing.services import business_cards_batch

    c, _ = approved
    with pytest.raises(PermissionDenied):
        business_cards_batch(organization=c.org, actor=c.employee_user, department="R&D")
    with pytest.raises(NotFound, match="Nobody in 'Marketing'"):
        business_cards_batch(organization=c.org, actor=c.hr, department="Marketing")
    path = tmp_path / "rnd.pdf"
    path.write_bytes(business_cards_batch(organization=c.org, actor=c.hr, department="R&D"))
    assert "Pages:           2" in run("pdfinfo", str(path))
    assert "TrimBox" in run("pdfinfo", "-box", str(path))
    assert "Pat O'Brien" in " ".join(run("pdftotext", str(path), "-").split())


def logo_uri(color: tuple[int, int, int]) -> str:
    import base64
    import io as _io

    from PIL import Image

    buffer = _io.BytesIO()
    Image.new("RGB", (300, 100), color).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_the_template_preview_is_an_image_in_the_company_colours_with_its_logo():
    import io as _io

    import numpy as np
    from PIL import Image

    from apps.publishing.cards import card_preview_png

    plain = Image.open(
        _io.BytesIO(card_preview_png(company="Acme", brand={"primary": "#0a7f3f"}, dpi=100))
    )
    assert plain.format == "PNG" and plain.size == (350, 200)  # 3.5 x 2 in at 100 dpi
    band = np.asarray(plain.convert("RGB"))[100, 4]
    assert tuple(band) == (10, 127, 63)  # the brand colour
    branded = np.asarray(
        Image.open(
            _io.BytesIO(
                card_preview_png(
                    company="Acme",
                    brand={"primary": "#0a7f3f", "logo": logo_uri((200, 30, 30))},
                    dpi=100,
                )
            )
        ).convert("RGB")
    ).astype(int)
    corner = branded[170:190, 290:330]  # where the logo sits, bottom right
    assert abs(corner[..., 0].mean() - 200) < 25 and corner[..., 1].mean() < 80


def test_only_raster_logos_are_accepted():
    import base64

    from apps.organizations.brand import brand_logo

    svg = (
        "data:image/svg+xml;base64,"
        + base64.b64encode(b'<svg><image href="http://10.0.0.1/"/></svg>').decode()
    )
    assert brand_logo(svg) == ""
    assert brand_logo("data:image/png;base64,bm90IGEgcG5n") == ""  # "not a png"
    assert brand_logo("https://example.com/logo.png") == ""
    assert brand_logo(logo_uri((0, 0, 0))).startswith("data:image/png;base64,")


@pytest.mark.parametrize("size", ["eu", "us"])
def test_a_long_company_name_wraps_clear_of_the_qr_code(astronaut_rgb, tmp_path, size):
    import re

    company = "Vereinigte Internationale Versicherungsgesellschaft Nordrhein"
    path = tmp_path / "card.pdf"
    path.write_bytes(
        render_card_pdf(
            person=PEOPLE[0], company=company, photo_jpeg=to_jpeg(astronaut_rgb), size=size
        )
    )
    html = run("pdftotext", "-bbox", "-f", "2", "-l", "2", str(path), "-")
    width = float(re.search(r'<page width="([\d.]+)"', html).group(1))
    qr_left = width - (0.25 + 1.4) * 72  # the QR code's white box, from the right edge
    words = re.findall(
        r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" [^>]*>([^<]+)</word>', html
    )
    company_words = [(float(x1), text) for _, x1, text in words if text in company.split()]
    assert {text for _, text in company_words} == set(company.split())  # all of it is there
    assert all(right < qr_left for right, _ in company_words), company_words


def test_the_vcard_is_read_back_by_a_vcard_library():
    vobject = pytest.importorskip("vobject", reason="vobject is not installed (make install)")
    pat = CardPerson("Pat O'Brien", "Engineer", "R&D", "pat@acme.example", "+1 555 0100")
    text = vcard(pat, "Acme, Inc.")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    card = vobject.readOne(text)
    assert card.fn.value == "Pat O'Brien"
    assert (card.n.value.family, card.n.value.given) == ("O'Brien", "Pat")
    assert card.org.value == ["Acme, Inc.", "R&D"]
    assert card.email.value == "pat@acme.example" and card.tel.value == "+1 555 0100"
    # a name written family name first keeps it whole
    taro = vobject.readOne(vcard(PEOPLE[1], "Acme"))
    assert taro.n.value.family == "山田 太郎" and taro.fn.value == "山田 太郎"
