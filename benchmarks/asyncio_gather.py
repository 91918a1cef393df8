"""The seed's Python equivalent, for gather-bench: asyncio.gather() over
tasks wrapped in asyncio.wait_for(), each with its own timeout.

    asyncio_gather.py speed N    prints ns per task
    asyncio_gather.py memory N   prints resident bytes per pending task

Run with /usr/bin/python3.
"""

import asyncio
import sys
import time


def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


async def trivial(i):
    return i


async def speed(n):
    start = time.perf_counter()
    results = await asyncio.gather(
        *(asyncio.wait_for(trivial(i), 60) for i in range(n)),
        return_exceptions=True)
    elapsed = time.perf_counter() - start
    assert sum(results) == n * (n - 1) // 2
    print(f"{elapsed / n * 1e9:.0f}")


async def memory(n):
    gate = asyncio.Event()

    async def pending(i):
        await gate.wait()
        return i

    before = resident_bytes()
    tasks = [asyncio.ensure_future(asyncio.wait_for(pending(i), 60)) for i in range(n)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    after = resident_bytes()
    print(f"{(after - before) / n:.0f}")
    gate.set()
    await asyncio.gather(*tasks)


if __name__ == "__main__":
    mode, n = sys.argv[1], int(sys.argv[2])
    asyncio.run(speed(n) if mode == "speed" else memory(n))
