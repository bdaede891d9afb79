"""A Cast device for the network-namespace test: the local Cast v2 receiver, announced over mDNS
(_googlecast._tcp) the way Chromecasts announce themselves. Runs until killed.
Usage: python -m tests.speakers.cast_device ADDRESS WORKDIR
"""

from __future__ import annotations

import json
import socket
import sys
import time
import uuid
from pathlib import Path

from zeroconf import ServiceInfo, Zeroconf

from tests.fakes.cast_receiver import LocalCastReceiver


def main() -> None:
    address, workdir = sys.argv[1], Path(sys.argv[2])
    with LocalCastReceiver(workdir, host=address) as receiver:
        device_id = uuid.uuid4().hex
        info = ServiceInfo(
            "_googlecast._tcp.local.",
            f"Google-Home-Mini-{device_id}._googlecast._tcp.local.",
            addresses=[socket.inet_aton(address)],
            port=receiver.port,
            server=f"{device_id}.local.",
            properties={"id": device_id, "fn": receiver.name, "md": "Google Home Mini", "ca": "2052", "st": "0"},
        )
        zeroconf = Zeroconf(interfaces=[address])
        zeroconf.register_service(info)
        (workdir / "cast-ready").write_text(str(receiver.port))
        try:
            while True:
                time.sleep(0.2)
                (workdir / "cast-loaded.json").write_text(json.dumps({"loaded": receiver.loaded, "fetched": receiver.fetched}))
        finally:
            zeroconf.unregister_service(info)
            zeroconf.close()


if __name__ == "__main__":
    main()
