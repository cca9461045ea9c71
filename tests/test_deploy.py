"""The deployment folder holds up: nginx accepts the site (`nginx -t`, with a throwaway
certificate in place of the real one), systemd accepts every unit (`systemd-analyze verify`), and
the production .env names only settings Kartu has, with values it takes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from kartu.config import Settings

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (.ci/run installs it)")
def test_nginx_accepts_the_site(tmp_path: Path) -> None:
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=bot.example.com",
         "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    site = (DEPLOY / "nginx" / "kartu.conf").read_text()
    site = site.replace("/etc/letsencrypt/live/bot.example.com/fullchain.pem", str(tmp_path / "cert.pem"))
    site = site.replace("/etc/letsencrypt/live/bot.example.com/privkey.pem", str(tmp_path / "key.pem"))
    (tmp_path / "kartu.conf").write_text(site)
    temp = " ".join(
        f"{kind}_temp_path {tmp_path / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\nevents {{}}\n"
        f"http {{\n access_log off;\n {temp}\n include {tmp_path / 'kartu.conf'};\n}}\n"
    )
    checked = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr and "[warn]" not in checked.stderr, checked.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_every_unit(tmp_path: Path) -> None:
    units = []
    for unit in sorted((DEPLOY / "systemd").iterdir()):
        # The units run /srv/kartu/.venv/bin/kartu, which this machine does not have: verify checks
        # that the program exists, so a stand-in takes its place.
        text = unit.read_text().replace("/srv/kartu/.venv/bin/kartu", "/bin/true")
        name = unit.name.replace("@.service", "@9001.service")
        (tmp_path / unit.name).write_text(text)
        (tmp_path / name).write_text(text)
        units.append(str(tmp_path / name))
    checked = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True)
    assert checked.returncode == 0 and not checked.stderr.strip(), checked.stderr


def test_the_production_env_names_only_settings_kartu_has() -> None:
    env = DEPLOY / "kartu.env"
    keys = [
        line.split("=", 1)[0] for line in env.read_text().splitlines() if line and not line.startswith("#")
    ]
    unknown = [key for key in keys if key.removeprefix("KARTU_").lower() not in Settings.model_fields]
    assert not unknown, unknown
    settings = Settings(_env_file=env)  # type: ignore[call-arg]
    assert settings.webhook_url.startswith("https://") and settings.scheduler == "off"
    assert settings.log_format == "json" and settings.metrics


def test_a_webhook_secret_telegram_would_refuse_is_refused_at_start() -> None:
    import pydantic

    with pytest.raises(pydantic.ValidationError):
        Settings(_env_file=None, webhook_secret="has space/and+plus")  # type: ignore[call-arg]
    assert Settings(_env_file=None, webhook_secret="Abc_123-xyz").webhook_secret == "Abc_123-xyz"  # type: ignore[call-arg]
