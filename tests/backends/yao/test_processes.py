"""Owner, cloud and user in three processes, connected only by sockets: the owner publishes
and exits, the cloud serves, the user's result equals the plaintext reference."""
import multiprocessing as mp
import os
import socket
import warnings

import numpy as np

from veil.backends.catalog import get_backend
from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import SocketChannel
from veil.backends.yao.lowerings.frames import recv_public_key, send_public_key
from veil.backends.yao.lowerings.paper.cloud import PaperCloud
from veil.backends.yao.lowerings.paper.model import PaperOwner, receive_paper_model
from veil.backends.yao.lowerings.paper.user import PaperUser
from veil.models.catalog import compile_model
from veil.compiler.program import SecurityParams
from veil.models.crosscheck import random_pixel_patches


def program():
    return compile_model("tiny", "paper", key_bits=768)


def owner_main(sock_user, sock_cloud):
    pk = recv_public_key(SocketChannel(sock_user, timeout=60))
    PaperOwner(program()).publish(SocketChannel(sock_cloud, timeout=60), pk)


def cloud_main(sock_owner, sock_user, sid, result):
    prog = program()
    user_ch = SocketChannel(sock_user, timeout=60)
    pk = recv_public_key(user_ch)
    model = receive_paper_model(SocketChannel(sock_owner, timeout=60), prog, pk)
    cloud = PaperCloud(prog, pk, model, sid)
    cloud.setup(user_ch)
    result.put(cloud.serve_batch(user_ch))


def test_three_processes_over_sockets():
    ctx = mp.get_context("fork")
    uo_user, uo_owner = socket.socketpair()
    oc_owner, oc_cloud = socket.socketpair()
    uc_user, uc_cloud = socket.socketpair()
    sid = os.urandom(16)
    result = ctx.Queue()
    owner = ctx.Process(target=owner_main, args=(uo_owner, oc_owner))
    cloud = ctx.Process(target=cloud_main, args=(oc_cloud, uc_cloud, sid, result))
    owner.start(), cloud.start()
    prog = program()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        pk, sk = P.generate_keypair(768)
    send_public_key(SocketChannel(uo_user, timeout=60), pk)
    ch = SocketChannel(uc_user, timeout=60)
    send_public_key(ch, pk)
    user = PaperUser(prog, pk, sk, sid)
    user.setup(ch)
    x = prog.quantise_input(random_pixel_patches(3, 5, seed=4))
    out = user.run_batch(ch, x)
    owner.join(60), cloud.join(60)
    assert owner.exitcode == 0 and cloud.exitcode == 0
    assert result.get(timeout=5) == 3
    assert np.array_equal(out, get_backend("plaintext").run_fixed(prog, x))
    assert ch.bytes_sent > 0 and ch.bytes_received > 0


def test_upload_for_another_key_is_rejected():
    import pytest
    from veil.backends.yao.framing.channel import InProcessChannel
    from veil.util.errors import ProtocolError
    prog = program()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        pk1, _ = P.generate_keypair(768)
        pk2, _ = P.generate_keypair(768)
    a, b = InProcessChannel.pair(timeout=5)
    PaperOwner(prog).publish(a, pk1)
    with pytest.raises(ProtocolError, match="(?i)key|fingerprint"):
        receive_paper_model(b, prog, pk2)
