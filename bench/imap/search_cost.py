#!/usr/bin/env python3
"""What a SEARCH that looks inside messages costs (bench/imap/run.sh, SEARCH_COST=1): over one
connection, LOGIN and SELECT INBOX, then REPEAT times each of UID SEARCH BODY, UID SEARCH TEXT
(words no message holds, so every message is read to its end) and UID SEARCH SUBJECT (answered
from a header index where the server has one), timing each reply; checks every reply is OK and
empty. Prints "search messages=N body_ms=... text_ms=... subject_ms=..." (means).

Usage: search_cost.py HOST PORT USER PASSWORD [REPEAT=5]
"""

import imaplib
import sys
import time


def main():
    host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    repeat = int(sys.argv[5]) if len(sys.argv) > 5 else 5
    m = imaplib.IMAP4(host, port, timeout=300)
    m.login(user, password)
    typ, data = m.select("INBOX", readonly=True)
    assert typ == "OK", data
    messages = int(data[0])
    means = {}
    for name, key in (("body", 'BODY "zqxjkvw"'), ("text", 'TEXT "zqxjkvw"'),
                      ("subject", 'SUBJECT "zqxjkvw"')):
        spent = 0.0
        for _ in range(repeat):
            started = time.monotonic()
            typ, data = m.uid("SEARCH", key)
            spent += time.monotonic() - started
            assert typ == "OK" and data == [b""], (key, typ, data)
        means[name] = spent / repeat * 1000
    m.logout()
    print(f"search messages={messages} body_ms={means['body']:.1f} text_ms={means['text']:.1f} "
          f"subject_ms={means['subject']:.1f}")


if __name__ == "__main__":
    main()
