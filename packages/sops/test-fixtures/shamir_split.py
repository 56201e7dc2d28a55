#!/usr/bin/env python3
"""Test oracle (test-only): splits a secret as sops does for key groups, written from
SOPS-FORMAT.md section 5 alone, independently of the production combine code
(packages/sops/src/shamir.ts). GF(2^8) with the AES polynomial 0x11B, through log/exp tables
built from the generator 3; one random polynomial of degree threshold-1 per secret byte; a share
is the values at x for every byte, then one byte holding x.

stdin: JSON {"secret": hex, "n": int, "threshold": int, "x": "sequential" | "random"}
stdout: JSON list of n shares, hex. Reads the secret from stdin, never from the command line.
"""
import json
import secrets
import sys

EXP = [0] * 512
LOG = [0] * 256
v = 1
for i in range(255):
    EXP[i] = v
    LOG[v] = i
    # multiply by the generator 3: v*2 xor v, reduced by 0x11B
    v2 = v << 1
    if v2 & 0x100:
        v2 ^= 0x11B
    v = v2 ^ v
for i in range(255, 512):
    EXP[i] = EXP[i - 255]


def gmul(a, b):
    if a == 0 or b == 0:
        return 0
    return EXP[LOG[a] + LOG[b]]


def evaluate(coefficients, x):
    # Horner, highest degree first
    acc = 0
    for c in reversed(coefficients):
        acc = gmul(acc, x) ^ c
    return acc


def main():
    req = json.load(sys.stdin)
    secret = bytes.fromhex(req["secret"])
    n, t = int(req["n"]), int(req["threshold"])
    if req.get("x", "sequential") == "random":
        xs = []
        while len(xs) < n:
            x = 1 + secrets.randbelow(255)
            if x not in xs:
                xs.append(x)
    else:
        xs = list(range(1, n + 1))
    shares = [bytearray() for _ in range(n)]
    for byte in secret:
        poly = [byte] + [secrets.randbelow(256) for _ in range(t - 1)]
        for i, x in enumerate(xs):
            shares[i].append(evaluate(poly, x))
    for i, x in enumerate(xs):
        shares[i].append(x)
    json.dump([s.hex() for s in shares], sys.stdout)


main()
