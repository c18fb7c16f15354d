#!/usr/bin/env python3
"""Idle IMAP connections over TLS, for the server's memory per connection (bench/imap/run.sh,
IDLE_TLS=1): N connections over implicit TLS (RFC 8314), connection j logging in to account
j % ACCOUNTS, SELECT INBOX, IDLE (RFC 2177), held until SIGUSR1 or HOLD seconds, then DONE and
LOGOUT. Every reply is checked; prints "ready connections=N setup_seconds=S" once all idle, and
"idle connections=N errors=E" at the end. The client is one asyncio process (its own memory is
not the server's).

Usage: tls_idle.py HOST PORT N ACCOUNTS USER_FORMAT PASSWORD [HOLD]
"""

import asyncio
import signal
import ssl
import sys
import time


async def expect(reader, tag):
    """Reads to the line that starts with `tag` ("a", "+", "* OK"); a tagged reply must be OK."""
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("closed")
        if line.startswith(tag + b" ") or (tag == b"+" and line.startswith(b"+")):
            if tag not in (b"+", b"* OK") and not line.startswith(tag + b" OK"):
                raise RuntimeError(line.decode(errors="replace").strip())
            return line


async def one(j, host, port, accounts, user_format, password, ctx, idling, release):
    reader, writer = await asyncio.open_connection(host, port, ssl=ctx)
    await expect(reader, b"* OK")
    user = user_format % (j % accounts)
    writer.write(f'a LOGIN {user} "{password}"\r\nb SELECT INBOX\r\nc IDLE\r\n'.encode())
    await expect(reader, b"a")
    await expect(reader, b"b")
    await expect(reader, b"+")
    idling.append(j)
    await release.wait()
    writer.write(b"DONE\r\nd LOGOUT\r\n")
    await expect(reader, b"c")
    await expect(reader, b"d")
    writer.close()


async def main():
    host, port, n, accounts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    user_format, password = sys.argv[5], sys.argv[6]
    hold = float(sys.argv[7]) if len(sys.argv) > 7 else 600
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    release = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, release.set)
    idling, errors = [], 0
    started = time.monotonic()
    sem = asyncio.Semaphore(50)  # connections being set up at once

    async def guarded(j):
        nonlocal errors
        try:
            async with sem:
                setup = asyncio.ensure_future(
                    one(j, host, port, accounts, user_format, password, ctx, idling, release))
                while j not in idling and not setup.done():
                    await asyncio.sleep(0.01)
            await setup
        except Exception as e:  # noqa: BLE001 - counted and reported
            errors += 1
            print(f"connection {j}: {e}", file=sys.stderr)

    tasks = [asyncio.ensure_future(guarded(j)) for j in range(n)]
    while len(idling) + errors < n:
        await asyncio.sleep(0.1)
    print(f"ready connections={len(idling)} setup_seconds={time.monotonic() - started:.2f}",
          flush=True)
    try:
        await asyncio.wait_for(release.wait(), hold)
    except asyncio.TimeoutError:
        release.set()
    await asyncio.gather(*tasks)
    print(f"idle connections={len(idling)} errors={errors}", flush=True)
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
