"""Every bound the service applies to a peer, in one place, each named for what it limits.

Sizes are bytes of one frame's payload unless the name says otherwise. A connection starts
with FRAME_BYTES_BEFORE_LOGIN; a handler raises its own channel's cap only once it knows
what it expects (an authenticated user's batches, a model upload's layers). How the time and
connection bounds work together is in docs/service.md, "Connections".
"""
from __future__ import annotations

PEER_SILENCE_SECONDS = 600.0         # a peer may compute for minutes between two messages
FRAME_SECONDS = 30.0                 # a whole frame (header and payload) may take this long...
FRAME_MIN_BYTES_PER_SECOND = 1 << 14  # ...plus its size at 16 KiB/s: 1 GiB gets 18 hours
LOGIN_SECONDS = 30.0                 # from accept to authentication, TLS handshake included
FRAME_BYTES_BEFORE_LOGIN = 1 << 21   # 2 MiB, until the handler knows what to expect
USER_FRAME_BYTES = 1 << 30           # the user accepts a batch's garbled tables (~100 MB)
MODEL_UPLOAD_FRAME_BYTES = 1 << 32   # one layer of a published model
JSON_FRAME_BYTES = 1 << 20           # a JSON message (a published spec is a few kilobytes)
MAX_CONNECTIONS = 16                 # connections served at once
MAX_CONNECTIONS_PER_ADDRESS = 8      # of those, from one peer address
STRANGER_EVICTABLE_SECONDS = 0.25    # a stranger waiting this long on its own bytes gives up
                                     # its slot to a newcomer when the slots are full
NEWCOMERS_HELD = 32                  # newcomers held for a slot about to free up, and...
NEWCOMER_HOLD_SECONDS = 1.0          # ...for at most this long, in order of arrival
REFUSALS_AT_ONCE = 4                 # refused connections told why at once; others just closed
CONNECT_SECONDS = 10.0               # a client's TCP connect to the cloud, per attempt

# Publishing (an owner's manifest is checked against these before anything is compiled).
MANIFEST_BYTES = 1 << 16             # a signed manifest: the public spec (burger's is 1 KiB) + 1 KiB
ALLOWED_KEY_BITS = (2048, 3072, 4096)  # user key sizes a cloud serves (and so generates itself)
TEST_KEY_BITS = range(512, 2048, 2)  # also allowed behind `veil cloud serve --allow-test-keys`
PUBLIC_KEY_FRAME_BYTES = max(ALLOWED_KEY_BITS) // 8 + 64    # a user's Paillier public key file
KAPPA_RANGE = range(40, 129)         # statistical security of the masks a deployment may choose
PUBLISH_COUNTER_MAX = (1 << 63) - 1  # a publish counter fits SQLite's INTEGER
PROGRAM_CACHE_ENTRIES = 4            # compiled programs the cloud keeps (burger's is ~0.5 GB)
