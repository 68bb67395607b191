"""The CPU line printed with every latency figure."""
from __future__ import annotations

from pathlib import Path

from kise_desktop.core.machine import ISA_FLAGS, cpu_description, cpu_line


def test_this_cpu_is_described_with_its_instruction_sets():
    cpu = cpu_description()
    assert cpu["model"] and cpu["logical_cpus"] >= 1
    assert set(cpu["isa"]) <= set(ISA_FLAGS)
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        flags = next(line for line in cpuinfo.read_text().splitlines() if line.startswith("flags")).split()
        assert cpu["isa"] == [f for f in ISA_FLAGS if f in flags]
        assert cpu["avx2_only"] == ("avx2" in flags and not any(f.startswith("avx512") for f in flags))
    line = cpu_line(cpu)
    assert line.startswith(f"CPU: {cpu['model']}, {cpu['logical_cpus']} logical CPUs, ISA: ")
    assert all(flag in line for flag in cpu["isa"])


def test_an_avx2_only_laptop_is_said_to_be_one():
    laptop = {"model": "a laptop", "logical_cpus": 8, "isa": ["sse4_2", "avx", "avx2", "fma"], "avx512": [],
              "avx2_only": True}
    assert cpu_line(laptop) == "CPU: a laptop, 8 logical CPUs, ISA: sse4_2 avx avx2 fma (AVX2 only)"


def test_the_int8_dot_product_is_read_from_the_flags():
    cpu = cpu_description()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        text = cpuinfo.read_text()
        flags = set(next((line for line in text.splitlines() if line.split(":")[0].strip() in ("flags", "Features")),
                         ":").split(":", 1)[1].split())
        assert cpu["int8_dot"] == bool(flags & {"avx512_vnni", "avx_vnni", "asimddp"})
