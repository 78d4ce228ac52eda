"""sample_site/nginx.conf as shipped, in a real nginx on a port other than 80 (issue 14, point 6).

The file is used as written but for where it listens, where its upstream is and where static
files are: the demo site (``runserver_sio``) behind it must take a browser's polling handshake
and WebSocket upgrade, whose ``Origin`` carries the port. With ``Host $host`` nginx dropped the
port, so the Origin check refused every handshake with 403.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.cluster import Nginx, nginx_main
from tests.support.live import ROOT
from tests.support.raw_http import http
from tests.support.wire import Wire


def shipped_config(upstream: str, static: Path) -> Callable[[Path, int], str]:
    text = (ROOT / "sample_site/nginx.conf").read_text()

    def config(prefix: Path, port: int) -> str:
        http_block = text.replace("server 127.0.0.1:8000;", f"server {upstream};")
        http_block = re.sub(r"listen 80;", f"listen 127.0.0.1:{port};", http_block)
        http_block = http_block.replace("/srv/sample_site/static/", f"{static}/")
        assert f"listen 127.0.0.1:{port};" in http_block and f"server {upstream};" in http_block
        return nginx_main(prefix, http_block)

    return config


@pytest.fixture(scope="module")
def proxy(site: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    prefix = tmp_path_factory.mktemp("nginx-conf")
    static = prefix / "static"
    static.mkdir()
    server = Nginx(prefix, [], config=shipped_config(urlsplit(site).netloc, static))
    yield server
    output = server.stop()
    assert "[emerg]" not in output and "[alert]" not in output, output


def test_a_browsers_handshake_through_the_shipped_config_on_another_port(proxy: Nginx) -> None:
    origin = proxy.url  # http://127.0.0.1:<port>, as a page served through nginx sends it
    status, _, body = http(proxy.url, "GET", "/socket.io/?EIO=4&transport=polling",
                                 headers={"Origin": origin})
    assert status == 200, body
    sid = json.loads(body[1:])["sid"]
    ws = Wire(proxy.url)
    try:
        status = ws.upgrade(f"EIO=4&transport=websocket&sid={sid}", extra={"Origin": origin})
        assert status == 101, (status, ws.body)
        ws.send_text("2probe")
        assert ws.recv_text() == "3probe"
    finally:
        ws.close()


def test_another_sites_origin_is_still_refused(proxy: Nginx) -> None:
    status, _, body = http(proxy.url, "GET", "/socket.io/?EIO=4&transport=polling",
                           headers={"Origin": "http://evil.example"})
    assert status == 403, body
