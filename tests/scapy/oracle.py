#!/usr/bin/python3
"""The scapy side of tests/scapy_oracle.rs: an independent ESP/AH implementation to check ours against.

Protocol, one line each way: first the script says "ready <scapy version>" (or "unavailable
<reason>" and exits, when scapy cannot be imported); then, strictly request then reply:
  request  a JSON object with an "op" field (see the handlers below); byte strings are hex
  reply    "ok <hex or text>" or "err <message>"

Ops:
  sa       name + parameters -> ok            (remembers the SA parameters under `name`)
  encrypt  sa, inner, seq, iv -> ok <packet>  (scapy protects `inner` with sequence number `seq`,
                                                the 64-bit value; `iv` empty for scapy's own IV)
  decrypt  sa, packet, seq   -> ok <inner>    (scapy verifies and decrypts; `seq` is the full
                                                sequence number, whose high half ESN needs)
  inner    kind, src, dst, len, tos -> ok <packet>  (an inner packet with IPv4 options or IPv6
                                                extension headers, built by scapy)
  dummy    sa, filler, seq   -> ok <packet>   (a dummy packet, next header 59, see op_dummy)

Where scapy 2.5.0 departs from the RFCs this script works around it, each place naming the scapy
function; the Rust side documents the same list.
"""

import hashlib
import hmac
import json
import struct
import sys
import traceback
import warnings

warnings.filterwarnings("ignore")

try:
    import scapy
    from scapy.compat import raw
    from scapy.layers.inet import (
        IP,
        UDP,
        IPOption_EOL,
        IPOption_NOP,
        IPOption_RR,
        IPOption_Router_Alert,
        IPOption_Security,
        IPOption_Timestamp,
    )
    from scapy.layers.inet6 import (
        HBHOptUnknown,
        IPv6,
        IPv6ExtHdrDestOpt,
        IPv6ExtHdrHopByHop,
        IPv6ExtHdrRouting,
        RouterAlert,
    )
    from scapy.layers.ipsec import AH, ESP, SecurityAssociation
    from scapy.packet import Raw
    from scapy.config import conf

    if not conf.crypto_valid:
        raise ImportError("scapy found no usable python3-cryptography")
except ImportError as e:
    sys.stdout.write("unavailable %s\n" % e)
    sys.exit(0)

HASHES = {
    "SHA2-256-128": (hashlib.sha256, 16),
    "SHA2-384-192": (hashlib.sha384, 24),
    "SHA2-512-256": (hashlib.sha512, 32),
}

SAS = {}


def ip_class(data):
    return IPv6 if data[0] >> 4 == 6 else IP


def parse(data):
    return ip_class(data)(data)


def hmac_esn_workaround(sa):
    """True where scapy's ICV would be wrong: ESP with a separate HMAC and ESN.

    scapy's AuthAlgo.sign and AuthAlgo.verify never append the high 32 bits of the sequence number
    to the ESP ICV input (only the AH branch and CryptAlgo's AEAD AAD use `esn`), which RFC 4303
    §2.2.1 / §3.3.2.2 require. Here the ICV is computed by this script with Python's hmac instead.
    """
    return sa["proto"] == "ESP" and sa["esn"] and sa["auth"] != ""


def scapy_sa(sa, seq, inner=None):
    """A scapy SecurityAssociation for one packet with full sequence number `seq`.

    The sequence number and ESN high half are given to the constructor, not to encrypt(): scapy's
    _encrypt_esp / _encrypt_ah use `seq_num or self.seq_num` and `esn or self.esn`, so a 0 passed to
    encrypt() (seq 2^32 has low half 0) would silently fall back to the SA's own counter.
    """
    low, high = seq & 0xFFFFFFFF, seq >> 32
    tunnel = None
    if sa["tunnel_src"]:
        # Our outer header (ipsec-core mode.rs): DSCP and ECN copied (RFC 6040 normal mode), DF
        # copied from an inner IPv4 header and set for IPv6, TTL 64, ident = low 16 bits of seq,
        # IPv6 flow label 0.
        tos, df = 0, True
        if inner is not None:
            tos = inner.tos if isinstance(inner, IP) else inner.tc
            df = bool(inner.flags.DF) if isinstance(inner, IP) else True
        if ":" in sa["tunnel_src"]:
            tunnel = IPv6(src=sa["tunnel_src"], dst=sa["tunnel_dst"], tc=tos, fl=0, hlim=64)
        else:
            tunnel = IP(src=sa["tunnel_src"], dst=sa["tunnel_dst"], tos=tos, id=seq & 0xFFFF,
                        flags="DF" if df else 0, ttl=64)
    auth = sa["auth"] or None
    if hmac_esn_workaround(sa):
        auth = None  # the ICV is added by hand, see hmac_esn_workaround
    kwargs = {}
    if sa["proto"] == "ESP":
        kwargs["crypt_algo"] = sa["crypt"]
        kwargs["crypt_key"] = sa["ckey"] or None
        if sa["natt"]:
            kwargs["nat_t_header"] = UDP(sport=4500, dport=4500)
    return SecurityAssociation(
        ESP if sa["proto"] == "ESP" else AH,
        spi=sa["spi"],
        seq_num=low,
        auth_algo=auth,
        auth_key=sa["akey"] or None,
        tunnel_header=tunnel,
        esn_en=sa["esn"],
        esn=high,
        **kwargs,
    )


