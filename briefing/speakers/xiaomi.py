"""Xiaomi 小爱 speakers through the Mi cloud (opt-in): Mi account login, then the MiNA service's
`player_play_url` over `ubus`, as the Mi Home app does.

Credentials come from the environment only: MI_USER (Mi account id, phone or e-mail) and MI_PASS.
Nothing is stored on disk.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import urllib.error
import urllib.parse
import urllib.request
from http.cookies import SimpleCookie

from ..errors import SpeakerError
from .base import Media, Playback, register_player, wait_until_playing

ACCOUNT_URL = "https://account.xiaomi.com/pass"
MINA_URL = "https://api2.mina.mi.com"
SID = "micoapi"
USER_AGENT = "APP/com.xiaomi.mihome APPV/6.0.103 iosPassportSDK/3.9.0 iOS/14.4 miHSTS"
RESPONSE_PREFIX = b"&&&START&&&"


@register_player
class XiaomiPlayer:
    """`device` is the speaker's name in the Mi Home app (e.g. 小爱音箱Pro) or its deviceID."""

    kind = "xiaomi"

    def __init__(self, device: str, name: str = "") -> None:
        self.device = device
        self.user, self.password = os.environ.get("MI_USER", ""), os.environ.get("MI_PASS", "")
        if not self.user or not self.password:
            raise SpeakerError("Xiaomi speakers need MI_USER and MI_PASS (your Mi account) in the environment; they are never saved")
        self.account_url = os.environ.get("BRIEFING_XIAOMI_ACCOUNT_URL", ACCOUNT_URL).rstrip("/")
        self.mina_url = os.environ.get("BRIEFING_XIAOMI_MINA_URL", MINA_URL).rstrip("/")
        self.device_id = secrets.token_hex(8).upper()
        self.session: dict[str, str] = {}

    def play(self, media: Media, timeout: float) -> Playback:
        speakers = self._mina("GET", "/admin/v2/device_list?master=0")
        match = next((d for d in speakers if self.device in (d.get("name"), d.get("deviceID"), d.get("alias"))), None)
        if match is None:
            names = ", ".join(str(d.get("name")) for d in speakers) or "none"
            raise SpeakerError(f"No Xiaomi speaker '{self.device}' in this Mi account; its speakers: {names}")
        message = {"url": media.url, "type": 2, "media": "app_ios", "duration": int(media.duration * 1000)}
        answer = self._mina(
            "POST",
            "/remote/ubus",
            {
                "deviceId": match["deviceID"],
                "method": "player_play_url",
                "path": "mediaplayer",
                "message": json.dumps(message, ensure_ascii=False),
            },
        )
        if isinstance(answer, dict) and answer.get("code", 0) != 0:
            raise SpeakerError(f"{match.get('name')} refused to play the URL (ubus code {answer.get('code')}: {answer.get('info', '')})")

        def playing() -> Playback | str:
            status = self._mina(
                "POST",
                "/remote/ubus",
                {
                    "deviceId": match["deviceID"],
                    "method": "player_get_play_status",
                    "path": "mediaplayer",
                    "message": json.dumps({"media": "app_ios"}),
                },
            )
            info = json.loads(status.get("info") or "{}") if isinstance(status, dict) else {}
            if info.get("status") == 1:
                detail = info.get("play_song_detail") or {}
                return Playback(str(match.get("name")), "PLAYING", float(detail.get("position", 0)) / 1000)
            return f"status {info.get('status', 'unknown')}"

        return wait_until_playing(playing, str(match.get("name")), timeout)

    # --- the Mi cloud -------------------------------------------------------------------------

    def _mina(self, method: str, path: str, form: dict | None = None, retry: bool = True):
        """A MiNA API call with the session's serviceToken; a 401 logs in again once."""
        if not self.session:
            self._login()
        separator = "&" if "?" in path else "?"
        request_id = f"app_ios_{secrets.token_hex(15)}"
        url = f"{self.mina_url}{path}" + (f"{separator}requestId={request_id}" if form is None else "")
        data = urllib.parse.urlencode({**form, "requestId": request_id}).encode() if form is not None else None
        cookies = f"userId={self.session['userId']}; serviceToken={self.session['serviceToken']}"
        try:
            body = self._fetch(urllib.request.Request(url, data=data, method=method, headers={"Cookie": cookies}))[0]
        except urllib.error.HTTPError as exc:
            if exc.code == 401 and retry:
                self.session = {}
                return self._mina(method, path, form, retry=False)
            raise SpeakerError(f"The Mi cloud answered {exc.code} to {path}: {exc.read()[:200].decode(errors='replace')}") from None
        try:
            answer = json.loads(body)
        except ValueError:
            raise SpeakerError(f"The Mi cloud answered {path} with something that is not JSON: {body[:120]!r}") from None
        if answer.get("code") != 0:
            raise SpeakerError(f"The Mi cloud refused {path}: {answer.get('message') or answer}")
        return answer.get("data")

    def _login(self) -> None:
        cookies = f"sdkVersion=3.9; deviceId={self.device_id}"
        first = self._account("GET", f"/serviceLogin?sid={SID}&_json=true", cookies)
        if first.get("code") != 0:
            form = {
                "_json": "true",
                "qs": first.get("qs", ""),
                "sid": first.get("sid", SID),
                "_sign": first.get("_sign", ""),
                "callback": first.get("callback", ""),
                "user": self.user,
                "hash": hashlib.md5(self.password.encode()).hexdigest().upper(),
            }
            first = self._account("POST", "/serviceLoginAuth2", cookies, form)
            if first.get("code") != 0:
                reason = first.get("desc") or first.get("description") or first.get("code")
                raise SpeakerError(
                    f"Mi account login failed ({reason}); check MI_USER and MI_PASS, or finish any security check in the Mi Home app first"
                )
        if not first.get("location") or not first.get("ssecurity"):
            raise SpeakerError("Mi account login needs a verification step this tool cannot do; log in once in the Mi Home app")
        signature = base64.b64encode(hashlib.sha1(f"nonce={first['nonce']}&{first['ssecurity']}".encode()).digest()).decode()
        _, headers = self._fetch(urllib.request.Request(f"{first['location']}&clientSign={urllib.parse.quote(signature)}"))
        jar = SimpleCookie()
        for header in headers.get_all("Set-Cookie") or []:
            jar.load(header)
        if "serviceToken" not in jar:
            raise SpeakerError("The Mi cloud did not grant a service token; log in once in the Mi Home app and try again")
        self.session = {"userId": str(first["userId"]), "serviceToken": jar["serviceToken"].value}

    def _account(self, method: str, path: str, cookies: str, form: dict | None = None) -> dict:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(f"{self.account_url}{path}", data=data, method=method, headers={"Cookie": cookies})
        try:
            body = self._fetch(request)[0]
        except urllib.error.HTTPError as exc:
            raise SpeakerError(f"The Mi account service answered {exc.code}") from None
        try:
            return json.loads(body.removeprefix(RESPONSE_PREFIX))
        except ValueError:
            raise SpeakerError(f"The Mi account service answered {path} with something unexpected: {body[:120]!r}") from None

    @staticmethod
    def _fetch(request: urllib.request.Request):
        request.add_header("User-Agent", USER_AGENT)
        opener = urllib.request.build_opener(_NoRedirect)  # the service token arrives on the redirect itself
        try:
            with opener.open(request, timeout=15) as response:
                return response.read(), response.headers
        except urllib.error.HTTPError as exc:
            if exc.code in (301, 302, 303, 307):
                return exc.read(), exc.headers
            raise
        except (OSError, ValueError) as exc:
            raise SpeakerError(f"Cannot reach the Mi cloud ({getattr(exc, 'reason', exc)})") from None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
