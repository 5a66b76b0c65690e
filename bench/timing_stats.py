#!/usr/bin/env python3
"""Timing error of one paced replay, for bench/run.sh.

    timing_stats.py CAPTURE.pcap ARRIVALS.txt [LABEL]
    timing_stats.py --count CAPTURE.pcap      # prints the number of frames

CAPTURE must hold only the replayed datagrams (one per frame, as tr-pcapgen
writes them without --noise or --fragment). ARRIVALS is udp_timestamper --log
output: one "KERNEL_NS USER_NS LEN" line per datagram, in arrival order.

For each datagram i: err_i = |(arrival_i - arrival_0) - (ts_i - ts_0)|, with
arrival the kernel's SO_TIMESTAMPNS stamp.  Prints one line of
p50/p99/max in microseconds; then the same error measured against the median
offset |(arrival_i - ts_i) - median(arrival - ts)| (not thrown off when
datagram 0 itself is late); the p99 with the receiver's user-space clock
(adds the receiver's own wake-up latency); and the end drift (signed, us:
positive = the run took longer than the capture).
"""
import struct
import sys


def capture_ts(path):
    with open(path, "rb") as f:
        gh = f.read(24)
        magic = struct.unpack("<I", gh[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            end = "<"
        else:
            end = ">"
            magic = struct.unpack(">I", gh[:4])[0]
        if magic not in (0xA1B2C3D4, 0xA1B23C4D):
            sys.exit(f"{path}: not a classic pcap file")
        mult = 1 if magic == 0xA1B23C4D else 1000
        ts = []
        while True:
            rh = f.read(16)
            if len(rh) < 16:
                break
            sec, frac, caplen, _ = struct.unpack(end + "IIII", rh)
            f.seek(caplen, 1)
            ts.append(sec * 1_000_000_000 + frac * mult)
        return ts


def pct(sorted_vals, p):
    # nearest-rank percentile
    if not sorted_vals:
        return float("nan")
    k = max(0, min(len(sorted_vals) - 1, int(round(p / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--count":
        print(len(capture_ts(sys.argv[2])))
        return
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    ts = capture_ts(sys.argv[1])
    label = sys.argv[3] if len(sys.argv) > 3 else "run"
    kern, user = [], []
    with open(sys.argv[2]) as f:
        for line in f:
            k, u, _ = line.split()
            kern.append(int(k))
            user.append(int(u))
    if len(kern) != len(ts):
        print(f"{label}: WARNING {len(kern)} arrivals for {len(ts)} captured datagrams "
              f"(comparing the first {min(len(kern), len(ts))})")
    n = min(len(kern), len(ts))
    if n < 2:
        sys.exit(f"{label}: not enough arrivals")

    def errs(arr):
        return sorted(abs((arr[i] - arr[0]) - (ts[i] - ts[0])) / 1000.0 for i in range(n))

    ek, eu = errs(kern), errs(user)
    # the same without trusting datagram 0: distance of each datagram's
    # (arrival - capture ts) to the median of that offset over the run
    offs = sorted(kern[i] - ts[i] for i in range(n))
    mid = offs[n // 2]
    em = sorted(abs(kern[i] - ts[i] - mid) / 1000.0 for i in range(n))
    # signed drift at the end: positive = the replay ran long
    drift = ((kern[n - 1] - kern[0]) - (ts[n - 1] - ts[0])) / 1000.0
    print(f"{label:<14} n={n:<5} p50 {pct(ek, 50):7.1f}  p99 {pct(ek, 99):7.1f}  "
          f"max {ek[-1]:7.1f} us | vs median offset: p50 {pct(em, 50):.1f} "
          f"p99 {pct(em, 99):.1f} max {em[-1]:.1f} | user-space clock p99 {pct(eu, 99):.1f}"
          f" | end drift {drift:+.1f}")
    # machine-readable line for run.sh
    print(f"#stats {label} {pct(ek, 50):.1f} {pct(ek, 99):.1f} {ek[-1]:.1f} "
          f"{pct(em, 50):.1f} {pct(em, 99):.1f} {em[-1]:.1f}")


if __name__ == "__main__":
    main()
