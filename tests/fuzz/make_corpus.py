#!/usr/bin/env python3
"""Writes the seed corpus for fuzz_assembler: valid blight messages of every
type (and a few streams and malformed inputs), each prefixed with the four
configuration bytes fuzz_assembler.cpp reads: flags, cap byte, staging byte,
seed byte. Run from anywhere; the files land next to this script in corpus/.
Deterministic: running it again gives the same files."""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
REGRESSIONS = os.path.join(HERE, "regressions")

ACK, PING, REPAINT, MOVE, INFO, DELETE, LIST, RAISE, LOWER, WAIT, FOCUS = range(1, 12)


def message(msg_type, ackid, payload=b""):
    # Host byte order on every platform Oxide runs on: little-endian.
    return struct.pack("<iII", msg_type, ackid, len(payload)) + payload


def pattern(size, seed):
    return bytes((i * 7 + seed) % 251 for i in range(size))


REPAINT_PAYLOAD = struct.pack("<iiIIiiiIH2x", 10, 20, 300, 400, 2, 1, 0, 77, 3)
MOVE_PAYLOAD = struct.pack("<H2xii", 4, -5, 6)
SURFACE = struct.pack("<H", 9)
WAIT_PAYLOAD = struct.pack("<I", 77)
INFO_REPLY = struct.pack("<iiIIiid", 0, 0, 1404, 1872, 5616, 1, 2.0)
LIST_REPLY = struct.pack("<5H", 1, 2, 3, 5, 8)

assert len(REPAINT_PAYLOAD) == 36 and len(MOVE_PAYLOAD) == 12 and len(INFO_REPLY) == 32

ONE_OF_EACH = [
    ("ack-empty", message(ACK, 1)),
    ("ack-info-reply", message(ACK, 2, INFO_REPLY)),
    ("ack-list-reply", message(ACK, 3, LIST_REPLY)),
    ("ping", message(PING, 4)),
    ("repaint", message(REPAINT, 5, REPAINT_PAYLOAD)),
    ("move", message(MOVE, 6, MOVE_PAYLOAD)),
    ("info", message(INFO, 7, SURFACE)),
    ("delete", message(DELETE, 8, SURFACE)),
    ("list", message(LIST, 9)),
    ("raise", message(RAISE, 10, SURFACE)),
    ("lower", message(LOWER, 11, SURFACE)),
    ("wait", message(WAIT, 12, WAIT_PAYLOAD)),
    ("focus", message(FOCUS, 13)),
]

# flags, cap byte (cap = byte * 97), staging byte (24 + byte), seed
DEFAULT_CONFIG = bytes([0, 255, 0, 1])


def write(name, stream, config=DEFAULT_CONFIG, directory=CORPUS):
    with open(os.path.join(directory, name), "wb") as out:
        out.write(config + stream)


def write_edges():
    """Hand-made edge cases kept with the fuzzer's finds in regressions/:
    the staging buffer's wrap-around and the limits of the size field."""
    os.makedirs(REGRESSIONS, exist_ok=True)
    # With a 24-byte staging buffer and 7-byte pieces, headers straddle its end.
    stream = b"".join(message(WAIT, i, WAIT_PAYLOAD) for i in range(20))
    write("edge-header-straddles-staging-end", stream, bytes([0, 255, 0, 7]), REGRESSIONS)
    # 12-byte header then exactly the rest of the 24-byte staging buffer.
    stream = b"".join(message(ACK, i, pattern(12, i)) for i in range(10))
    write("edge-payload-fills-staging", stream, bytes([1, 255, 0, 8]), REGRESSIONS)
    write("edge-size-at-small-cap", message(ACK, 1, pattern(97, 4)), bytes([0, 1, 0, 9]), REGRESSIONS)
    write("edge-size-over-small-cap", message(ACK, 1, pattern(98, 4)), bytes([0, 1, 0, 9]), REGRESSIONS)
    write("edge-size-4GiB", struct.pack("<iII", ACK, 1, 0xFFFFFFFF) + b"x" * 20, bytes([4, 255, 0, 10]), REGRESSIONS)
    write("edge-negative-type", struct.pack("<iII", -2147483648, 1, 0), DEFAULT_CONFIG, REGRESSIONS)
    write("edge-zero-cap-empty-ack", message(ACK, 1) + message(PING, 2), bytes([0, 0, 0, 11]), REGRESSIONS)


def main():
    os.makedirs(CORPUS, exist_ok=True)
    for name, wire in ONE_OF_EACH:
        write(name, wire)
    every_type = b"".join(wire for _, wire in ONE_OF_EACH)
    write("stream-every-type", every_type)
    write("stream-every-type-byte-by-byte", every_type, bytes([1, 255, 0, 2]))
    write("stream-every-type-big-pieces-default-cap", every_type, bytes([6, 255, 200, 3]))
    # A payload larger than the staging buffer and the small cap.
    write("ack-70000", message(ACK, 14, pattern(70000, 1)) + message(PING, 15), bytes([6, 255, 40, 4]))
    write("ack-4096-at-cap", message(ACK, 16, pattern(4096, 2)) + message(FOCUS, 17), bytes([4, 43, 0, 5]))
    # Malformed input the socket must turn into a clear error.
    write("bad-type-0", message(0, 1))
    write("bad-type-12", message(ACK, 1) + message(12, 2))
    write("bad-repaint-no-payload", message(FOCUS, 1) + message(REPAINT, 2))
    write("bad-size-over-cap", message(ACK, 1, pattern(30000, 3)), bytes([2, 255, 0, 6]))
    write("bad-garbage-after-valid", message(RAISE, 5, SURFACE) + b"garbage-garbage")
    write("partial-header", message(WAIT, 1, WAIT_PAYLOAD)[:7])
    write("partial-payload", message(REPAINT, 1, REPAINT_PAYLOAD)[:30])
    write_edges()


if __name__ == "__main__":
    main()
