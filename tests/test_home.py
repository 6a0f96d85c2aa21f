import pytest

pytestmark = pytest.mark.django_db


def test_home_lists_the_programs_in_indonesian_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="id" ' in html
    for name in [
        "KSBB Pangan",
        "KSBB UMKM",
        "KSBB Pendidikan",
        "KSBB Penataan Pemukiman",
        "KSBB Pengelolaan Sampah",
        "KSBB Tenaga Kerja",
    ]:
        assert name in html
    assert "Sembako" in html
    assert 'href="/admin/"' in html
    assert "Rp 100 miliar" in html  # Pangan's reported value, written the Indonesian way


def test_language_switcher_turns_the_portal_to_english(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="en" ' in html
    assert "Food Security Assistance Program" in html
    assert "Groceries" in html
    assert "IDR 100 billion" in html
