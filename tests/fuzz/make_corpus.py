#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpus of every fuzz target into corpus/<target>/, and the
hand-made edge cases into regressions/<target>/ (next to the fuzzer's finds):

  fuzz_assembler   blight messages of every type, streams and malformed input,
                   each prefixed with the four configuration bytes
                   fuzz_assembler.cpp reads (flags, cap, staging, seed)
  fuzz_datagram    one datagram each, after the cap byte fuzz_datagram.cpp reads
  fuzz_errorqueue  control buffers of recvmsg(MSG_ERRQUEUE): zero-copy ranges
                   (copied or not), ICMP and ICMPv6 errors with offenders,
                   truncated, oversized and foreign control messages
  fuzz_endpoint    endpoint strings, good and bad, after the encoding byte
                   fuzz_endpoint.cpp reads

Run from anywhere. Deterministic: running it again gives the same files; it
removes files it no longer writes from corpus/ (never from regressions/)."""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
REGRESSIONS = os.path.join(HERE, "regressions")


class Target:
    """Collects the files of one target, then writes them."""

    def __init__(self, name):
        self.name = name
        self.seeds = {}
        self.edges = {}

    def seed(self, name, data):
        assert name not in self.seeds, name
        self.seeds[name] = data

    def edge(self, name, data):
        assert name not in self.edges, name
        self.edges[name] = data

    def write(self):
        corpus = os.path.join(CORPUS, self.name)
        os.makedirs(corpus, exist_ok=True)
        for stale in set(os.listdir(corpus)) - set(self.seeds):
            os.remove(os.path.join(corpus, stale))
        for name, data in self.seeds.items():
            with open(os.path.join(corpus, name), "wb") as out:
                out.write(data)
        if self.edges:
            regressions = os.path.join(REGRESSIONS, self.name)
            os.makedirs(regressions, exist_ok=True)
            for name, data in self.edges.items():
                with open(os.path.join(regressions, name), "wb") as out:
                    out.write(data)


# ---- the blight wire protocol ---------------------------------------------

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

# fuzz_assembler's flags (byte 0): bit 2 picks the run, the tight one (small
# cap and staging buffer) or the socket's 64 KiB staging buffer, whose cap is
# bits 3 to 5: none 4 KiB, all the default 16 MiB, others 96 KiB.
BYTE_PIECES, BIG_PIECES, SOCKET_RUN = 1, 2, 4
CAP_4K, LARGE_CAP, DEFAULT_CAP = 0, 8, 8 | 16 | 32
# flags, cap byte (cap = byte * 97), staging byte (24 + byte), seed
DEFAULT_CONFIG = bytes([0, 255, 0, 1])


def assembler():
    target = Target("fuzz_assembler")

    def seed(name, stream, config=DEFAULT_CONFIG):
        target.seed(name, config + stream)

    def edge(name, stream, config=DEFAULT_CONFIG):
        target.edge(name, config + stream)

    for name, wire in ONE_OF_EACH:
        seed(name, wire)
    every_type = b"".join(wire for _, wire in ONE_OF_EACH)
    seed("stream-every-type", every_type)
    seed("stream-every-type-byte-by-byte", every_type, bytes([BYTE_PIECES, 255, 0, 2]))
    seed("stream-every-type-big-pieces-default-cap", every_type,
         bytes([BIG_PIECES | SOCKET_RUN | DEFAULT_CAP, 255, 200, 3]))
    seed("stream-every-type-large-cap", every_type, bytes([SOCKET_RUN | LARGE_CAP, 255, 100, 3]))
    seed("stream-every-type-4k-cap", every_type, bytes([SOCKET_RUN | CAP_4K, 0, 0, 4]))
    # A payload larger than the staging buffer and the small cap, under
    # LargeCap (96 KiB) and under the default cap; claims over ASan's
    # 128 KiB size-class limit under the default cap.
    seed("ack-70000", message(ACK, 14, pattern(70000, 1)) + message(PING, 15),
         bytes([BIG_PIECES | SOCKET_RUN | LARGE_CAP, 255, 40, 4]))
    seed("ack-70000-default-cap", message(ACK, 14, pattern(70000, 1)) + message(PING, 15),
         bytes([BIG_PIECES | SOCKET_RUN | DEFAULT_CAP, 255, 40, 4]))
    seed("ack-claims-200000-default-cap", struct.pack("<iII", ACK, 19, 200000) + pattern(100, 6),
         bytes([SOCKET_RUN | DEFAULT_CAP, 255, 0, 7]))
    seed("ack-4096-at-cap", message(ACK, 16, pattern(4096, 2)) + message(FOCUS, 17),
         bytes([SOCKET_RUN | CAP_4K, 43, 0, 5]))
    seed("ack-4096-under-small-cap", message(ACK, 16, pattern(4096, 2)) + message(FOCUS, 17),
         bytes([0, 43, 0, 5]))
    # A peer that announces a frame at the default cap and sends a little.
    seed("ack-claims-16MiB", struct.pack("<iII", ACK, 18, 16 * 1024 * 1024) + pattern(100, 5),
         bytes([SOCKET_RUN | DEFAULT_CAP, 255, 0, 6]))
    # Malformed input the socket must turn into a clear error.
    seed("bad-type-0", message(0, 1))
    seed("bad-type-12", message(ACK, 1) + message(12, 2))
    seed("bad-repaint-no-payload", message(FOCUS, 1) + message(REPAINT, 2))
    seed("bad-size-over-cap", message(ACK, 1, pattern(30000, 3)), bytes([BIG_PIECES, 255, 0, 6]))
    seed("bad-size-over-4k-cap", message(ACK, 1, pattern(4097, 3)), bytes([SOCKET_RUN | CAP_4K, 0, 0, 6]))
    seed("bad-type-12-large-cap", message(ACK, 1) + message(12, 2), bytes([SOCKET_RUN | LARGE_CAP, 0, 0, 8]))
    seed("bad-garbage-after-valid", message(RAISE, 5, SURFACE) + b"garbage-garbage")
    seed("partial-header", message(WAIT, 1, WAIT_PAYLOAD)[:7])
    seed("partial-payload", message(REPAINT, 1, REPAINT_PAYLOAD)[:30])

    # Hand-made edges kept with the fuzzer's finds: the staging buffer's
    # wrap-around and the limits of the size field.
    # With a 24-byte staging buffer and 7-byte pieces, headers straddle its end.
    edge("edge-header-straddles-staging-end",
         b"".join(message(WAIT, i, WAIT_PAYLOAD) for i in range(20)), bytes([0, 255, 0, 7]))
    # 12-byte header then exactly the rest of the 24-byte staging buffer.
    edge("edge-payload-fills-staging",
         b"".join(message(ACK, i, pattern(12, i)) for i in range(10)), bytes([BYTE_PIECES, 255, 0, 8]))
    edge("edge-size-at-small-cap", message(ACK, 1, pattern(97, 4)), bytes([0, 1, 0, 9]))
    edge("edge-size-over-small-cap", message(ACK, 1, pattern(98, 4)), bytes([0, 1, 0, 9]))
    edge("edge-size-4GiB", struct.pack("<iII", ACK, 1, 0xFFFFFFFF) + b"x" * 20,
         bytes([SOCKET_RUN | DEFAULT_CAP, 255, 0, 10]))
    edge("edge-negative-type", struct.pack("<iII", -2147483648, 1, 0))
    edge("edge-zero-cap-empty-ack", message(ACK, 1) + message(PING, 2), bytes([0, 0, 0, 11]))
    return target


def datagram():
    target = Target("fuzz_datagram")
    for name, wire in ONE_OF_EACH:
        target.seed(name, bytes([255]) + wire)
    target.seed("ack-4096-at-cap", bytes([43]) + message(ACK, 16, pattern(4096, 2)))
    target.seed("ack-over-cap", bytes([1]) + message(ACK, 16, pattern(98, 2)))
    target.seed("bad-type-0", bytes([255]) + message(0, 1))
    target.seed("bad-repaint-no-payload", bytes([255]) + message(REPAINT, 2))
    target.seed("bad-shorter-than-header", bytes([255]) + message(WAIT, 1)[:11])
    target.seed("bad-size-claims-more", bytes([255]) + struct.pack("<iII", WAIT, 1, 8) + WAIT_PAYLOAD)
    target.seed("bad-size-claims-less", bytes([255]) + struct.pack("<iII", WAIT, 1, 2) + WAIT_PAYLOAD)
    target.seed("bad-two-messages", bytes([255]) + message(PING, 1) + message(PING, 2))
    target.edge("edge-size-4GiB", bytes([255]) + struct.pack("<iII", ACK, 1, 0xFFFFFFFF))
    target.edge("edge-zero-cap-empty-ack", bytes([0]) + message(ACK, 1))
    return target


# ---- the error queue (x86-64 Linux layouts) ---------------------------------

SOL_IP, SOL_IPV6, SOL_SOCKET = 0, 41, 1
IP_RECVERR, IPV6_RECVERR, SCM_RIGHTS = 11, 25, 1
ORIGIN_LOCAL, ORIGIN_ICMP, ORIGIN_ICMP6, ORIGIN_ZEROCOPY = 1, 2, 3, 5
CODE_ZEROCOPY_COPIED = 1
AF_INET, AF_INET6 = 2, 10
ECONNREFUSED, EMSGSIZE, EHOSTUNREACH = 111, 90, 113


def align8(n):
    return (n + 7) & ~7


def cmsg(level, cmsg_type, data, length=None, pad=True):
    """One control message: cmsghdr (8-byte length, level, type), data, and
    the padding to the next 8-byte boundary unless pad is False."""
    if length is None:
        length = 16 + len(data)
    raw = struct.pack("<QiI", length, level, cmsg_type) + data
    return raw + b"\0" * (align8(len(raw)) - len(raw)) if pad else raw


def extended_error(errno=0, origin=0, ee_type=0, code=0, info=0, data=0):
    return struct.pack("<IBBBBII", errno, origin, ee_type, code, 0, info, data)


def sockaddr_in(address, port):
    return struct.pack("<H", AF_INET) + struct.pack(">H", port) + bytes(address) + b"\0" * 8


def sockaddr_in6(address, port, scope=0):
    return struct.pack("<H", AF_INET6) + struct.pack(">HI", port, 0) + bytes(address) + struct.pack("<I", scope)


def zerocopy(lo, hi, copied=False):
    return extended_error(origin=ORIGIN_ZEROCOPY, code=CODE_ZEROCOPY_COPIED if copied else 0, info=lo, data=hi)


TEST_NET_1 = [192, 0, 2, 1]
DOC_V6 = [0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [1]
LINK_LOCAL = [0xfe, 0x80] + [0] * 13 + [1]
V4_MAPPED = [0] * 10 + [0xff, 0xff, 198, 18, 0, 1]


def errorqueue():
    target = Target("fuzz_errorqueue")
    v4 = lambda data, **kw: cmsg(SOL_IP, IP_RECVERR, data, **kw)
    v6 = lambda data, **kw: cmsg(SOL_IPV6, IPV6_RECVERR, data, **kw)
    target.seed("zerocopy-v4", v4(zerocopy(0, 0)))
    target.seed("zerocopy-v4-copied", v4(zerocopy(5, 9, copied=True)))
    target.seed("zerocopy-v6", v6(zerocopy(7, 4000)))
    target.seed("zerocopy-v6-copied-wrapped", v6(zerocopy(0xFFFFFFF0, 3, copied=True)))
    target.seed("zerocopy-two-messages", v4(zerocopy(0, 1)) + v6(zerocopy(2, 3, copied=True)))
    target.seed("zerocopy-with-errno", v4(extended_error(errno=EMSGSIZE, origin=ORIGIN_ZEROCOPY)))
    target.seed("icmp-v4-offender", v4(extended_error(ECONNREFUSED, ORIGIN_ICMP, 3, 3) + sockaddr_in(TEST_NET_1, 0)))
    target.seed("icmp-v4-no-offender", v4(extended_error(EHOSTUNREACH, ORIGIN_ICMP, 3, 1) + b"\0" * 16))
    target.seed("icmp6-offender", v6(extended_error(ECONNREFUSED, ORIGIN_ICMP6, 1, 4) + sockaddr_in6(DOC_V6, 0)))
    target.seed("icmp6-link-local-scope", v6(extended_error(EHOSTUNREACH, ORIGIN_ICMP6, 1, 3)
                                             + sockaddr_in6(LINK_LOCAL, 0, scope=2)))
    target.seed("icmp6-v4-mapped", v6(extended_error(ECONNREFUSED, ORIGIN_ICMP6, 1, 4) + sockaddr_in6(V4_MAPPED, 9)))
    target.seed("icmp6-unpadded-end", v6(extended_error(ECONNREFUSED, ORIGIN_ICMP6, 1, 4)
                                         + sockaddr_in6(DOC_V6, 0), pad=False))
    target.seed("local-error", v4(extended_error(EMSGSIZE, ORIGIN_LOCAL, 0, 0, info=1500)))
    target.seed("offender-cut-short", v4(extended_error(ECONNREFUSED, ORIGIN_ICMP, 3, 3) + sockaddr_in(TEST_NET_1, 0)[:10]))
    target.seed("truncated-extended-error", v4(extended_error(errno=1)[:8]))
    target.seed("truncated-buffer", v4(zerocopy(1, 2))[:24])
    target.seed("length-past-buffer", v4(zerocopy(1, 2), length=64))
    target.seed("length-zero", v4(zerocopy(1, 2), length=0))
    target.seed("length-huge", v4(zerocopy(1, 2), length=0xFFFFFFFFFFFFFFF0) + v4(zerocopy(3, 4)))
    target.seed("foreign-then-ours", cmsg(SOL_SOCKET, SCM_RIGHTS, struct.pack("<i", 3)) + v4(zerocopy(1, 1)))
    target.seed("ours-then-garbage", v6(zerocopy(8, 9)) + pattern(40, 3))
    target.seed("empty", b"")
    target.seed("garbage", pattern(64, 11))
    return target


# ---- endpoint strings -------------------------------------------------------

ENDPOINTS = [
    ("unix-path", "unix:/run/blight.sock"),
    ("unix-triple-slash", "unix:///tmp/blight"),
    ("unix-double-slash-kept", "unix:////srv/blight"),
    ("unix-relative", "unix:blight.sock"),
    ("unix-empty", "unix:"),
    ("tcp-v4", "tcp://127.0.0.1:9000"),
    ("tcp-name", "tcp://localhost:1"),
    ("tcp-v6", "tcp://[::1]:9000"),
    ("tcp-v6-scope", "tcp://[fe80::1%eth0]:9000"),
    ("udp-v6-doc", "udp://[2001:db8::1]:65535"),
    ("udp-v4-test-net", "udp://198.18.0.1:0"),
    ("tcp-port-too-big", "tcp://127.0.0.1:65536"),
    ("tcp-no-host", "tcp://:1"),
    ("tcp-no-port", "tcp://127.0.0.1"),
    ("tcp-v6-unbracketed", "tcp://::1:9000"),
    ("tcp-v6-no-colon", "tcp://[::1]9000"),
    ("tcp-v6-unclosed", "tcp://[::1:9000"),
    ("tcp-port-signed", "tcp://host:+80"),
    ("tcp-unicode-host", "tcp://h\u00e9llo.example:80"),
    ("fd-3", "fd:3"),
    ("fd-negative", "fd:-1"),
    ("fd-not-a-number", "fd:x"),
    ("blight", "blight:"),
    ("blight-system", "blight:system"),
    ("blight-session", "blight:session"),
    ("blight-other", "blight:other"),
    ("unknown", "http://example.org/"),
    ("empty", ""),
]


def endpoint():
    target = Target("fuzz_endpoint")
    for name, text in ENDPOINTS:
        target.seed(name, b"\0" + text.encode("utf-8"))
    # The same strings as UTF-16, and a lone surrogate in a path.
    for name, text in ENDPOINTS[:6] + ENDPOINTS[19:21]:
        target.seed(name + "-utf16", b"\1" + text.encode("utf-16-le"))
    target.seed("unix-lone-surrogate-utf16", b"\1" + "unix:/a".encode("utf-16-le") + struct.pack("<H", 0xD800))
    target.seed("tcp-invalid-utf8", b"\0" + b"tcp://\xff\xfe:1")
    return target


def shm_message(kind, body, version=1):
    return b"BlightSM" + struct.pack("=II", kind, version) + body


def shm_record(record_kind, body):
    return bytes([record_kind, len(body)]) + body


def sharedmemory():
    # Bytes 0-1: payload cap 4 KiB << (b % 10), map limit 4 KiB << (b % 12);
    # then [kind][length][bytes] records: kind % 3 == 0 a message payload,
    # 1 the application drops a frame, 2 a descriptor (seals, sizes / 64).
    target = Target("fuzz_sharedmemory")
    offer = shm_message(1, struct.pack("=Q", 1 << 26))
    pool = lambda number, size: shm_message(2, struct.pack("=IIQ", number, 0, size))
    frame = lambda pool_number, token, offset, length, msg_type=1, ackid=0: shm_message(
        3, struct.pack("=IIQQiI", pool_number, token, offset, length, msg_type, ackid))
    release = lambda tokens: shm_message(4, struct.pack("=I", len(tokens)) + b"".join(
        struct.pack("=I", t) for t in tokens))
    msg = lambda payload: shm_record(0, payload)
    drop = lambda index: shm_record(1, bytes([index]))
    descriptor = lambda seals, actual, claimed: shm_record(2, struct.pack("=BHH", seals, actual // 64, claimed // 64))
    caps = bytes([4, 8])  # 64 KiB cap, 1 MiB limit
    target.seed("offer", caps + msg(offer))
    target.seed("pool-frame-drop", caps + msg(offer) + msg(pool(0, 65536)) + msg(frame(0, 1, 4096, 8192)) + drop(0))
    target.seed("two-pools", caps + msg(pool(0, 4096)) + msg(pool(1, 65536)) + msg(frame(1, 5, 0, 65536)))
    target.seed("release", caps + msg(release([1, 2, 3])))
    target.seed("descriptor-sealed", caps + descriptor(0x6, 4096, 4096))
    target.seed("descriptor-unsealed", caps + descriptor(0, 4096, 4096))
    target.seed("descriptor-size-differs", caps + descriptor(0x7, 8192, 4096))
    target.seed("frame-at-end", caps + msg(pool(0, 4096)) + msg(frame(0, 1, 4095, 1)) + drop(3))
    target.seed("frames-released-and-reused", caps + msg(pool(0, 65536)) + msg(frame(0, 9, 0, 100)) + drop(0)
                + msg(frame(0, 9, 100, 100)) + msg(release([9])))
    target.seed("pool-fills-limit", bytes([4, 4]) + msg(pool(0, 65536)) + msg(pool(1, 4096)))
    target.seed("channel", caps + msg(offer) + msg(shm_message(5, bytes(range(16)) + bytes(range(100, 116))
                                                        + struct.pack("=HH", 2, 0x1234) + bytes([127, 0, 0, 1]) + bytes(12)
                                                        + struct.pack("=HH", 2, 0x5678) + bytes([127, 0, 0, 1]) + bytes(12))))
    target.seed("move-frame", caps + msg(pool(0, 4096)) + msg(frame(0, 2, 0, 12, 4, 77)))
    target.edge("edge-frame-outside", caps + msg(pool(0, 4096)) + msg(frame(0, 1, 4000, 200)))
    target.edge("edge-frame-wraps", caps + msg(pool(0, 4096)) + msg(frame(0, 1, (1 << 64) - 8, 16)))
    target.edge("edge-frame-over-cap", bytes([0, 8]) + msg(pool(0, 65536)) + msg(frame(0, 1, 0, 8192)))
    target.edge("edge-frame-bad-type", caps + msg(pool(0, 4096)) + msg(frame(0, 1, 0, 1, 12)))
    target.edge("edge-frame-token-twice", caps + msg(pool(0, 4096)) + msg(frame(0, 7, 0, 1)) + msg(frame(0, 7, 1, 1)))
    target.edge("edge-pool-out-of-order", caps + msg(pool(2, 4096)))
    target.edge("edge-pool-over-limit", bytes([4, 0]) + msg(pool(0, 65536)))
    target.edge("edge-pool-reserved", caps + msg(shm_message(2, struct.pack("=IIQ", 0, 1, 4096))))
    target.edge("edge-version-2", caps + msg(shm_message(1, struct.pack("=Q", 1), 2)))
    target.edge("edge-channel-short", caps + msg(shm_message(5, bytes(31))))
    target.edge("edge-kind-9", caps + msg(shm_message(9, b"")))
    target.edge("edge-release-count-lies", caps + msg(shm_message(4, struct.pack("=II", 5, 1))))
    target.edge("edge-seventeen-pools", caps + b"".join(msg(pool(n, 4096)) for n in range(17)))
    return target


def main():
    for target in (assembler(), datagram(), errorqueue(), endpoint(), sharedmemory()):
        target.write()


if __name__ == "__main__":
    main()
