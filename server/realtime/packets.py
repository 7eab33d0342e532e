"""The Socket.IO packet parser the server uses: python-socketio's, with binary
attachments bounded.

A binary event's header names how many attachments follow, and python-socketio takes
every later message of that connection as one of them until the count is reached: a
header announcing 0 or a billion attachments left the connection stuck and let it grow
without bound. No event of PROTOCOL.md carries more than one binary argument
(``doc:msg``), so any other count is refused; the packet is dropped (python-socketio
logs the error) and the connection goes on as before.
"""

from __future__ import annotations

from typing import Any

from socketio import packet

MAX_ATTACHMENTS = 1


class BoundedPacket(packet.Packet):  # type: ignore[misc]
    def decode(self, encoded_packet: Any) -> int:
        count = int(super().decode(encoded_packet) or 0)
        if self.packet_type in (packet.BINARY_EVENT, packet.BINARY_ACK) and not (
            1 <= count <= MAX_ATTACHMENTS
        ):
            raise ValueError(f"a binary packet with {count} attachments")
        return count
