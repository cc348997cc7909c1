"""The whole service, in this process, under attack: forty slow peers trickle REQUEST frames at
a real CloudService while an owner publishes `tiny` and a user denoises an image through it,
with a 2 s login deadline, so the cloud must end the login once each party is known (a
publish and a session both outlast it by far). Slow: publishing and the user's set-up take
some seconds of Paillier arithmetic."""
import time
import warnings

import numpy as np
import pytest
from PIL import Image
from .net_testkit import host_port, running
from .slow_peers_kit import SlowPeers, header

from veil.backends.yao import paillier as P
from veil.service.cloud_service import CloudService
from veil.service.frames import ServiceKind
from veil.service.owner_client import publish
from veil.service.owner_keys import keygen as owner_keygen
from veil.service.ratelimit import RateLimiter
from veil.service.store import Store
from veil.service.user_client import denoise_remote


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::veil.backends.yao.paillier.InsecureKeyWarning")
def test_publish_and_denoise_while_forty_peers_trickle(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        pk, sk = P.generate_keypair(768)
    P.save_public_key(tmp_path / "u.pub", pk)
    P.save_private_key(tmp_path / "u.key", sk)
    img = np.random.default_rng(1).integers(60, 200, (8, 8)).astype(np.uint8)
    Image.fromarray(img).save(tmp_path / "in.png")
    request = header(ServiceKind.REQUEST, 1000) + b" " * 1000
    _, _, owner = owner_keygen(tmp_path / "owner.key")
    with Store.open(tmp_path / "store") as store:
        store.allow_owner(owner.public.raw, "owner")
        service = CloudService(store, RateLimiter(store, None), allow_test_keys=True)
        with running(service.handle, login_seconds=2.0) as server:
            with SlowPeers(server.address, 40, data=request, seconds=90) as peers:
                t0 = time.monotonic()
                published = publish("tiny", str(tmp_path / "u.pub"), host_port(server),
                                    "tiny-a", str(tmp_path / "owner.key"), progress=False)
                done = denoise_remote(str(tmp_path / "in.png"), str(tmp_path / "out.png"),
                                      str(tmp_path / "u.key"), host_port(server), "tiny-a",
                                      workers=1, progress=False)
                took = time.monotonic() - t0
                assert peers.connects > 40
    assert "version 1" in published and "64 patches" in done and took < 60
    assert np.asarray(Image.open(tmp_path / "out.png")).shape == (8, 8)
