"""Every bound the service applies to a peer, in one place, each named for what it limits.

Sizes are bytes of one frame's payload unless the name says otherwise. A connection starts
with FRAME_BYTES_BEFORE_LOGIN; a handler raises its own channel's cap only once it knows
what it expects (an authenticated user's batches, a model upload's layers).
"""
from __future__ import annotations

PEER_SILENCE_SECONDS = 600.0         # a peer may compute for minutes between two messages
FRAME_BYTES_BEFORE_LOGIN = 1 << 26   # 64 MiB, until the handler knows what to expect
USER_FRAME_BYTES = 1 << 30           # the user accepts a batch's garbled tables (~100 MB)
MODEL_UPLOAD_FRAME_BYTES = 1 << 32   # one layer of a published model
JSON_FRAME_BYTES = 1 << 20           # a JSON message (a published spec is a few kilobytes)
MAX_CONNECTIONS = 16                 # connections served at once

# Publishing (an owner's manifest is checked against these before anything is compiled).
MANIFEST_BYTES = 1 << 16             # a signed manifest: the public spec (burger's is 1 KiB) + 1 KiB
ALLOWED_KEY_BITS = (2048, 3072, 4096)  # user key sizes a cloud serves (and so generates itself)
TEST_KEY_BITS = range(512, 2048, 2)  # also allowed behind `veil cloud serve --allow-test-keys`
PUBLIC_KEY_FRAME_BYTES = max(ALLOWED_KEY_BITS) // 8 + 64    # a user's Paillier public key file
KAPPA_RANGE = range(40, 129)         # statistical security of the masks a deployment may choose
PUBLISH_COUNTER_MAX = (1 << 63) - 1  # a publish counter fits SQLite's INTEGER
PROGRAM_CACHE_ENTRIES = 4            # compiled programs the cloud keeps (burger's is ~0.5 GB)
