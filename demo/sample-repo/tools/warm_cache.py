"""Replays an access log against a cache server to warm it up."""
import sys
from collections import Counter


def read_log(path):
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            key = line.strip()
            if key:
                yield key


def hottest(keys, n=100):
    return [key for key, _ in Counter(keys).most_common(n)]


def main(argv):
    if len(argv) != 2:
        print("usage: warm_cache.py ACCESS_LOG", file=sys.stderr)
        return 2
    for key in hottest(read_log(argv[1])):
        print(key)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
