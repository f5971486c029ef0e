"""Python churn: many small, short-lived objects (run with PYTHONMALLOC=malloc
so that every object goes through malloc/free rather than pymalloc's arenas).

usage: python3 python_churn.py [ROUNDS]   (default 100)
"""
import sys


def churn(round_no):
    table = {}
    for i in range(20000):
        key = "k%d_%d" % (round_no, i)
        rec = {"id": i, "name": key, "tags": [key[:3], str(i % 97)], "pos": (i, i * 0.5)}
        table[key] = rec
        if i % 3 == 0:
            table.pop("k%d_%d" % (round_no, i // 2), None)
    words = sorted(k.upper() for k in table if k.endswith("7"))
    total = sum(len(r["tags"][1]) + r["pos"][0] for r in table.values())
    joined = "-".join(words[:100])
    return total + len(joined)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    acc = 0
    for r in range(rounds):
        acc = (acc * 31 + churn(r)) % 1000000007
    print("python_churn: rounds=%d checksum=%d" % (rounds, acc))


if __name__ == "__main__":
    main()
