"""What this CPU can do: latency figures mean little without it.

TFLite's (XNNPACK's) int8 kernels pick the widest instructions the CPU has at
run time, so the same model can take 0.5 ms a face on an AVX-512 VNNI server
and 2 ms on an AVX2-only laptop. Every latency report prints this line.
"""
from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

ISA_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx_vnni",
             "avx512_bf16", "amx_int8", "asimddp")


# The int8 dot-product instructions that make XNNPACK's int8 convs about 3x faster than on plain AVX2.
INT8_DOT_FLAGS = ("avx512_vnni", "avx_vnni", "asimddp")


def cpu_description() -> dict:
    """Model name, logical CPUs and the instruction-set flags that decide TFLite's kernels (Linux; else what
    the platform module says)."""
    name, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                name = value.strip()
            elif key.strip() in ("flags", "Features"):     # x86 / ARM
                flags = set(value.split())
                break
    except OSError:
        pass
    avx512 = sorted(f for f in flags if f.startswith("avx512"))
    # Every Apple-silicon Mac has the ARMv8.4 dot product; macOS has no /proc/cpuinfo to say so.
    apple_silicon = sys.platform == "darwin" and platform.machine() == "arm64"
    return {"model": name, "logical_cpus": os.cpu_count(),
            "isa": [f for f in ISA_FLAGS if f in flags],
            "avx512": avx512, "avx2_only": "avx2" in flags and not avx512,
            "int8_dot": apple_silicon or any(f in flags for f in INT8_DOT_FLAGS)}


def cpu_line(cpu: dict | None = None) -> str:
    """'CPU: AMD EPYC, 2 logical CPUs, ISA: sse4_2 avx avx2 ...' for the head of a latency table."""
    cpu = cpu or cpu_description()
    isa = " ".join(cpu["isa"]) or "unknown"
    return f"CPU: {cpu['model']}, {cpu['logical_cpus']} logical CPUs, ISA: {isa}" + (
        " (AVX2 only)" if cpu["avx2_only"] else "")