def esp_icv(sa, esp_bytes, seq):
    fn, n = HASHES[sa["auth"]]
    return hmac.new(sa["akey"], esp_bytes + struct.pack("!L", seq >> 32), fn).digest()[:n]


def op_sa(req):
    SAS[req["name"]] = {
        "proto": req["proto"],
        "crypt": req.get("crypt", "NULL"),
        "ckey": bytes.fromhex(req.get("ckey", "")),
        "auth": req.get("auth", ""),
        "akey": bytes.fromhex(req.get("akey", "")),
        "spi": req["spi"],
        "tunnel_src": req.get("tunnel_src", ""),
        "tunnel_dst": req.get("tunnel_dst", ""),
        "natt": req.get("natt", False),
        "esn": req.get("esn", False),
    }
    return ""


def op_encrypt(req):
    sa = SAS[req["sa"]]
    seq = req["seq"]
    inner = parse(bytes.fromhex(req["inner"]))
    iv = bytes.fromhex(req.get("iv", "")) or None
    out = scapy_sa(sa, seq, inner).encrypt(inner, iv=iv)
    if hmac_esn_workaround(sa):
        esp = out[ESP]
        esp.data += esp_icv(sa, raw(esp), seq)
        fix_lengths(out)
    if "ah_pad_byte" in req:
        # RFC 4302 §2.6: the padding after the ICV is chosen by the sender and covered by the ICV.
        # scapy always sends zeros; make it non-zero and sign again (AuthAlgo.sign zeroes the ICV
        # field for signing, not the padding).
        out[AH].padding = bytes([req["ah_pad_byte"]]) * len(out[AH].padding)
        out = scapy_sa(sa, seq, inner).auth_algo.sign(out, sa["akey"], esn_en=sa["esn"], esn=seq >> 32)
    if sa["natt"]:
        # SecurityAssociation._encrypt_esp builds the NAT-T UDP header over IPv4 before the ESP
        # payload is attached and then re-parses it, which freezes the UDP length at 8; let scapy
        # compute it again.
        del out[UDP].len
        if isinstance(out, IPv6):
            # It also forces the UDP checksum to 0 over IPv6, where RFC 8200 §8.1 wants a real one
            # (RFC 3948 §2.1's zero checksum is for IPv4): let scapy compute that too.
            del out[UDP].chksum
    return raw(out).hex()


def op_dummy(req):
    """A dummy packet (RFC 4303 §2.6) from scapy, which has no API for one: transport-mode ESP
    between the tunnel endpoints over an IP "packet" of protocol 59 (No Next Header) whose payload is
    the filler, so the ESP trailer says next header 59 and the payload is the filler."""
    sa = SAS[req["sa"]]
    seq = req["seq"]
    filler = Raw(bytes.fromhex(req["filler"]))
    if sa["esn"] or sa["natt"] or not sa["tunnel_src"]:
        raise ValueError("dummy packets here are for plain tunnel-mode SAs")
    if ":" in sa["tunnel_src"]:
        pkt = IPv6(src=sa["tunnel_src"], dst=sa["tunnel_dst"], nh=59, hlim=64) / filler
    else:
        pkt = IP(src=sa["tunnel_src"], dst=sa["tunnel_dst"], proto=59, ttl=64) / filler
    out = scapy_sa(dict(sa, tunnel_src="", tunnel_dst=""), seq).encrypt(parse(raw(pkt)))
    return raw(out).hex()


def fix_lengths(pkt):
    """Recomputes the IP (and UDP) length fields after the ESP data grew."""
    if isinstance(pkt, IP):
        del pkt.len
        del pkt.chksum
    else:
        del pkt.plen
    if pkt.haslayer(UDP):
        del pkt[UDP].len
        if isinstance(pkt, IP):
            pkt[UDP].chksum = 0
        else:
            del pkt[UDP].chksum


