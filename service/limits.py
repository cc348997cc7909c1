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
CONNECT_SECONDS = 10.0               # a client's TCP connect to the cloud, per attempt
