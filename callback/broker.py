"""The embedded broker: Kombu's filesystem transport, with atomic writes.

Kombu's own filesystem transport creates the message file and then writes it,
so a consumer polling the folder can open it in between, read nothing and die
with a JSONDecodeError (seen here: the worker stopped with "Unrecoverable
error"). Writing to a temporary name the consumer ignores and renaming it into
place makes each message appear whole or not at all.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + ".part"  # does not end in ".msg": never picked up half-written
        with open(partial, "wb") as file:
            file.write(str_to_bytes(dumps(payload)))
        os.replace(partial, final)


class Transport(filesystem.Transport):
    Channel = Channel
