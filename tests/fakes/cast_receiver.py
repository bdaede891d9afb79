"""A local Cast v2 receiver for the tests: TLS, length-prefixed CastMessage protobufs (pychromecast's own
generated classes), and the connection, heartbeat, receiver and media namespaces a sender uses to
CONNECT, PING, GET_STATUS, LAUNCH the default media receiver and LOAD a URL. On LOAD it fetches the
media URL over HTTP, as a real device does, and reports PLAYING only when that fetch returns audio.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess
import threading
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from pychromecast.generated.cast_channel_pb2 import CastMessage

NS_CONNECTION = "urn:x-cast:com.google.cast.tp.connection"
NS_HEARTBEAT = "urn:x-cast:com.google.cast.tp.heartbeat"
NS_RECEIVER = "urn:x-cast:com.google.cast.receiver"
NS_MEDIA = "urn:x-cast:com.google.cast.media"
DEFAULT_MEDIA_RECEIVER = "CC1AD845"
TRANSPORT = "web-7"


@dataclass
class LocalCastReceiver:
    """`with LocalCastReceiver(tmp_path) as receiver:` listens on `host`:`receiver.port`."""

    workdir: Path
    host: str = "127.0.0.1"
    name: str = "Living Room"
    loaded: list[dict] = field(default_factory=list)  # every LOAD request's media
    fetched: list[tuple[int, str]] = field(default_factory=list)  # (HTTP status, Content-Type) of each media fetch
    messages: list[tuple[str, str]] = field(default_factory=list)  # (namespace, type) of everything received
    port: int = 0

    def __enter__(self) -> LocalCastReceiver:
        key, cert = self.workdir / "cast.key", self.workdir / "cast.crt"
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=cast.local",
                "-keyout",
                str(key),
                "-out",
                str(cert),
            ],
            check=True,
            capture_output=True,
        )
        self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._tls.load_cert_chain(cert, key)
        self._loop = asyncio.new_event_loop()
        started = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(started,), daemon=True)
        self._thread.start()
        started.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _serve(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._session, self.host, 0, ssl=self._tls))
        self.port = self._server.sockets[0].getsockname()[1]
        started.set()
        self._loop.run_forever()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        app_running = False
        media_status: list[dict] = []
        try:
            while True:
                size = int.from_bytes(await reader.readexactly(4), "big")
                message = CastMessage()
                message.ParseFromString(await reader.readexactly(size))
                data = json.loads(message.payload_utf8) if message.payload_utf8 else {}
                kind = data.get("type", "")
                self.messages.append((message.namespace, kind))

                def reply(payload: dict, request: CastMessage = message) -> None:
                    answer = CastMessage(
                        protocol_version=CastMessage.CASTV2_1_0,
                        source_id=request.destination_id,
                        destination_id=request.source_id,
                        namespace=request.namespace,
                        payload_type=CastMessage.STRING,
                        payload_utf8=json.dumps(payload),
                    )
                    body = answer.SerializeToString()
                    writer.write(len(body).to_bytes(4, "big") + body)

                request_id = data.get("requestId", 0)
                if message.namespace == NS_HEARTBEAT and kind == "PING":
                    reply({"type": "PONG"})
                elif message.namespace == NS_RECEIVER and kind == "GET_STATUS":
                    reply(self._receiver_status(app_running, request_id))
                elif message.namespace == NS_RECEIVER and kind == "LAUNCH":
                    if data.get("appId") != DEFAULT_MEDIA_RECEIVER:
                        reply({"type": "LAUNCH_ERROR", "reason": "NOT_FOUND", "requestId": request_id})
                    else:
                        app_running = True
                        reply(self._receiver_status(True, request_id))
                elif message.namespace == NS_MEDIA and kind == "GET_STATUS":
                    reply({"type": "MEDIA_STATUS", "status": media_status, "requestId": request_id})
                elif message.namespace == NS_MEDIA and kind == "LOAD":
                    media = data.get("media", {})
                    self.loaded.append(media)
                    fetched = await asyncio.get_running_loop().run_in_executor(None, self._fetch, media.get("contentId", ""))
                    self.fetched.append(fetched)
                    if fetched[0] in (200, 206) and fetched[1].startswith("audio/"):
                        media_status = [
                            {
                                "mediaSessionId": 1,
                                "playbackRate": 1,
                                "playerState": "PLAYING",
                                "currentTime": 0.5,
                                "supportedMediaCommands": 15,
                                "volume": {"level": 1, "muted": False},
                                "media": media,
                            }
                        ]
                        reply({"type": "MEDIA_STATUS", "status": media_status, "requestId": request_id})
                    else:
                        reply({"type": "LOAD_FAILED", "requestId": request_id})
                        media_status = [
                            {
                                "mediaSessionId": 1,
                                "playbackRate": 1,
                                "playerState": "IDLE",
                                "idleReason": "ERROR",
                                "currentTime": 0,
                                "supportedMediaCommands": 15,
                                "volume": {"level": 1, "muted": False},
                            }
                        ]
                        reply({"type": "MEDIA_STATUS", "status": media_status, "requestId": 0})
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            writer.close()

    def _receiver_status(self, app_running: bool, request_id: int) -> dict:
        applications = (
            [
                {
                    "appId": DEFAULT_MEDIA_RECEIVER,
                    "displayName": "Default Media Receiver",
                    "isIdleScreen": False,
                    "namespaces": [{"name": NS_MEDIA}],
                    "sessionId": "7e1d-session",
                    "statusText": "Ready To Cast",
                    "transportId": TRANSPORT,
                }
            ]
            if app_running
            else []
        )
        return {
            "type": "RECEIVER_STATUS",
            "requestId": request_id,
            "status": {
                "applications": applications,
                "isActiveInput": True,
                "isStandBy": False,
                "volume": {"level": 1.0, "muted": False, "controlType": "attenuation", "stepInterval": 0.05},
            },
        }

    @staticmethod
    def _fetch(url: str) -> tuple[int, str]:
        try:
            request = urllib.request.Request(url, headers={"Range": "bytes=0-65535", "User-Agent": "LocalCastReceiver"})
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
                return response.status, response.headers.get("Content-Type", "")
        except OSError as exc:
            return getattr(exc, "code", 0) or 0, ""