def op_decrypt(req):
    sa = SAS[req["sa"]]
    seq = req["seq"]
    data = bytes.fromhex(req["packet"])
    if sa["natt"] and not sa["tunnel_src"] and data[0] >> 4 == 6:
        # SecurityAssociation._decrypt_esp, transport mode over IPv6, sets `nh` on the ESP layer's
        # underlayer, which under NAT-T is the UDP header, and so leaves the UDP header in the
        # result. Hand it the plain ESP packet instead: drop the 8-byte UDP header (our test packets
        # carry no extension headers here), next header 50.
        assert data[6] == 17, "expected UDP right after the IPv6 header"
        plen = struct.unpack("!H", data[4:6])[0] - 8
        data = data[:4] + struct.pack("!H", plen) + bytes([50]) + data[7:40] + data[48:]
    pkt = parse(data)
    if sa["proto"] == "ESP" and not pkt.haslayer(ESP):
        raise ValueError("no ESP layer")
    if sa["proto"] == "AH" and not pkt.haslayer(AH):
        raise ValueError("no AH layer")
    ipsec = pkt[ESP] if sa["proto"] == "ESP" else pkt[AH]
    if ipsec.spi != sa["spi"]:
        raise ValueError("SPI %#x, expected %#x" % (ipsec.spi, sa["spi"]))
    if ipsec.seq != seq & 0xFFFFFFFF:
        raise ValueError("sequence number %d on the wire, expected %d" % (ipsec.seq, seq & 0xFFFFFFFF))
    verify = True
    if hmac_esn_workaround(sa):
        _, n = HASHES[sa["auth"]]
        esp_bytes = raw(ipsec)
        if not hmac.compare_digest(esp_icv(sa, esp_bytes[:-n], seq), esp_bytes[-n:]):
            raise ValueError("ESP ICV (with ESN high bits) does not verify")
        verify = False
    s = scapy_sa(sa, seq)
    if hmac_esn_workaround(sa):
        # scapy splits the ICV off by the auth algorithm's ICV size; give it the algorithm back
        # for that (verify=False: the ICV was checked above).
        s.auth_algo = scapy_sa(dict(sa, esn=False), seq).auth_algo
    out = s.decrypt(pkt, verify=verify, esn_en=sa["esn"], esn=seq >> 32)
    return raw(out).hex()


def op_inner(req):
    src, dst, n, tos = req["src"], req["dst"], req["len"], req.get("tos", 0)
    payload = Raw(bytes(i % 251 for i in range(n)))
    udp = UDP(sport=1234, dport=5678) / payload
    kind = req["kind"]
    if kind == "v4opts":
        # Router Alert and NOP are immutable for AH (RFC 4302 App. A), Record Route mutable; DF
        # clear, so the outer DF copy is seen clear too.
        pkt = IP(src=src, dst=dst, tos=tos, id=0x4321, flags=0, ttl=17,
                 options=[IPOption_Router_Alert(), IPOption_NOP(), IPOption_RR(routers=["10.9.8.7"])]) / udp
    elif kind == "v4opts_eol":
        # Security (immutable), Timestamp (mutable), then End of Options and its padding.
        pkt = IP(src=src, dst=dst, tos=tos, id=0x4322, flags="DF", ttl=200,
                 options=[IPOption_Security(security=0x1234, compartment=5, handling_restrictions=6,
                                            transmission_control_code=b"\x01\x02\x03"),
                          IPOption_Timestamp(flg=0, timestamp=0x0102), IPOption_EOL()]) / udp
    elif kind == "v6_hbh":
        # Router Alert (immutable) and an experimental option with the "may change" bit
        # (RFC 8200 §4.2, type 0x3e), whose data AH must treat as zeros.
        hbh = IPv6ExtHdrHopByHop(options=[RouterAlert(), HBHOptUnknown(otype=0x3E, optdata=b"\xaa\xbb\xcc\xdd")])
        pkt = IPv6(src=src, dst=dst, tc=tos, fl=0x54321, hlim=9) / hbh / udp
    elif kind == "v6_hbh_rt_dst":
        # Hop-by-Hop, a Routing header with no segments left (and, because of the scapy bug
        # described in the Rust file, no addresses), then Destination Options, which belong after
        # the IPsec header.
        hbh = IPv6ExtHdrHopByHop(options=[HBHOptUnknown(otype=0x3E, optdata=b"\x11\x22")])
        rt = IPv6ExtHdrRouting(type=0, segleft=0, addresses=[])
        dst_opt = IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x1E, optdata=b"\x33\x44\x55")])
        pkt = IPv6(src=src, dst=dst, tc=tos, fl=0x1, hlim=255) / hbh / rt / dst_opt / udp
    elif kind == "v6_dst":
        # Destination Options only: scapy (like Linux) keeps it in front of the IPsec header, we
        # put it behind (both allowed by RFC 4303 §3.1.1 / RFC 4302 §3.1.1).
        dst_opt = IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x3E, optdata=b"\x01\x02\x03\x04\x05\x06")])
        pkt = IPv6(src=src, dst=dst, tc=tos, hlim=64) / dst_opt / udp
    else:
        raise ValueError("unknown inner kind %r" % kind)
    return raw(pkt).hex()


OPS = {
    "sa": op_sa,
    "encrypt": op_encrypt,
    "decrypt": op_decrypt,
    "inner": op_inner,
    "dummy": op_dummy,
}


def main():
    sys.stdout.write("ready %s\n" % scapy.VERSION)
    sys.stdout.flush()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            reply = "ok " + OPS[req["op"]](req)
        except Exception as e:  # every failure goes back to the Rust side as a reply
            detail = traceback.format_exc().strip().splitlines()[-3:]
            reply = "err %s: %s [%s]" % (type(e).__name__, e, " | ".join(s.strip() for s in detail))
        sys.stdout.write(reply.replace("\n", " ") + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
